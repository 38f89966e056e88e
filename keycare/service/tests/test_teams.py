"""Service teams: region match at ticket creation, the assignment rules (service lead,
skill match in the team, least-loaded), and who may maintain teams."""

import pytest
from django.core.exceptions import ValidationError

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    EquipmentFactory,
    ProductFactory,
)
from keycare.core.exceptions import PermissionDeniedError as PermissionDenied
from keycare.service import services
from keycare.service.models import ServiceTeam
from keycare.service.teams import service_team_create, service_team_member_set, team_for_account
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_region_match_sets_the_team_at_creation_most_specific_wins():
    east = service_team_create(actor=None, name="华东", provinces="江苏省, 浙江省，上海市")
    jiangsu = service_team_create(actor=None, name="江苏", provinces=["江苏省"])
    assert east.provinces == ["江苏省", "浙江省", "上海市"]
    assert TicketFactory(account=AccountFactory(province="江苏省")).team == jiangsu
    assert TicketFactory(account=AccountFactory(province="上海市")).team == east
    assert TicketFactory(account=AccountFactory(province="广东省")).team is None
    assert team_for_account(AccountFactory(province="")) is None


def test_skill_match_then_least_loaded_in_the_team(make_user):
    team = service_team_create(actor=None, name="华东", provinces=["江苏省"])
    pump = make_user("service_engineer", username="pump")
    pump2 = make_user("service_engineer", username="pump2")
    generalist = make_user("service_engineer", username="generalist")
    service_team_member_set(actor=None, team=team, user=pump, skills=["压缩机"])
    service_team_member_set(actor=None, team=team, user=pump2, skills="压缩机, installation")
    service_team_member_set(actor=None, team=team, user=generalist, skills=[])
    account = AccountFactory(province="江苏省")
    equipment = EquipmentFactory(account=account, product=ProductFactory(category="压缩机"))
    TicketFactory(account=account, assignee=pump)  # pump is busier than pump2

    ticket = services.ticket_auto_assign(
        actor=None, ticket=TicketFactory(account=account, equipment=equipment)
    )
    assert ticket.assignee == pump2
    assert ticket.events.filter(kind="assigned").last().data["rule"] == "team_skill"

    # an installation ticket matches pump2's skill by ticket type
    install = TicketFactory(account=account, ticket_type="installation")
    assert services.ticket_auto_assign(actor=None, ticket=install).assignee == pump2

    # no skill matches a repair without equipment: the least-loaded of the team
    plain = services.ticket_auto_assign(actor=None, ticket=TicketFactory(account=account))
    assert plain.assignee == generalist
    assert plain.events.filter(kind="assigned").last().data["rule"] == "team"


def test_service_lead_beats_the_team_and_inactive_engineers_are_skipped(make_user):
    team = service_team_create(actor=None, name="华东", provinces=["江苏省"])
    member = make_user("service_engineer", username="member")
    gone = make_user("service_engineer", username="gone")
    service_team_member_set(actor=None, team=team, user=gone, skills=["repair"])
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)  # left the company
    service_team_member_set(actor=None, team=team, user=member, skills=[])
    account = AccountFactory(province="江苏省")
    assert (
        services.ticket_auto_assign(actor=None, ticket=TicketFactory(account=account)).assignee
        == member
    )
    lead = make_user("service_engineer", username="lead")
    AccountTeamMemberFactory(account=account, user=lead, role=AccountTeamRole.SERVICE_LEAD)
    ticket = services.ticket_auto_assign(actor=None, ticket=TicketFactory(account=account))
    assert ticket.assignee == lead
    assert ticket.events.filter(kind="assigned").last().data["rule"] == "service_lead"


def test_assigning_by_hand_fills_in_the_assignees_team(make_user):
    team = service_team_create(actor=None, name="华南", provinces=["广东省"])
    engineer = make_user("service_engineer")
    service_team_member_set(actor=None, team=team, user=engineer)
    ticket = TicketFactory(account=AccountFactory(province="四川省"))
    assert ticket.team is None
    assert services.ticket_assign(actor=None, ticket=ticket, assignee=engineer).team == team


def test_only_administrators_and_service_managers_maintain_teams(make_user):
    for role in ("key_account_manager", "service_engineer", "executive", "customer_contact"):
        with pytest.raises(PermissionDenied):
            service_team_create(actor=make_user(role), name=f"team {role}")
    assert not ServiceTeam.objects.exists()
    manager = make_user("service_manager")
    team = service_team_create(actor=manager, name="华北", provinces=["北京市"])
    with pytest.raises(ValidationError):
        service_team_member_set(actor=manager, team=team, user=make_user("key_account_manager"))
    with pytest.raises(PermissionDenied):
        service_team_member_set(
            actor=make_user("service_engineer"), team=team, user=make_user("service_engineer")
        )
    assert not team.memberships.exists()
    with pytest.raises(ValidationError):
        service_team_create(actor=manager, name="华北")  # the name is taken


def test_teams_in_the_api(make_user, service_manager, portal_user):
    from rest_framework.test import APIClient

    from keycare.accounts.tests.factories import ContactFactory

    team = service_team_create(actor=None, name="华东", provinces=["江苏省"])
    engineer = make_user("service_engineer", username="wang")
    service_team_member_set(actor=None, team=team, user=engineer, skills=["压缩机"])
    account = AccountFactory(province="江苏省")
    ContactFactory(account=account, user=portal_user)
    client = APIClient()
    client.force_authenticate(engineer)
    listed = client.get("/api/v1/service-teams/").json()["results"]
    assert listed == [{"id": team.pk, "name": "华东", "manager": None, "provinces": ["江苏省"],
                       "is_active": True, "members": [{"user": engineer.pk, "name": str(engineer),
                                                       "skills": ["压缩机"]}]}]  # fmt: skip
    client.force_authenticate(service_manager)
    created = client.post(
        "/api/v1/tickets/", {"account": account.pk, "subject": "漏气"}, format="json"
    )
    assert (created.status_code, created.json()["team"], created.json()["team_name"]) == (
        201, team.pk, "华东",
    )  # fmt: skip
    client.force_authenticate(portal_user)
    assert client.get("/api/v1/service-teams/").status_code == 403
    # a customer cannot route their ticket to a team
    denied = client.post("/api/v1/tickets/", {"account": account.pk, "subject": "x", "team": team.pk},
                         format="json")  # fmt: skip
    assert denied.status_code == 400 and "team" in denied.json()["extra"]["fields"]
