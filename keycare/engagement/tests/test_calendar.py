"""The calendar: the week or month of planned activities and due next steps for chosen
users (whose calendar a user may look at), and the private iCalendar feed — its token
stored only as a digest, a reset that invalidates the old one, and a feed that parses,
holds the user's own events (with the people's style guidance) and nobody else's, and no
personal details."""

import datetime as dt
import hashlib

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.models import PersonalDetails
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import PermissionDeniedError
from keycare.engagement.calendar import (
    calendar_feed_create_or_reset,
    calendar_feed_user,
    calendar_ics,
)
from keycare.engagement.models import CalendarFeed
from keycare.engagement.selectors.activities import (
    calendar_entries,
    calendar_team_user_ids,
    calendar_teams,
    calendar_users,
)
from keycare.engagement.services.activities import activity_cancel, activity_create
from keycare.service.teams import service_team_create, service_team_member_set

pytestmark = pytest.mark.django_db


def at(days: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def plan(actor, account, when, **kwargs):
    kwargs.setdefault("kind", "meeting")
    kwargs.setdefault("subject", "拜访")
    return activity_create(actor=actor, account=account, planned_at=when, **kwargs)


@pytest.fixture
def shop(kam):
    return AccountFactory(name="华鑫汽车有限公司", short_name="华鑫", owner=kam)


# --- the feed's token --------------------------------------------------------------------


def test_the_token_is_stored_only_as_its_digest_and_a_reset_invalidates_it(kam, portal_user):
    first = calendar_feed_create_or_reset(actor=kam)
    feed = CalendarFeed.objects.get(user=kam)
    assert len(first) >= 43 and feed.token_digest == hashlib.sha256(first.encode()).hexdigest()
    assert first not in str(CalendarFeed.objects.values().get())
    assert calendar_feed_user(first) == kam
    second = calendar_feed_create_or_reset(actor=kam)
    assert second != first and CalendarFeed.objects.count() == 1
    assert calendar_feed_user(first) is None
    assert calendar_feed_user(second) == kam
    for wrong in ("", None, "x" * 500, second[:-1] + ("A" if second[-1] != "A" else "B")):
        assert calendar_feed_user(wrong) is None
    with pytest.raises(PermissionDeniedError):
        calendar_feed_create_or_reset(actor=portal_user)


def test_a_feed_stops_for_a_user_who_left(kam):
    token = calendar_feed_create_or_reset(actor=kam)
    kam.is_active = False
    kam.save(update_fields=["is_active"])
    assert calendar_feed_user(token) is None


def test_reading_notes_the_time_at_most_hourly(kam):
    token = calendar_feed_create_or_reset(actor=kam)
    calendar_feed_user(token)
    first = CalendarFeed.objects.get().last_used_at
    assert first is not None
    calendar_feed_user(token)
    assert CalendarFeed.objects.get().last_used_at == first


# --- the feed's content ------------------------------------------------------------------


def test_the_feed_holds_the_users_events_and_nobody_elses(kam, other_kam, engineer, shop):
    AccountTeamMemberFactory(account=shop, user=engineer)
    wang = ContactFactory(account=shop, name="王总", title="总经理", decision_style="leader")
    PersonalDetails.objects.create(contact=wang, birthday=dt.date(1970, 5, 6), hobbies="高尔夫")
    mine = plan(kam, shop, at(2, 9), subject="续约谈判", contacts=[wang], location="苏州工厂",
                objective="确认三年合同", duration_minutes=90)  # fmt: skip
    with_me = plan(engineer, shop, at(3), subject="技术交流", participants=[kam])
    step = activity_create(actor=kam, account=shop, kind="call", subject="电话回访",
                           done_at=at(-1), next_step="寄送报价", next_step_due=at(4).date())  # fmt: skip
    plan(kam, shop, at(-40), subject="太早")  # older than 30 days
    plan(kam, shop, at(400), subject="太晚")  # more than a year ahead
    cancelled = plan(kam, shop, at(5), subject="取消的")
    activity_cancel(actor=kam, activity=cancelled, reason="改期", version=1)
    theirs = AccountFactory(owner=other_kam)
    plan(other_kam, theirs, at(2), subject="别人的")
    plan(engineer, shop, at(2), subject="工程师自己的")

    cal = icalendar.Calendar.from_ical(calendar_ics(user=kam, today=timezone.localdate()))
    events = {str(e["uid"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {f"activity-{mine.pk}@keycare", f"activity-{with_me.pk}@keycare",
                           f"next-step-{step.pk}@keycare"}  # fmt: skip
    event = events[f"activity-{mine.pk}@keycare"]
    assert str(event["summary"]) == "续约谈判 · 华鑫"
    assert event.decoded("dtstart") == at(2, 9).astimezone(dt.UTC)
    assert event.decoded("dtstart").tzinfo is not None and event["dtstart"].to_ical().endswith(b"Z")
    assert event.decoded("dtend") - event.decoded("dtstart") == dt.timedelta(minutes=90)
    assert str(event["location"]) == "苏州工厂"
    assert "dtstamp" in event
    description = str(event["description"])
    assert "确认三年合同" in description
    assert "王总 (总经理): Leader – Be direct and lead with the benefits to them." in description
    assert "1970" not in description and "高尔夫" not in description
    due = events[f"next-step-{step.pk}@keycare"]
    assert (
        due.decoded("dtstart") == at(4).date()
        and str(due["summary"]) == "Next step: 寄送报价 · 华鑫"
    )
    body = calendar_ics(user=kam, today=timezone.localdate()).decode()
    assert "别人的" not in body and "工程师自己的" not in body and "高尔夫" not in body


def test_the_feed_follows_what_the_user_still_sees(kam, engineer, shop):
    member = AccountTeamMemberFactory(account=shop, user=engineer)
    plan(engineer, shop, at(2), subject="团队时的拜访")
    member.delete()  # he left the account's team
    body = calendar_ics(user=engineer, today=timezone.localdate()).decode()
    assert "团队时的拜访" not in body


# --- the calendar page's entries ---------------------------------------------------------


def test_whose_calendar_a_user_may_see(
    kam, other_kam, engineer, service_manager, shop, portal_user
):
    AccountTeamMemberFactory(account=shop, user=engineer)
    assert set(calendar_users(actor=kam)) == {kam, engineer}
    assert set(calendar_users(actor=engineer)) == {engineer, kam}
    assert {kam, other_kam, engineer, service_manager} <= set(calendar_users(actor=service_manager))
    assert portal_user not in set(calendar_users(actor=service_manager))
    assert list(calendar_users(actor=portal_user)) == []
    with pytest.raises(ValidationError) as exc:
        calendar_entries(actor=kam, start=timezone.localdate(), end=timezone.localdate(),
                         user_ids=[other_kam.pk])  # fmt: skip
    assert exc.value.message_dict == {"user": ["You may not look at this colleague's calendar."]}


def test_entries_of_a_week(kam, engineer, shop, django_assert_num_queries):
    AccountTeamMemberFactory(account=shop, user=engineer)
    today = timezone.localdate()
    own = plan(kam, shop, at(1, 14))
    part = plan(engineer, shop, at(1, 9), participants=[kam])
    plan(engineer, shop, at(2))  # not kam's
    late = activity_create(actor=kam, account=shop, kind="call", subject="回访", done_at=at(-9),
                           next_step="报价", next_step_due=today - dt.timedelta(days=1))  # fmt: skip
    plan(kam, shop, at(30))  # outside the week
    with django_assert_num_queries(5):  # who may be seen, planned (+ its people ×2), due
        entries = calendar_entries(actor=kam, start=today - dt.timedelta(days=1),
                                   end=today + dt.timedelta(days=5), user_ids=[kam.pk])  # fmt: skip
    assert [(e.kind, e.activity.pk, e.overdue) for e in entries] == [
        ("next_step", late.pk, True), ("activity", part.pk, False), ("activity", own.pk, False)]  # fmt: skip
    assert entries[1].end - entries[1].start == dt.timedelta(minutes=60)
    both = calendar_entries(actor=kam, start=today, end=today + dt.timedelta(days=5),
                            user_ids=[kam.pk, engineer.pk])  # fmt: skip
    assert len(both) == 3
    with pytest.raises(ValidationError):
        calendar_entries(
            actor=kam, start=today, end=today + dt.timedelta(days=90), user_ids=[kam.pk]
        )


def test_a_service_teams_calendar(service_manager, engineer, make_user, kam):
    from keycare.users.choices import Role

    colleague = make_user(Role.SERVICE_ENGINEER, username="eng2")
    team = service_team_create(actor=None, name="华东服务队", manager=service_manager)
    service_team_member_set(actor=None, team=team, user=engineer)
    service_team_member_set(actor=None, team=team, user=colleague)
    assert list(calendar_teams(actor=service_manager)) == [team]
    assert list(calendar_teams(actor=kam)) == []
    assert list(calendar_teams(actor=engineer)) == [team]
    assert set(calendar_team_user_ids(actor=service_manager, team=team)) == {
        service_manager.pk, engineer.pk, colleague.pk}  # fmt: skip
    assert set(calendar_users(actor=engineer)) == {engineer, colleague}
