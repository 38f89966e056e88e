"""Writes of the service app: tickets, their workflow and the SLA engine."""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, Equipment
from keycare.core.exceptions import ApplicationError, ConflictError
from keycare.core.figures import account_figures_changed
from keycare.core.services import check_version, require_permission
from keycare.users.models import User

from . import calculations as calc
from .choices import OPEN_STATUSES, Coverage, SlaState, TicketEventKind, TicketStatus
from .models import (
    AccountCalendar,
    BusinessCalendar,
    ServiceTeamMember,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketComment,
    TicketEvent,
    TicketPause,
    TicketSequence,
)
from .teams import team_for_account
from .workflow import check_transition, is_reopen

TICKET_EDITABLE_FIELDS = {"subject", "description", "ticket_type", "priority", "channel", "contact",
                          "equipment", "resolution", "root_cause", "team"}  # fmt: skip


def _event(
    ticket: Ticket, kind: str, actor: User | None, at: dt.datetime | None = None, **data: Any
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, actor=actor, at=at or timezone.now(), data=data
    )


def _next_number(now: dt.datetime) -> str:
    year = timezone.localtime(now).year
    last = _sequence_bump(year)
    if last is None:  # the year's first ticket
        TicketSequence.objects.get_or_create(year=year)
        last = _sequence_bump(year)
    return f"SR-{year}-{last:06d}"


def _sequence_bump(year: int) -> int | None:
    """The year's counter plus one, in one statement (UPDATE … RETURNING, on PostgreSQL and
    SQLite alike) instead of an update and a read: the row stays locked until the ticket
    commits, as before. None when the year has no counter yet."""
    from django.db import connection

    table, last, year_column = map(
        connection.ops.quote_name, (TicketSequence._meta.db_table, "last", "year")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            # the names are the model's own, quoted; the year is a parameter
            f"UPDATE {table} SET {last} = {last} + 1 WHERE {year_column} = %s RETURNING {last}",  # noqa: S608
            [year],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# --- SLA ----------------------------------------------------------------------------------


def sla_policy_for(account: Account) -> SlaPolicy:
    """The most specific active policy for the account's tier and type, else the floor."""
    # one read for the candidates and the floor (the floors come in the model's order, as
    # `.first()` would take them); the calendar comes along for calendar_for
    rows = list(
        SlaPolicy.objects.filter(
            Q(is_active=True, is_floor=False, tier__in=["", account.tier],
              account_type__in=["", account.account_type])
            | Q(is_floor=True)
        ).select_related("calendar")
    )  # fmt: skip
    best = sorted(
        (p for p in rows if not p.is_floor),
        key=lambda p: (bool(p.tier) + bool(p.account_type), p.pk),
        reverse=True,
    )
    if best:
        return best[0]
    floor = next((p for p in rows if p.is_floor), None)
    if floor is None:
        raise ApplicationError(
            _("No floor SLA policy is defined."), extra={"code": "no_floor_policy"}
        )
    return floor


def calendar_for(account: Account, policy: SlaPolicy) -> BusinessCalendar:
    """The account's own calendar, else the policy's, else the default one. One read: the
    account's calendar and the default come together (at most two rows: an account has one
    calendar of its own and there is one default)."""
    own = AccountCalendar.objects.filter(account=account, calendar=OuterRef("pk"))
    rows = list(
        BusinessCalendar.objects.annotate(own=Exists(own)).filter(Q(own=True) | Q(is_default=True))
    )
    mine = next((c for c in rows if c.own), None)
    if mine is not None:
        return mine
    if policy.calendar_id:
        return policy.calendar
    default = next((c for c in rows if c.is_default), None)
    if default is None:
        raise ApplicationError(
            _("No default business calendar is defined."), extra={"code": "no_calendar"}
        )
    return default


_CALENDARS: dict[int, tuple[tuple, float, calc.WorkingCalendar]] = {}
CALENDAR_CACHE_SECONDS = 60


def working_calendar(calendar: BusinessCalendar) -> calc.WorkingCalendar:
    """The pure calendar, cached per process until the calendar or its days change (one small
    aggregate query instead of loading every holiday for each ticket)."""
    from django.db.models import Count, Max

    stamp = calendar.days.aggregate(n=Count("id"), last=Max("id"))
    key = (stamp["n"], stamp["last"], calendar.time_zone, str(calendar.weekly_hours),
           calendar.covered_from, calendar.covered_to)  # fmt: skip
    import time

    cached = _CALENDARS.get(calendar.pk)
    if cached is None or cached[0] != key or time.monotonic() - cached[1] > CALENDAR_CACHE_SECONDS:
        # the stamp catches added and removed days; the age limit catches days edited in place
        cached = (key, time.monotonic(), calendar.working_calendar())
        _CALENDARS[calendar.pk] = cached
    return cached[2]


def _pauses(ticket: Ticket) -> list[calc.Pause]:
    if ticket.pk is None:
        return []
    return [(p.started_at, p.ended_at) for p in ticket.pauses.all()]


def ticket_sla_recompute(
    *, ticket: Ticket, now: dt.datetime | None = None, actor: User | None = None
) -> Ticket:
    """Due times and states from the policy, the calendar and the pauses. A target missed
    once stays missed; a state change to at risk or breached writes an event."""
    now = now or timezone.now()
    policy = ticket.sla_policy or sla_policy_for(ticket.account)
    ticket.sla_policy = policy
    target = SlaTarget.objects.filter(policy=policy, priority=ticket.priority).first()
    if target is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        ticket.sla_warning = _("The SLA policy has no target for this priority.")
        return ticket
    calendar = working_calendar(calendar_for(ticket.account, policy))
    pauses = _pauses(ticket)
    response_due = calc.add_working_time(calendar, ticket.opened_at, target.first_response)
    resolution_due = calc.add_working_time(calendar, ticket.opened_at, target.resolution, pauses)
    ticket.first_response_due_at = response_due
    ticket.resolution_due_at = resolution_due
    horizon = resolution_due or now
    uncovered = calc.uncovered_days(calendar, ticket.opened_at, max(horizon, now))
    ticket.sla_warning = (
        _("Holidays of %(year)d are not in the calendar; the due time assumes ordinary weeks.")
        % {"year": uncovered[0].year}
        if uncovered else ""
    )  # fmt: skip
    ratio = float(policy.at_risk_ratio)
    response = calc.sla_status(now=now, started=ticket.opened_at, due=response_due, done=ticket.first_responded_at,
                               calendar=calendar, target=target.first_response, at_risk_ratio=ratio)  # fmt: skip
    resolution = calc.sla_status(now=now, started=ticket.opened_at, due=resolution_due, done=ticket.resolved_at,
                                 calendar=calendar, target=target.resolution, pauses=pauses, at_risk_ratio=ratio)  # fmt: skip
    for field, new in (("response_sla", response), ("resolution_sla", resolution)):
        old = getattr(ticket, field)
        if old == SlaState.BREACHED and new != SlaState.BREACHED:
            continue  # a miss is never undone
        if new != old and new in (SlaState.AT_RISK, SlaState.BREACHED) and ticket.pk:
            _event(ticket, TicketEventKind.SLA_AT_RISK if new == SlaState.AT_RISK else TicketEventKind.SLA_BREACHED,
                   actor, target=field.removesuffix("_sla"))  # fmt: skip
        setattr(ticket, field, new)
    return ticket


def contract_for(account: Account, equipment: Equipment | None, on: dt.date):
    """The service contract that covers this work: one naming the equipment, else an
    account-wide one (no equipment listed), active on the day."""
    from .models import ServiceContract

    active = ServiceContract.objects.filter(account=account, starts_on__lte=on, ends_on__gte=on)
    if equipment is not None:
        covering = active.filter(equipment=equipment).order_by("-ends_on").first()
        if covering is not None:
            return covering
    return active.filter(equipment__isnull=True).order_by("-ends_on").first()


def coverage_for(equipment: Equipment | None, on: dt.date, contract=None) -> str:
    """Warranty first, then a service contract, else billable (shown on the ticket)."""
    if equipment is not None and equipment.warranty_end and equipment.warranty_end >= on:
        return Coverage.WARRANTY
    if contract is not None or (equipment is not None and equipment.contract_ref):
        return Coverage.CONTRACT
    if equipment is None:
        return Coverage.UNKNOWN
    return Coverage.BILLABLE


# --- tickets --------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    actor: User | None,
    account: Account,
    subject: str,
    opened_at: dt.datetime | None = None,
    **fields: Any,
) -> Ticket:
    if actor is not None:
        require_permission(actor=actor, action="view", obj=account)
        require_permission(actor=actor, action="add", model=Ticket)
    unknown = set(fields) - TICKET_EDITABLE_FIELDS - {"assignee"}
    if unknown:
        raise ValueError(f"Unknown ticket fields: {sorted(unknown)}")
    now = timezone.now()
    ticket = Ticket(
        account=account, subject=subject, opened_at=opened_at or now, created_by=actor, **fields
    )
    _validate_links(ticket)
    ticket.number = "pending"
    ticket.full_clean(exclude=["number", *_loaded_relations(ticket)])
    ticket.number = _next_number(ticket.opened_at)
    opened_on = timezone.localtime(ticket.opened_at).date()
    if ticket.team_id is None:
        ticket.team = team_for_account(account)
    ticket.contract = contract_for(account, ticket.equipment, opened_on)
    ticket.coverage = coverage_for(ticket.equipment, opened_on, ticket.contract)
    if ticket.contract is not None and ticket.contract.sla_policy_id:
        ticket.sla_policy = ticket.contract.sla_policy  # the contract's SLA overrides the tier's
    if ticket.assignee_id:
        ticket.status = TicketStatus.ASSIGNED
    # the state as of opening; the sweep brings a back-dated ticket up to now
    ticket_sla_recompute(ticket=ticket, now=min(now, ticket.opened_at))
    ticket.save()
    _event(ticket, TicketEventKind.CREATED, actor, channel=ticket.channel, priority=ticket.priority)
    if ticket.assignee_id:
        _event(
            ticket,
            TicketEventKind.ASSIGNED,
            actor,
            assignee=ticket.assignee_id,
            name=str(ticket.assignee),
        )
    account_figures_changed(account_ids=[ticket.account_id])  # the account's ticket count
    return ticket


def _loaded_relations(ticket: Ticket) -> list[str]:
    """The ticket's foreign keys set to rows just read from the database (the account and
    contact the caller looked up, the acting user): `full_clean` would ask the database
    once more whether each exists. The insert's foreign key constraints still refuse a row
    deleted in between; the ticket has no other check on these fields (no constraint, no
    `limit_choices_to`)."""
    names = []
    for field in ticket._meta.concrete_fields:
        if field.many_to_one and field.is_cached(ticket):
            related = field.get_cached_value(ticket)
            if related is not None and related.pk is not None and not related._state.adding:
                names.append(field.name)
    return names


def _validate_links(ticket: Ticket) -> None:
    errors = {}
    if (
        ticket.contact_id
        and ticket.contact.account_id != ticket.account_id
        and not ticket.contact.memberships.filter(account_id=ticket.account_id).exists()
    ):
        errors["contact"] = _("This person is not a contact of the account.")
    if ticket.equipment_id and ticket.equipment.account_id != ticket.account_id:
        errors["equipment"] = _("This equipment is not at the account.")
    if errors:
        raise ValidationError(errors)


def _locked(ticket: Ticket) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",)).select_related("account").get(pk=ticket.pk)
    )


@transaction.atomic
def ticket_transition(
    *,
    actor: User | None,
    ticket: Ticket,
    status: str,
    expected_version: int | None = None,
    resolution: str | None = None,
    root_cause: str | None = None,
    at: dt.datetime | None = None,
) -> Ticket:
    ticket = _locked(ticket)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=ticket)
    check_version(instance=ticket, expected=expected_version)
    current = ticket.status
    check_transition(current, status)
    now = at or timezone.now()
    invite = False
    if status == TicketStatus.RESOLVED:
        if resolution is not None:
            ticket.resolution = resolution
        if root_cause is not None:
            ticket.root_cause = root_cause
        if not ticket.resolution.strip():
            raise ValidationError(
                {"resolution": _("Describe the resolution before resolving the ticket.")}
            )
        ticket.resolved_at = now
        invite = True
    if status == TicketStatus.CLOSED:
        ticket.closed_at = now
    if is_reopen(current, status):
        ticket.resolved_at = ticket.closed_at = None
    if current == TicketStatus.WAITING_ON_CUSTOMER:
        TicketPause.objects.filter(ticket=ticket, ended_at__isnull=True).update(ended_at=now)
        ticket.paused_since = None
        _event(ticket, TicketEventKind.SLA_RESUMED, actor, at=now)
    if status == TicketStatus.WAITING_ON_CUSTOMER:
        TicketPause.objects.create(ticket=ticket, started_at=now)
        ticket.paused_since = now
        _event(ticket, TicketEventKind.SLA_PAUSED, actor, at=now)
    ticket.status = status
    _event(ticket, TicketEventKind.STATUS, actor, at=now, **{"from": current, "to": status})
    ticket_sla_recompute(ticket=ticket, now=now, actor=actor)
    ticket.version += 1
    ticket.save()
    if invite:
        from .ratings import rating_invite

        rating_invite(ticket=ticket, now=now)
    return ticket


class AssignmentRule:
    SERVICE_LEAD = "service_lead"
    TEAM_SKILL = "team_skill"
    TEAM = "team"
    ACCOUNT_TEAM = "account_team"


def ticket_assignee_suggest(ticket: Ticket) -> tuple[User | None, str]:
    """The assignment rules, in order, with the rule that decided:
    1. the service lead of the account (or of the nearest group above it);
    2. the ticket's service team (by default the team of the account's region): the
       least-loaded engineer whose skills match the equipment's product category or the ticket
       type, else the least-loaded engineer of the team;
    3. the least-loaded engineer of the account's own team;
    else nobody (the service manager dispatches by hand). Load = open tickets assigned."""
    from django.db.models import Count, Q

    from keycare.accounts.choices import AccountTeamRole
    from keycare.accounts.models import AccountTeamMember

    chain = [int(x) for x in ticket.account.path.strip("/").split("/") if x][::-1] or [
        ticket.account_id
    ]
    leads = AccountTeamMember.objects.filter(
        account_id__in=chain, role=AccountTeamRole.SERVICE_LEAD, user__is_active=True
    ).values_list("account_id", "user_id")
    by_account = dict(leads)
    for account_id in chain:
        if account_id in by_account:
            return User.objects.get(pk=by_account[account_id]), AssignmentRule.SERVICE_LEAD
    engineers = User.objects.filter(is_active=True, groups__name="service_engineer").annotate(
        load=Count(
            "assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES), distinct=True
        )
    )
    team = ticket.team or team_for_account(ticket.account)
    if team is not None:
        members = list(ServiceTeamMember.objects.filter(team=team).values_list("user_id", "skills"))
        wanted = {ticket.ticket_type.casefold()}
        if (
            ticket.equipment_id
            and ticket.equipment.product_id
            and ticket.equipment.product.category
        ):
            wanted.add(ticket.equipment.product.category.casefold())
        skilled = [uid for uid, skills in members if wanted & {k.casefold() for k in skills}]
        for ids, rule in ((skilled, AssignmentRule.TEAM_SKILL),
                          ([uid for uid, _skills in members], AssignmentRule.TEAM)):  # fmt: skip
            best = engineers.filter(pk__in=ids).order_by("load", "username").first()
            if best is not None:
                return best, rule
    best = (
        engineers.filter(account_memberships__account_id=ticket.account_id)
        .order_by("load", "username")
        .first()
    )
    return best, AssignmentRule.ACCOUNT_TEAM


@transaction.atomic
def ticket_auto_assign(*, actor: User | None, ticket: Ticket) -> Ticket:
    """Assign by the rules when nobody has the ticket yet."""
    if ticket.assignee_id:
        return ticket
    assignee, rule = ticket_assignee_suggest(ticket)
    if assignee is None:
        return ticket
    return ticket_assign(actor=actor, ticket=ticket, assignee=assignee, rule=rule)


@transaction.atomic
def ticket_assign(
    *,
    actor: User | None,
    ticket: Ticket,
    assignee: User | None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    rule: str = "",
) -> Ticket:
    ticket = _locked(ticket)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=ticket)
    check_version(instance=ticket, expected=expected_version)
    if assignee is not None and not assignee.has_role(
        "service_engineer", "service_manager", "administrator"
    ):
        raise ValidationError(
            {"assignee": _("Tickets are assigned to service engineers or managers.")}
        )
    ticket.assignee = assignee
    if assignee is not None and ticket.team_id is None:
        ticket.team = assignee.service_teams.filter(is_active=True).order_by("name").first()
    if assignee is not None and ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.ASSIGNED
    elif assignee is None and ticket.status == TicketStatus.ASSIGNED:
        ticket.status = TicketStatus.NEW
    extra = {"rule": rule} if rule else {}
    _event(ticket, TicketEventKind.ASSIGNED, actor, at=at, assignee=assignee.pk if assignee else None,
           name=str(assignee) if assignee else "", **extra)  # fmt: skip
    ticket.version += 1
    ticket.save()
    return ticket


@transaction.atomic
def ticket_claim(*, actor: User, ticket: Ticket) -> Ticket:
    """Take an unassigned ticket. Of two people claiming at once exactly one wins: the row
    lock serialises them and the second finds it taken."""
    locked = _locked(ticket)
    if locked.assignee_id and locked.assignee_id != actor.pk:
        raise ConflictError(
            _("%(name)s has already taken this ticket.") % {"name": locked.assignee},
            extra={"code": "already_assigned", "assignee": locked.assignee_id},
        )
    if locked.assignee_id == actor.pk:
        return locked
    return ticket_assign(actor=actor, ticket=locked, assignee=actor)


@transaction.atomic
def ticket_update(
    *, actor: User | None, ticket: Ticket, data: dict[str, Any], expected_version: int | None = None
) -> Ticket:
    ticket = _locked(ticket)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=ticket)
    check_version(instance=ticket, expected=expected_version)
    unknown = set(data) - TICKET_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Unknown ticket fields: {sorted(unknown)}")
    old_priority = ticket.priority
    changed = [f for f, v in data.items() if getattr(ticket, f) != v]
    for field in changed:
        setattr(ticket, field, data[field])
    if not changed:
        return ticket
    _validate_links(ticket)
    ticket.full_clean()
    if "priority" in changed:
        _event(
            ticket, TicketEventKind.PRIORITY, actor, **{"from": old_priority, "to": ticket.priority}
        )
        ticket_sla_recompute(ticket=ticket, actor=actor)
    others = [f for f in changed if f != "priority"]
    if others:
        _event(ticket, TicketEventKind.EDITED, actor, fields=others)
    ticket.version += 1
    ticket.save()
    return ticket


@transaction.atomic
def ticket_comment(
    *, actor: User, ticket: Ticket, body: str, is_public: bool = True, at: dt.datetime | None = None
) -> TicketComment:
    """A reply to the customer (public) or an internal note. The first public reply by our
    staff is the first response of the SLA."""
    from keycare.users.choices import STAFF_ROLES

    ticket = _locked(ticket)
    require_permission(actor=actor, action="view", obj=ticket)
    is_staff = actor.has_role(*STAFF_ROLES)
    if not is_staff:
        is_public = True  # customers cannot write internal notes
    if not body.strip():
        raise ValidationError({"body": _("Write a message.")})
    comment = TicketComment.objects.create(
        ticket=ticket,
        author=actor,
        body=body.strip(),
        is_public=is_public,
        created_at=at or timezone.now(),
    )
    _event(
        ticket,
        TicketEventKind.COMMENT if is_public else TicketEventKind.NOTE,
        actor,
        at=comment.created_at,
        comment=comment.pk,
    )
    if is_staff and is_public and ticket.first_responded_at is None:
        ticket.first_responded_at = comment.created_at
        ticket_sla_recompute(ticket=ticket, actor=actor, now=comment.created_at)
        ticket.save(update_fields=["first_responded_at", "response_sla", "resolution_sla",
                                   "first_response_due_at", "resolution_due_at", "sla_warning", "sla_policy"])  # fmt: skip
    return comment


def ticket_sla_sweep(*, now: dt.datetime | None = None) -> int:
    """Refresh the SLA state of open tickets whose targets are near or past (the minute tick).
    Returns how many tickets changed state."""
    from .escalation import alerts_for  # escalation imports this module

    now = now or timezone.now()
    changed = 0
    # breached tickets stay candidates: the escalation ladder has later levels
    candidates = Ticket.objects.filter(
        status__in=[s for s in TicketStatus.values if s not in ("resolved", "closed")]
    ).select_related("account", "sla_policy")
    for ticket in candidates.iterator(chunk_size=500):
        with transaction.atomic():
            locked = (
                Ticket.objects.select_for_update(of=("self",))
                .select_related("account", "sla_policy")
                .get(pk=ticket.pk)
            )
            before = (locked.response_sla, locked.resolution_sla)
            ticket_sla_recompute(ticket=locked, now=now)
            if (locked.response_sla, locked.resolution_sla) != before:
                locked.save(update_fields=["response_sla", "resolution_sla", "sla_warning"])
                changed += 1
            alerts_for(locked, now)
    return changed
