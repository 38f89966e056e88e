"""The service link: when a key person of the ticket's account (`coverage.is_key_person`,
by their role at that account — their main account's, or their membership's — the same
definition as the coverage report and the reminders) files a ticket, or is the contact of a P1 ticket or of a ticket whose SLA is
breached, the account team (owner, key account managers, executive sponsor, service lead)
is told — once per ticket and reason — with the person's decision style and how to deal
with it (the style guidance), and a link to the ticket.

Only tickets opened or changed recently are read: those opened, or with a timeline event
(created, priority changed, edited, SLA breached), since the last check — two indexed range
reads, bounded by `WINDOW` — never all tickets.

One reason per ticket and check, the gravest that holds: breached, else P1, else filed (a
new ticket only), so a P1 filed by a decision maker is one reminder, not two; a ticket
that later breaches its SLA brings a second."""

import datetime as dt

from django.db.models import Case, F, OuterRef, Subquery, When
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.models import ContactAccount
from keycare.service.choices import OPEN_STATUSES, Priority, SlaState, TicketEventKind
from keycare.service.models import Ticket, TicketEvent

from .choices import ReminderKind
from .coverage import is_key_person
from .reminders import ReminderSpec, link_to, reminders_record

#: How far back a check looks at most (and the first one).
WINDOW = dt.timedelta(days=2)
#: Overlap with the previous check, so a ticket changed while it ran is not missed.
OVERLAP = dt.timedelta(minutes=10)
#: The events that may make a ticket a key person's concern.
EVENT_KINDS = (
    TicketEventKind.CREATED,
    TicketEventKind.PRIORITY,
    TicketEventKind.EDITED,
    TicketEventKind.SLA_BREACHED,
)
TEAM_ROLES = (
    AccountTeamRole.KEY_ACCOUNT_MANAGER,
    AccountTeamRole.EXECUTIVE_SPONSOR,
    AccountTeamRole.SERVICE_LEAD,
)


def ticket_reason(
    *, priority: str, response_sla: str, resolution_sla: str, status: str, is_new: bool
) -> str | None:
    """The gravest reason a key person's ticket is the team's concern now, if any."""
    if SlaState.BREACHED in (response_sla, resolution_sla):
        return "breached"
    if priority == Priority.P1 and status in OPEN_STATUSES:
        return "p1"
    if is_new:
        return "filed"
    return None


def key_person_tickets_check(
    *, since: dt.datetime | None = None, now: dt.datetime | None = None, deliver: bool = True
) -> int:
    """Record (and deliver after commit) the reminders of key persons' tickets opened or
    changed since `since` (less OVERLAP; at most WINDOW back). Returns how many were
    recorded. Two indexed reads when nothing happened; a fixed number otherwise."""
    now = now or timezone.now()
    earliest = now - WINDOW
    since = max(since - OVERLAP, earliest) if since else earliest
    opened = set(Ticket.objects.filter(opened_at__gte=since).values_list("pk", flat=True))
    changed = set(
        TicketEvent.objects.filter(at__gte=since, kind__in=EVENT_KINDS).values_list(
            "ticket_id", flat=True
        )
    )
    ids = sorted(opened | changed)
    if not ids:
        return 0
    membership_role = ContactAccount.objects.filter(
        contact_id=OuterRef("contact_id"), account_id=OuterRef("account_id")
    ).values("buying_role")[:1]
    rows = (
        Ticket.objects.filter(pk__in=ids, contact__isnull=False, contact__is_active=True)
        .annotate(role_there=Case(  # the contact's role at the ticket's account
            When(contact__account_id=F("account_id"), then=F("contact__buying_role")),
            default=Subquery(membership_role),
        ))
        .values_list(
            "pk", "number", "subject", "priority", "status", "response_sla", "resolution_sla",
            "opened_at", "account_id", "account__owner_id", "contact_id",
            "contact__decision_style", "role_there", "contact__influence",
        )
    )  # fmt: skip
    specs = []
    for (pk, number, subject, priority, status, response, resolution, opened_at, account_id,
         owner_id, contact_id, style, role, influence) in rows:  # fmt: skip
        if not is_key_person(role=role, influence=influence):
            continue
        reason = ticket_reason(
            priority=priority, response_sla=response, resolution_sla=resolution, status=status,
            is_new=opened_at >= earliest,
        )  # fmt: skip
        if reason is None:
            continue
        specs.append(ReminderSpec(
            kind=ReminderKind.KEY_PERSON_TICKET, key=f"ticket:{pk}:{reason}",
            account_id=account_id, contact_id=contact_id,
            params={"ticket": pk, "number": number, "subject": subject[:200],
                    "priority": priority, "reason": reason, "style": style, "role": role},
            link=link_to("web:ticket_detail", pk, fallback=f"/service/{pk}/"),
            owner_id=owner_id, to_owner=True, team_roles=TEAM_ROLES,
        ))  # fmt: skip
    return len(reminders_record(specs=specs, now=now, deliver=deliver))
