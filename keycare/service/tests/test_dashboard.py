"""The service dashboard: figures per period, the team / engineer / tier filters, CSAT and NPS
trends, the roll-ups by engineer and team, bad filter input, and a fixed number of queries."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.service import services
from keycare.service.dashboard import service_dashboard
from keycare.service.models import NpsSurvey, Ticket, TicketRating
from keycare.service.teams import service_team_create, service_team_member_set
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _resolve(ticket, *, days_ago, met=True, score=None):
    when = timezone.now() - dt.timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(opened_at=when - dt.timedelta(hours=10))
    ticket.refresh_from_db()
    services.ticket_transition(
        actor=None, ticket=ticket, status="resolved", resolution="好了", at=when
    )
    Ticket.objects.filter(pk=ticket.pk).update(resolution_sla="met" if met else "breached")
    if score is not None:
        TicketRating.objects.create(
            ticket=ticket, token_hash=uuid.uuid4().hex, email="a@example.com", sent_at=when,
            expires_at=when + dt.timedelta(days=14), rated_at=when, score=score,
        )  # fmt: skip


def _answer(account, score, days_ago):
    when = timezone.now() - dt.timedelta(days=days_ago)
    NpsSurvey.objects.create(
        account=account, email="b@example.com", token_hash=uuid.uuid4().hex, sent_at=when,
        expires_at=when + dt.timedelta(days=30), responded_at=when, score=score,
    )  # fmt: skip


@pytest.fixture
def world(make_user):
    east = service_team_create(actor=None, name="华东", provinces=["江苏省"])
    south = service_team_create(actor=None, name="华南", provinces=["广东省"])
    wang = make_user("service_engineer", username="wang", display_name="王工")
    chen = make_user("service_engineer", username="chen", display_name="陈工")
    service_team_member_set(actor=None, team=east, user=wang)
    service_team_member_set(actor=None, team=south, user=chen)
    gold = AccountFactory(province="江苏省", tier="gold")
    iron = AccountFactory(province="广东省", tier="iron")
    ContactFactory(account=gold)
    # wang (east, gold): three resolved in the period (2 met), rated 5, 4, 2; one open
    for met, score in ((True, 5), (True, 4), (False, 2)):
        _resolve(TicketFactory(account=gold, assignee=wang), days_ago=20, met=met, score=score)
    TicketFactory(account=gold, assignee=wang)
    # chen (south, iron): one resolved and met, rated 5; one resolved a year ago (out of period)
    _resolve(TicketFactory(account=iron, assignee=chen), days_ago=40, score=5)
    _resolve(TicketFactory(account=iron, assignee=chen), days_ago=400, met=False, score=1)
    for score in (10, 9, 3):
        _answer(gold, score, days_ago=15)
    _answer(iron, 10, days_ago=15)
    _answer(iron, 0, days_ago=300)  # out of the default period
    return {"east": east, "south": south, "wang": wang, "chen": chen}


def test_period_figures_trends_and_rollups(world, service_manager):
    f = service_dashboard(actor=service_manager)
    assert f["open"] == 1
    assert f["resolved"] == 4
    assert f["csat"] == 75.0  # 5, 4, 2, 5: three of four satisfied
    assert f["ratings"] == 4
    assert f["nps"] == 50.0  # 10, 9, 3, 10: 3 promoters, 1 detractor of 4
    assert f["nps_responses"] == 4
    assert sum(m["responses"] for m in f["nps_trend"]) == 4
    assert sum(m["ratings"] for m in f["csat_trend"]) == 4
    engineers = {r["name"]: r for r in f["by_engineer"]}
    assert engineers["王工"] == {
        "id": world["wang"].pk, "name": "王工", "open": 1, "resolved": 3,
        "sla_compliance": 66.7, "mean_time_to_resolve_hours": 10.0, "ratings": 3, "csat": 66.67,
    }  # fmt: skip
    assert (engineers["陈工"]["resolved"], engineers["陈工"]["csat"]) == (1, 100.0)
    teams = {r["name"]: r for r in f["by_team"]}
    assert (teams["华东"]["resolved"], teams["华东"]["open"], teams["华南"]["resolved"]) == (
        3,
        1,
        1,
    )


def test_filters_by_team_engineer_tier_and_a_longer_period(world, service_manager):
    east = service_dashboard(actor=service_manager, filters={"team": world["east"].pk})
    assert (east["resolved"], east["csat"], east["open"]) == (3, 66.67, 1)
    chen = service_dashboard(actor=service_manager, filters={"assignee": world["chen"].pk})
    assert (chen["resolved"], chen["open"]) == (1, 0)
    iron = service_dashboard(actor=service_manager, filters={"tier": "iron"})
    assert (iron["resolved"], iron["nps"], iron["nps_responses"]) == (1, 100.0, 1)
    since = (timezone.localdate() - dt.timedelta(days=500)).isoformat()
    longer = service_dashboard(actor=service_manager, filters={"period_from": since})
    assert (longer["resolved"], longer["ratings"], longer["nps_responses"]) == (5, 5, 5)
    assert longer["nps"] == 20.0  # 10, 9, 3, 10, 0: 3 promoters, 2 detractors of 5


@pytest.mark.parametrize(
    "filters",
    [{"period_from": "2026-13-01"}, {"period_from": "2026-05-01", "period_to": "2026-04-01"},
     {"tier": "diamond"}, {"team": "east"}],
)  # fmt: skip
def test_bad_filters_are_errors(world, service_manager, filters):
    with pytest.raises(ValidationError):
        service_dashboard(actor=service_manager, filters=filters)


def test_engineer_sees_only_their_figures(world):
    f = service_dashboard(actor=world["chen"])
    assert [r["name"] for r in f["by_engineer"]] == ["陈工"]
    assert f["nps_responses"] == 0  # NPS answers follow the accounts chen serves: none


def test_fixed_number_of_queries(world, service_manager, make_user):
    service_dashboard(actor=service_manager)  # the user's roles are read once, then cached
    with CaptureQueriesContext(connection) as first:
        service_dashboard(actor=service_manager)
    more = make_user("service_engineer", username="li")
    team = service_team_create(actor=None, name="华北", provinces=["北京市"])
    service_team_member_set(actor=None, team=team, user=more)
    account = AccountFactory(province="北京市")
    for _i in range(4):
        _resolve(TicketFactory(account=account, assignee=more), days_ago=5, score=4)
        _answer(account, 8, days_ago=5)
    with CaptureQueriesContext(connection) as second:
        f = service_dashboard(actor=service_manager)
    assert len(f["by_team"]) == 3
    assert len(second) == len(first)
