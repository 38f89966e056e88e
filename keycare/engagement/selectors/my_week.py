""" "My week": what a key account manager (or anyone on account teams) has to do this week
across the accounts they own or are on the team of (lost accounts left out everywhere) —
whom to meet, why and how:

- the activities planned this week (Monday to Sunday);
- the next steps overdue;
- at their key accounts only (`coverage.key_accounts`, as the reminders): the playbook
  cadences due within a week or overdue, each with the suggested activity (whom to meet,
  with their style guidance) or marked as already planned, and the decision makers not
  met within the window, each with the coach path (who can introduce us) and how to deal
  with them — so what is due here is what the reminders remind of;
- the unread reminders (personal dates only while the actor may still see them).

Each entry carries its account; the entries are ordered by account value (the stored
metrics: gross profit, then revenue), highest first. A fixed number of queries whatever the
number of accounts."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountStatus
from keycare.accounts.models import Account, AccountTeamMember, Contact
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.scoping import restrict
from keycare.users.models import User

from ..cadences import cadence_statuses
from ..calculations import week_of
from ..choices import ActivityStatus
from ..coverage import (
    CoachPath,
    KeyPerson,
    by_account_value,
    coverage_for_accounts,
    engagement_may_view,
    key_accounts,
    key_person_days,
    open_next_steps,
    with_account_value,
)
from ..models import Activity, Reminder, StyleGuidance
from ..playbooks import Suggestion, playbook_suggestions, style_guidance_map

#: How many unread reminders the page lists (the newest; the reminder list has them all).
REMINDERS_SHOWN = 50


@dataclass
class UncoveredDecisionMaker:
    account: Account
    person: KeyPerson
    path: CoachPath | None
    #: how to deal with the decision maker, and with the first person to ask
    guidance: StyleGuidance | None = None
    first_guidance: StyleGuidance | None = None
    #: an introduction or meeting already planned to reach them (no second one is offered)
    already_planned: "PlannedAhead | None" = None


@dataclass(frozen=True)
class PlannedAhead:
    pk: int
    planned_at: dt.datetime | None


@dataclass
class MyWeek:
    today: dt.date
    week_start: dt.date
    week_end: dt.date
    window_days: int
    accounts: list[Account] = field(default_factory=list)
    planned: list[Activity] = field(default_factory=list)
    overdue_next_steps: list[Activity] = field(default_factory=list)
    cadences: list[Suggestion] = field(default_factory=list)
    uncovered: list[UncoveredDecisionMaker] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.planned or self.overdue_next_steps or self.cadences or self.uncovered
                    or self.reminders)  # fmt: skip


def my_accounts(*, actor: User, today: dt.date | None = None) -> list[Account]:
    """The accounts the actor owns or is on the team of (and may see), lost ones left out,
    highest value first. One query."""
    team = AccountTeamMember.objects.filter(user=actor).values("account_id")
    qs = restrict(Account.objects.filter(Q(owner=actor) | Q(pk__in=team)), actor, "view")
    qs = qs.exclude(status=AccountStatus.LOST)
    return list(by_account_value(with_account_value(qs, today).select_related("owner")))


def my_week(*, actor: User, today: dt.date | None = None) -> MyWeek:
    """The actor's week (see the module). Staff only: a customer contact is refused."""
    if not engagement_may_view(actor):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )
    today = today or timezone.localdate()
    monday, sunday = week_of(today)
    days = key_person_days()
    week = MyWeek(today=today, week_start=monday, week_end=sunday, window_days=days)
    accounts = my_accounts(actor=actor, today=today)
    week.accounts = accounts
    rank = {a.pk: i for i, a in enumerate(accounts)}
    by_pk = {a.pk: a for a in accounts}
    ids = list(by_pk)
    last = len(accounts)

    # this week's planned activities at my accounts, and those I own or take part in
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    end = start + dt.timedelta(days=7)
    taking_part = Activity.participants.through.objects.filter(
        activity_id=OuterRef("pk"), user=actor
    )
    planned = (
        restrict(Activity.objects.all(), actor, "view")
        .filter(Q(account_id__in=ids) | Q(owner=actor) | Q(Exists(taking_part)))
        .filter(status=ActivityStatus.PLANNED, planned_at__gte=start, planned_at__lt=end)
        .exclude(account__status=AccountStatus.LOST)
        .select_related("account", "owner", "target_contact")
        .prefetch_related(Prefetch("contacts", queryset=Contact.objects.order_by("name", "id")))
    )
    week.planned = sorted(planned, key=lambda a: (rank.get(a.account_id, last), a.planned_at,
                                                   a.pk))  # fmt: skip

    steps = (
        open_next_steps(actor=actor, account_ids=ids)
        .filter(next_step_due__lt=today)
        .select_related("account", "owner")
    )
    week.overdue_next_steps = sorted(
        steps, key=lambda a: (rank.get(a.account_id, last), a.next_step_due, a.pk)
    )

    guidance = style_guidance_map()
    key_ids = set(key_accounts(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))
    keyed = [a for a in accounts if a.pk in key_ids]
    coverage = coverage_for_accounts(account_ids=key_ids, today=today, days=days)
    statuses = cadence_statuses(accounts=keyed, today=today)
    week.cadences = playbook_suggestions(
        actor=actor, accounts=keyed, today=today, statuses=statuses, coverage=coverage,
        guidance=guidance, include_planned=True,
    )  # fmt: skip

    for account in keyed:
        cov = coverage[account.pk]
        for person in cov.uncovered_decision_makers:
            path = cov.paths.get(person.contact_id)
            first = path.first_to_ask if path is not None else None
            week.uncovered.append(UncoveredDecisionMaker(
                account=account, person=person, path=path,
                guidance=guidance.get(person.decision_style),
                first_guidance=guidance.get(first.decision_style) if first else None,
            ))  # fmt: skip
    if week.uncovered:
        # one query: what is already planned to reach them (an introduction naming them, or
        # an activity with them), earliest first
        targets = {u.person.contact_id for u in week.uncovered}
        ahead: dict[int, PlannedAhead] = {}
        for pk, planned_at, target, met in (
            Activity.objects.filter(account_id__in=key_ids, status=ActivityStatus.PLANNED)
            .filter(Q(target_contact_id__in=targets) | Q(contacts__in=targets))
            .order_by("planned_at", "pk")
            .values_list("pk", "planned_at", "target_contact_id", "contacts")
        ):
            for contact_id in (target, met):
                if contact_id in targets:
                    ahead.setdefault(contact_id, PlannedAhead(pk=pk, planned_at=planned_at))
        for entry in week.uncovered:
            entry.already_planned = ahead.get(entry.person.contact_id)

    from ..reminders import reminder_text, visible_reminders

    reminders = (
        visible_reminders(
            restrict(Reminder.objects.filter(user=actor, read_at__isnull=True), actor, "view"),
            actor,
        )
        .exclude(account__status=AccountStatus.LOST)
        .select_related("account", "contact", "activity")
        .order_by("-created_at", "-id")[:REMINDERS_SHOWN]
    )
    week.reminders = sorted(reminders, key=lambda r: rank.get(r.account_id, last))
    for reminder in week.reminders:
        reminder.title, reminder.body = reminder_text(reminder, today=today, guidance=guidance)
    return week
