"""What a new installation starts with: the style matrix guidance (the source document's
advice), the VIP club levels and a playbook per account type. Administrators edit them."""

STYLE_GUIDANCE = [
    # style, summary, summary_zh, tips, tips_zh
    (
        "leader",
        "Be direct and lead with the benefits to them.",
        "开门见山，以利益为先。",
        "Come straight to the point; keep it short.\nLead with the benefits and the result for them.\n"
        "Offer clear options and let them decide.",
        "直奔主题，言简意赅。\n先讲能给对方带来的利益和结果。\n给出清晰的选项，让对方做决定。",
    ),
    (
        "influencer",
        "Work expert to expert.",
        "以专家对专家。",
        "Bring your specialists to meet theirs.\nShare technical insight and industry knowledge.\n"
        "Let them carry the case to the decision makers.",
        "带上我方专家与对方专家交流。\n分享技术见解和行业知识。\n让对方把方案带给决策者。",
    ),
    (
        "checker",
        "Bring evidence and detail, and acknowledge their rigour.",
        "拿出证据和细节，肯定对方的严谨。",
        "Praise their care and rigour sincerely.\nBack every claim with data, tests and references.\n"
        "Send the details in writing before the meeting.",
        "真诚赞赏对方的细致和严谨。\n每一个说法都用数据、测试和案例支撑。\n会前以书面形式提供细节资料。",
    ),
    (
        "follower",
        "Use the influence of others they respect.",
        "借助他人的影响力。",
        "Show references from customers like them.\nBring their leader's view into the conversation.\n"
        "Invite them to a site or reference visit.",
        "展示同类客户的成功案例。\n引入其上级的意见。\n邀请对方参加参观考察。",
    ),
    (
        "unknown",
        "Style not known yet: observe how they decide and record it.",
        "风格尚不清楚：观察其决策方式并记录下来。",
        "Note who they consult before deciding.\nNote whether they ask for figures or for results.",
        "留意对方决策前会征求谁的意见。\n留意对方更关心数据还是结果。",
    ),
]

VIP_LEVELS = [
    # code, name, name_zh, rank, tier, benefits, benefits_zh
    (
        "diamond",
        "Diamond",
        "钻石会员",
        1,
        "platinum",
        "Named service lead and executive sponsor\nAnnual VIP summit\nPriority spare parts",
        "专属服务负责人与高层联系人\n年度VIP峰会\n备件优先供应",
    ),
    (
        "gold",
        "Gold",
        "金卡会员",
        2,
        "gold",
        "Priority hotline\nTwo training places a year\nInvitations to club events",
        "优先服务热线\n每年两个培训名额\n受邀参加俱乐部活动",
    ),
    (
        "silver",
        "Silver",
        "银卡会员",
        3,
        "iron",
        "Club newsletter\nOnline training",
        "俱乐部通讯\n在线培训",
    ),
]

#: (account type, tier, name, name_zh, [(kind, our role, their role, every days, title,
#: title_zh)])
PLAYBOOKS = [
    (
        "strategic",
        "",
        "Strategic accounts",
        "战略价值客户",
        [
            (
                "executive_visit",
                "executive_sponsor",
                "decision_maker",
                90,
                "Executive sponsor visits a decision maker",
                "高层联系人拜访决策者",
            ),
            (
                "meeting",
                "key_account_manager",
                "decision_maker",
                30,
                "Meet a decision maker",
                "与决策者会面",
            ),
            (
                "discovery",
                "key_account_manager",
                "",
                90,
                "Needs and pains discovery with the key persons",
                "与关键人物探讨需求和痛点",
            ),
            (
                "site_visit",
                "key_account_manager",
                "decision_maker",
                365,
                "Site or reference visit",
                "参观考察",
            ),
            (
                "business_activity",
                "key_account_manager",
                "",
                180,
                "Business activity (VIP club, customer meeting)",
                "商务活动（VIP俱乐部、客户会议）",
            ),
        ],
    ),
    (
        "extrinsic",
        "",
        "Extrinsic value accounts",
        "外在价值客户",
        [
            (
                "executive_visit",
                "executive_sponsor",
                "decision_maker",
                180,
                "Executive sponsor visits a decision maker",
                "高层联系人拜访决策者",
            ),
            (
                "meeting",
                "key_account_manager",
                "decision_maker",
                60,
                "Meet a decision maker",
                "与决策者会面",
            ),
            (
                "meeting",
                "service_lead",
                "technical_evaluator",
                90,
                "Service review with their technical lead",
                "与对方技术负责人进行服务回顾",
            ),
        ],
    ),
    (
        "intrinsic",
        "",
        "Intrinsic value accounts",
        "内在价值客户",
        [
            (
                "executive_visit",
                "executive_sponsor",
                "decision_maker",
                365,
                "Executive contact once a year",
                "每年一次高层接触",
            ),
            ("call", "key_account_manager", "", 90, "Call a key person", "致电关键人物"),
        ],
    ),
    (
        "",
        "",
        "All other accounts",
        "其他客户",
        [
            (
                "meeting",
                "key_account_manager",
                "decision_maker",
                90,
                "Meet a decision maker",
                "与决策者会面",
            ),
        ],
    ),
]


def seed(apps) -> None:
    """Create what is missing (never overwrite an administrator's edits)."""
    StyleGuidance = apps.get_model("engagement", "StyleGuidance")
    VipLevel = apps.get_model("engagement", "VipLevel")
    Playbook = apps.get_model("engagement", "Playbook")
    PlaybookItem = apps.get_model("engagement", "PlaybookItem")
    EngagementSettings = apps.get_model("engagement", "EngagementSettings")
    EngagementSettings.objects.get_or_create(pk=1)
    for style, summary, summary_zh, tips, tips_zh in STYLE_GUIDANCE:
        StyleGuidance.objects.get_or_create(
            style=style,
            defaults={"summary": summary, "summary_zh": summary_zh, "tips": tips,
                      "tips_zh": tips_zh},
        )  # fmt: skip
    for code, name, name_zh, rank, tier, benefits, benefits_zh in VIP_LEVELS:
        VipLevel.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_zh": name_zh, "rank": rank, "tier": tier,
                      "benefits": benefits, "benefits_zh": benefits_zh},
        )  # fmt: skip
    for account_type, tier, name, name_zh, items in PLAYBOOKS:
        playbook, created = Playbook.objects.get_or_create(
            account_type=account_type, tier=tier, defaults={"name": name, "name_zh": name_zh}
        )
        if created:
            for position, (kind, ours, theirs, every, title, title_zh) in enumerate(items):
                PlaybookItem.objects.create(
                    playbook=playbook, kind=kind, our_role=ours, their_role=theirs,
                    every_days=every, title=title, title_zh=title_zh, position=position,
                )  # fmt: skip
