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
    Count,
    DateTimeField,
    Exists,
    Max,
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
from keycare.core.scoping import restrict, scope_filter
from keycare.service.models import ServiceTeam, ServiceTeamMember
from keycare.users.choices import ALL_ACCOUNTS_ROLES, STAFF_ROLES
from keycare.users.models import User

from ..choices import ActivityStatus
from ..filters import ActivityFilter, open_next_step_q, overdue_q
from ..models import Activity, ActivityAttachment, EngagementLog, Pain
from ..services.activities import at_account_q, staff_users
from ..touches import Touch, last_touches

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


# --- the account 360 page and the contact page -------------------------------------------


@dataclass
class AccountActivitySummary:
    """An account's engagement at a glance: the latest activities done, the next ones
    planned, the open next steps (overdue first), the counts, and when we last reached each
    of its people (with who of ours did)."""

    recent: list[Activity]
    upcoming: list[Activity]
    next_steps: list[Activity]
    planned_count: int
    open_next_steps: int
    overdue_next_steps: int
    done_last_90_days: int
    last_activity_at: dt.datetime | None
    touches: list[tuple[Contact, Touch]]

    @property
    def last_touch_at(self) -> dt.datetime | None:
        return max((t.at for _c, t in self.touches if t.at), default=None)


def account_activity_summary(
    *, actor: User, account: Account, limit: int = 5
) -> AccountActivitySummary:
    """The summary for the account 360 page (what the actor sees of it; nothing for a user
    who sees no activities). A fixed number of queries (ten: four for the last touches) whatever the data
    size."""
    verdict = scope_filter(Activity, actor, "view")
    seen = restrict(Activity.objects.filter(account=account), actor, "view")
    now, today = timezone.now(), timezone.localdate()
    figures = seen.aggregate(
        planned=Count("pk", filter=Q(status=ActivityStatus.PLANNED)),
        open_steps=Count("pk", filter=open_next_step_q()),
        overdue=Count("pk", filter=overdue_q(today)),
        done_recently=Count("pk", filter=Q(status=ActivityStatus.DONE,
                                           done_at__gte=now - dt.timedelta(days=90))),
        last_done=Max("done_at", filter=Q(status=ActivityStatus.DONE)),
    )  # fmt: skip
    people = Prefetch("contacts", queryset=Contact.objects.order_by("name", "id"))
    recent = list(seen.filter(status=ActivityStatus.DONE).select_related("owner")
                  .prefetch_related(people).order_by("-done_at", "-id")[:limit])  # fmt: skip
    upcoming = list(seen.filter(status=ActivityStatus.PLANNED, planned_at__gte=now)
                    .select_related("owner").prefetch_related(people)
                    .order_by("planned_at", "id")[:limit])  # fmt: skip
    steps = list(seen.filter(open_next_step_q()).select_related("owner")
                 .order_by("next_step_due", "id")[: limit * 2])  # fmt: skip
    touches: list[tuple[Contact, Touch]] = []
    if verdict is not False:
        contacts = list(
            Contact.objects.filter(at_account_q(account), is_active=True).order_by("name", "id")
        )
        found = last_touches(c.pk for c in contacts)
        touches = [(c, found.get(c.pk) or Touch(contact_id=c.pk, at=None)) for c in contacts]
        touches.sort(key=lambda pair: (pair[1].at is None, -(pair[1].at.timestamp()
                                                              if pair[1].at else 0), pair[0].name))  # fmt: skip
    return AccountActivitySummary(
        recent=recent, upcoming=upcoming, next_steps=steps,
        planned_count=figures["planned"], open_next_steps=figures["open_steps"],
        overdue_next_steps=figures["overdue"], done_last_90_days=figures["done_recently"],
        last_activity_at=figures["last_done"], touches=touches,
    )  # fmt: skip
