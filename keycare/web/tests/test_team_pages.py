"""The service teams page: who sees it, who maintains teams, stale edits and bad input."""

import pytest
from django.urls import reverse

from keycare.service.models import ServiceTeam, ServiceTeamMember
from keycare.service.teams import service_team_create, service_team_member_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(engineer):
    team = service_team_create(actor=None, name="华东", provinces=["江苏省"])
    service_team_member_set(actor=None, team=team, user=engineer, skills=["空压机"])
    return team


@pytest.mark.parametrize(
    ("role", "status", "manages"),
    [("admin_user", 200, True), ("service_manager", 200, True), ("executive", 200, False),
     ("kam", 200, False), ("engineer", 200, False), ("portal_user", 404, False)],
)  # fmt: skip
def test_who_sees_and_who_maintains_teams(request, client, team, role, status, manages):
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get(reverse("web:team_list"))
    assert page.status_code == status
    if status == 200:
        body = page.content.decode()
        assert "华东" in body and "空压机" in body
        assert ('data-testid="new-team"' in body) is manages
    edit = client.get(reverse("web:team_edit", args=[team.pk]))
    assert edit.status_code == (200 if manages else 404)
    posted = client.post(
        reverse("web:team_members", args=[team.pk]),
        {"action": "remove", "user": team.members.get().pk},
    )
    assert posted.status_code == (302 if manages else 404)
    assert ServiceTeamMember.objects.filter(team=team).exists() is not manages


def test_manager_creates_a_team_and_adds_an_engineer(client, service_manager, engineer):
    client.force_login(service_manager)
    created = client.post(
        reverse("web:team_create"), {"name": "华南", "provinces": "广东省，福建省"}
    )
    assert created.status_code == 302
    team = ServiceTeam.objects.get(name="华南")
    assert team.provinces == ["广东省", "福建省"]
    client.post(
        reverse("web:team_members", args=[team.pk]),
        {"user": engineer.pk, "skills": "数控机床, repair"},
    )
    assert ServiceTeamMember.objects.get(team=team, user=engineer).skills == ["数控机床", "repair"]
    duplicate = client.post(reverse("web:team_create"), {"name": "华南"})
    assert duplicate.status_code == 400
    assert ServiceTeam.objects.filter(name="华南").count() == 1


def test_a_stale_team_edit_is_refused(client, service_manager, team):
    client.force_login(service_manager)
    url = reverse("web:team_edit", args=[team.pk])
    first = client.post(
        url, {"name": "华东一区", "provinces": "江苏省", "is_active": "on", "version": 1}
    )
    assert first.status_code == 302
    stale = client.post(
        url, {"name": "华东二区", "provinces": "浙江省", "is_active": "on", "version": 1}
    )
    assert stale.status_code == 400
    assert "Someone else changed this record" in stale.content.decode()
    team.refresh_from_db()
    assert (team.name, team.provinces, team.version) == ("华东一区", ["江苏省"], 2)
