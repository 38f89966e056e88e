"""The activity services and selectors: planning and logging after the fact, every
validation rule (nothing written when refused), who may add and change, version conflicts,
the log entries, completing, cancelling, next steps, files, the reference over-use warning
at its boundary, and the scoped list with its filters and fixed query count."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.models import ContactAccount
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.engagement.models import Activity, ActivityAttachment, EngagementLog
from keycare.engagement.selectors.activities import (
    activity_get,
    activity_list,
    contact_recent_activities,
)
from keycare.engagement.services.activities import (
    activity_attachment_add,
    activity_cancel,
    activity_complete,
    activity_create,
    activity_next_step_done,
    activity_update,
)
from keycare.engagement.services.programme import (
    engagement_settings_get,
    engagement_settings_update,
)
from keycare.engagement.tests.factories import ActivityFactory, ReferenceCustomerFactory
from keycare.service.tests.factories import stored_files, upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


@pytest.fixture
def shop(kam):
    return AccountFactory(name="华鑫汽车有限公司", owner=kam)


@pytest.fixture
def wang(shop):
    return ContactFactory(account=shop, name="王总", decision_style="leader")


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁有限公司", owner=other_kam)


def plan(actor, account, **kwargs):
    kwargs.setdefault("kind", "meeting")
    kwargs.setdefault("subject", "季度回顾")
    if "done_at" not in kwargs:
        kwargs.setdefault("planned_at", at(1))
    return activity_create(actor=actor, account=account, **kwargs)


def log(activity) -> list[tuple[str, dict]]:
    entries = EngagementLog.objects.filter(object_type="activity", object_id=activity.pk)
    return [(e.action, e.data) for e in entries.order_by("at", "id")]


# --- create ------------------------------------------------------------------------------


def test_plan_an_activity(kam, shop, wang, engineer):
    AccountTeamMemberFactory(account=shop, user=engineer)
    activity = plan(kam, shop, contacts=[wang], participants=[engineer.pk], objective="谈续约",
                    location="客户总部", cost="120.50", duration_minutes=90)  # fmt: skip
    assert (activity.status, activity.owner, activity.version, activity.created_by) == (
        "planned", kam, 1, kam,
    )  # fmt: skip
    assert list(activity.contacts.all()) == [wang]
    assert list(activity.participants.all()) == [engineer]
    assert (activity.cost, activity.duration_minutes, activity.warnings) == (
        Decimal("120.50"),
        90,
        [],
    )
    assert log(activity) == [("activity_planned", {
        "kind": "meeting", "subject": "季度回顾", "planned_at": str(at(1)), "done_at": None,
        "contacts": [wang.pk], "participants": [engineer.pk], "warnings": [],
    })]  # fmt: skip
    entry = EngagementLog.objects.get()
    assert (entry.account, entry.actor) == (shop, kam)


def test_log_an_activity_done_after_the_fact(kam, shop, wang):
    activity = plan(kam, shop, done_at=at(-2), outcome="客户同意试用", contacts=[wang.pk])
    assert (activity.status, activity.planned_at, activity.done_at) == ("done", None, at(-2))
    assert [a for a, _d in log(activity)] == ["activity_done"]


def test_a_contact_of_the_account_through_a_membership_is_accepted(kam, shop, elsewhere):
    li = ContactFactory(account=elsewhere, name="李工")
    ContactAccount.objects.create(contact=li, account=shop)
    activity = plan(kam, shop, contacts=[li])
    assert list(activity.contacts.all()) == [li]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"planned_at": None}, "planned_at"),
        ({"subject": "  "}, "subject"),
        ({"kind": "party"}, "kind"),
        ({"planned_at": None, "done_at": "soon"}, "done_at"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"next_step_due": dt.date(2030, 1, 1)}, "next_step"),
        ({"kind": "introduction"}, "target_contact"),
        ({"kind": "site_visit"}, "destination"),
        ({"kind": "site_visit", "destination": "reference"}, "reference_account"),
        ({"destination": "our_site"}, "destination"),
        ({"planned_at": dt.datetime(2099, 1, 1, tzinfo=dt.UTC)}, "planned_at"),
    ],
)
def test_invalid_input_is_refused_per_field_and_nothing_is_written(kam, shop, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        plan(kam, shop, **kwargs)
    assert field in exc.value.message_dict, exc.value.message_dict
    assert not Activity.objects.exists() and not EngagementLog.objects.exists()


def test_done_in_the_future_is_refused(kam, shop):
    with pytest.raises(ValidationError) as exc:
        plan(kam, shop, done_at=at(1))
    assert exc.value.message_dict == {
        "done_at": ["It cannot have been done in the future: plan it instead."]
    }


def test_people_must_be_the_accounts_and_ours(kam, shop, elsewhere, portal_user, other_kam):
    stranger = ContactFactory(account=elsewhere, name="外人")
    with pytest.raises(ValidationError) as exc:
        plan(kam, shop, contacts=[stranger], participants=[portal_user], owner=other_kam,
             kind="introduction", target_contact=stranger)  # fmt: skip
    assert exc.value.message_dict == {
        "contacts": ["Choose people of this account."],
        "participants": ["Choose colleagues of ours (staff users)."],
        "owner": ["The owner must be someone who sees this account."],
        "target_contact": ["Choose a person of this account."],
    }
    assert not Activity.objects.exists()


def test_an_introduction_names_its_target(kam, shop, wang):
    coach = ContactFactory(account=shop, name="赵经理", buying_role="coach")
    activity = plan(kam, shop, kind="introduction", contacts=[coach], target_contact=wang)
    assert (activity.target_contact, list(activity.contacts.all())) == (wang, [coach])


def test_who_may_add(kam, other_kam, engineer, portal_user, executive, service_manager, shop):
    for user in (other_kam, engineer, portal_user):
        with pytest.raises(PermissionDeniedError):
            plan(user, shop)
    AccountTeamMemberFactory(account=shop, user=engineer)
    assert plan(engineer, shop).owner == engineer
    assert plan(executive, shop).owner == executive
    assert plan(service_manager, shop).owner == service_manager
    assert Activity.objects.count() == 3


# --- update, complete, cancel, next step -------------------------------------------------


def test_update_bumps_the_version_and_logs_what_changed(kam, shop, wang):
    activity = plan(kam, shop)
    changed = activity_update(actor=kam, activity=activity, data={
        "subject": "续约谈判", "contacts": [wang.pk], "cost": "80"}, version=1)  # fmt: skip
    assert (changed.subject, changed.version, list(changed.contacts.all())) == (
        "续约谈判",
        2,
        [wang],
    )
    assert log(activity)[-1] == ("activity_changed", {
        "changes": {"subject": ["季度回顾", "续约谈判"], "cost": ["0.00", "80.00"],
                    "contacts": [[], [wang.pk]]},
        "warnings": [],
    })  # fmt: skip
    same = activity_update(actor=kam, activity=activity, data={"subject": "续约谈判"}, version=2)
    assert same.version == 2 and len(log(activity)) == 2  # nothing changed: nothing logged


def test_a_stale_edit_is_a_conflict_and_changes_nothing(kam, shop):
    activity = plan(kam, shop)
    activity_update(actor=kam, activity=activity, data={"subject": "甲"}, version=1)
    with pytest.raises(ConflictError) as exc:
        activity_update(actor=kam, activity=activity, data={"subject": "乙"}, version=1)
    assert exc.value.extra == {"code": "stale_version", "current_version": 2}
    for service, extra in (
        (activity_complete, {"done_at": at(0, 0), "outcome": "好"}),
        (activity_cancel, {"reason": "客户出差"}),
    ):
        with pytest.raises(ConflictError):
            service(actor=kam, activity=activity, version=1, **extra)
    activity.refresh_from_db()
    assert (activity.subject, activity.status, activity.version) == ("甲", "planned", 2)


def test_who_may_change(kam, other_kam, engineer, executive, admin_user, shop):
    activity = plan(kam, shop)
    for user in (other_kam, executive, engineer):  # executive sees it but may not change it
        with pytest.raises(PermissionDeniedError):
            activity_update(actor=user, activity=activity, data={"subject": "改"}, version=1)
    AccountTeamMemberFactory(account=shop, user=engineer)
    own = plan(engineer, shop)
    assert activity_update(actor=engineer, activity=own, data={"subject": "我的"},
                           version=1).version == 2  # fmt: skip
    with pytest.raises(PermissionDeniedError):  # seen, not his, and he may not change the account
        activity_update(actor=engineer, activity=activity, data={"subject": "改"}, version=1)
    assert activity_update(actor=admin_user, activity=activity, data={"subject": "改"},
                           version=1).subject == "改"  # fmt: skip
    activity.refresh_from_db()
    assert activity.version == 2


def test_complete(kam, shop):
    activity = plan(kam, shop, planned_at=at(0, 1), cost="50")
    with pytest.raises(ValidationError) as exc:
        activity_complete(actor=kam, activity=activity, done_at=None, outcome=" ", version=1)
    assert exc.value.message_dict == {"done_at": ["Say when it was done."],
                                      "outcome": ["Say what came of it."]}  # fmt: skip
    done = activity_complete(actor=kam, activity=activity, done_at=at(0, 1), outcome="同意试用",
                             next_step="寄送样品", next_step_due=dt.date(2030, 1, 5),
                             cost="300", version=1)  # fmt: skip
    assert (done.status, done.outcome, done.next_step, done.cost, done.version) == (
        "done", "同意试用", "寄送样品", Decimal("300.00"), 2)  # fmt: skip
    assert log(activity)[-1][0] == "activity_done"
    with pytest.raises(ApplicationError) as again:
        activity_complete(actor=kam, activity=activity, done_at=at(0, 1), outcome="x", version=2)
    assert again.value.extra["code"] == "wrong_status"


def test_cancel_needs_a_reason_and_is_logged(kam, shop):
    activity = plan(kam, shop)
    with pytest.raises(ValidationError) as exc:
        activity_cancel(actor=kam, activity=activity, reason="", version=1)
    assert exc.value.message_dict == {"reason": ["Say why the activity is cancelled."]}
    cancelled = activity_cancel(actor=kam, activity=activity, reason="客户出差", version=1)
    assert (cancelled.status, cancelled.version) == ("cancelled", 2)
    assert log(activity)[-1] == ("activity_cancelled", {"reason": "客户出差"})
    with pytest.raises(ApplicationError):
        activity_update(actor=kam, activity=activity, data={"subject": "x"}, version=2)


def test_next_step_done(kam, shop):
    activity = plan(kam, shop)
    with pytest.raises(ApplicationError) as exc:
        activity_next_step_done(actor=kam, activity=activity, version=1)
    assert exc.value.extra == {"code": "no_open_next_step"}
    activity_update(actor=kam, activity=activity,
                    data={"next_step": "发报价", "next_step_due": dt.date(2026, 1, 1)}, version=1)  # fmt: skip
    assert activity_list(actor=kam, filters={"overdue": "true"}).count() == 1
    done = activity_next_step_done(actor=kam, activity=activity, version=2)
    assert done.next_step_done_at is not None and done.version == 3
    assert log(activity)[-1] == (
        "activity_next_step_done",
        {"next_step": "发报价", "due": "2026-01-01"},
    )
    assert activity_list(actor=kam, filters={"overdue": "true"}).count() == 0


# --- files -------------------------------------------------------------------------------


def test_attachments_are_checked_and_stored(kam, other_kam, shop, private_root):
    activity = plan(kam, shop)
    attachment = activity_attachment_add(actor=kam, activity=activity,
                                         upload=upload("纪要.pdf", PDF))  # fmt: skip
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "纪要.pdf", "application/pdf", len(PDF))  # fmt: skip
    assert len(stored_files(private_root)) == 1
    activity.refresh_from_db()
    assert activity.version == 2 and log(activity)[-1][0] == "activity_attachment_added"
    with pytest.raises(ValidationError) as exc:
        activity_attachment_add(actor=kam, activity=activity, upload=upload("x.exe", b"MZ"))
    assert "file" in exc.value.message_dict
    with pytest.raises(PermissionDeniedError):
        activity_attachment_add(actor=other_kam, activity=activity, upload=upload("a.pdf", PDF))
    assert ActivityAttachment.objects.count() == 1 and len(stored_files(private_root)) == 1


# --- the reference over-use warning ------------------------------------------------------


def visit(actor, account, reference, when):
    return plan(actor, account, kind="site_visit", destination="reference",
                reference_account=reference.account, planned_at=when)  # fmt: skip


def test_the_reference_warning_comes_one_over_its_own_limit(kam, shop, admin_user):
    reference = ReferenceCustomerFactory(account=AccountFactory(name="标杆客户"),
                                         max_visits_per_year=2)  # fmt: skip
    year = timezone.localdate().year
    tz = timezone.get_current_timezone()
    day = lambda m: dt.datetime(year + 1, m, 10, 9, tzinfo=tz)  # noqa: E731
    assert visit(kam, shop, reference, day(1)).warnings == []
    cancelled = visit(kam, shop, reference, day(2))
    activity_cancel(actor=kam, activity=cancelled, reason="改期", version=1)  # does not count
    visit(admin_user, AccountFactory(owner=kam), reference, dt.datetime(
        year, 12, 31, 9, tzinfo=tz))  # another year  # fmt: skip
    at_limit = visit(kam, shop, reference, day(3))
    assert at_limit.warnings == []  # the second of two: exactly at the limit
    over = visit(kam, shop, reference, day(4))
    assert [w["code"] for w in over.warnings] == ["reference_over_used"]
    assert over.warnings[0]["message"] == (
        f"标杆客户 has already hosted 2 visits in {year + 1}, its limit is 2 a year: think of "
        "another reference, so as not to over-use it."
    )
    assert over.pk and log(over)[0][1]["warnings"] == ["reference_over_used"]  # warned, not blocked


def test_the_reference_warning_uses_the_settings_limit(kam, shop, admin_user):
    reference = ReferenceCustomerFactory(account=AccountFactory(name="标杆客户"))
    settings = engagement_settings_get()
    engagement_settings_update(actor=admin_user, data={"reference_visits_per_year": 1},
                               lock_version=settings.lock_version)  # fmt: skip
    assert visit(kam, shop, reference, at(10)).warnings == []
    assert len(visit(kam, shop, reference, at(11)).warnings) == 1


def test_a_reference_without_consent_or_availability_is_refused(kam, shop):
    for flags in ({"consent": False}, {"available": False}):
        reference = ReferenceCustomerFactory(account=AccountFactory(), **flags)
        with pytest.raises(ValidationError) as exc:
            visit(kam, shop, reference, at(3))
        assert list(exc.value.message_dict) == ["reference_account"]
    own = ReferenceCustomerFactory(account=shop)
    with pytest.raises(ValidationError) as exc:
        visit(kam, shop, own, at(3))
    assert exc.value.message_dict == {
        "reference_account": ["An account cannot visit itself as a reference."]
    }


# --- reads -------------------------------------------------------------------------------


def test_a_key_account_manager_sees_only_his_accounts_activities(
    kam, other_kam, executive, shop, elsewhere
):
    mine = plan(kam, shop, subject="我的")
    theirs = plan(other_kam, elsewhere, subject="别人的")
    assert list(activity_list(actor=kam)) == [mine]
    with pytest.raises(Activity.DoesNotExist):
        activity_get(actor=kam, pk=theirs.pk)
    assert set(activity_list(actor=executive)) == {mine, theirs}


def test_filters_and_invalid_filters(kam, shop, wang, engineer):
    a = plan(kam, shop, subject="拜访王总", contacts=[wang], participants=[engineer])
    b = plan(kam, shop, subject="电话", kind="call", planned_at=at(20))
    c = plan(kam, shop, subject="已完成", done_at=at(-1))
    assert list(activity_list(actor=kam, filters={"kind": ["call"]})) == [b]
    assert list(activity_list(actor=kam, filters={"status": "done"})) == [c]
    assert list(activity_list(actor=kam, filters={"contact": wang.pk})) == [a]
    assert list(activity_list(actor=kam, filters={"participant": engineer.pk})) == [a]
    assert list(activity_list(actor=kam, filters={"q": "王总"})) == [a]
    assert list(activity_list(actor=kam, filters={"planned_from": str(at(10).date())})) == [b]
    assert list(activity_list(actor=kam)) == [b, a, c]  # by date, newest first
    with pytest.raises(ValidationError) as exc:
        activity_list(actor=kam, filters={"kind": "party", "account": "x"})
    assert set(exc.value.message_dict) == {"kind", "account"}


def test_the_list_query_count_is_fixed(kam, shop, wang, engineer, django_assert_num_queries):
    plan(kam, shop, contacts=[wang], participants=[engineer])
    with django_assert_num_queries(3) as small:  # activities, contacts, participants
        list(activity_list(actor=kam))
    for _n in range(5):
        plan(kam, shop, contacts=[wang, ContactFactory(account=shop)], participants=[engineer])
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(list(activity_list(actor=kam))) == 6


def test_the_contacts_recent_activities(kam, shop, wang):
    done = plan(kam, shop, done_at=at(-3), contacts=[wang], cost="10")
    later = plan(kam, shop, planned_at=at(5), contacts=[wang])  # planned ones too, newest first
    older = plan(kam, shop, done_at=at(-40), contacts=[wang])
    plan(kam, shop, done_at=at(-1))  # without him
    assert contact_recent_activities(actor=kam, contact=wang) == [later, done, older]


def test_one_rule_for_an_open_next_step(kam, shop, django_assert_num_queries):
    """`filters.open_next_step_q` is the one rule (the account 360 section and My week read
    it through `coverage.open_next_steps`; the calendars add their due-date range): a
    written next step not done, on an activity not cancelled, with or without a due date."""
    from keycare.engagement.coverage import open_next_steps
    from keycare.engagement.filters import open_next_step_q

    dated = plan(kam, shop, done_at=at(-40), next_step="送样", next_step_due=dt.date(2026, 1, 2))
    undated = plan(kam, shop, planned_at=at(7), next_step="确认")
    plan(kam, shop, planned_at=at(8))  # no next step
    finished = plan(kam, shop, done_at=at(-2), next_step="报价", next_step_due=at(3).date())
    Activity.objects.filter(pk=finished.pk).update(next_step_done_at=at(-1))
    cancelled = plan(kam, shop, planned_at=at(9), next_step="回访")
    Activity.objects.filter(pk=cancelled.pk).update(status="cancelled")
    expected = [dated.pk, undated.pk]
    assert sorted(Activity.objects.filter(open_next_step_q()).values_list("pk", flat=True)) == (
        expected
    )
    with django_assert_num_queries(1) as small:
        assert [a.pk for a in open_next_steps(actor=kam, account_ids=[shop.pk])] == expected
    more = [plan(kam, shop, planned_at=at(10), next_step=f"第{n}步",
                 next_step_due=at(20 + n).date()) for n in range(4)]  # fmt: skip
    with django_assert_num_queries(len(small.captured_queries)):
        steps = [a.pk for a in open_next_steps(actor=kam, account_ids=[shop.pk])]
    # the earliest due first, those without a due date last
    assert steps == [dated.pk, *[a.pk for a in more], undated.pk]


def test_the_factory_builds_through_the_service(shop):
    activity = ActivityFactory(account=shop)
    assert activity.status == "planned" and log(activity)[0][0] == "activity_planned"
