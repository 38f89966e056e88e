"""Demo engagement data (与关键人物互动), so every engagement page shows something real from
the first login: the executive sponsors of the key accounts (the demo executive sponsoring
several), a year of activities and the ones planned this week for the demo key account
manager (some with overdue next steps; introductions through a coach, executive visits,
site visits to a reference customer), reference customers with their consent, business
events held and planned with invitations, attendance and costs, gifts (one over the limit,
waiting for approval), VIP club members, pains linked to tickets, birthdays and important
dates in the coming days, and the reminders all of this raises.

Written through the domain services, deterministic (its own seeded generator, so the rest
of the demo data does not move), and quick: a few rows per account of the key accounts and
the demo key account manager's, nothing per ticket or order."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from keycare.accounts.choices import AccountStatus, AccountTeamRole, AccountTier, BuyingRole
from keycare.accounts.models import Account, AccountTeamMember, Contact
from keycare.users.models import User

#: How many key accounts the demo executive sponsors (besides those the groups gave them).
SPONSORED = 5
#: How many key accounts the demo key account manager co-manages with their owner.
CO_MANAGED = 3


@dataclass
class EngagementSummary:
    activities: int = 0
    events: int = 0
    invitations: int = 0
    gifts: int = 0
    vip_members: int = 0
    pains: int = 0
    references: int = 0
    reminders: int = 0
    kinds: set = field(default_factory=set)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _people(account: Account) -> list[Contact]:
    """The account's active people, the top person (the decision maker) first."""
    return list(Contact.objects.filter(account=account, is_active=True).order_by("pk"))


def _role(people: list[Contact], *roles: str) -> Contact | None:
    return next((c for c in people if c.buying_role in roles), None)


def engagement_demo_generate(*, users: dict[str, User], seed: int) -> EngagementSummary:
    """Generate the engagement data over the accounts already made (after the insights
    data: the key accounts are confirmed by then)."""
    from keycare.core.background import background_tasks_suppressed

    with background_tasks_suppressed():  # the demo's customers and staff get no mail
        return _generate(users=users, seed=seed)


def _generate(*, users: dict[str, User], seed: int) -> EngagementSummary:
    from keycare.engagement.reminders import reminders_generate
    from keycare.engagement.service_link import key_person_tickets_check

    rng = random.Random(seed * 7919 + 17)  # noqa: S311 - deterministic demo data
    summary = EngagementSummary()
    keys = list(
        Account.objects.filter(key_account__isnull=False).select_related("owner").order_by("pk")
    )
    kam = users["kam"]
    own = list(
        Account.objects.filter(owner=kam, status=AccountStatus.ACTIVE)
        .exclude(pk__in=[a.pk for a in keys])
        .select_related("owner")
        .order_by("pk")[:6]
    )
    _sponsors(keys, users)
    focus = [*keys, *own]
    people = {a.pk: _people(a) for a in focus}
    references = _references(keys, people, users, summary)
    _activities(focus, keys, people, references, users, rng, summary)
    _vip(focus, people, users, summary)
    _events(focus, people, users, rng, summary)
    _gifts(focus, people, users, summary)
    _pains(focus, people, rng, summary)
    _dates(own or keys, people, summary)
    summary.reminders = reminders_generate(deliver=False)  # in the app; nobody is mailed
    summary.reminders += key_person_tickets_check(deliver=False)
    return summary


def _sponsors(keys: list[Account], users: dict[str, User]) -> None:
    """The demo executive sponsors several key accounts; the demo key account manager
    co-manages a few with their owners (so "My week" spans key accounts)."""
    from keycare.accounts.services import account_team_member_add

    executive, kam = users["exec"], users["kam"]
    sponsored = set(
        AccountTeamMember.objects.filter(role=AccountTeamRole.EXECUTIVE_SPONSOR).values_list(
            "account_id", flat=True
        )
    )
    for account in [a for a in keys if a.pk not in sponsored][:SPONSORED]:
        account_team_member_add(actor=None, account=account, user=executive,
                                role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    for account in [a for a in keys if a.owner_id != kam.pk][:CO_MANAGED]:
        account_team_member_add(actor=None, account=account, user=kam,
                                role=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip


def _references(keys, people, users, summary) -> list[Account]:
    """Two key accounts agreed to be references (one hosting at most two visits a year);
    a third was asked and has not agreed."""
    from keycare.engagement.services.programme import reference_customer_set

    chosen = [a for a in keys if people.get(a.pk)][:3]
    showcases = ["全自动焊装线与机器人工作站，数字化设备管理看板",
                 "空压站节能改造：能耗下降 23%，远程监控"]  # fmt: skip
    agreed = []
    for n, account in enumerate(chosen):
        data = {"consent": n < 2, "available": True}
        if n < 2:
            data |= {"consent_by": people[account.pk][0].pk, "showcase": showcases[n],
                     "consent_on": timezone.localdate() - dt.timedelta(days=200 - 60 * n),
                     "availability": "工作日，需提前两周预约" if n == 0 else "每季度一次",
                     "max_visits_per_year": None if n == 0 else 2}  # fmt: skip
            agreed.append(account)
        reference_customer_set(actor=users["admin"], account=account, data=data)
        summary.references += 1
    return agreed


OUTCOMES = ["确认了明年产能扩张计划，需要两台加工中心", "客户对备件交期不满意，承诺两周内改善",
            "技术部认可我方方案，等待采购部比价", "了解到竞争对手正在接触设备部",
            "决策者同意安排一次工厂参观"]  # fmt: skip
NEXT_STEPS = [
    "发送正式报价",
    "安排技术交流会",
    "提交备件保障方案",
    "预约总经理拜访",
    "寄送案例资料",
]


def _activities(focus, keys, people, references, users, rng, summary) -> None:
    """A year of done activities with each account's people, executive visits on the
    sponsored key accounts, introductions through a coach, reference visits, overdue next
    steps, and the demo key account manager's week."""
    from keycare.engagement.choices import ActivityKind, VisitDestination
    from keycare.engagement.playbooks import active_playbooks
    from keycare.engagement.services.activities import activity_create

    now = timezone.now()
    today = timezone.localdate()
    executive, kam, admin = users["exec"], users["kam"], users["admin"]
    sponsored = set(
        AccountTeamMember.objects.filter(
            user=executive, role=AccountTeamRole.EXECUTIVE_SPONSOR
        ).values_list("account_id", flat=True)
    )
    quiet = keys[-1] if len(keys) > 2 else None  # one relationship gone dormant
    playbooks = active_playbooks()
    overdue_shown = never_shown = False  # one executive visit overdue, one never made

    def done(account, kind, days_ago, owner, contacts, subject, **extra):
        summary.activities += 1
        summary.kinds.add(kind)
        return activity_create(
            actor=None, account=account, kind=kind, subject=subject, owner=owner,
            done_at=now - dt.timedelta(days=days_ago, hours=rng.randint(0, 6)),
            contacts=[c.pk for c in contacts], outcome=extra.pop("outcome", rng.choice(OUTCOMES)),
            **extra,
        )  # fmt: skip

    def planned(account, kind, when, owner, contacts, subject, **extra):
        summary.activities += 1
        summary.kinds.add(kind)
        return activity_create(actor=None, account=account, kind=kind, subject=subject,
                               owner=owner, planned_at=when, contacts=[c.pk for c in contacts],
                               **extra)  # fmt: skip

    for n, account in enumerate(focus):
        team = people[account.pk]
        if not team:
            continue
        owner = account.owner or kam
        boss, others = team[0], team[1:] or team
        if account == quiet:
            done(account, ActivityKind.MEETING, 200, owner, [boss], "年度合作回顾")
            continue
        for k in range(rng.randint(2, 4)):
            kind = rng.choice([ActivityKind.MEETING, ActivityKind.CALL, ActivityKind.DISCOVERY,
                               ActivityKind.WECHAT, ActivityKind.MEETING])  # fmt: skip
            who = [rng.choice(others)] if k else [boss]
            days = rng.randint(20, 330) if k else rng.randint(10, 140)
            extra = {"cost": Decimal(rng.choice([0, 0, 300, 800, 1500]))}
            if k == 0 and n % 3 == 0:  # a next step left undone past its day
                extra |= {"next_step": rng.choice(NEXT_STEPS),
                          "next_step_due": today - dt.timedelta(days=rng.randint(2, 9))}  # fmt: skip
            subject = {"meeting": "拜访设备部", "call": "电话沟通交期", "discovery": "需求与痛点访谈",
                       "wechat": "微信跟进方案"}[kind]  # fmt: skip
            done(account, kind, days, owner, who, subject, **extra)
        if account.pk in sponsored:
            every = _visit_every(playbooks, account)
            late = every is not None and not overdue_shown
            if every is not None and late is False and not never_shown:
                never_shown = True  # this one was never visited: due now
            else:
                days = every + 12 if late else max(20, (every or 120) // 2)
                overdue_shown = overdue_shown or late
                done(account, ActivityKind.EXECUTIVE_VISIT, days, executive, [boss],
                     "高层拜访：战略合作会谈", participants=[owner.pk], cost=Decimal(2600))  # fmt: skip
        coach = _role(team, BuyingRole.COACH)
        if coach is not None and coach != boss and n % 2 == 0:
            done(account, ActivityKind.INTRODUCTION, rng.randint(40, 100), owner, [coach, boss],
                 "经内部教练引荐，与决策者首次会面", target_contact=boss)  # fmt: skip
    # reference visits: two accounts visited a reference customer, one more is planned
    visitors = [a for a in focus if a not in references and people[a.pk] and a != quiet]
    for n, account in enumerate(visitors[:3]):
        if not references:
            break
        reference = references[n % len(references)]
        fields = {"destination": VisitDestination.REFERENCE, "reference_account": reference.pk,
                  "host": admin.pk, "itinerary": "09:00 参观产线\n11:00 与设备部座谈\n14:00 交流运维经验",
                  "cost": Decimal(4200)}  # fmt: skip
        subject = f"参观考察：{reference.short_name or reference.name}"
        if n < 2:
            done(account, ActivityKind.SITE_VISIT, 45 + 30 * n, account.owner or kam,
                 [people[account.pk][0]], subject, **fields)  # fmt: skip
        else:
            planned(account, ActivityKind.SITE_VISIT, _at(today + dt.timedelta(days=16), 9),
                    account.owner or kam, [people[account.pk][0]], subject,
                    objective="让决策者看到同行的改造效果", **fields)  # fmt: skip
    # the demo key account manager's week: Monday to Friday
    monday = today - dt.timedelta(days=today.weekday())
    on_team = set(AccountTeamMember.objects.filter(user=kam).values_list("account_id", flat=True))
    mine = [a for a in focus if people[a.pk] and (a.owner_id == kam.pk or a.pk in on_team)]
    plan = [(ActivityKind.MEETING, "季度业务回顾"), (ActivityKind.CALL, "确认新产线调试计划"),
            (ActivityKind.DISCOVERY, "需求与痛点访谈"), (ActivityKind.CARE, "生日问候"),
            (ActivityKind.MEETING, "与技术负责人交流")]  # fmt: skip
    for day, (kind, subject) in enumerate(plan):
        if not mine:
            break
        account = mine[day % len(mine)]
        planned(account, kind, _at(monday + dt.timedelta(days=day), 10 if day % 2 else 14, 30),
                kam, [people[account.pk][0]], subject, objective="推进合作，了解最新需求")  # fmt: skip
    if mine:  # next week: an introduction to a person not reached yet
        account = mine[0]
        coach = _role(people[account.pk], BuyingRole.COACH, BuyingRole.INFLUENCER)
        target = people[account.pk][0]
        if coach is not None and coach != target:
            planned(account, ActivityKind.INTRODUCTION, _at(monday + dt.timedelta(days=8), 15),
                    kam, [coach], "请教练引荐决策者", target_contact=target,
                    objective="通过内部教练认识决策者")  # fmt: skip


def _visit_every(playbooks, account: Account) -> int | None:
    """Every how many days the account's playbook wants an executive visit, if it does."""
    from keycare.engagement.playbooks import pick_playbook

    playbook = pick_playbook(playbooks, account_type=account.account_type or "",
                             tier=account.tier or "")  # fmt: skip
    items = playbook.items.all() if playbook else []
    return next((i.every_days for i in items if i.kind == "executive_visit"), None)


def _events(focus, people, users, rng, summary) -> None:
    """A customer meeting and a VIP club event held (with who came, and their cost), a
    seminar and a dinner planned (invitations out, some registered, one declined)."""
    from keycare.engagement.choices import EventKind
    from keycare.engagement.models import VipLevel
    from keycare.engagement.services.events import event_create

    executive, svcmgr, kam = users["exec"], users["svcmgr"], users["kam"]
    today = timezone.localdate()
    guests = [people[a.pk][0] for a in focus if people[a.pk]]
    diamond = VipLevel.objects.filter(code="diamond").first()
    events = [
        # name, kind, days from today, organiser, cost, guests, held
        ("2026 年度客户大会", EventKind.CUSTOMER_MEETING, -60, executive, Decimal(86000), guests[:10]),
        ("智能制造技术研讨会", EventKind.SEMINAR, 12, svcmgr, None, guests[2:10]),
        ("春季答谢晚宴", EventKind.SOCIAL, 30, kam, None, guests[:6]),
    ]  # fmt: skip
    for name, kind, days, organiser, cost, invited in events:
        if not invited:
            continue
        starts = _at(today + dt.timedelta(days=days), 9 if kind != EventKind.SOCIAL else 18)
        event = event_create(actor=organiser, data={
            "name": name, "kind": kind, "starts_at": starts,
            "ends_at": starts + dt.timedelta(hours=7 if kind != EventKind.SOCIAL else 3),
            "location": rng.choice(["上海国际会议中心", "苏州金鸡湖凯宾斯基酒店", "公司总部展厅"]),
            "capacity": 80, "budget": Decimal(90000 if cost else 30000),
            "description": "邀请重点客户的决策者与技术负责人",
        })  # fmt: skip
        summary.events += 1
        _invite_and_answer(event, invited, executive, cost, summary)
    if diamond is None:
        return
    from keycare.engagement.selectors.vip import vip_eligible_contact_ids

    eligible = vip_eligible_contact_ids(contact_ids=[c.pk for c in guests], level=diamond)
    members = [c for c in guests if c.pk in eligible][:6]
    if members:
        starts = _at(today - dt.timedelta(days=25), 13)
        event = event_create(actor=executive, data={
            "name": "钻石会员高尔夫邀请赛", "kind": EventKind.VIP_CLUB, "vip_level": diamond,
            "starts_at": starts, "ends_at": starts + dt.timedelta(hours=5),
            "location": "佘山高尔夫俱乐部", "budget": Decimal(60000),
            "description": "VIP 俱乐部会员活动",
        })  # fmt: skip
        summary.events += 1
        _invite_and_answer(event, members, executive, Decimal(52000), summary)


def _invite_and_answer(event, invited, actor, cost, summary) -> None:
    """Invite, answer (most register, one declines), and for a past event: hold it with its
    cost and record who came (one did not)."""
    from keycare.engagement.choices import InvitationStatus
    from keycare.engagement.services.events import (
        Attendance,
        Invitee,
        event_attendance_record,
        event_hold,
        event_invite,
        invitation_respond,
    )

    invitations = event_invite(
        actor=actor, event=event, invitees=[Invitee(contact=c) for c in invited]
    )
    summary.invitations += len(invitations)
    registered = []
    for n, invitation in enumerate(invitations):
        if n == len(invitations) - 1 and len(invitations) > 2:
            invitation_respond(actor=actor, invitation=invitation, status=InvitationStatus.DECLINED)
        elif n % 4 != 3:
            answer = InvitationStatus.REGISTERED
            registered.append(invitation_respond(actor=actor, invitation=invitation, status=answer))
    if cost is None:
        return
    event.refresh_from_db()
    event = event_hold(actor=actor, event=event, cost=cost, expected_version=event.version)
    records = [
        Attendance(invitation_id=i.pk,
                   status=InvitationStatus.NO_SHOW if n == 1 else InvitationStatus.ATTENDED)
        for n, i in enumerate(registered)
    ]  # fmt: skip
    if records:
        event_attendance_record(actor=actor, event=event, records=records)


def _vip(focus, people, users, summary) -> None:
    """The decision makers of the platinum and gold accounts are members (their level from
    the tier); one's level is raised by hand."""
    from keycare.engagement.models import VipLevel, VipMember
    from keycare.engagement.services.vip import vip_member_add

    diamond = VipLevel.objects.filter(code="diamond").first()
    raised = False
    for account in focus:
        if account.tier not in (AccountTier.PLATINUM, AccountTier.GOLD, AccountTier.IRON):
            continue
        team = people[account.pk]
        if not team or VipMember.objects.filter(contact=team[0]).exists():
            continue
        override = None
        if not raised and account.tier == AccountTier.GOLD and diamond is not None:
            override, raised = diamond, True
        vip_member_add(actor=users["admin"], contact=team[0], level_override=override,
                       override_reason="集团战略合作伙伴" if override else "",
                       joined_on=timezone.localdate() - dt.timedelta(days=300))  # fmt: skip
        summary.vip_members += 1


def _gifts(focus, people, users, summary) -> None:
    """Festival gifts within the limit, approved as recorded; one over the yearly limit,
    waiting for an executive's approval."""
    from keycare.engagement.services.gifts import gift_record

    today = timezone.localdate()
    kam = users["kam"]
    given = 0
    for account in focus:
        team = people[account.pk]
        owner = account.owner or kam
        if not team or not owner.has_role("key_account_manager", "administrator"):
            continue
        gift_record(actor=owner, contact=team[0], value=Decimal(680), occasion="中秋节",
                    description="月饼礼盒", given_on=today - dt.timedelta(days=70))  # fmt: skip
        given += 1
        summary.gifts += 1
        if given == 3:  # the expensive one, beyond every tier's yearly limit
            gift_record(actor=owner, contact=team[0], value=Decimal(3200), occasion="新厂投产庆典",
                        description="定制纪念品（景泰蓝摆件）", given_on=today - dt.timedelta(days=2))  # fmt: skip
            summary.gifts += 1
        if given >= 6:
            break


PAINS = [
    ("设备反复停机，影响交期", "主轴故障三个月内发生四次，每次停产半天", 5, 380000,
     "驻场工程师 + 预防性维护合同"),
    ("备件到货慢", "关键备件平均等待 9 天", 4, 120000, "在客户现场设寄售备件库"),
    ("能耗偏高", "空压站能耗比同行高约 20%", 3, 90000, "空压站节能改造方案"),
]  # fmt: skip


def _pains(focus, people, rng, summary) -> None:
    """Needs and pains of the focus accounts, raised by their people, linked to the
    account's tickets and to the activity where they came up."""
    from keycare.engagement.models import Activity
    from keycare.engagement.services.pains import pain_create
    from keycare.service.models import Ticket

    for n, account in enumerate(focus[:8]):
        team = people[account.pk]
        if not team:
            continue
        title, description, impact, value, solution = PAINS[n % len(PAINS)]
        tickets = list(Ticket.objects.filter(account=account).order_by("-opened_at")
                       .values_list("pk", flat=True)[:2])  # fmt: skip
        activity = Activity.objects.filter(account=account, status="done").order_by("pk").first()
        pain_create(
            actor=None, account=account, title=title, description=description,
            raised_by=rng.choice(team).pk, impact=impact, impact_value=Decimal(value),
            solution=solution if n % 2 == 0 else "", status="proposed" if n % 2 == 0 else "open",
            owner=account.owner_id, tickets=tickets, activities=[activity.pk] if activity else [],
            raised_on=timezone.localdate() - dt.timedelta(days=20 + 10 * n),
        )  # fmt: skip
        summary.pains += 1


def _same_day(day: dt.date, year: int) -> dt.date:
    """`day` in another year (29 February: the 28th in a common year)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def _dates(accounts, people, summary) -> None:
    """Birthdays and important dates in the coming days at the demo key account manager's
    accounts (the reminders the details practice is about)."""
    from keycare.accounts.services import important_date_add, personal_details_update

    today = timezone.localdate()
    for n, account in enumerate(accounts[:3]):
        team = people.get(account.pk) or []
        if not team:
            continue
        person = team[-1] if len(team) > 1 else team[0]
        birthday = _same_day(today + dt.timedelta(days=2 + 2 * n), 1972)
        personal_details_update(actor=None, contact=person, data={"birthday": birthday})
        anniversary = _same_day(today + dt.timedelta(days=5 + n), today.year - 10 + n)
        important_date_add(actor=None, contact=team[0], date=anniversary, remind_days_before=7,
                           label="合作十周年" if n == 0 else "入职纪念日")  # fmt: skip
