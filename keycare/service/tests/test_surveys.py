"""NPS surveys: who may send, to whom, how often; the one-time link; the figures; the schedule."""

import datetime as dt
import hashlib
import re
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from keycare.accounts.choices import AccountStatus, AccountTeamRole
from keycare.accounts.models import ContactAccount
from keycare.accounts.services.equipment import add_months
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    OrderFactory,
)
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.service import surveys
from keycare.service.models import NpsSurvey, Ticket
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 5, 20, 10, 0, tzinfo=TZ)  # a Wednesday, 10:00 local


@pytest.fixture
def world(kam, other_kam, engineer):
    mine = AccountFactory(owner=kam, name="华鑫汽车")
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    other = AccountFactory(owner=other_kam, name="远东钢铁")
    li = ContactFactory(account=mine, name="李工", email="li@huaxin.example")
    return {"mine": mine, "other": other, "li": li}


def _send(actor, account, contact, now=None):
    return surveys.nps_survey_send(actor=actor, account=account, contact=contact, now=now)


def _answered(actor, account, scores, *, at=None):
    """One surveyed contact per score, each answered."""
    for score in scores:
        contact = ContactFactory(account=account, email=f"c{score}-{account.pk}@example.com")
        survey, token = _send(actor, account, contact)
        surveys.nps_survey_answer(token=token, score=score)
        if at is not None:
            NpsSurvey.objects.filter(pk=survey.pk).update(sent_at=at, responded_at=at)


# --- sending ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("admin_user", True),
        ("service_manager", True),
        ("kam", True),  # owns the account
        ("team_kam", True),  # on the account team
        ("other_kam", False),  # KAM of another account
        ("engineer", False),  # sees the account, does not send
        ("executive", False),
        ("portal_user", False),
    ],
)
def test_who_may_send(request, world, make_user, who, allowed, django_capture_on_commit_callbacks):
    if who == "team_kam":
        actor = make_user("key_account_manager", username="kam3")
        AccountTeamMemberFactory(account=world["mine"], user=actor, role=AccountTeamRole.SALES)
    else:
        actor = request.getfixturevalue(who)
    if who == "portal_user":
        ContactFactory(account=world["mine"], user=actor, email="portal@huaxin.example")
    with django_capture_on_commit_callbacks(execute=True):
        if not allowed:
            with pytest.raises(PermissionDeniedError):
                _send(actor, world["mine"], world["li"])
            assert not surveys.nps_survey_may_send(actor=actor, account=world["mine"])
        else:
            survey, token = _send(actor, world["mine"], world["li"])
    if not allowed:
        assert NpsSurvey.objects.count() == 0 and mail.outbox == []
        return
    assert (survey.account, survey.contact, survey.email, survey.sent_by) == (
        world["mine"], world["li"], "li@huaxin.example", actor,
    )  # fmt: skip
    assert survey.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert survey.expires_at - survey.sent_at == dt.timedelta(days=30)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@huaxin.example"]


def test_the_mail_goes_after_commit_with_the_one_time_link(
    world, kam, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        survey, token = _send(kam, world["mine"], world["li"])
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    body = mail.outbox[0].body
    assert f"/nps/{token}/" in body
    assert "李工" in body and "30" in body
    assert survey.token_hash not in body


def test_a_kam_of_another_account_is_denied_for_the_whole_account(world, other_kam):
    with pytest.raises(PermissionDeniedError):
        surveys.nps_surveys_send_for_account(actor=other_kam, account=world["mine"])
    assert NpsSurvey.objects.count() == 0


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("elsewhere", "contact_not_at_account"),
        ("left", "contact_inactive"),
        ("no_email", "no_email"),
    ],
)
def test_ineligible_contacts_get_a_clear_error(world, kam, other_kam, setup, code):
    if setup == "elsewhere":
        contact = ContactFactory(account=world["other"], email="wang@yuandong.example")
    else:
        contact = ContactFactory(
            account=world["mine"],
            email="" if setup == "no_email" else "zhou@huaxin.example",
            is_active=setup != "left",
        )
    with pytest.raises(ApplicationError) as error:
        _send(kam, world["mine"], contact)
    assert error.value.extra["code"] == code and error.value.message
    assert NpsSurvey.objects.count() == 0


def test_a_contact_of_the_account_through_a_membership_may_be_surveyed(world, kam):
    group_buyer = ContactFactory(account=world["other"], email="buyer@group.example")
    ContactAccount.objects.create(contact=group_buyer, account=world["mine"])
    survey, _token = _send(kam, world["mine"], group_buyer)
    assert survey.account == world["mine"]


def test_a_contact_is_surveyed_at_most_once_per_interval(world, kam):
    first, _token = _send(kam, world["mine"], world["li"], now=NOW)
    with pytest.raises(ApplicationError) as error:
        _send(kam, world["mine"], world["li"], now=NOW + dt.timedelta(days=1))
    assert error.value.extra["code"] == "recently_surveyed"
    assert "2026-05-20" in error.value.message and "6" in error.value.message
    # a minute short of six calendar months it is too early; at six months it is due again
    six_months = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
    with pytest.raises(ApplicationError):
        _send(kam, world["mine"], world["li"], now=six_months - dt.timedelta(minutes=1))
    second, _token = _send(kam, world["mine"], world["li"], now=six_months)
    assert NpsSurvey.objects.filter(contact=world["li"]).count() == 2 and second != first


def test_interval_start_is_calendar_months_back():
    start = surveys.nps_interval_start(dt.datetime(2026, 3, 31, 9, 30, tzinfo=TZ))
    assert start == dt.datetime(2025, 9, 30, 9, 30, tzinfo=TZ)


def test_send_for_account_skips_the_ineligible(
    world, kam, other_kam, django_capture_on_commit_callbacks
):
    mine = world["mine"]
    member = ContactFactory(account=world["other"], email="buyer@group.example")
    ContactAccount.objects.create(contact=member, account=mine)
    ContactFactory(account=mine, email="")  # no email
    ContactFactory(account=mine, email="gone@huaxin.example", is_active=False)
    recent = ContactFactory(account=mine, email="recent@huaxin.example")
    _send(kam, mine, recent, now=timezone.now() - dt.timedelta(days=40))
    ContactFactory(account=world["other"], email="not-mine@yuandong.example")
    with django_capture_on_commit_callbacks(execute=True):
        sent = surveys.nps_surveys_send_for_account(actor=kam, account=mine)
    assert sent == 2
    assert set(NpsSurvey.objects.values_list("contact__email", flat=True)) == {
        "li@huaxin.example", "buyer@group.example", "recent@huaxin.example",
    }  # fmt: skip
    assert sorted(m.to[0] for m in mail.outbox) == ["buyer@group.example", "li@huaxin.example"]
    assert surveys.nps_surveys_send_for_account(actor=kam, account=mine) == 0
    assert NpsSurvey.objects.count() == 3


# --- the answer ---------------------------------------------------------------------------------


def test_the_link_works_once(world, kam):
    survey, token = _send(kam, world["mine"], world["li"])
    assert surveys.nps_survey_get_open(token=token) == survey
    surveys.nps_survey_answer(token=token, score=9, comment="  响应很快  ")
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (9, "响应很快") and survey.responded_at
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_answer(token=token, score=2)
    assert error.value.extra["code"] == "used"
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_get_open(token=token)
    assert error.value.extra["code"] == "used"
    survey.refresh_from_db()
    assert survey.score == 9


def test_unknown_and_expired_links(world, kam):
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_get_open(token="not-a-token")
    assert error.value.extra["code"] == "invalid_link"
    survey, token = _send(kam, world["mine"], world["li"])
    NpsSurvey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_answer(token=token, score=10)
    assert error.value.extra["code"] == "expired"
    survey.refresh_from_db()
    assert (survey.score, survey.responded_at) == (None, None)


def test_a_second_submit_racing_the_first_records_once(world, kam, monkeypatch):
    survey, token = _send(kam, world["mine"], world["li"])
    surveys.nps_survey_answer(token=token, score=10)
    # the second request read the survey before the first committed: the locked re-read wins
    monkeypatch.setattr(surveys, "nps_survey_get_open", lambda *, token: survey)
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_answer(token=token, score=0)
    assert error.value.extra["code"] == "used"
    survey.refresh_from_db()
    assert survey.score == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_wait_for_the_row_lock(kam):
    account = AccountFactory(owner=kam)
    survey, token = _send(kam, account, ContactFactory(account=account, email="a@example.com"))
    outcome = {}

    def second(in_thread=True):
        try:
            surveys.nps_survey_answer(token=token, score=0)
            outcome["second"] = "recorded"
        except ApplicationError as exc:
            outcome["second"] = exc.extra["code"]
        finally:
            if in_thread:
                connection.close()

    if connection.vendor != "postgresql":
        # SQLite serialises writers: the second submit runs after the first and finds it used
        surveys.nps_survey_answer(token=token, score=10)
        second(in_thread=False)
        survey.refresh_from_db()
        assert (survey.score, outcome["second"]) == (10, "used")
        return
    with transaction.atomic():
        NpsSurvey.objects.select_for_update().get(pk=survey.pk)  # the first submit holds it
        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # the second has read the open survey and waits for the lock
        surveys.nps_survey_answer(token=token, score=10)
    racer.join(10)
    survey.refresh_from_db()
    assert (survey.score, outcome["second"]) == (10, "used")


@pytest.mark.parametrize("score", [11, -1, True, "7"])
def test_scores_outside_0_to_10_are_refused(world, kam, score):
    survey, token = _send(kam, world["mine"], world["li"])
    with pytest.raises(ApplicationError) as error:
        surveys.nps_survey_answer(token=token, score=score)
    assert error.value.extra["code"] == "invalid_score"
    survey.refresh_from_db()
    assert (survey.score, survey.responded_at) == (None, None)
    surveys.nps_survey_answer(token=token, score=0)  # the link still works


@pytest.mark.parametrize("score", [11, -1])
def test_the_database_refuses_scores_outside_0_to_10(world, kam, score):
    survey, _token = _send(kam, world["mine"], world["li"])
    with pytest.raises(IntegrityError), transaction.atomic():
        NpsSurvey.objects.filter(pk=survey.pk).update(score=score)


# --- figures ------------------------------------------------------------------------------------


def test_summary_reference_figures(world, kam):
    _answered(kam, world["mine"], range(11))
    _send(kam, world["mine"], world["li"])  # sent, not answered
    assert surveys.nps_summary(actor=kam, account=world["mine"]) == {
        "nps": -45.45, "responses": 11, "promoters": 2, "passives": 2, "detractors": 7,
        "sent": 12,
    }  # fmt: skip


def test_summary_rolls_a_group_up_and_follows_the_scope(kam, other_kam, engineer, executive):
    group = AccountFactory(owner=kam, name="华鑫集团")
    plant = AccountFactory(owner=kam, parent=group, name="华鑫苏州工厂")
    line = AccountFactory(owner=kam, parent=plant, name="华鑫苏州二车间")
    sibling = AccountFactory(owner=kam, name="华鑫集团之外")
    _answered(kam, group, [10])
    _answered(kam, plant, [9, 3])
    _answered(kam, line, [7])
    _answered(kam, sibling, [0, 0])
    assert surveys.nps_summary(actor=kam, account=group) == {
        "nps": 25.0, "responses": 4, "promoters": 2, "passives": 1, "detractors": 1, "sent": 4,
    }  # fmt: skip
    assert surveys.nps_summary(actor=kam, account=plant)["responses"] == 2 + 1
    assert surveys.nps_summary(actor=kam, account=line)["nps"] == 0.0
    everything = surveys.nps_summary(actor=executive)
    assert (everything["responses"], everything["nps"]) == (6, -16.67)
    # other people's accounts: nothing, not an error
    assert surveys.nps_summary(actor=other_kam, account=group) == {
        "nps": None, "responses": 0, "promoters": 0, "passives": 0, "detractors": 0, "sent": 0,
    }  # fmt: skip
    assert surveys.nps_summary(actor=engineer)["sent"] == 0


def test_summary_period(world, kam):
    _answered(kam, world["mine"], [10], at=NOW - dt.timedelta(days=100))
    _answered(kam, world["mine"], [0], at=NOW - dt.timedelta(days=10))
    last_month = surveys.nps_summary(
        actor=kam, account=world["mine"], since=(NOW - dt.timedelta(days=30)).date(),
        until=NOW.date(),
    )  # fmt: skip
    assert (last_month["responses"], last_month["nps"], last_month["sent"]) == (1, -100.0, 1)
    until_then = surveys.nps_summary(actor=kam, until=(NOW - dt.timedelta(days=100)).date())
    assert (until_then["responses"], until_then["nps"]) == (1, 100.0)


def test_trend_by_month(world, kam, other_kam):
    today = timezone.localdate()
    this_month = dt.datetime(today.year, today.month, 2, 12, tzinfo=TZ)
    two_months_ago = dt.datetime.combine(
        add_months(today.replace(day=1), -2), dt.time(12, tzinfo=TZ)
    )
    _answered(kam, world["mine"], [10, 9, 0], at=this_month)
    _answered(kam, world["mine"], [8], at=two_months_ago)
    _answered(other_kam, world["other"], [0], at=this_month)  # kam does not see it
    trend = surveys.nps_trend(actor=kam, months=3)
    months = [add_months(today.replace(day=1), i).strftime("%Y-%m") for i in (-2, -1, 0)]
    assert trend == [
        {"month": months[0], "responses": 1, "promoters": 0, "passives": 1, "detractors": 0,
         "nps": 0.0},
        {"month": months[1], "responses": 0, "promoters": 0, "passives": 0, "detractors": 0,
         "nps": None},
        {"month": months[2], "responses": 3, "promoters": 2, "passives": 0, "detractors": 1,
         "nps": 33.33},
    ]  # fmt: skip
    only_other = surveys.nps_trend(actor=kam, months=1, filters={"account": world["other"].pk})
    assert only_other[0]["responses"] == 0


# --- the schedule -------------------------------------------------------------------------------


@pytest.fixture
def due_world(admin_user):
    """Who the schedule must survey (email starts with "due") and who not."""
    recent = NOW - dt.timedelta(days=20)

    def resolved_ticket(account, at):
        ticket = TicketFactory(account=account)
        Ticket.objects.filter(pk=ticket.pk).update(status="resolved", resolved_at=at)

    served = AccountFactory(name="有服务")
    resolved_ticket(served, recent)
    ContactFactory(account=served, email="due-served@example.com")
    ContactFactory(account=served, email="")  # no email
    ContactFactory(account=served, email="left@example.com", is_active=False)
    asked = ContactFactory(account=served, email="asked-2-months-ago@example.com")
    long_ago = ContactFactory(account=served, email="due-asked-7-months-ago@example.com")
    for contact, days in ((asked, 60), (long_ago, 213)):
        survey, _token = _send(admin_user, served, contact)
        NpsSurvey.objects.filter(pk=survey.pk).update(sent_at=NOW - dt.timedelta(days=days))

    ordered = AccountFactory(name="有订单")
    OrderFactory(account=ordered, order_date=(NOW - dt.timedelta(days=90)).date())
    ContactFactory(account=ordered, email="due-ordered@example.com")

    stale = AccountFactory(name="八个月前")
    OrderFactory(account=stale, order_date=(NOW - dt.timedelta(days=240)).date())
    resolved_ticket(stale, NOW - dt.timedelta(days=240))
    TicketFactory(account=stale)  # open, not resolved
    ContactFactory(account=stale, email="stale@example.com")

    prospect = AccountFactory(name="潜在客户", status=AccountStatus.PROSPECT)
    ContactFactory(account=prospect, email="prospect@example.com")

    group = AccountFactory(name="集团")  # served through its plant
    plant = AccountFactory(name="工厂", parent=group)
    resolved_ticket(plant, recent)
    ContactFactory(account=group, email="due-group@example.com")
    ContactFactory(account=plant, email="due-plant@example.com")
    idle_group = AccountFactory(name="另一集团")
    AccountFactory(name="另一工厂", parent=idle_group)
    ContactFactory(account=idle_group, email="idle-group@example.com")
    return {"served": served}


def _due_emails():
    return {e for e in NpsSurvey.objects.values_list("email", flat=True) if e.startswith("due")}


def test_the_schedule_surveys_exactly_the_due_contacts(
    due_world, django_assert_num_queries, django_capture_on_commit_callbacks
):
    expected = {"due-served@example.com", "due-asked-7-months-ago@example.com",
                "due-ordered@example.com", "due-group@example.com", "due-plant@example.com"}  # fmt: skip
    with django_assert_num_queries(1):
        due = {c.email for c in surveys.nps_surveys_due(now=NOW)}
    assert due == expected
    before = NpsSurvey.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.nps_surveys_schedule(now=NOW) == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted(expected)
    new = NpsSurvey.objects.filter(sent_at=NOW)
    assert {s.email for s in new} == expected and new.count() == 5
    assert all(s.sent_by is None and s.account_id == s.contact.account_id for s in new)
    # idempotent: a second run (the next minute, or the next day) finds nobody
    assert surveys.nps_surveys_schedule(now=NOW + dt.timedelta(minutes=1)) == 0
    assert surveys.nps_surveys_schedule(now=NOW + dt.timedelta(days=1)) == 0
    assert NpsSurvey.objects.count() == before + 5
    assert not surveys.nps_surveys_due(now=NOW).exists()


def test_the_schedule_works_in_bounded_batches(due_world):
    assert surveys.nps_surveys_schedule(now=NOW, batch=2) == 2
    assert surveys.nps_surveys_schedule(now=NOW, batch=2) == 2
    assert surveys.nps_surveys_schedule(now=NOW, batch=2) == 1
    assert surveys.nps_surveys_schedule(now=NOW, batch=2) == 0
    assert len(_due_emails()) == 5


@pytest.mark.django_db(transaction=True)
def test_two_schedule_runs_at_once_survey_each_contact_once(due_world):
    outcome = {}

    def second_run(in_thread=True):
        try:
            outcome["second"] = surveys.nps_surveys_schedule(now=NOW)
        finally:
            if in_thread:
                connection.close()

    if connection.vendor != "postgresql":
        # SQLite serialises writers: the second run comes after the first and finds nothing due
        outcome["first"] = surveys.nps_surveys_schedule(now=NOW)
        second_run(in_thread=False)
        assert (outcome["first"], outcome["second"]) == (5, 0)
        assert len(_due_emails()) == 5
        return
    with transaction.atomic():
        outcome["first"] = surveys.nps_surveys_schedule(now=NOW)  # holds its contacts' locks
        racer = threading.Thread(target=second_run)
        racer.start()
        racer.join(10)
    assert (outcome["first"], outcome["second"]) == (5, 0)
    assert len(_due_emails()) == 5 and surveys.nps_surveys_schedule(now=NOW) == 0


def test_the_tick_runs_in_office_hours_and_rests_when_nothing_is_due(due_world):
    cache.clear()
    night = NOW.replace(hour=3)
    assert surveys.nps_surveys_tick(now=night) == "outside office hours"
    assert surveys.nps_surveys_tick(now=NOW) == "5 NPS surveys sent"
    assert surveys.nps_surveys_tick(now=NOW + dt.timedelta(minutes=1)) == "nothing due today"
    assert len(_due_emails()) == 5
    cache.clear()


def test_the_tick_is_registered():
    from keycare.core.ticks import registered_ticks

    assert "service.nps_surveys" in registered_ticks()


def test_survey_links_point_at_the_public_page(world, kam):
    _survey, token = _send(kam, world["mine"], world["li"])
    assert re.fullmatch(rf"https?://[^/]+/nps/{re.escape(token)}/", surveys.nps_link(token))
