"""Tickets: numbers, the SLA on the China calendar, pauses, the workflow, the timeline,
concurrency, the sweep, and who sees which ticket."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
)
from keycare.core.exceptions import ApplicationError, ConflictError
from keycare.core.scoping import restrict
from keycare.service import services
from keycare.service.models import SlaPolicy, Ticket, TicketEvent
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def test_numbers_are_sequential_per_year():
    first = TicketFactory(opened_at=at(2026, 3, 2, 9))
    second = TicketFactory(opened_at=at(2026, 3, 2, 10))
    assert (first.number, second.number) == ("SR-2026-000001", "SR-2026-000002")


def test_floor_policy_for_an_account_without_tier_and_tier_policy_for_platinum():
    floor = TicketFactory(account=AccountFactory(tier=""))
    platinum = TicketFactory(account=AccountFactory(tier="platinum"))
    assert floor.sla_policy.is_floor
    assert platinum.sla_policy.name == "铂金客户服务标准"
    assert SlaPolicy.objects.filter(is_floor=True).count() == 1


def test_due_times_follow_the_china_calendar_with_its_make_up_day():
    # Wednesday 30 Sep 2026 16:00; 1–7 Oct is the National Day holiday.
    ticket = TicketFactory(
        account=AccountFactory(tier="gold"), priority="P1", opened_at=at(2026, 9, 30, 16)
    )
    # gold P1: 1 h response, 8 h resolution (working hours 08:30–12:00, 13:30–17:30)
    assert ticket.first_response_due_at == at(2026, 9, 30, 17)
    # 1.5 h on 30 Sep, nothing during the holiday, then 3.5 h on the morning of Thursday 8 Oct
    # and 3 h after lunch -> 16:30
    assert ticket.resolution_due_at == at(2026, 10, 8, 16, 30)
    assert ticket.sla_warning == ""


def test_make_up_saturday_counts_as_working_time():
    # Friday 9 Oct 2026 17:00, gold P2: 2 h response -> 0.5 h Friday, 1.5 h on Saturday 10 Oct
    ticket = TicketFactory(
        account=AccountFactory(tier="gold"), priority="P2", opened_at=at(2026, 10, 9, 17)
    )
    assert ticket.first_response_due_at == at(2026, 10, 10, 10)


def test_uncovered_year_is_a_visible_warning():
    ticket = TicketFactory(
        account=AccountFactory(tier="gold"), priority="P4", opened_at=at(2026, 12, 30, 9)
    )
    assert "2027" in ticket.sla_warning


def test_waiting_on_customer_pauses_the_clock(admin_user):
    ticket = TicketFactory(account=AccountFactory(tier="gold"), priority="P1")
    due_before = ticket.resolution_due_at
    ticket = services.ticket_transition(
        actor=admin_user, ticket=ticket, status="waiting_on_customer"
    )
    assert ticket.resolution_due_at is None and ticket.resolution_sla == "paused"
    ticket = services.ticket_transition(actor=admin_user, ticket=ticket, status="in_progress")
    assert ticket.resolution_due_at >= due_before
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["created", "sla_paused", "status", "sla_resumed", "status"]


def test_forbidden_transition_is_a_clear_error_and_changes_nothing(admin_user):
    ticket = TicketFactory()
    with pytest.raises(ApplicationError) as exc:
        services.ticket_transition(actor=admin_user, ticket=ticket, status="closed_forever")
    assert exc.value.extra["code"] == "transition_not_allowed"
    services.ticket_transition(actor=admin_user, ticket=ticket, status="in_progress")
    with pytest.raises(ApplicationError, match="cannot go from"):
        services.ticket_transition(actor=admin_user, ticket=ticket, status="new")
    assert Ticket.objects.get(pk=ticket.pk).status == "in_progress"


def test_resolving_needs_a_resolution_and_reopen_keeps_a_missed_target(admin_user):
    ticket = TicketFactory(priority="P1", opened_at=at(2026, 3, 2, 9))
    with pytest.raises(ValidationError):
        services.ticket_transition(actor=admin_user, ticket=ticket, status="resolved")
    ticket = services.ticket_transition(
        actor=admin_user, ticket=ticket, status="resolved", resolution="换了轴承"
    )
    assert ticket.resolution_sla == "breached"  # resolved months after the due time
    ticket = services.ticket_transition(actor=admin_user, ticket=ticket, status="in_progress")
    assert ticket.resolved_at is None and ticket.resolution_sla == "breached"


def test_first_public_staff_reply_is_the_first_response(admin_user, portal_user):
    account = AccountFactory()
    ContactFactory(account=account, user=portal_user)
    ticket = TicketFactory(account=account, priority="P1")
    services.ticket_comment(actor=admin_user, ticket=ticket, body="内部备注", is_public=False)
    assert Ticket.objects.get(pk=ticket.pk).first_responded_at is None
    services.ticket_comment(actor=portal_user, ticket=ticket, body="还没好", is_public=False)
    assert ticket.comments.get(author=portal_user).is_public  # customers cannot hide replies
    services.ticket_comment(actor=admin_user, ticket=ticket, body="工程师已出发")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.response_sla == "met"


def test_stale_edit_is_rejected(admin_user):
    ticket = TicketFactory()
    services.ticket_update(
        actor=admin_user, ticket=ticket, data={"subject": "新主题"}, expected_version=1
    )
    with pytest.raises(ConflictError):
        services.ticket_update(
            actor=admin_user, ticket=ticket, data={"subject": "旧主题"}, expected_version=1
        )
    assert Ticket.objects.get(pk=ticket.pk).subject == "新主题"


def test_priority_change_recomputes_due_times_and_is_on_the_timeline(admin_user):
    ticket = TicketFactory(priority="P4")
    before = ticket.resolution_due_at
    ticket = services.ticket_update(actor=admin_user, ticket=ticket, data={"priority": "P1"})
    assert ticket.resolution_due_at < before
    assert TicketEvent.objects.filter(
        ticket=ticket, kind="priority", data={"from": "P4", "to": "P1"}
    ).exists()


def test_coverage_from_the_equipment():
    account = AccountFactory()
    unit = EquipmentFactory(account=account, install_date=dt.date.today())  # noqa: DTZ011
    assert TicketFactory(account=account, equipment=unit).coverage == "warranty"
    old = EquipmentFactory(account=account, install_date=dt.date(2015, 1, 1))
    assert TicketFactory(account=account, equipment=old).coverage == "billable"
    with pytest.raises(ValidationError):
        TicketFactory(equipment=old)  # another account's equipment


def test_sweep_marks_breaches_once(admin_user):
    ticket = TicketFactory(priority="P1", opened_at=at(2026, 3, 2, 9))
    Ticket.objects.filter(pk=ticket.pk).update(response_sla="on_track", resolution_sla="on_track")
    assert services.ticket_sla_sweep() == 1
    assert services.ticket_sla_sweep() == 0
    assert (
        TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").count() == 2
    )  # both targets


@pytest.mark.django_db(transaction=True)
def test_two_engineers_claim_at_once_exactly_one_wins(make_user):
    first = make_user("service_engineer", username="eng_a")
    second = make_user("service_engineer", username="eng_b")
    account = AccountFactory()
    for user in (first, second):
        AccountTeamMemberFactory(account=account, user=user, role=AccountTeamRole.SERVICE_ENGINEER)
    ticket = TicketFactory(account=account)
    results: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def claim(user, in_thread=True):
        try:
            if in_thread:
                barrier.wait(timeout=10)
            services.ticket_claim(actor=user, ticket=ticket)
            results[user.username] = "won"
        except ConflictError:
            results[user.username] = "conflict"
        finally:
            if in_thread:
                connection.close()  # the thread's own connection

    if connection.vendor == "postgresql":  # real concurrent transactions
        threads = [threading.Thread(target=claim, args=(u,)) for u in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:  # SQLite serialises writers; the second claim still finds the ticket taken
        claim(first, in_thread=False)
        claim(second, in_thread=False)
    assert sorted(results.values()) == ["conflict", "won"]
    ticket.refresh_from_db()
    assert ticket.assignee.username == next(name for name, r in results.items() if r == "won")
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").count() == 1


@pytest.mark.parametrize(
    ("fixture", "sees"),
    [
        ("admin_user", {"mine", "other"}),
        ("service_manager", {"mine", "other"}),
        ("executive", {"mine", "other"}),
        ("kam", {"mine"}),
        ("engineer", {"mine", "assigned"}),
        ("portal_user", {"mine"}),
    ],
)
def test_ticket_scope_per_role(request, fixture, sees, kam, engineer, portal_user, other_kam):
    mine = AccountFactory(owner=kam)
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    ContactFactory(account=mine, user=portal_user)
    other = AccountFactory(owner=other_kam)
    tickets = {
        "mine": TicketFactory(account=mine),
        "other": TicketFactory(account=other),
        "assigned": TicketFactory(account=other, assignee=engineer),
    }
    user = request.getfixturevalue(fixture)
    visible = {
        name
        for name, t in tickets.items()
        if restrict(Ticket.objects.filter(pk=t.pk), user).exists()
    }
    expected = sees | ({"assigned"} if sees == {"mine", "other"} else set())
    assert visible == expected


def test_assignment_rules_service_lead_then_least_loaded(make_user):
    lead = make_user("service_engineer", username="lead")
    busy = make_user("service_engineer", username="busy")
    free = make_user("service_engineer", username="free")
    group = AccountFactory()
    branch = AccountFactory(parent=group)
    AccountTeamMemberFactory(account=group, user=lead, role=AccountTeamRole.SERVICE_LEAD)
    # the branch has no lead of its own: the group's lead takes it
    assert (
        services.ticket_auto_assign(actor=None, ticket=TicketFactory(account=branch)).assignee
        == lead
    )
    other = AccountFactory()
    for user in (busy, free):
        AccountTeamMemberFactory(account=other, user=user, role=AccountTeamRole.SERVICE_ENGINEER)
    TicketFactory(account=other, assignee=busy)
    ticket = services.ticket_auto_assign(actor=None, ticket=TicketFactory(account=other))
    assert (ticket.assignee, ticket.status) == (free, "assigned")
    nobody = TicketFactory(account=AccountFactory())
    assert services.ticket_auto_assign(actor=None, ticket=nobody).assignee is None


@pytest.mark.parametrize("sees_branches", [False, True])
def test_portal_contact_sees_branches_only_when_allowed(portal_user, sees_branches):
    """无差异服务: a group's service lead on the portal may follow every plant's tickets;
    an ordinary contact sees only their own account's. Never the parent or a sibling."""
    parent = AccountFactory(name="集团总部")
    group = AccountFactory(parent=parent, name="华东公司")
    plant = AccountFactory(parent=group, name="苏州工厂")
    sub_plant = AccountFactory(parent=plant, name="苏州二厂")
    sibling = AccountFactory(parent=parent, name="华南公司")
    ContactFactory(account=group, user=portal_user, portal_sees_branches=sees_branches)
    tickets = {a.name: TicketFactory(account=a) for a in (parent, group, plant, sub_plant, sibling)}
    visible = set(
        restrict(Ticket.objects.all(), portal_user).values_list("account__name", flat=True)
    )
    expected = {"华东公司", "苏州工厂", "苏州二厂"} if sees_branches else {"华东公司"}
    assert visible == expected
    from keycare.accounts.models import Account

    assert set(restrict(Account.objects.all(), portal_user).values_list("name", flat=True)) == (
        expected
    )
    assert len(tickets) == 5
