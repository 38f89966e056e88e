"""Deterministic demo data. Everything is written through the domain services."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from faker import Faker

from keycare.accounts.choices import (
    AccountStatus,
    AccountTeamRole,
    AccountTier,
    AccountType,
    BuyingRole,
    DecisionStyle,
    EquipmentStatus,
    OrderLineType,
)
from keycare.accounts.models import Account, Contact, Order, Product
from keycare.accounts.services import (
    account_create,
    account_team_member_add,
    contact_create,
    contact_update,
    equipment_create,
    important_date_add,
    order_create,
    personal_details_update,
    product_create,
    product_line_get_or_create,
)
from keycare.core.validators import CREDIT_CODE_CHARSET, credit_code_check_char
from keycare.users.choices import Role
from keycare.users.models import User
from keycare.users.services import user_create

from .engagement import engagement_demo_generate
from .geography import BRAND_WORDS, INDUSTRIES, PROVINCES, TITLES

DEMO_PASSWORD = "keycare-demo"  # noqa: S105 - printed for the demo on purpose

#: One login per role, printed by `make demo`.
DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin", Role.ADMINISTRATOR, "王静"),
    ("exec", Role.EXECUTIVE, "陈志强"),
    ("kam", Role.KEY_ACCOUNT_MANAGER, "李明"),
    ("svcmgr", Role.SERVICE_MANAGER, "张伟"),
    ("engineer", Role.SERVICE_ENGINEER, "刘洋"),
    ("customer", Role.CUSTOMER_CONTACT, "赵磊"),
]


@dataclass
class DemoSummary:
    users: list[tuple[str, str, str]] = field(default_factory=list)
    accounts: int = 0
    groups: int = 0
    contacts: int = 0
    products: int = 0
    equipment: int = 0
    orders: int = 0
    tickets: int = 0


def _demo_password_hash() -> str:
    # Hash once: a strong hasher takes a noticeable moment per call.
    global _HASH
    if _HASH is None:
        _HASH = make_password(DEMO_PASSWORD)
    return _HASH


_HASH: str | None = None


def demo_users_ensure() -> list[tuple[str, str, str]]:
    """Create the per-role demo users if missing; return (username, password, role)."""
    logins = []
    for username, role, display in DEMO_USERS:
        if not User.objects.filter(username=username).exists():
            user_create(
                username=username,
                password=None,
                password_hash=_demo_password_hash(),
                roles=[role],
                display_name=display,
                email=f"{username}@keycare.example",
            )
        logins.append((username, DEMO_PASSWORD, role))
    return logins


@transaction.atomic
def demo_data_generate(*, accounts: int = 60, seed: int = 2026) -> DemoSummary:
    """Generate about `accounts` accounts as company groups with branches in several
    provinces, contacts, and a staff of key account managers and engineers."""
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data, not security
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    summary = DemoSummary(users=demo_users_ensure())
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}

    kams = [users["kam"]]
    engineers = [users["engineer"]]
    for i in range(1, max(2, accounts // 15) + 1):
        kams.append(_staff(f"kam{i:02d}", Role.KEY_ACCOUNT_MANAGER, fake))
    for i in range(1, max(2, accounts // 12) + 1):
        engineers.append(_staff(f"eng{i:02d}", Role.SERVICE_ENGINEER, fake))

    provinces = list(PROVINCES)
    portal_contact_done = False
    made = 0
    group_no = 0
    used_names: set[str] = set(Account.objects.values_list("name", flat=True))
    while made < accounts:
        group_no += 1
        industry, suffix = rng.choice(INDUSTRIES)
        brand = _unique_brand(rng, suffix, used_names)
        home = rng.choice(provinces)
        home_city = rng.choice(PROVINCES[home])
        kam = kams[(group_no - 1) % len(kams)] if group_no > 1 else users["kam"]
        engineer = engineers[(group_no - 1) % len(engineers)] if group_no > 1 else users["engineer"]
        branches = min(rng.choice([0, 1, 2, 2, 3, 4]), accounts - made - 1)
        hq = account_create(
            actor=None,
            confirm_duplicate=True,
            credit_code=_credit_code(rng, home),
            tier=rng.choice(TIERS),
            account_type=rng.choice(TYPES),
            name=f"{brand}{suffix}集团有限公司"
            if branches
            else f"{home_city}{brand}{suffix}有限公司",
            short_name=f"{brand}{suffix}",
            industry=industry,
            province=home,
            city=home_city,
            address=f"{home}{home_city}{fake.street_address()}",
            status=_status(rng),
            owner=kam,
        )
        _team(hq, kam, engineer, users, group_no)
        summary.contacts += _contacts(hq, fake, rng, users if not portal_contact_done else None)
        portal_contact_done = True
        made += 1
        summary.groups += 1
        other_provinces = [p for p in provinces if p != home]
        for province in rng.sample(other_provinces, branches):
            city = rng.choice(PROVINCES[province])
            branch = account_create(
                actor=None,
                confirm_duplicate=True,
                credit_code=_credit_code(rng, province),
                name=f"{brand}{suffix}（{city}）有限公司",
                short_name=f"{brand}{city}",
                parent=hq,
                industry=industry,
                province=province,
                city=city,
                address=f"{province}{city}{fake.street_address()}",
                status=_status(rng),
                owner=kam,
            )
            _team(branch, kam, rng.choice(engineers), users, group_no)
            summary.contacts += _contacts(branch, fake, rng, None)
            made += 1
    summary.accounts = made
    products = _catalogue(rng)
    summary.products = len(products)
    accounts_made = list(Account.objects.order_by("pk"))
    summary.equipment = _equipment(accounts_made, products, rng)
    summary.orders = _orders(accounts_made, products, rng)
    from keycare.core.background import background_tasks_suppressed

    _service_teams(engineers, users)
    with background_tasks_suppressed():  # demo customers get no mail
        summary.tickets = _tickets(accounts_made, rng, users)
        _nps_surveys(rng)
        _profitability(accounts_made, rng, users)
    _insights(accounts_made, rng, users)
    engagement_demo_generate(users=users, seed=seed)
    return summary


def _profitability(accounts: list[Account], rng: random.Random, users: dict[str, User]) -> None:
    """What the profitability area shows from the first login: activity rates with a
    history, the field visits of resolved tickets (hours, travel) so service has a cost,
    a few accounts that the service eats up, and concessions in every state (granted within
    policy, approved up the chain, rejected, waiting in the service manager's and the
    executive's queues)."""
    from keycare.profitability.concessions import (
        concession_approve,
        concession_reject,
        concession_submit,
        may_decide,
        waiting_step,
    )
    from keycare.profitability.rates import cost_rate_create
    from keycare.service.models import Ticket
    from keycare.service.visits import visit_complete, visit_plan

    today = timezone.localdate()
    admin = users["admin"]
    cost_rate_create(actor=admin, driver="engineer_hour", valid_from=today - dt.timedelta(days=800),
                     pool_cost=Decimal("2380000"), capacity=Decimal("8500"), note="2025 服务团队成本 ÷ 实际可用工时")  # fmt: skip
    cost_rate_create(actor=admin, driver="engineer_hour", valid_from=today + dt.timedelta(days=28),
                     pool_cost=Decimal("2550000"), capacity=Decimal("8500"), note="明年预算：服务团队成本 ÷ 实际可用工时")  # fmt: skip
    cost_rate_create(actor=admin, driver="field_visit", valid_from=today - dt.timedelta(days=800),
                     pool_cost=Decimal("960000"), capacity=Decimal("1200"), note="服务车辆与派工 ÷ 年上门次数")  # fmt: skip
    cost_rate_create(actor=admin, driver="ticket", valid_from=today - dt.timedelta(days=800),
                     pool_cost=Decimal("288000"), capacity=Decimal("2400"), note="服务台成本 ÷ 年工单量")  # fmt: skip
    from keycare.service.services import ticket_assign, ticket_create, ticket_transition

    # three smaller accounts whose service eats their margin: remote plants, repeated
    # breakdowns, engineers flown in (the whale curve's profit destroyers)
    year_ago = today - dt.timedelta(days=364)
    profit = dict(
        Order.objects.filter(order_date__gte=year_ago)
        .values("account_id")
        .annotate(gp=Sum("total_net") - Sum("total_cost"))
        .values_list("account_id", "gp")
    )
    # accounts of a modest size whose service eats their margin (remote plants, repeated
    # breakdowns): two of the demo key account manager's own, and a few more
    modest = [
        a
        for a in accounts
        if a.status == AccountStatus.ACTIVE and 20_000 < (profit.get(a.pk) or 0) < 200_000
    ]
    own = [a for a in modest if a.owner_id == users["kam"].pk]
    chosen = rng.sample(own, min(2, len(own)))
    others = [a for a in modest if a not in chosen]
    chosen += rng.sample(others, min(len(others), max(2, len(accounts) // 10)))
    #: travel per visit: eight visits of it cost one and a half years of the account's gross
    #: profit (at most 30,000: engineers flown in and put up for a week)
    heavy = {a.pk: min(Decimal(30000), (profit[a.pk] * Decimal("1.5") / 8).quantize(Decimal("100")))
             for a in chosen}  # fmt: skip
    engineer = users["engineer"]
    for account in Account.objects.filter(pk__in=heavy).order_by("pk"):
        for k in range(8):
            opened = timezone.now() - dt.timedelta(days=15 + 30 * k)
            ticket = ticket_create(actor=None, account=account, subject="设备反复停机，需工程师驻场", ticket_type="repair",
                                   opened_at=opened, priority="P2", channel="phone")  # fmt: skip
            ticket_assign(
                actor=None, ticket=ticket, assignee=engineer, at=opened + dt.timedelta(minutes=30)
            )
            ticket_transition(
                actor=None, ticket=ticket, status="in_progress", at=opened + dt.timedelta(hours=1)
            )
            ticket_transition(actor=None, ticket=ticket, status="resolved", resolution="驻场三天，更换主板。",
                              root_cause="quality", at=opened + dt.timedelta(days=3))  # fmt: skip
    resolved = (
        Ticket.objects.filter(status__in=["resolved", "closed"])
        .select_related("assignee")
        .order_by("pk")
    )
    for ticket in resolved:
        if ticket.assignee is None or (ticket.account_id not in heavy and rng.random() < 0.3):
            continue
        hours = Decimal(rng.choice([2, 3, 4, 6, 8, 12])) * (4 if ticket.account_id in heavy else 1)
        travel = Decimal(rng.choice([0, 120, 300, 650, 1200]))
        if ticket.account_id in heavy:
            travel += heavy[ticket.account_id]  # flights and hotels
        visit = visit_plan(actor=None, ticket=ticket, planned_start=ticket.opened_at + dt.timedelta(hours=4),
                           engineers=[ticket.assignee])  # fmt: skip
        visit_complete(actor=None, visit=visit, work_done="现场检修，更换磨损部件。", labour_hours=hours,
                       travel_cost=travel, signed_off_by="设备部",
                       at=min(ticket.resolved_at or timezone.now(), timezone.now()))  # fmt: skip
    active = [a for a in accounts if a.status == AccountStatus.ACTIVE and a.owner_id]
    kam, svcmgr, executive = users["kam"], users["svcmgr"], users["exec"]
    own = [a for a in active if a.owner_id == kam.pk] or active
    requests = [
        (kam, "goodwill_parts", {"amount": "1800"}, "停机两天，赠送易损件作为补偿"),
        (kam, "free_service", {"hours": "16"}, "新产线调试，免费驻场两天"),
        (kam, "discount", {"list_amount": "380000", "discount_pct": "22", "cost_amount": "250000",
                           "order_reference": "Q-2026-118"}, "竞争对手报价低 20%，争取年度框架"),
        (kam, "extended_warranty", {"months": "12", "amount": "6500"}, "续签三年采购协议，延保一年"),
        (svcmgr, "sla_penalty_waiver", {"amount": "12000"}, "客户原因导致延误，豁免违约金"),
        (kam, "gift", {"amount": "800"}, "春节拜访礼品"),
        (kam, "discount", {"list_amount": "90000", "discount_pct": "30", "cost_amount": "62000",
                           "order_reference": "Q-2026-131"}, "清库存型号，客户要求三折"),
        (kam, "free_service", {"hours": "60", "visits": "3"}, "全年免费巡检"),
    ]  # fmt: skip
    made = []
    for i, (requester, kind, data, reason) in enumerate(requests):
        account = own[i % len(own)]
        if kind == "gift":
            contact = Contact.objects.filter(account=account).order_by("pk").first()
            if contact is None:
                continue
            data = {**data, "contact": contact.pk}
        if kind == "extended_warranty":
            machine = account.equipment.order_by("pk").first()
            if machine is None:
                continue
            data = {**data, "equipment": machine.pk}
        made.append(
            concession_submit(actor=requester, account=account, kind=kind, data=data, reason=reason)
        )
    pending = [c for c in made if c.status == "pending"]
    for n, concession in enumerate(pending):
        if n == len(pending) - 1:
            break  # the last stays in the queue
        if n == 1:
            concession_reject(
                actor=executive,
                concession=concession,
                comment="超出利润空间，建议改为延保",
                expected_version=concession.version,
            )
            continue
        while concession.status == "pending":
            step = waiting_step(concession)
            if step.level == "executive" and n % 2 == 0:
                break  # waiting for the executive
            approver = next(
                (u for u in (svcmgr, executive) if may_decide(u, concession, step)), None
            )
            if approver is None:
                break
            concession = concession_approve(actor=approver, concession=concession, comment="同意",
                                            expected_version=concession.version)  # fmt: skip


def _insights(accounts: list[Account], rng: random.Random, users: dict[str, User]) -> None:
    """What the insights area shows from the first login: the account teams' judgements,
    the trailing year's metrics and value scores, tiers from the pyramid (with their recorded
    reasons) and the top proposals confirmed as key accounts by the executive."""
    from keycare.insights.metrics import metrics_recompute, trailing_twelve_months
    from keycare.insights.models import QualitativeCriterion
    from keycare.insights.scorecard import (
        key_account_designate,
        qualitative_scores_set,
        scorecard_active,
        scores_compute,
    )
    from keycare.insights.scorecard_selectors import key_account_overview
    from keycare.insights.tiers import tiers_apply

    keys = list(QualitativeCriterion.objects.values_list("key", flat=True))
    for account in accounts:
        if account.status == "active" and rng.random() < 0.7:
            qualitative_scores_set(actor=None, account=account,
                                   scores={k: rng.randint(3, 10) for k in keys})  # fmt: skip
    start, end = trailing_twelve_months()
    metrics_recompute(start=start, end=end)
    scorecard = scorecard_active()
    scores_compute(scorecard=scorecard, start=start, end=end)
    tiers_apply(actor=None, start=start, end=end)
    from keycare.insights.account_types import (
        QUESTION_KEYS,
        account_type_assess,
        account_type_confirm,
    )

    # type assessments: most active groups answered the questionnaire; two in three confirmed
    for account in accounts:
        if account.parent_id is None and account.status == "active" and rng.random() < 0.8:
            answers = {k: rng.randint(1, 5) for k in QUESTION_KEYS}
            assessment = account_type_assess(actor=None, account=account, answers=answers)
            if rng.random() < 0.67:
                account_type_confirm(actor=None, assessment=assessment,
                                     account_type=assessment.suggested_type, reason="")  # fmt: skip
    reasons = ["利润贡献高，合作稳定", "行业标杆，战略匹配", "增长快，新产线投产", "服务依赖度高"]
    overview = key_account_overview(actor=users["exec"])
    for proposal in overview["proposals"][:8]:
        key_account_designate(actor=users["exec"], account=Account(pk=proposal["account"]),
                              reason=rng.choice(reasons))  # fmt: skip


def _staff(username: str, role: str, fake: Faker) -> User:
    existing = User.objects.filter(username=username).first()
    if existing:
        return existing
    return user_create(
        username=username,
        password=None,
        password_hash=_demo_password_hash(),
        roles=[role],
        display_name=fake.name(),
        email=f"{username}@keycare.example",
    )


def _unique_brand(rng: random.Random, suffix: str, used: set[str]) -> str:
    for _attempt in range(200):
        brand = rng.choice(BRAND_WORDS)
        if not any(name.startswith(brand + suffix) or brand + suffix in name for name in used):
            used.add(f"{brand}{suffix}")
            return brand
    brand = f"{rng.choice(BRAND_WORDS)}{rng.randint(2, 99)}"
    used.add(f"{brand}{suffix}")
    return brand


def _status(rng: random.Random) -> str:
    return rng.choices(
        [AccountStatus.ACTIVE, AccountStatus.PROSPECT, AccountStatus.DORMANT, AccountStatus.LOST],
        weights=[80, 8, 8, 4],
    )[0]


def _team(account: Account, kam: User, engineer: User, users: dict[str, User], group_no: int):
    account_team_member_add(
        actor=None, account=account, user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    account_team_member_add(
        actor=None, account=account, user=engineer, role=AccountTeamRole.SERVICE_LEAD
    )
    if group_no % 4 == 1 and account.parent_id is None:
        account_team_member_add(
            actor=None, account=account, user=users["exec"], role=AccountTeamRole.EXECUTIVE_SPONSOR
        )


def _contacts(
    account: Account, fake: Faker, rng: random.Random, users: dict[str, User] | None
) -> int:
    """Key persons with an org chart: the first is the top person (often the decision maker),
    the others report to them; a coach introduces a colleague now and then."""
    count = rng.randint(3, 6)
    titles = rng.sample(TITLES, count)
    made: list[Contact] = []
    for i, (title, department) in enumerate(titles):
        role = BuyingRole.DECISION_MAKER if i == 0 else rng.choice(ROLE_MIX)
        contact = contact_create(
            actor=None,
            account=account,
            name=fake.name(),
            title=title,
            department=department,
            mobile=fake.phone_number(),
            email=fake.email(),
            wechat_id=f"wx_{fake.user_name()}",
            buying_role=role,
            decision_style=rng.choice(list(DecisionStyle)),
            influence=5 if i == 0 else rng.randint(1, 5),
            relationship=rng.randint(1, 5),
            reports_to=made[0] if made else None,
            is_active=rng.random() > 0.05,
            # the demo portal login belongs to the first group's first contact
            user=users["customer"] if users and i == 0 else None,
        )
        coach = next((c for c in made if c.buying_role == BuyingRole.COACH), None)
        if coach is not None and rng.random() < 0.5:
            contact_update(actor=None, contact=contact, data={"introduced_by_contact": coach})
        if i == 0:
            personal_details_update(
                actor=None,
                contact=contact,
                data={
                    "birthday": fake.date_of_birth(minimum_age=35, maximum_age=60),
                    "hobbies": rng.choice(HOBBIES),
                    "preferences": rng.choice(PREFERENCES),
                },
            )
            important_date_add(
                actor=None,
                contact=contact,
                label="公司成立纪念日",
                date=fake.date_between(start_date="-20y", end_date="-2y"),
            )
        made.append(contact)
    return count


TIERS = [
    AccountTier.PLATINUM,
    AccountTier.GOLD,
    AccountTier.GOLD,
    AccountTier.IRON,
    AccountTier.IRON,
    AccountTier.IRON,
    AccountTier.LEAD,
    "",
]
TYPES = [
    AccountType.INTRINSIC,
    AccountType.INTRINSIC,
    AccountType.EXTRINSIC,
    AccountType.STRATEGIC,
    "",
]
ROLE_MIX = [
    BuyingRole.INFLUENCER,
    BuyingRole.USER,
    BuyingRole.USER,
    BuyingRole.TECHNICAL_EVALUATOR,
    BuyingRole.COACH,
    BuyingRole.GATEKEEPER,
]
HOBBIES = ["钓鱼", "高尔夫", "书法", "茶道", "羽毛球", "摄影", "登山"]
PREFERENCES = [
    "喜欢喝普洱茶，不喝酒",
    "偏好上午开会，讨厌长篇汇报",
    "重视数据和案例",
    "喜欢直接谈方案和价格",
]
AREA_CODES = {
    "北京市": "110105",
    "上海市": "310115",
    "天津市": "120116",
    "重庆市": "500112",
    "江苏省": "320500",
    "浙江省": "330100",
    "广东省": "440300",
    "山东省": "370200",
}

PRODUCT_LINES = [
    (
        "CNC",
        "数控机床",
        [
            ("立式加工中心", 680000, 0.62, 24),
            ("数控车床", 260000, 0.6, 12),
            ("龙门铣床", 1450000, 0.65, 24),
        ],
    ),
    ("ROB", "工业机器人", [("六轴焊接机器人", 320000, 0.58, 18), ("码垛机器人", 210000, 0.55, 12)]),
    (
        "CMP",
        "空压机",
        [("螺杆空压机 75kW", 128000, 0.57, 12), ("离心空压机 250kW", 860000, 0.63, 24)],
    ),
    (
        "DRV",
        "变频器与驱动",
        [("通用变频器 30kW", 16800, 0.48, 12), ("伺服驱动系统", 42000, 0.5, 12)],
    ),
    (
        "SPR",
        "备件与耗材",
        [("主轴轴承套件", 9800, 0.4, 3), ("滤芯组件", 1200, 0.35, 0), ("控制板卡", 15600, 0.45, 6)],
    ),
    ("SVC", "技术服务", [("年度维保服务", 48000, 0.3, 0), ("现场调试服务", 12000, 0.25, 0)]),
]


def _credit_code(rng: random.Random, province: str) -> str:
    area = AREA_CODES.get(province) or f"{rng.choice([13, 21, 22, 34, 35, 41, 42, 43, 51, 61])}0100"
    org = "".join(rng.choice(CREDIT_CODE_CHARSET[:10]) for _ in range(8)) + rng.choice(
        CREDIT_CODE_CHARSET
    )
    first17 = "91" + area + org
    return first17 + credit_code_check_char(first17)


def _catalogue(rng: random.Random) -> list[Product]:
    products = []
    n = 0
    for code, name, items in PRODUCT_LINES:
        line = product_line_get_or_create(actor=None, code=code, name=name)
        for item_name, price, cost_ratio, warranty in items:
            n += 1
            product_code = f"{code}-{n:03d}"
            existing = Product.objects.filter(code=product_code).first()
            products.append(
                existing
                or product_create(
                    actor=None,
                    code=product_code,
                    name=item_name,
                    product_line=line,
                    category=name,
                    unit="次" if code == "SVC" else ("套" if code == "SPR" else "台"),
                    list_price=Decimal(price),
                    standard_cost=(Decimal(price) * Decimal(str(cost_ratio))).quantize(
                        Decimal("1")
                    ),
                    warranty_months=warranty,
                )
            )
    return products


def _equipment(accounts: list[Account], products: list[Product], rng: random.Random) -> int:
    machines = [p for p in products if p.code[:3] in ("CNC", "ROB", "CMP")]
    count = 0
    today = timezone.localdate()
    for account in accounts:
        if account.status == AccountStatus.PROSPECT:
            continue
        for _i in range(rng.randint(0, 4)):
            product = rng.choice(machines)
            installed = today - dt.timedelta(days=rng.randint(30, 1500))
            count += 1
            equipment_create(
                actor=None,
                product=product,
                account=account,
                serial_number=f"{product.code[:3]}{installed:%y%m}{count:05d}",
                site=f"{account.city}{rng.choice(['一厂', '二厂', '总装车间', '动力站房'])}",
                install_date=installed,
                status=rng.choices(list(EquipmentStatus), weights=[85, 5, 4, 6])[0],
            )
    return count


def _orders(accounts: list[Account], products: list[Product], rng: random.Random) -> int:
    """Two years of orders, a few big accounts buying most (Pareto), with discounts and the
    occasional rebate."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=730)
    count = 0
    weights = {a.pk: rng.paretovariate(1.3) for a in accounts}
    for account in accounts:
        if account.status == AccountStatus.PROSPECT:
            continue
        n_orders = min(40, max(1, int(weights[account.pk] * 3)))
        for _i in range(n_orders):
            count += 1
            day = start + dt.timedelta(days=rng.randint(0, 729))
            lines = []
            for _j in range(rng.randint(1, 4)):
                product = rng.choice(products)
                discount = Decimal(str(rng.choice([0, 0, 0.03, 0.05, 0.08, 0.12, 0.18])))
                net = (product.list_price * (1 - discount)).quantize(Decimal("0.01"))
                lines.append(
                    {
                        "product": product,
                        "quantity": Decimal(rng.choice([1, 1, 2, 3, 5, 10])),
                        "net_price": net,
                    }
                )
            if rng.random() < 0.08:
                lines.append(
                    {
                        "line_type": OrderLineType.REBATE,
                        "description": "年度返利",
                        "quantity": Decimal(1),
                        "list_price": Decimal(0),
                        "net_price": Decimal(rng.choice([2000, 5000, 8000])),
                    }
                )
            order_create(
                actor=None,
                number=f"SO{day:%Y%m}{count:05d}",
                account=account,
                order_date=day,
                lines=lines,
            )
    return count


TICKET_SUBJECTS = [
    ("repair", "主轴异响，加工精度下降"),
    ("repair", "伺服报警 AL-21，设备停机"),
    ("repair", "空压机排气温度过高"),
    ("maintenance", "季度预防性维护"),
    ("inspection", "年度安全检查"),
    ("installation", "新机调试与验收"),
    ("consultation", "工艺参数优化咨询"),
    ("complaint", "备件到货延误投诉"),
    ("repair", "机器人焊接偏位"),
    ("return", "控制板卡返修"),
]


SERVICE_REGIONS = {
    "华东服务中心": ["上海市", "江苏省", "浙江省", "安徽省", "山东省", "福建省"],
    "华北服务中心": ["北京市", "天津市", "河北省", "辽宁省", "吉林省"],
    "华南服务中心": ["广东省", "湖南省", "湖北省", "河南省"],
    "西部服务中心": ["重庆市", "四川省", "陕西省"],
}
SKILLS = [["数控机床", "installation"], ["空压机", "maintenance"], ["工业机器人"], ["repair"]]


def _service_teams(engineers: list[User], users: dict[str, User]) -> None:
    """Regional service teams, each engineer in one, with a few skills (assignment rules)."""
    from keycare.service.models import ServiceTeam
    from keycare.service.teams import service_team_create, service_team_member_set

    if ServiceTeam.objects.exists():
        return
    teams = [
        service_team_create(actor=None, name=name, provinces=provinces, manager=users["svcmgr"])
        for name, provinces in SERVICE_REGIONS.items()
    ]
    for i, engineer in enumerate(engineers):
        service_team_member_set(
            actor=None, team=teams[i % len(teams)], user=engineer, skills=SKILLS[i % len(SKILLS)]
        )


def _nps_surveys(rng: random.Random) -> None:
    """NPS surveys sent by the schedule over the last half year, most of them answered."""
    from keycare.service.models import NpsSurvey
    from keycare.service.surveys import nps_surveys_due, nps_surveys_schedule

    now = timezone.now()
    rounds = (170, 140, 110, 80, 50, 20)
    batch = -(-nps_surveys_due(now=now).count() // len(rounds))  # spread over the half year
    for days_ago in rounds:
        nps_surveys_schedule(now=now - dt.timedelta(days=days_ago), batch=max(batch, 1))
    for survey in NpsSurvey.objects.filter(responded_at__isnull=True).order_by("pk"):
        if rng.random() < 0.65:
            survey.score = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 4, 6, 10, 16, 24, 20])[0]
            survey.responded_at = min(survey.sent_at + dt.timedelta(hours=rng.randint(2, 240)), now)
            survey.save(update_fields=["score", "responded_at"])


def _tickets(accounts: list[Account], rng: random.Random, users: dict[str, User]) -> int:
    """A realistic mix over the last 60 days: most resolved, some open, a few waiting on the
    customer, some late."""
    from keycare.service.defaults import service_defaults_ensure
    from keycare.service.services import ticket_comment, ticket_create, ticket_transition

    service_defaults_ensure()

    engineers = list(
        User.objects.filter(groups__name="service_engineer", is_active=True).order_by("username")
    )
    now = timezone.now()
    count = 0
    active = [a for a in accounts if a.status == AccountStatus.ACTIVE]
    for _i in range(min(120, 2 * len(active))):
        account = rng.choice(active)
        kind, subject = rng.choice(TICKET_SUBJECTS)
        contact = Contact.objects.filter(account=account).order_by("pk").first()
        unit = account.equipment.order_by("pk").first()
        fate = rng.random()
        if fate < 0.1:  # the newest tickets, not yet picked up
            opened = now - dt.timedelta(minutes=rng.randint(5, 240))
        else:
            opened = now - dt.timedelta(days=rng.uniform(0.5, 60), hours=rng.uniform(0, 8))
        ticket = ticket_create(
            actor=None, account=account, subject=subject, ticket_type=kind, opened_at=opened,
            priority=rng.choices(["P1", "P2", "P3", "P4"], weights=[1, 3, 5, 2])[0],
            channel=rng.choice(["phone", "email", "portal", "wechat"]), contact=contact, equipment=unit,
            description="客户来电反映：" + subject,
        )  # fmt: skip
        count += 1
        engineer = rng.choice(engineers)
        if fate < 0.1:
            continue  # still new
        from keycare.service.services import ticket_assign

        moment = opened + dt.timedelta(minutes=rng.randint(5, 90))

        def step(low: int, high: int, after: dt.datetime) -> dt.datetime:
            return min(after + dt.timedelta(minutes=rng.randint(low, high)), now)

        ticket_assign(actor=None, ticket=ticket, assignee=engineer, at=moment)
        moment = step(10, 400, moment)
        ticket_comment(actor=engineer, ticket=ticket, body="已收到，工程师正在安排。", at=moment)
        moment = step(30, 600, moment)
        ticket_transition(actor=None, ticket=ticket, status="in_progress", at=moment)
        if fate < 0.25:
            continue
        if fate < 0.35:
            ticket_transition(
                actor=None, ticket=ticket, status="waiting_on_customer", at=step(60, 900, moment)
            )
            continue
        moment = step(120, 4000, moment)
        ticket_transition(actor=None, ticket=ticket, status="resolved", resolution="现场检修，更换磨损部件，设备恢复正常。",
                          root_cause=rng.choice(["wear", "operation", "quality", "environment"]), at=moment)  # fmt: skip
        if fate > 0.6:
            ticket_transition(
                actor=None, ticket=ticket, status="closed", at=step(600, 4000, moment)
            )
    from keycare.service.models import TicketRating
    from keycare.service.services import ticket_sla_sweep

    ticket_sla_sweep()  # the open tickets' state as of now
    # most customers answer the rating link
    for rating in TicketRating.objects.select_related("ticket").order_by("pk"):
        if rng.random() < 0.7:
            rating.score = rng.choices([5, 4, 3, 2, 1], weights=[50, 30, 10, 6, 4])[0]
            rating.rated_at = min(rating.sent_at + dt.timedelta(hours=rng.randint(1, 72)), now)
            rating.save(update_fields=["score", "rated_at"])
    return count
