"""Business events (商务活动): customer meetings, seminars, sports and social events and VIP
club events, with their invitations, registrations, attendance and cost.

- An event is planned, then held (with its actual cost) or cancelled. It is created by
  administrators, executives, key account managers and service managers, and changed by
  its organiser, administrators and executives (engagement.scopes).
- People are invited in a batch, all or nothing: each for their main account unless
  another of theirs is chosen — the account that bears their share of the cost. Those who
  may change the invitation (the organiser, administrators, executives, or whoever may
  change the invitee's account) record the answer (registered or declined; the places
  are checked against the registrations) and, once the event has started, who came.
- A VIP club event (one with `vip_level`) is for active members of that level or higher.
- The cost of a held event is shared among those who came (engagement.costs), and their
  attendance counts as engagement (engagement.touches).
Every change writes the engagement log in the same transaction; the event row is locked
before the invitations are counted or changed, so two answers at once cannot overbook."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.core.figures import account_figures_changed
from keycare.core.scoping import restrict, scope_filter, user_can, user_can_any
from keycare.core.services import check_version
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User

from ..choices import EventKind, EventStatus, InvitationStatus
from ..log import log_event
from ..models import BusinessEvent, EventInvitation
from ..selectors.vip import contact_accounts, vip_eligible_contact_ids

EVENT_FIELDS = ("name", "kind", "starts_at", "ends_at", "location", "description", "capacity",
                "budget", "cost", "vip_level", "organiser")  # fmt: skip
#: How many people one batch may invite.
MAX_INVITES = 500
#: The invitations that hold a place.
TAKING_PLACES = (InvitationStatus.REGISTERED, InvitationStatus.ATTENDED)
ANSWERS = (InvitationStatus.REGISTERED, InvitationStatus.DECLINED)
ATTENDANCE = (InvitationStatus.ATTENDED, InvitationStatus.NO_SHOW)


@dataclass(frozen=True)
class Invitee:
    """Someone to invite, for `account` (None: their main account)."""

    contact: Contact
    account: Account | None = None


@dataclass(frozen=True)
class Attendance:
    """Whether the person of one invitation came (`status`: attended or no_show), at the
    invitation's version the user saw (None: not checked)."""

    invitation_id: int
    status: str
    version: int | None = None


def _denied() -> PermissionDeniedError:
    return PermissionDeniedError(
        _("You do not have permission to do this."), extra={"code": "permission_denied"}
    )


def _names(contacts) -> str:
    return ", ".join(sorted({c.name for c in contacts}))


def _plain(value: Any) -> Any:
    return getattr(value, "pk", value)


def _money(value: Any, field: str, errors: dict, *, required: bool = False) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors[field] = [_("This field is required.")]
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return None
    if not number.is_finite() or number < 0:
        errors[field] = [_("Enter an amount of 0 or more.")]
        return None
    if number > Decimal("9999999999.99"):
        errors[field] = [_("Enter an amount below 10,000,000,000.")]
        return None
    return number.quantize(Decimal("0.01"))


# --- the event -----------------------------------------------------------------------------


def _validate(event: BusinessEvent) -> None:
    errors: dict[str, list[str]] = {}
    if not (event.name or "").strip():
        errors["name"] = [_("Give the event a name.")]
    for field in ("starts_at", "ends_at"):
        value = getattr(event, field)
        if value is None:
            errors[field] = [_("This field is required.")]
        elif timezone.is_naive(value):
            errors[field] = [_("Give the time with its time zone.")]
    if "starts_at" not in errors and "ends_at" not in errors and event.ends_at < event.starts_at:
        errors["ends_at"] = [_("An event cannot end before it starts.")]
    for field in ("budget", "cost"):
        value = getattr(event, field)
        if value is not None and Decimal(value) < 0:
            errors[field] = [_("Enter an amount of 0 or more.")]
    if event.cost is None:
        event.cost = Decimal("0")
    if event.capacity is not None and event.capacity < 1:
        errors["capacity"] = [_("Give at least one place, or leave it empty for no limit.")]
    organiser = event.organiser if event.organiser_id else None
    if organiser is None or not organiser.is_active or not organiser.has_role(*STAFF_ROLES):
        errors["organiser"] = [_("The organiser is one of our own active staff.")]
    if event.kind == EventKind.VIP_CLUB and event.vip_level_id is None:
        errors["vip_level"] = [_("A VIP club event is for members of a level: choose it.")]
    elif event.kind != EventKind.VIP_CLUB and event.vip_level_id is not None:
        errors["vip_level"] = [_("Only a VIP club event is for members of a level.")]
    if (event.status == EventStatus.HELD and event.starts_at is not None
            and event.starts_at > timezone.now()):  # fmt: skip
        errors["starts_at"] = [_("A held event has started: its start cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    event.full_clean(exclude=["organiser", "created_by"])


#: The commercial figures of an event: set and seen only by who may see costs.
MONEY_FIELDS = ("budget", "cost")


def _require_costs(actor: User, data: Mapping[str, Any], *, creating: bool = False) -> None:
    """Budget and cost are commercial figures (keycare.accounts.scopes.may_see_costs):
    who may not see them may not set them either."""
    if may_see_costs(actor):
        return
    named = [f for f in MONEY_FIELDS if f in data]
    if creating:  # an empty budget or cost is no figure
        named = [f for f in named if data[f] not in (None, "", 0, Decimal("0"))]
    if named:
        raise PermissionDeniedError(
            _("You may not see or set an event's budget and cost."), extra={"code": "costs_hidden"}
        )


@transaction.atomic
def event_create(*, actor: User, data: Mapping[str, Any]) -> BusinessEvent:
    """Plan an event; the organiser is the actor unless another colleague is named."""
    if not user_can_any(actor, "add", BusinessEvent):
        raise _denied()
    _require_costs(actor, data, creating=True)
    unknown = set(data) - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"unknown event fields {sorted(unknown)}")
    values = {k: v for k, v in data.items() if v is not None or k in ("capacity", "budget")}
    values.setdefault("organiser", actor)
    event = BusinessEvent(**values, created_by=actor, status=EventStatus.PLANNED)
    _validate(event)
    event.save()
    log_event(obj=event, action="event_created", actor=actor, name=event.name,
              starts_at=event.starts_at, vip_level=event.vip_level_id)  # fmt: skip
    return event


def _locked_event(event: BusinessEvent) -> BusinessEvent:
    return (
        BusinessEvent.objects.select_for_update(of=("self",))
        .select_related("organiser", "vip_level")
        .get(pk=event.pk)
    )


def _require_change(actor: User, event: BusinessEvent) -> None:
    if not user_can(actor, "change", event):
        raise _denied()


def _places_taken(event: BusinessEvent) -> int:
    return event.invitations.filter(status__in=TAKING_PLACES).count()


def _attending_accounts(event: BusinessEvent) -> list[int]:
    return list(
        event.invitations.filter(status=InvitationStatus.ATTENDED)
        .values_list("account_id", flat=True)
        .distinct()
    )


@transaction.atomic
def event_update(
    *, actor: User, event: BusinessEvent, data: Mapping[str, Any], expected_version: int | None
) -> BusinessEvent:
    """Change an event (not a cancelled one). The places cannot drop below the
    registrations, and a member event's level cannot change once people are invited."""
    unknown = set(data) - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"unknown event fields {sorted(unknown)}")
    event = _locked_event(event)
    _require_change(actor, event)
    _require_costs(actor, data)
    check_version(instance=event, expected=expected_version)
    if event.status == EventStatus.CANCELLED:
        raise ApplicationError(
            _("A cancelled event cannot be changed."), extra={"code": "event_cancelled"}
        )
    changes = {}
    for field in EVENT_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field == "cost" and value is None:
            value = Decimal("0")
        if _plain(getattr(event, field)) != _plain(value):
            changes[field] = [_plain(getattr(event, field)), _plain(value)]
            setattr(event, field, value)
    if not changes:
        return event
    errors = {}
    if "capacity" in changes and event.capacity is not None:
        taken = _places_taken(event)
        if event.capacity < taken:
            errors["capacity"] = [
                _("%(taken)s people have registered: give at least as many places.")
                % {"taken": taken}
            ]
    if "vip_level" in changes and event.invitations.exists():
        errors["vip_level"] = [_("People are invited already: the level cannot change.")]
    if errors:
        raise ValidationError(errors)
    _validate(event)
    event.version += 1
    event.save()
    log_event(obj=event, action="event_updated", actor=actor, changes=changes)
    if event.status == EventStatus.HELD and ({"cost", "starts_at"} & set(changes)):
        account_figures_changed(account_ids=_attending_accounts(event))
    return event


@transaction.atomic
def event_hold(
    *, actor: User, event: BusinessEvent, cost: Any, expected_version: int | None
) -> BusinessEvent:
    """Mark an event held, with its actual cost, once it has started."""
    event = _locked_event(event)
    _require_change(actor, event)
    _require_costs(actor, {"cost": cost})
    check_version(instance=event, expected=expected_version)
    if event.status != EventStatus.PLANNED:
        raise ApplicationError(
            _("Only a planned event can be marked held (this one is %(status)s).")
            % {"status": event.get_status_display()},
            extra={"code": "not_planned", "status": event.status},
        )
    errors: dict[str, list[str]] = {}
    amount = _money(cost, "cost", errors, required=True)
    if event.starts_at > timezone.now():
        errors["starts_at"] = [_("The event has not started yet.")]
    if errors:
        raise ValidationError(errors)
    event.status, event.cost = EventStatus.HELD, amount
    event.version += 1
    event.save(update_fields=["status", "cost", "version", "updated_at"])
    log_event(obj=event, action="event_held", actor=actor, cost=amount,
              attended=event.invitations.filter(status=InvitationStatus.ATTENDED).count())  # fmt: skip
    account_figures_changed(account_ids=_attending_accounts(event))
    return event


@transaction.atomic
def event_cancel(
    *, actor: User, event: BusinessEvent, expected_version: int | None, reason: str = ""
) -> BusinessEvent:
    """Cancel a planned event (its invitations stay, for the record)."""
    event = _locked_event(event)
    _require_change(actor, event)
    check_version(instance=event, expected=expected_version)
    if event.status != EventStatus.PLANNED:
        raise ApplicationError(
            _("Only a planned event can be cancelled (this one is %(status)s).")
            % {"status": event.get_status_display()},
            extra={"code": "not_planned", "status": event.status},
        )
    event.status = EventStatus.CANCELLED
    event.version += 1
    event.save(update_fields=["status", "version", "updated_at"])
    log_event(obj=event, action="event_cancelled", actor=actor, reason=(reason or "").strip())
    return event


# --- invitations ---------------------------------------------------------------------------


def event_may_invite(actor: User | None, event: BusinessEvent) -> bool:
    """Whether the actor may invite anyone to this event (some people, for a key account
    manager who is not its organiser: those of the accounts they may change)."""
    if event.status != EventStatus.PLANNED:
        return False
    verdict = scope_filter(EventInvitation, actor, "add")
    if isinstance(verdict, bool):
        return verdict
    return event.organiser_id == actor.pk or scope_filter(Account, actor, "change") is not False


def _may_invite_for(actor: User, event: BusinessEvent) -> set[int] | None:
    """None: any account; else the accounts the actor may invite people for."""
    verdict = scope_filter(EventInvitation, actor, "add")
    if verdict is True or (verdict is not False and event.organiser_id == actor.pk):
        return None
    accounts = set()
    if verdict is not False:
        accounts = set(
            restrict(Account.objects.all(), actor, "change").values_list("pk", flat=True)
        )
    if not accounts:
        raise _denied()
    return accounts


@transaction.atomic
def event_invite(
    *, actor: User, event: BusinessEvent, invitees: Sequence[Invitee], notes: str = ""
) -> list[EventInvitation]:
    """Invite people, all or nothing: if anyone cannot be invited, nobody is, and the
    error names who and why."""
    event = _locked_event(event)
    if event.status != EventStatus.PLANNED:
        raise ApplicationError(
            _("People are invited to a planned event only (this one is %(status)s).")
            % {"status": event.get_status_display()},
            extra={"code": "not_planned", "status": event.status},
        )
    allowed = _may_invite_for(actor, event)
    if not invitees:
        raise ValidationError({"invitations": [_("Choose the people to invite.")]})
    if len(invitees) > MAX_INVITES:
        raise ValidationError(
            {"invitations": [_("Invite at most %(n)s people at once.") % {"n": MAX_INVITES}]}
        )
    visible = set(
        restrict(Contact.objects.all(), actor, "view")
        .filter(pk__in=[i.contact.pk for i in invitees])
        .values_list("pk", flat=True)
    )
    already = set(
        event.invitations.filter(contact__in=[i.contact.pk for i in invitees]).values_list(
            "contact_id", flat=True
        )
    )
    eligible = None
    if event.vip_level_id is not None:
        eligible = vip_eligible_contact_ids(
            contact_ids=[i.contact.pk for i in invitees], level=event.vip_level
        )
    problems: dict[str, list[Contact]] = {k: [] for k in (
        "unknown", "twice", "invited", "left", "account", "not_yours", "not_member")}  # fmt: skip
    seen: set[int] = set()
    chosen: list[tuple[Contact, Account]] = []
    for invitee in invitees:
        contact = invitee.contact
        if contact.pk not in visible:
            problems["unknown"].append(contact)
            continue
        if contact.pk in seen:
            problems["twice"].append(contact)
            continue
        seen.add(contact.pk)
        if contact.pk in already:
            problems["invited"].append(contact)
        if not contact.is_active:
            problems["left"].append(contact)
        account = invitee.account
        if account is None:
            account = contact.account
        elif (
            account.pk != contact.account_id
            and not contact_accounts(contact).filter(pk=account.pk).exists()
        ):
            problems["account"].append(contact)
            continue
        if allowed is not None and account.pk not in allowed:
            problems["not_yours"].append(contact)
        if eligible is not None and contact.pk not in eligible:
            problems["not_member"].append(contact)
        chosen.append((contact, account))
    texts = {
        # never the names of people the actor does not see: only how many
        "unknown": _("Not found among the people you see: %(n)s of those chosen."),
        "twice": _("Chosen twice: %(names)s."),
        "invited": _("Already invited: %(names)s."),
        "left": _("Has left the company: %(names)s."),
        "account": _("The account chosen is not one of theirs: %(names)s."),
        "not_yours": _("You may invite only the people of the accounts you look after, or "
                       "of any account to an event you organise: %(names)s."),
        "not_member": _("Not active VIP club members of level %(level)s or higher: %(names)s."),
    }  # fmt: skip
    level = event.vip_level.name_text if event.vip_level_id else ""
    messages = [
        texts[key] % {"names": _names(contacts), "level": level, "n": len(contacts)}
        for key, contacts in problems.items()
        if contacts
    ]
    if messages:
        raise ValidationError({"invitations": messages})
    created = []
    now = timezone.now()
    for contact, account in chosen:
        invitation = EventInvitation.objects.create(
            event=event, contact=contact, account=account, invited_by=actor, invited_at=now,
            notes=(notes or "").strip()[:300],
        )  # fmt: skip
        log_event(obj=invitation, action="invitation_created", actor=actor, event=event.pk,
                  contact=contact.pk)  # fmt: skip
        created.append(invitation)
    return created


def _locked_invitation(invitation: EventInvitation) -> tuple[BusinessEvent, EventInvitation]:
    event = _locked_event(invitation.event)
    invitation = (
        EventInvitation.objects.select_for_update(of=("self",))
        .select_related("contact", "account")
        .get(pk=invitation.pk)
    )
    return event, invitation


@transaction.atomic
def invitation_respond(
    *, actor: User, invitation: EventInvitation, status: str,
    expected_version: int | None = None, notes: str | None = None,
) -> EventInvitation:  # fmt: skip
    """Record the answer: registered or declined. A registration needs a free place."""
    if status not in ANSWERS:
        raise ValidationError({"status": [_("Answer registered or declined.")]})
    event, invitation = _locked_invitation(invitation)
    if not user_can(actor, "change", invitation):
        raise _denied()
    check_version(instance=invitation, expected=expected_version)
    if event.status != EventStatus.PLANNED:
        raise ApplicationError(
            _("Answers are recorded for a planned event only (this one is %(status)s).")
            % {"status": event.get_status_display()},
            extra={"code": "not_planned", "status": event.status},
        )
    if invitation.status in ATTENDANCE:
        raise ApplicationError(
            _("Whether %(name)s came is recorded already.") % {"name": invitation.contact.name},
            extra={"code": "attendance_recorded"},
        )
    if (status == InvitationStatus.REGISTERED and invitation.status not in TAKING_PLACES
            and event.capacity is not None and _places_taken(event) >= event.capacity):  # fmt: skip
        raise ApplicationError(
            _("The event is full: all %(n)s places are taken.") % {"n": event.capacity},
            extra={"code": "event_full", "capacity": event.capacity},
        )
    before = invitation.status
    invitation.status, invitation.responded_at = status, timezone.now()
    if notes is not None:
        invitation.notes = notes.strip()[:300]
    invitation.version += 1
    invitation.save()
    log_event(obj=invitation, action=f"invitation_{status}", actor=actor, event=event.pk,
              changes={"status": [before, status]})  # fmt: skip
    return invitation


@transaction.atomic
def event_attendance_record(
    *, actor: User, event: BusinessEvent, records: Sequence[Attendance]
) -> list[EventInvitation]:
    """Record who came (attended) and who did not (no_show), once the event has started;
    all or nothing."""
    event = _locked_event(event)
    if event.status == EventStatus.CANCELLED:
        raise ApplicationError(
            _("The event was cancelled: nobody came."), extra={"code": "event_cancelled"}
        )
    if event.starts_at > timezone.now():
        raise ApplicationError(
            _("Attendance is recorded once the event has started (%(at)s).")
            % {"at": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M")},
            extra={"code": "not_started"},
        )
    if not records:
        raise ValidationError({"records": [_("Say who came.")]})
    if any(r.status not in ATTENDANCE for r in records):
        raise ValidationError({"records": [_("Record attended or did not come.")]})
    ids = [int(r.invitation_id) for r in records]
    if len(set(ids)) != len(ids):
        raise ValidationError({"records": [_("Each invitation is recorded once.")]})
    invitations = {
        i.pk: i
        for i in EventInvitation.objects.select_for_update(of=("self",))
        .select_related("contact")
        .filter(event=event, pk__in=ids)
    }
    changeable = set(
        restrict(EventInvitation.objects.filter(pk__in=ids), actor, "change").values_list(
            "pk", flat=True
        )
    )
    if len(invitations) != len(ids):
        raise ValidationError({"records": [_("Choose invitations of this event.")]})
    if set(ids) - changeable:
        raise _denied()
    for record in records:
        check_version(instance=invitations[int(record.invitation_id)], expected=record.version)
    changed = []
    for record in records:
        invitation = invitations[int(record.invitation_id)]
        if invitation.status == record.status:
            continue
        before = invitation.status
        invitation.status = record.status
        invitation.version += 1
        invitation.save(update_fields=["status", "version"])
        log_event(obj=invitation, action=f"invitation_{record.status}", actor=actor,
                  event=event.pk, changes={"status": [before, record.status]})  # fmt: skip
        changed.append(invitation)
    if changed and event.status == EventStatus.HELD:
        accounts = {i.account_id for i in invitations.values()} | set(_attending_accounts(event))
        account_figures_changed(account_ids=accounts)
    return changed


def event_started(event: BusinessEvent, now: dt.datetime | None = None) -> bool:
    return event.starts_at <= (now or timezone.now())
