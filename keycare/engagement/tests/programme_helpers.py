"""Test helpers of the engagement programme (coverage, cadences, sponsors, My week):
activities written straight through the ORM (their own services are tested elsewhere), key
account designation, and aware times relative to today."""

import datetime as dt

from django.utils import timezone

from keycare.engagement.choices import ActivityStatus
from keycare.engagement.models import Activity
from keycare.insights.models import KeyAccount


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def days_ago(days: int, hour: int = 10) -> dt.datetime:
    return at(timezone.localdate() - dt.timedelta(days=days), hour)


def done(account, *, owner, kind="meeting", contacts=(), participants=(), when=None,
         subject="拜访", **fields) -> Activity:  # fmt: skip
    """A done activity at `when` (default: yesterday)."""
    when = when or days_ago(1)
    activity = Activity.objects.create(
        account=account, kind=kind, subject=subject, status=ActivityStatus.DONE,
        planned_at=when, done_at=when, owner=owner, **fields,
    )  # fmt: skip
    activity.contacts.set(contacts)
    activity.participants.set(participants)
    return activity


def planned(account, *, owner, kind="meeting", contacts=(), when=None, subject="计划拜访",
            **fields) -> Activity:  # fmt: skip
    when = when or at(timezone.localdate() + dt.timedelta(days=1))
    activity = Activity.objects.create(
        account=account, kind=kind, subject=subject, status=ActivityStatus.PLANNED,
        planned_at=when, owner=owner, **fields,
    )  # fmt: skip
    activity.contacts.set(contacts)
    return activity


def make_key(account, reason="战略客户") -> KeyAccount:
    return KeyAccount.objects.create(account=account, reason=reason, by_hand=True)
