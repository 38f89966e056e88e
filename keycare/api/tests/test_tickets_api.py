import re

import pytest
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory, busy_ticket

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world(kam, engineer, portal_user, other_kam):
    mine = AccountFactory(owner=kam, tier="gold")
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    contact = ContactFactory(account=mine, user=portal_user)
    other = AccountFactory(owner=other_kam)
    return {"mine": mine, "other": other, "contact": contact}


def test_portal_user_opens_a_ticket_on_their_account_only(world, portal_user):
    client = api(portal_user)
    created = client.post("/api/v1/tickets/", {"account": world["mine"].pk, "subject": "主轴异响",
                                               "priority": "P2", "contact": world["contact"].pk}, format="json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["channel"] == "portal" and body["status"] == "new"
    assert re.match(r"^SR-\d{4}-\d{6}$", body["number"])
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$", body["resolution_due_at"])
    assert body["sla_status"] in {"on_track", "at_risk", "breached"}
    denied = client.post(
        "/api/v1/tickets/", {"account": world["other"].pk, "subject": "x"}, format="json"
    )
    assert denied.status_code == 400 and "account" in denied.json()["extra"]["fields"]
    assert Ticket.objects.count() == 1


def test_workflow_through_the_api(world, engineer, portal_user):
    ticket = TicketFactory(account=world["mine"], priority="P2")
    eng = api(engineer)
    claimed = eng.post(f"/api/v1/tickets/{ticket.pk}/claim/")
    assert claimed.status_code == 200 and claimed.json()["status"] == "assigned"
    bad = eng.post(f"/api/v1/tickets/{ticket.pk}/transition/", {"status": "closed"}, format="json")
    assert bad.status_code == 400 and bad.json()["extra"]["code"] == "transition_not_allowed"
    for status in ("in_progress", "waiting_on_customer"):
        response = eng.post(
            f"/api/v1/tickets/{ticket.pk}/transition/", {"status": status}, format="json"
        )
        assert response.status_code == 200, response.json()
    assert (
        response.json()["resolution_sla"] == "paused"
        and response.json()["resolution_due_at"] is None
    )
    eng.post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "请确认油压", "is_public": True},
        format="json",
    )
    eng.post(
        f"/api/v1/tickets/{ticket.pk}/comments/",
        {"body": "怀疑轴承", "is_public": False},
        format="json",
    )
    customer_view = api(portal_user).get(f"/api/v1/tickets/{ticket.pk}/comments/").json()
    assert [c["body"] for c in customer_view] == ["请确认油压"]
    resolved = eng.post(f"/api/v1/tickets/{ticket.pk}/transition/",
                        {"status": "resolved", "resolution": "更换轴承", "root_cause": "wear"}, format="json")  # fmt: skip
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    # a customer can read but not move the ticket
    assert api(portal_user).post(f"/api/v1/tickets/{ticket.pk}/transition/", {"status": "closed"},
                                 format="json").status_code == 403  # fmt: skip
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_second_claim_is_a_conflict(world, engineer, make_user):
    colleague = make_user("service_engineer", username="eng_c")
    AccountTeamMemberFactory(
        account=world["mine"], user=colleague, role=AccountTeamRole.SERVICE_ENGINEER
    )
    ticket = TicketFactory(account=world["mine"])
    assert api(engineer).post(f"/api/v1/tickets/{ticket.pk}/claim/").status_code == 200
    second = api(colleague).post(f"/api/v1/tickets/{ticket.pk}/claim/")
    assert second.status_code == 409
    assert second.json()["extra"]["code"] == "already_assigned"
    assert Ticket.objects.get(pk=ticket.pk).assignee == engineer


def test_stale_patch_is_409(world, admin_user):
    ticket = TicketFactory(account=world["mine"])
    client = api(admin_user)
    assert (
        client.patch(
            f"/api/v1/tickets/{ticket.pk}/", {"subject": "甲", "version": 1}, format="json"
        ).status_code
        == 200
    )
    stale = client.patch(
        f"/api/v1/tickets/{ticket.pk}/", {"subject": "乙", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).subject == "甲"


def test_ticket_visibility_in_the_api(world, kam, other_kam, portal_user, engineer):
    TicketFactory(account=world["mine"], subject="我的")
    TicketFactory(account=world["other"], subject="别人的")
    for user, expected in (
        (kam, ["我的"]),
        (portal_user, ["我的"]),
        (engineer, ["我的"]),
        (other_kam, ["别人的"]),
    ):
        assert [
            t["subject"] for t in api(user).get("/api/v1/tickets/").json()["results"]
        ] == expected


def test_policies_and_calendars_for_staff(kam, portal_user):
    policies = api(kam).get("/api/v1/sla-policies/").json()["results"]
    assert {p["name"] for p in policies} >= {"基础服务标准（保底）"}
    calendars = api(kam).get("/api/v1/calendars/").json()["results"]
    assert calendars[0]["is_default"] and any(d["kind"] == "workday" for d in calendars[0]["days"])
    assert api(portal_user).get("/api/v1/sla-policies/").status_code == 403


def test_visits_api_and_costs_hidden_from_customers(world, engineer, portal_user, service_manager):
    from decimal import Decimal

    ticket = TicketFactory(account=world["mine"], assignee=engineer)
    manager = api(service_manager)
    planned = manager.post("/api/v1/visits/", {"ticket": ticket.pk, "planned_start": "2026-12-01T09:00:00+08:00",
                                               "engineers": [engineer.pk]}, format="json")  # fmt: skip
    assert planned.status_code == 201, planned.json()
    visit_id = planned.json()["id"]
    done = api(engineer).post(f"/api/v1/visits/{visit_id}/complete/",
                              {"work_done": "调试", "labour_hours": "1.5", "travel_cost": "100"}, format="json")  # fmt: skip
    assert done.status_code == 200 and done.json()["status"] == "done"
    staff_view = manager.get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert Decimal(staff_view["cost_to_serve"]) == Decimal("1.5") * Decimal("180") + Decimal("100")
    customer_view = api(portal_user).get(f"/api/v1/tickets/{ticket.pk}/").json()
    assert "cost_to_serve" not in customer_view and "labour_cost" not in customer_view
    assert api(portal_user).get("/api/v1/visits/").status_code == 403  # visits are internal


def test_auto_assign_picks_the_service_lead(world, engineer, service_manager):
    ticket = TicketFactory(account=world["mine"])
    response = api(service_manager).post(f"/api/v1/tickets/{ticket.pk}/auto-assign/")
    assert response.status_code == 200
    assert (response.json()["assignee"], response.json()["status"]) == (engineer.pk, "assigned")


def test_contracts_and_maintenance_plans_api(world, kam, other_kam, portal_user):
    import datetime as dt

    from django.utils import timezone

    from keycare.accounts.tests.factories import EquipmentFactory
    from keycare.service.models import MaintenancePlan, ServiceContract

    today = timezone.localdate()
    ServiceContract.objects.create(number="SC-9", account=world["mine"], starts_on=today, ends_on=today + dt.timedelta(days=365),
                                   included_visits=6)  # fmt: skip
    MaintenancePlan.objects.create(
        equipment=EquipmentFactory(account=world["mine"]), next_due=today
    )
    body = api(kam).get("/api/v1/contracts/").json()["results"]
    assert [(c["number"], c["usage"]["visits_left"]) for c in body] == [("SC-9", 6)]
    assert api(other_kam).get("/api/v1/contracts/").json()["count"] == 0
    assert api(portal_user).get("/api/v1/contracts/").json()["count"] == 1
    assert api(kam).get("/api/v1/maintenance-plans/").json()["count"] == 1
    assert api(portal_user).get("/api/v1/maintenance-plans/").status_code == 403


def test_a_missing_person_is_null_not_a_method_wrapper(admin_user):
    """A ticket nobody is assigned to and an account without an owner: the names are null
    (a source like "assignee.__str__" used to answer "<method-wrapper …>")."""
    account = AccountFactory(owner=None)
    ticket = TicketFactory(account=account)
    client = api(admin_user)
    assert client.get(f"/api/v1/tickets/{ticket.pk}/").json()["assignee_name"] is None
    assert client.get(f"/api/v1/accounts/{account.pk}/").json()["owner_name"] is None


# --- query budgets --------------------------------------------------------------------------

OPEN_BY_DUE = ("/api/v1/tickets/?status=new&status=assigned&status=in_progress"
               "&status=waiting_on_customer&ordering=resolution_due_at&page_size=10")  # fmt: skip


@pytest.mark.parametrize("who", ["admin_user", "kam"])
def test_the_open_queue_by_due_time_takes_five_queries(
    world, who, request, django_assert_num_queries
):
    """The benchmark's list: session, user, roles, count, page (account, contact, assignee
    and team joined), for an administrator and a key account manager alike."""
    client = APIClient()
    client.force_login(request.getfixturevalue(who))
    TicketFactory.create_batch(2, account=world["mine"])
    TicketFactory(account=world["other"])
    with django_assert_num_queries(5):
        small = client.get(OPEN_BY_DUE).json()
    TicketFactory.create_batch(10, account=world["mine"], priority="P1")
    TicketFactory.create_batch(10, account=world["other"], priority="P2")
    with django_assert_num_queries(5):
        large = client.get(OPEN_BY_DUE).json()
    seen = {"admin_user": (3, 23), "kam": (2, 12)}[who]
    assert (small["count"], large["count"]) == seen and len(large["results"]) == 10


def test_a_ticket_takes_four_queries_whatever_is_on_it(world, admin_user, engineer, make_user):
    """Session, user, roles, the ticket with its joins; replies, files and visits are not in
    the ticket's body."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = APIClient()
    client.force_login(admin_user)
    counts = []
    for n, more in ((1, 0), (6, 3)):
        team = [engineer] + [make_user("service_engineer") for _ in range(more)]
        ticket = busy_ticket(account=world["mine"], engineers=team, n=n)
        TicketFactory.create_batch(5 * n, account=world["mine"])
        with CaptureQueriesContext(connection) as captured:
            body = client.get(f"/api/v1/tickets/{ticket.pk}/").json()
        assert body["number"] == ticket.number and body["assignee_name"] == str(engineer)
        counts.append(len(captured))
    assert counts == [4, 4]


def test_opening_a_ticket_takes_a_fixed_number_of_queries(world, admin_user, make_user):
    """The benchmark's create (account, contact, subject, priority, type, description), with
    few or many accounts, contacts and tickets about: session, user, roles, the account, the
    contact, the number (one UPDATE … RETURNING), the service team of the province, the
    contract, the SLA policy (candidates and floor together), its target, the calendar (own
    and default together) and its stamp, the ticket, its event (the answer is the ticket as
    written, not read back); and the savepoint around the service in a test's transaction
    (two)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = APIClient()
    client.force_login(admin_user)
    body = {"subject": "主轴异响", "priority": "P3", "ticket_type": "repair",
            "description": "基准", "account": world["mine"].pk, "contact": world["contact"].pk}  # fmt: skip
    assert (
        client.post("/api/v1/tickets/", body, format="json").status_code == 201
    )  # the year's counter
    counts, made = [], []
    for more in (1, 10):
        for _ in range(more):
            account = AccountFactory(tier="iron")  # the floor policy serves these
            contact = ContactFactory(account=account)
            TicketFactory(account=account)
        for target in ((world["mine"], world["contact"]), (account, contact)):
            data = {**body, "account": target[0].pk, "contact": target[1].pk}
            with CaptureQueriesContext(connection) as captured:
                created = client.post("/api/v1/tickets/", data, format="json")
            assert created.status_code == 201, created.json()
            counts.append(len(captured))
            made.append(created.json()["id"])
    assert counts == [16] * 4
    # the answer is the ticket as it is stored (it is not read back)
    assert created.json() == client.get(f"/api/v1/tickets/{made[-1]}/").json()
    tickets = Ticket.objects.filter(pk__in=made).order_by("pk")
    assert [t.sla_policy.is_floor for t in tickets] == [False, True, False, True]
    numbers = [int(t.number.rsplit("-", 1)[1]) for t in tickets]
    assert numbers[1] == numbers[0] + 1 and numbers[3] == numbers[2] + 1  # in sequence
