"""When we last reached each person: the latest done activity they took part in, or the
latest held event they came to (attendance counts as engagement). Coverage, the reminders,
"My week" and the contact page all read it from here, so "last met" means one thing."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from keycare.accounts.models import Contact

from .choices import ActivityStatus, EventStatus, InvitationStatus
from .models import Activity, EventInvitation


def annotate_touches(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """Adds `last_activity_id`, `last_activity_at`, `last_event_at` and `last_touch_at`
    (the later of the two) to each contact, as correlated subqueries (no extra rows)."""
    latest = Activity.objects.filter(contacts=OuterRef("pk"), status=ActivityStatus.DONE).order_by(
        "-done_at", "-pk"
    )
    came = EventInvitation.objects.filter(
        contact=OuterRef("pk"), status=InvitationStatus.ATTENDED, event__status=EventStatus.HELD
    ).order_by("-event__starts_at")
    qs = contacts.annotate(
        last_activity_id=Subquery(latest.values("pk")[:1]),
        last_activity_at=Subquery(latest.values("done_at")[:1], output_field=DateTimeField()),
        last_event_at=Subquery(came.values("event__starts_at")[:1], output_field=DateTimeField()),
    )
    # Greatest is NULL on PostgreSQL when either is NULL, so fill each side with the other
    return qs.annotate(
        last_touch_at=Greatest(
            Coalesce("last_activity_at", "last_event_at"),
            Coalesce("last_event_at", "last_activity_at"),
        )
    )


@dataclass
class Touch:
    contact_id: int
    at: dt.datetime | None
    activity: Activity | None = None
    #: who of ours took part in the last activity (owner first)
    by: list = field(default_factory=list)


def last_touches(contact_ids: Iterable[int]) -> dict[int, Touch]:
    """{contact id: Touch} for these contacts, in three queries whatever their number."""
    ids = list(contact_ids)
    if not ids:
        return {}
    rows = list(
        annotate_touches(Contact.objects.filter(pk__in=ids)).values_list(
            "pk", "last_touch_at", "last_activity_id"
        )
    )
    activities = {
        a.pk: a
        for a in Activity.objects.filter(pk__in={r[2] for r in rows if r[2]})
        .select_related("owner")
        .prefetch_related("participants")
    }
    touches = {}
    for pk, at, activity_id in rows:
        activity = activities.get(activity_id)
        by = []
        if activity is not None:
            by = [activity.owner] + [u for u in activity.participants.all() if u != activity.owner]
        touches[pk] = Touch(contact_id=pk, at=at, activity=activity, by=by)
    return touches
