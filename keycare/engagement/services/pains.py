"""The needs and pains log (逃离痛苦,追求快乐): what hurts at an account, who said it, its
impact, the solution we propose and its status (resolved on the day it is solved or
dropped), linked to the activities, tickets and concessions that concern it — always of
the same account, and only rows the user sees. Edits carry the version read (a stale one
is a 409 and changes nothing); every change writes the engagement log."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.choices import Level
from keycare.accounts.models import Account
from keycare.core.scoping import restrict, user_can
from keycare.core.services import check_version, require_role
from keycare.profitability.models import Concession
from keycare.service.models import Ticket
from keycare.users.choices import Role
from keycare.users.models import User

from ..choices import PainStatus
from ..log import log_event
from ..models import Activity, Pain
from .activities import (
    _date,
    _pk,
    _pks,
    contact_at_account,
    may_act_on_account,
    permission_denied,
    staff_users,
)

PAIN_FIELDS = ("title", "description", "raised_by", "impact", "impact_value", "solution",
               "status", "owner", "raised_on", "resolved_on")  # fmt: skip
LINKS = {"activities": Activity, "tickets": Ticket, "concessions": Concession}
RESOLVED = (PainStatus.SOLVED, PainStatus.DROPPED)
MAX_VALUE = Decimal("9999999999.99")
EARLIEST = dt.date(1990, 1, 1)


def _link_messages() -> dict[str, str]:
    return {
        "activities": _("Choose activities of this account."),
        "tickets": _("Choose tickets of this account."),
        "concessions": _("Choose concessions of this account."),
    }


def _visible(model, actor: User | None, account_id: int):
    qs = model.objects.filter(account_id=account_id)
    return restrict(qs, actor, "view") if actor is not None else qs


def _linked_rows(actor, account_id: int, name: str, values, errors: dict) -> list:
    """The rows of a link field, given by id or as objects: each of this account and seen
    by the actor (anything else is an error on the field)."""
    pks = _pks(values)
    if not pks:
        return []
    rows = {r.pk: r for r in _visible(LINKS[name], actor, account_id).filter(
        pk__in=[p for p in pks if p > 0])}  # fmt: skip
    if len(rows) != len(pks):
        errors[name] = [_link_messages()[name]]
    return [rows[p] for p in pks if p in rows]


def _validate(state: dict[str, Any], account: Account) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    title = str(state.get("title") or "").strip()
    if not title:
        errors["title"] = [_("Say what hurts.")]
    elif len(title) > 200:
        errors["title"] = [_("Keep it to %(n)d characters.") % {"n": 200}]
    out["title"] = title
    out["description"] = str(state.get("description") or "").strip()
    out["solution"] = str(state.get("solution") or "").strip()
    raised_by = state.get("raised_by")
    out["raised_by"] = contact_at_account(raised_by, account) if _pk(raised_by) else None
    if _pk(raised_by) and out["raised_by"] is None:
        errors["raised_by"] = [_("Choose a person of this account.")]
    try:
        impact = int(state.get("impact") if state.get("impact") not in (None, "") else 3)
    except (TypeError, ValueError):
        impact = 0
    if impact not in Level.values:
        errors["impact"] = [_("Choose an impact from 1 to 5.")]
    out["impact"] = impact
    raw = state.get("impact_value")
    out["impact_value"] = None
    if raw not in (None, ""):
        try:
            value = Decimal(str(raw).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            value = Decimal("-1")
        if not value.is_finite() or not 0 <= value <= MAX_VALUE:
            errors["impact_value"] = [
                _("Enter an amount from 0 to %(max)s.") % {"max": f"{MAX_VALUE:,}"}
            ]
        else:
            out["impact_value"] = value.quantize(Decimal("0.01"))
    status = state.get("status") or PainStatus.OPEN
    if status not in PainStatus.values:
        errors["status"] = [_("Choose a status from the list.")]
    out["status"] = status
    owner_id = _pk(state.get("owner"))
    out["owner"] = staff_users().filter(pk=owner_id).first() if owner_id and owner_id > 0 else None
    if owner_id and out["owner"] is None:
        errors["owner"] = [_("Choose a colleague of ours as the owner.")]
    today = timezone.localdate()
    for name in ("raised_on", "resolved_on"):
        day = _date(state.get(name), name, errors)
        if day is not None and not EARLIEST <= day <= today:
            errors[name] = [_("Choose a date from 1990 to today.")]
        out[name] = day
    if out["raised_on"] is None and "raised_on" not in errors:
        out["raised_on"] = today
    if status in RESOLVED:
        out["resolved_on"] = out["resolved_on"] or today
        if out["raised_on"] and out["resolved_on"] < out["raised_on"] and not errors:
            errors["resolved_on"] = [_("It cannot be resolved before it was raised.")]
    else:
        out["resolved_on"] = None
    if errors:
        raise ValidationError(errors)
    return out


def _model_check(pain: Pain) -> None:
    try:
        pain.full_clean(exclude=["account", "raised_by", "owner"], validate_unique=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _plain(value):
    return getattr(value, "pk", value)


@transaction.atomic
def pain_create(
    *,
    actor: User | None,
    account: Account,
    title: str,
    description: str = "",
    raised_by: Any = None,
    impact: int = 3,
    impact_value: Any = None,
    solution: str = "",
    status: str = PainStatus.OPEN,
    owner: Any = None,
    raised_on: dt.date | None = None,
    resolved_on: dt.date | None = None,
    activities: Iterable[Any] = (),
    tickets: Iterable[Any] = (),
    concessions: Iterable[Any] = (),
) -> Pain:
    """Log a need or pain at an account (those who may change the account). The owner
    defaults to the actor, the day raised to today."""
    if actor is not None and not may_act_on_account(actor, Pain, "add", account):
        raise permission_denied()
    state = {"title": title, "description": description, "raised_by": raised_by,
             "impact": impact, "impact_value": impact_value, "solution": solution,
             "status": status, "owner": owner if owner is not None else actor,
             "raised_on": raised_on, "resolved_on": resolved_on}  # fmt: skip
    errors: dict[str, list[str]] = {}
    try:
        out = _validate(state, account)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        out = {}
    links = {name: _linked_rows(actor, account.pk, name, values, errors)
             for name, values in (("activities", activities), ("tickets", tickets),
                                  ("concessions", concessions))}  # fmt: skip
    if errors:
        raise ValidationError(errors)
    pain = Pain(account=account, **out)
    _model_check(pain)
    pain.save()
    for name, rows in links.items():
        getattr(pain, name).set(rows)
    log_event(obj=pain, action="pain_raised", actor=actor, title=pain.title, status=pain.status,
              impact=pain.impact, **{n: [r.pk for r in rows] for n, rows in links.items()})  # fmt: skip
    return pain


def _locked(pain: Pain) -> Pain:
    return Pain.objects.select_for_update(of=("self",)).select_related("account").get(pk=pain.pk)


def _require_change(actor: User | None, pain: Pain) -> None:
    if actor is not None and not user_can(actor, "change", pain):
        raise permission_denied()


def _set_links(actor, pain: Pain, name: str, chosen: list, *, mode: str) -> list[int] | None:
    """Replace, add or remove links; the links to rows the actor does not see stay as they
    are. Returns the ids after the change when they changed, else None."""
    manager = getattr(pain, name)
    current = set(manager.values_list("pk", flat=True))
    chosen_ids = {r.pk for r in chosen}
    if mode == "set":
        seen = set(_visible(LINKS[name], actor, pain.account_id).filter(pk__in=current)
                   .values_list("pk", flat=True))  # fmt: skip
        after = chosen_ids | (current - seen)
    elif mode == "add":
        after = current | chosen_ids
    else:
        after = current - chosen_ids
    if after == current:
        return None
    manager.set(sorted(after))
    return sorted(after)


@transaction.atomic
def pain_update(
    *, actor: User | None, pain: Pain, data: Mapping[str, Any], version: int | None
) -> Pain:
    """Change a pain: its fields (PAIN_FIELDS; the status sets or clears `resolved_on`)
    and, given as lists, the activities, tickets and concessions it is linked to (the
    whole set)."""
    unknown = set(data) - set(PAIN_FIELDS) - set(LINKS)
    if unknown:
        raise ValueError(f"unknown pain fields {sorted(unknown)}")
    pain = _locked(pain)
    _require_change(actor, pain)
    check_version(instance=pain, expected=version)
    before = {name: getattr(pain, name) for name in PAIN_FIELDS}
    fields = {k: v for k, v in data.items() if k in PAIN_FIELDS}
    if "status" in fields and fields["status"] != pain.status and "resolved_on" not in fields:
        fields["resolved_on"] = None  # the day it is resolved is the day the status says so
    errors: dict[str, list[str]] = {}
    try:
        out = _validate({**before, **fields}, pain.account)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        out = before
    chosen = {name: _linked_rows(actor, pain.account_id, name, data[name], errors)
              for name in LINKS if name in data}  # fmt: skip
    if errors:
        raise ValidationError(errors)
    changed = {name: [_plain(before[name]), _plain(out[name])] for name in PAIN_FIELDS
               if _plain(before[name]) != _plain(out[name])}  # fmt: skip
    for name in PAIN_FIELDS:
        setattr(pain, name, out[name])
    for name, rows in chosen.items():
        after = _set_links(actor, pain, name, rows, mode="set")
        if after is not None:
            changed[name] = after
    if not changed:
        return pain
    _model_check(pain)
    pain.version += 1
    pain.save()
    action = "pain_status_changed" if set(changed) <= {"status", "resolved_on"} else "pain_changed"
    log_event(obj=pain, action=action, actor=actor, changes=changed)
    return pain


def pain_status_change(
    *, actor: User | None, pain: Pain, status: str, version: int | None,
    resolved_on: dt.date | None = None,
) -> Pain:  # fmt: skip
    """Move a pain to another status: solved or dropped dates it resolved (today unless
    given); open or proposed clears that date."""
    data: dict[str, Any] = {"status": status}
    if resolved_on is not None:
        data["resolved_on"] = resolved_on
    return pain_update(actor=actor, pain=pain, data=data, version=version)


def _link_change(actor, pain: Pain, mode: str, version, links: dict[str, Iterable[Any]]) -> Pain:
    pain = _locked(pain)
    _require_change(actor, pain)
    check_version(instance=pain, expected=version)
    errors: dict[str, list[str]] = {}
    chosen = {name: _linked_rows(actor, pain.account_id, name, values, errors)
              for name, values in links.items() if values}  # fmt: skip
    if errors:
        raise ValidationError(errors)
    changed = {}
    for name, rows in chosen.items():
        after = _set_links(actor, pain, name, rows, mode=mode)
        if after is not None:
            changed[name] = [r.pk for r in rows]
    if not changed:
        return pain
    pain.version += 1
    pain.save(update_fields=["version", "updated_at"])
    log_event(obj=pain, action="pain_linked" if mode == "add" else "pain_unlinked",
              actor=actor, **changed)  # fmt: skip
    return pain


@transaction.atomic
def pain_link(
    *, actor: User | None, pain: Pain, activities: Iterable[Any] = (),
    tickets: Iterable[Any] = (), concessions: Iterable[Any] = (), version: int | None = None,
) -> Pain:  # fmt: skip
    """Link activities, tickets or concessions of the pain's account to it."""
    return _link_change(actor, pain, "add", version, {
        "activities": activities, "tickets": tickets, "concessions": concessions})  # fmt: skip


@transaction.atomic
def pain_unlink(
    *, actor: User | None, pain: Pain, activities: Iterable[Any] = (),
    tickets: Iterable[Any] = (), concessions: Iterable[Any] = (), version: int | None = None,
) -> Pain:  # fmt: skip
    """Remove links of the pain (only to rows the actor sees)."""
    return _link_change(actor, pain, "remove", version, {
        "activities": activities, "tickets": tickets, "concessions": concessions})  # fmt: skip


@transaction.atomic
def pain_delete(*, actor: User | None, pain: Pain) -> None:
    """Remove a pain entered by mistake (administrators; the log keeps that it was)."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    pain = _locked(pain)
    log_event(obj=pain, action="pain_deleted", actor=actor, title=pain.title)
    pain.delete()
