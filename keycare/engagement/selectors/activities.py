"""Reads of engagement activities, scoped to the acting user: the list (one FilterSet for
the page and the API), one activity with its people, files and log, the calendar of
planned activities and due next steps for chosen users, the users and service teams a
user may put on their calendar, an account's activity summary (the 360 page) and a
contact's recent activities (the contact page)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    DateTimeField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, AccountTeamMember, Contact
from keycare.accounts.scopes import team_account_ids
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.service.models import ServiceTeam, ServiceTeamMember
from keycare.users.choices import ALL_ACCOUNTS_ROLES, STAFF_ROLES
from keycare.users.models import User

from ..choices import ActivityStatus
from ..filters import ActivityFilter, open_next_step_q
from ..models import Activity, ActivityAttachment, EngagementLog, Pain
from ..services.activities import staff_users

#: The longest period a calendar shows at once (a month view spans up to six weeks).
CALENDAR_MAX_DAYS = 62


def _when():
    return Coalesce("done_at", "planned_at", output_field=DateTimeField())


def _joined(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    return qs.select_related(
        "account", "owner", "target_contact", "reference_account"
    ).prefetch_related(
        Prefetch("contacts", queryset=Contact.objects.order_by("name", "id")),
        Prefetch("participants", queryset=User.objects.order_by("username")),
    )


def activity_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Activity]:
    """The activities the actor sees (their accounts' for a key account manager), newest
    first by the date that places them (done on, else planned for), with the account, the
    owner, their people and ours joined."""
    qs = restrict(Activity.objects.all(), actor, "view").annotate(when_at=_when())
    qs = filter_queryset(ActivityFilter, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("-when_at", "-id")
    return _joined(qs)


def activity_get(*, actor: User, pk: int) -> Activity:
    """One activity with its people, files and pains (DoesNotExist when not seen)."""
    return (
        _joined(restrict(Activity.objects.all(), actor, "view"))
        .select_related("host", "playbook_item__playbook", "created_by")
        .prefetch_related(
            Prefetch(
                "attachments", queryset=ActivityAttachment.objects.select_related("uploaded_by")
            ),
            Prefetch(
                "pains",
                queryset=restrict(Pain.objects.all(), actor, "view").order_by("-raised_on", "-id"),
            ),
        )
        .get(pk=pk)
    )


def activity_log(*, actor: User, activity: Activity) -> list[EngagementLog]:
    """The activity's log entries, oldest first (the timeline)."""
    return list(
        restrict(EngagementLog.objects.all(), actor, "view")
        .filter(object_type="activity", object_id=activity.pk)
        .select_related("actor")
        .order_by("at", "id")
    )


def attachment_get(*, actor: User, pk: int) -> ActivityAttachment:
    """A file of an activity the actor sees (DoesNotExist otherwise)."""
    return restrict(ActivityAttachment.objects.all(), actor, "view").get(pk=pk)


def contact_recent_activities(*, actor: User, contact: Contact, limit: int = 5) -> list[Activity]:
    """The latest activities with this person (done or planned), newest first."""
    through = Activity.contacts.through.objects.filter(activity=OuterRef("pk"), contact=contact)
    qs = (
        restrict(Activity.objects.all(), actor, "view")
        .filter(Exists(through))
        .exclude(status=ActivityStatus.CANCELLED)
        .annotate(when_at=_when())
        .select_related("owner", "account")
        .order_by("-when_at", "-id")
    )
    return list(qs[:limit])


# --- the calendar --------------------------------------------------------------------------


def calendar_users(*, actor: User) -> QuerySet[User]:
    """Whose calendar the actor may look at: those who oversee every account (managers,
    executives, administrators) everyone on the staff; others themselves, the colleagues
    on their accounts' teams (owners and members) and those of their service teams."""
    staff = staff_users()
    if not actor.has_role(*STAFF_ROLES):
        return User.objects.none()
    if actor.has_role(*ALL_ACCOUNTS_ROLES):
        return staff.order_by("username")
    accounts = Account.objects.filter(Q(owner=actor) | Q(pk__in=team_account_ids(actor))).values(
        "pk"
    )
    teams = ServiceTeamMember.objects.filter(user=actor).values("team_id")
    return staff.filter(
        Q(pk=actor.pk)
        | Q(pk__in=Account.objects.filter(pk__in=accounts).values("owner_id"))
        | Q(pk__in=AccountTeamMember.objects.filter(account__in=accounts).values("user_id"))
        | Q(pk__in=ServiceTeamMember.objects.filter(team__in=teams).values("user_id"))
    ).order_by("username")


def calendar_teams(*, actor: User) -> QuerySet[ServiceTeam]:
    """The service teams the actor may show together: all active ones for those who
    oversee every account, their own for the others."""
    if not actor.has_role(*STAFF_ROLES):
        return ServiceTeam.objects.none()
    teams = ServiceTeam.objects.filter(is_active=True)
    if not actor.has_role(*ALL_ACCOUNTS_ROLES):
        teams = teams.filter(pk__in=ServiceTeamMember.objects.filter(user=actor).values("team_id"))
    return teams.order_by("name")


def calendar_team_user_ids(*, actor: User, team: ServiceTeam) -> list[int]:
    """The members of a team (and its leader) whose calendar the actor may look at."""
    ids = set(ServiceTeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    if team.manager_id:
        ids.add(team.manager_id)
    return list(calendar_users(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))


@dataclass
class CalendarEntry:
    """A planned activity (at its time) or a due next step (on its day) on the calendar."""

    kind: str  # "activity" or "next_step"
    activity: Activity
    day: dt.date
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    overdue: bool = False
    user_ids: list[int] = field(default_factory=list)


def _local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    first = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return first, after


def calendar_entries(
    *, actor: User, start: dt.date, end: dt.date, user_ids: Iterable[int]
) -> list[CalendarEntry]:
    """The planned activities from `start` to `end` (inclusive, local days) that the users
    own or take part in, and the open next steps they own that fall due then — of the
    accounts the actor sees. The users must be ones the actor may look at
    (`calendar_users`). Three queries whatever the number of entries."""
    if end < start:
        raise ValidationError({"end": [_("The period ends before it starts.")]})
    if (end - start).days >= CALENDAR_MAX_DAYS:
        raise ValidationError(
            {"end": [_("Show at most %(n)d days at once.") % {"n": CALENDAR_MAX_DAYS}]}
        )
    ids = sorted({int(pk) for pk in user_ids})
    if not ids:
        return []
    allowed = set(calendar_users(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))
    if allowed != set(ids):
        raise ValidationError({"user": [_("You may not look at this colleague's calendar.")]})
    first, after = _local_bounds(start, end)
    seen = restrict(Activity.objects.all(), actor, "view")
    takes_part = Activity.participants.through.objects.filter(
        activity=OuterRef("pk"), user_id__in=ids
    )
    planned = _joined(
        seen.filter(status=ActivityStatus.PLANNED, planned_at__gte=first, planned_at__lt=after)
        .filter(Q(owner_id__in=ids) | Exists(takes_part))
        .order_by("planned_at", "id")
    )
    due = (
        seen.filter(open_next_step_q(), owner_id__in=ids, next_step_due__gte=start,
                    next_step_due__lte=end)
        .select_related("account", "owner")
        .order_by("next_step_due", "id")
    )  # fmt: skip
    today = timezone.localdate()
    entries = []
    for activity in planned:
        begins = timezone.localtime(activity.planned_at)
        who = {activity.owner_id} | {u.pk for u in activity.participants.all()}
        entries.append(CalendarEntry(
            kind="activity", activity=activity, day=begins.date(), start=begins,
            end=begins + dt.timedelta(minutes=activity.duration_minutes or 60),
            user_ids=sorted(who & set(ids)),
        ))  # fmt: skip
    for activity in due:
        entries.append(CalendarEntry(
            kind="next_step", activity=activity, day=activity.next_step_due,
            overdue=activity.next_step_due < today, user_ids=[activity.owner_id],
        ))  # fmt: skip
    entries.sort(key=lambda e: (e.day, e.kind != "next_step", e.start or first, e.activity.pk))
    return entries
