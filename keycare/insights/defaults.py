"""The defaults a new installation starts with (seeded by migration 0004): five qualitative
criteria, a first active value scorecard whose weights sum to 100, a service strategy per
account type, and the settings row. `insights_defaults_ensure` puts back what is missing
(e.g. in a database emptied by a transactional test); it never changes existing rows."""

from django.db import transaction

QUALITATIVE = [
    (
        "strategic_fit",
        "Strategic fit",
        "战略匹配度",
        "10: the account is central to where we want to be in five years.",
        "10 分：该客户处于我们五年战略的核心位置。",
    ),
    (
        "reference_value",
        "Reference value",
        "标杆参考价值",
        "10: a reference others in the industry follow and will visit.",
        "10 分：行业内的标杆，其他客户愿意参观学习。",
    ),
    (
        "relationship_stage",
        "Relationship stage",
        "关系阶段",
        "1: transactional supplier; 10: trusted partner planning with us.",
        "1 分：一般交易供应商；10 分：与我方共同规划的可信伙伴。",
    ),
    (
        "share_of_wallet",
        "Share of wallet",
        "钱包份额",
        "10: we hold nearly all of what they buy in our categories.",
        "10 分：他们在我方品类中的采购几乎全部来自我们。",
    ),
    (
        "growth_potential",
        "Growth potential",
        "增长潜力",
        "10: large new lines, plants or projects ahead.",
        "10 分：即将有大型新产线、新工厂或新项目。",
    ),
]

# (metric or "q:key", weight, normalisation, higher_is_better, parameters)
CRITERIA = [
    ("gross_profit", 25, "percentile", True, []),
    ("revenue", 15, "percentile", True, []),
    ("contribution", 10, "percentile", True, []),
    ("growth", 10, "percentile", True, []),
    ("order_frequency", 10, "percentile", True, []),
    ("csat", 5, "range", True, [0, 100]),
    ("q:strategic_fit", 10, "range", True, [1, 10]),
    ("q:growth_potential", 10, "range", True, [1, 10]),
    ("q:share_of_wallet", 5, "range", True, [1, 10]),
]

STRATEGIES = [
    (
        "intrinsic",
        "Efficient, low-cost service: self-service and convenient ordering",
        "高效低成本：自助服务、便捷订货",
        "Customer portal for tickets, documents and order status\nRemote support first, standard SLA\n"
        "Quick quotes and easy reordering\nNo free extras beyond the contract",
        "通过客户门户自助提交工单、查询资料和订单状态\n远程支持优先，执行标准 SLA\n"
        "快速报价、便捷复购\n合同之外不提供免费增值服务",
    ),
    (
        "extrinsic",
        "Value-added service: dedicated engineer and application support",
        "增值服务：专属工程师与应用支持",
        "A dedicated service engineer who knows their equipment\nApplication and process advice\n"
        "Preventive maintenance visits and training\nRegular service reviews with the users",
        "配备熟悉其设备的专属服务工程师\n提供应用与工艺咨询\n"
        "定期预防性维护巡检和培训\n与使用部门定期回顾服务情况",
    ),
    (
        "strategic",
        "Partnership: executive sponsor, joint annual plan, quarterly business review",
        "战略合作：高层对接、联合年度计划、季度业务回顾",
        "An executive sponsor on our side\nA joint annual plan with shared goals\n"
        "Quarterly business reviews\nEarly involvement in their new lines and projects",
        "我方指定高层负责人对接\n共同制定年度计划和目标\n每季度业务回顾\n提前参与其新产线和新项目",
    ),
]


@transaction.atomic
def insights_defaults_ensure(apps=None) -> None:
    """Create whichever defaults are missing; with `apps` (a migration's app registry) the
    historical models are used."""
    if apps is None:
        from django.apps import apps
    Criterion = apps.get_model("insights", "QualitativeCriterion")
    Scorecard = apps.get_model("insights", "Scorecard")
    ScorecardCriterion = apps.get_model("insights", "ScorecardCriterion")
    Strategy = apps.get_model("insights", "ServiceStrategy")
    Settings = apps.get_model("insights", "InsightsSettings")
    qualitative = {}
    for key, name, name_zh, guidance, guidance_zh in QUALITATIVE:
        qualitative[key] = Criterion.objects.get_or_create(
            key=key, defaults={"name": name, "name_zh": name_zh, "guidance": guidance,
                               "guidance_zh": guidance_zh},
        )[0]  # fmt: skip
    if not Scorecard.objects.exists():
        scorecard = Scorecard.objects.create(
            name="客户价值计分卡 Value scorecard", version=1, status="active"
        )
        for position, (key, weight, normalisation, higher, parameters) in enumerate(CRITERIA):
            ScorecardCriterion.objects.create(
                scorecard=scorecard, position=position, weight=weight,
                normalisation=normalisation, higher_is_better=higher, parameters=parameters,
                metric="" if key.startswith("q:") else key,
                qualitative=qualitative[key[2:]] if key.startswith("q:") else None,
            )  # fmt: skip
    for account_type, summary, summary_zh, practices, practices_zh in STRATEGIES:
        Strategy.objects.get_or_create(
            account_type=account_type,
            defaults={"summary": summary, "summary_zh": summary_zh, "practices": practices,
                      "practices_zh": practices_zh},
        )  # fmt: skip
    Settings.objects.get_or_create(pk=1)
