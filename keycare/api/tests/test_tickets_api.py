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
from keycare.service.tests.factories import TicketFactory

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
