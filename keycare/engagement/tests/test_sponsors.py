"""The executive sponsor programme: an executive's sponsored accounts with the next visit
due, the days overdue, the coverage score and the service health (SLA compliance, open
breached and escalated tickets, CSAT); the report of key accounts with no executive contact
within their cadence or no sponsor at all; who sees what; fixed query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.coverage_ticks import coverage_refresh
from keycare.engagement.sponsors import (
    executive_overdue_report,
    service_health,
    sponsored_accounts,
)
from keycare.engagement.tests.programme_helpers import days_ago, done, make_key
from keycare.insights.models import AccountMetric
from keycare.service.models import SlaAlert, Ticket, TicketRating
from keycare.service.tests.factories import TicketFactory
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
SPONSOR = AccountTeamRole.EXECUTIVE_SPONSOR


def _ticket(account, *, status="in_progress", resolution_sla="on_track", resolved_days=None,
            score=None, escalated=False):  # fmt: skip
    ticket = TicketFactory(account=account)
    fields = {"status": status, "resolution_sla": resolution_sla}
    if resolved_days is not None:
        fields["resolved_at"] = timezone.now() - dt.timedelta(days=resolved_days)
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    if score is not None:
        now = timezone.now()
        TicketRating.objects.create(ticket=ticket, token_hash=f"h{ticket.pk}", email="a@b.cn",
                                    sent_at=now, expires_at=now, rated_at=now, score=score)  # fmt: skip
    if escalated:
        SlaAlert.objects.create(ticket=ticket, target="resolution", level=SlaAlert.Level.ESCALATED)
    return ticket


@pytest.fixture
def programme(kam, other_kam, executive, make_user):
    """The executive sponsors `overdue` (strategic: visited 100 days ago, every 90: 10 days
    overdue) and `never` (intrinsic: never visited, due today); another executive sponsors
    `visited` (strategic, visited 10 days ago); `nobody` (any type) is a key account with no
    sponsor; `plain` is no key account and has no sponsor either."""
    other_exec = make_user(Role.EXECUTIVE, username="exec2")
    accounts = {
        "overdue": AccountFactory(name="逾期客户", owner=kam, account_type="strategic"),
        "never": AccountFactory(name="从未拜访", owner=kam, account_type="intrinsic"),
        "visited": AccountFactory(name="已拜访", owner=other_kam, account_type="strategic"),
        "nobody": AccountFactory(name="无人负责", owner=kam),
        "plain": AccountFactory(name="普通客户", owner=kam),
    }
    for key in ("overdue", "never", "visited", "nobody"):
        make_key(accounts[key])
    for key in ("overdue", "never"):
        AccountTeamMemberFactory(account=accounts[key], user=executive, role=SPONSOR)
    AccountTeamMemberFactory(account=accounts["visited"], user=other_exec, role=SPONSOR)
    boss = ContactFactory(account=accounts["overdue"], buying_role="decision_maker")
    done(accounts["overdue"], owner=kam, contacts=[boss], participants=[executive],
         when=days_ago(100))  # fmt: skip
    their_boss = ContactFactory(account=accounts["visited"], buying_role="decision_maker")
    done(accounts["visited"], owner=other_exec, kind="executive_visit", contacts=[their_boss],
         when=days_ago(10))  # fmt: skip
    accounts["other_exec"] = other_exec
    coverage_refresh()
    return accounts


def test_the_sponsored_accounts_most_overdue_first(programme, executive):
    rows = sponsored_accounts(actor=executive)
    today = timezone.localdate()
    assert [(r.account.name, r.executive.due_on, r.executive.overdue_days) for r in rows] == [
        ("逾期客户", today - dt.timedelta(days=10), 10), ("从未拜访", today, 0),
    ]  # fmt: skip
    overdue, never = rows
    assert overdue.executive.last_done_at == days_ago(100) and overdue.executive.every_days == 90
    assert never.executive.last_done_at is None and never.executive.every_days == 365
    assert overdue.executive.missed and never.executive.missed
    # the boss was met 100 days ago (outside the window): 20 + 0 + 0 + 0 + 15 × 1/6 → 23
    assert (overdue.coverage_score, never.coverage_score) == (23, 0)


def test_service_health_of_the_sponsored_accounts(programme, executive):
    overdue = programme["overdue"]
    _ticket(overdue, resolution_sla="breached", escalated=True)  # open, breached, escalated
    _ticket(overdue)  # open, on track
    _ticket(overdue, status="resolved", resolution_sla="met", resolved_days=20, score=5)
    _ticket(overdue, status="resolved", resolution_sla="breached", resolved_days=40, score=2)
    _ticket(overdue, status="closed", resolution_sla="breached", resolved_days=400)  # too old
    health = {r.account.name: r.health for r in sponsored_accounts(actor=executive)}
    h = health["逾期客户"]
    assert (h.open, h.breached, h.escalated) == (2, 1, 1)
    assert (h.resolved, h.sla_compliance, h.ratings, h.csat) == (2, 50.0, 2, 50.0)
    n = health["从未拜访"]
    assert (n.open, n.resolved, n.sla_compliance, n.csat) == (0, 0, None, None)


def test_service_health_follows_the_ticket_scope(programme, kam, other_kam):
    _ticket(programme["overdue"], resolution_sla="breached")
    ids = [programme["overdue"].pk]
    assert service_health(actor=kam, account_ids=ids)[ids[0]].breached == 1
    assert service_health(actor=other_kam, account_ids=ids)[ids[0]].breached == 0


def test_each_executive_sees_only_the_accounts_they_sponsor(programme, kam, portal_user,
                                                           admin_user):  # fmt: skip
    assert [r.account.name for r in sponsored_accounts(actor=programme["other_exec"])] == ["已拜访"]
    assert sponsored_accounts(actor=kam) == []
    assert sponsored_accounts(actor=admin_user) == []
    ContactFactory(account=programme["overdue"], user=portal_user)
    assert sponsored_accounts(actor=portal_user) == []


def test_the_next_due_first_then_the_higher_value(executive, kam):
    names = []
    for name, profit in (("大客户", "10"), ("小客户", "900"), ("无数据", None)):
        account = AccountFactory(name=name, owner=kam, account_type="intrinsic")
        AccountTeamMemberFactory(account=account, user=executive, role=SPONSOR)
        if profit:
            AccountMetric.objects.create(account=account, scope="own", gross_profit=Decimal(profit),
                                         period_start=dt.date(2025, 1, 1),
                                         period_end=dt.date(2025, 12, 31))  # fmt: skip
        names.append(account)
    done(names[2], owner=executive, kind="call", when=days_ago(300))  # due in 65 days
    rows = sponsored_accounts(actor=executive)
    # never visited (due today) by value, then the one due later
    assert [r.account.name for r in rows] == ["小客户", "大客户", "无数据"]


def test_sponsored_accounts_take_a_fixed_number_of_queries(programme, executive, kam,
                                                           django_assert_num_queries):  # fmt: skip
    executive = type(executive).objects.get(pk=executive.pk)
    assert executive.roles
    # the accounts; cadences 6; the last executive contact 1; coverage 3 (no colleagues);
    # service health 3
    with django_assert_num_queries(14):
        assert len(sponsored_accounts(actor=executive)) == 2
    for _ in range(4):
        account = AccountFactory(owner=kam, account_type="strategic")
        AccountTeamMemberFactory(account=account, user=executive, role=SPONSOR)
        _ticket(account, status="resolved", resolution_sla="met", resolved_days=3, score=4)
    with django_assert_num_queries(14):
        assert len(sponsored_accounts(actor=executive)) == 6


# --- the executive overdue report --------------------------------------------------------------


def test_the_overdue_report(programme, executive):
    rows = executive_overdue_report(actor=executive)
    # never visited first, then the most overdue, then the one with no sponsor (its playbook
    # asks for no executive visit); the one visited 10 days ago and the plain account are out
    assert [(r.account.name, r.flags) for r in rows] == [
        ("从未拜访", ["missed"]), ("逾期客户", ["missed"]), ("无人负责", ["no_sponsor"]),
    ]  # fmt: skip
    assert [u.username for u in rows[0].sponsors] == ["exec1"]
    assert rows[2].no_sponsor and rows[2].executive.status is None
    assert rows[1].executive.overdue_days == 10


def test_a_key_account_with_no_sponsor_and_a_missed_visit_has_both_flags(programme, executive):
    programme["nobody"].account_type = "extrinsic"
    programme["nobody"].save(update_fields=["account_type"])
    coverage_refresh()  # the stored cadence (the hourly tick)
    flags = {r.account.name: r.flags for r in executive_overdue_report(actor=executive)}
    assert flags["无人负责"] == ["missed", "no_sponsor"]


def test_the_report_filters(programme, executive, kam):
    def names(filters):
        return [r.account.name for r in executive_overdue_report(actor=executive, filters=filters)]

    assert names({"sponsor": str(executive.pk)}) == ["从未拜访", "逾期客户"]
    assert names({"account_type": "intrinsic"}) == ["从未拜访"]
    assert names({"owner": str(kam.pk), "province": "江苏省"}) == [
        "从未拜访",
        "逾期客户",
        "无人负责",
    ]
    with pytest.raises(ValidationError) as exc:
        executive_overdue_report(actor=executive, filters={"sponsor": "x", "tier": "diamond"})
    assert set(exc.value.message_dict) == {"sponsor", "tier"}


def test_who_sees_the_report(programme, kam, other_kam, portal_user, engineer):
    assert [r.account.name for r in executive_overdue_report(actor=kam)] == [
        "从未拜访", "逾期客户", "无人负责",
    ]  # fmt: skip
    assert list(executive_overdue_report(actor=other_kam)) == []  # their account was visited
    assert list(executive_overdue_report(actor=engineer)) == []
    ContactFactory(account=programme["never"], user=portal_user)
    assert list(executive_overdue_report(actor=portal_user)) == []


def test_the_report_takes_a_fixed_number_of_queries(programme, executive, kam,
                                                    django_assert_num_queries):  # fmt: skip
    executive = type(executive).objects.get(pk=executive.pk)
    assert executive.roles

    def page():
        return list(Paginator(executive_overdue_report(actor=executive), 25).page(1))

    # a page: the count, the page (the stored cadence joined), the sponsors; nothing computed
    with django_assert_num_queries(3):
        assert len(page()) == 3
    for _ in range(30):
        make_key(AccountFactory(owner=kam, account_type="strategic"))
    coverage_refresh()
    with django_assert_num_queries(3):
        assert len(page()) == 25
    assert len(executive_overdue_report(actor=executive)) == 33


def test_the_report_reads_the_stored_cadence(programme, executive, kam):
    """An executive visit shows once the account's stored figures are refreshed (after the
    commit of an activity through the services; here by hand), and an account not computed
    yet shows only when it has no sponsor."""
    rows = list(executive_overdue_report(actor=executive))
    assert rows[1].executive.last_done_at == days_ago(100)
    assert (rows[1].executive.due_on, rows[1].executive.every_days) == (
        days_ago(10).date(), 90,
    )  # fmt: skip
    boss = ContactFactory(account=programme["overdue"], buying_role="decision_maker")
    done(programme["overdue"], owner=executive, contacts=[boss], when=days_ago(2))
    assert [r.account.name for r in executive_overdue_report(actor=executive)] == [
        "从未拜访", "逾期客户", "无人负责",
    ]  # fmt: skip
    coverage_refresh([programme["overdue"].pk])
    assert [r.account.name for r in executive_overdue_report(actor=executive)] == [
        "从未拜访", "无人负责",
    ]  # fmt: skip
    new = make_key(AccountFactory(name="新大客户", owner=kam, account_type="strategic")).account
    AccountTeamMemberFactory(account=new, user=executive, role=SPONSOR)
    names = [r.account.name for r in executive_overdue_report(actor=executive)]
    assert "新大客户" not in names  # not computed yet: its cadence is unknown
    coverage_refresh([new.pk])
    flags = {r.account.name: (r.flags, r.executive.never_done)
             for r in executive_overdue_report(actor=executive)}  # fmt: skip
    assert flags["新大客户"] == (["missed"], True)


def test_the_last_executive_contact_shows_where_the_playbook_asks_for_no_visit(kam, executive):
    """An account whose playbook has no executive cadence (the default one) still shows
    when the executive last met it, not "never"."""
    account = AccountFactory(name="无节奏客户", owner=kam)  # no type: the default playbook
    make_key(account)
    AccountTeamMemberFactory(account=account, user=executive, role=SPONSOR)
    boss = ContactFactory(account=account, buying_role="decision_maker")
    when = days_ago(20)
    done(account, owner=executive, kind="executive_visit", contacts=[boss], when=when)
    [row] = sponsored_accounts(actor=executive)
    assert row.executive.status is None  # no cadence asked
    assert row.executive.last_done_at == when
    assert not row.executive.missed
