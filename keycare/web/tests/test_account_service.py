"""The service section of the account 360 page: figures over the account and its branches,
costs only for those who may see them, NPS only for staff, and each machine's history."""

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, ContactFactory, EquipmentFactory
from keycare.service import services
from keycare.service.models import NpsSurvey, Ticket, TicketRating
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group(kam, engineer, portal_user):
    from keycare.accounts.tests.factories import AccountTeamMemberFactory

    hq = AccountFactory(owner=kam, name="华信集团")
    plant = AccountFactory(owner=kam, parent=hq, name="华信苏州工厂")
    AccountTeamMemberFactory(account=hq, user=engineer)
    ContactFactory(account=hq, user=portal_user)
    machine = EquipmentFactory(account=plant)
    now = timezone.now()
    for account, met, score in ((hq, True, 5), (plant, True, 4), (plant, False, 2)):
        ticket = TicketFactory(account=account, equipment=machine if account == plant else None)
        services.ticket_transition(actor=None, ticket=ticket, status="resolved", resolution="好")
        Ticket.objects.filter(pk=ticket.pk).update(
            resolution_sla="met" if met else "breached", labour_cost=100, parts_cost=50
        )
        TicketRating.objects.create(
            ticket=ticket, token_hash=uuid.uuid4().hex, email="x@example.com", sent_at=now,
            expires_at=now + dt.timedelta(days=14), rated_at=now, score=score,
        )  # fmt: skip
    TicketFactory(account=plant, equipment=machine)  # open
    for account, score in ((hq, 10), (plant, 6)):
        NpsSurvey.objects.create(
            account=account, email="y@example.com", token_hash=uuid.uuid4().hex, sent_at=now,
            expires_at=now + dt.timedelta(days=30), responded_at=now, score=score,
        )  # fmt: skip
    return {"hq": hq, "plant": plant, "machine": machine}


def test_the_group_rolls_up_its_plants(client, kam, group):
    client.force_login(kam)
    service = client.get(reverse("web:account_detail", args=[group["hq"].pk])).context["service"]
    assert {k: service[k] for k in ("open", "resolved", "sla_compliance", "ratings", "csat",
                                    "nps", "nps_responses")} == {
        "open": 1, "resolved": 3, "sla_compliance": 66.7, "ratings": 3, "csat": 66.67,
        "nps": 0.0, "nps_responses": 2,
    }  # fmt: skip
    assert service["cost_to_serve"] == {"labour": 300, "parts": 150, "travel": 0, "total": 450}
    plant = client.get(reverse("web:account_detail", args=[group["plant"].pk]))
    assert (plant.context["service"]["resolved"], plant.context["service"]["nps"]) == (2, -100.0)
    history = plant.context["equipment"][0].service
    assert history["tickets"] == 3  # two resolved and one open on this machine
    assert "3 tickets" in plant.content.decode()


@pytest.mark.parametrize(
    ("role", "sees_cost", "answers", "may_send"),
    # the engineer serves the head office only, the customer is the head office's contact
    [("kam", True, 2, True), ("engineer", False, 1, False),
     ("service_manager", True, 2, True), ("portal_user", False, 0, False)],
)  # fmt: skip
def test_who_sees_what_in_the_service_section(request, client, group, role, sees_cost, answers,
                                              may_send):  # fmt: skip
    client.force_login(request.getfixturevalue(role))
    page = client.get(reverse("web:account_detail", args=[group["hq"].pk]))
    service = page.context["service"]
    assert (service["cost_to_serve"] is not None) is sees_cost
    assert service["nps_responses"] == answers
    assert page.context["can_send_nps"] is may_send
    assert ('data-testid="send-nps"' in page.content.decode()) is may_send
