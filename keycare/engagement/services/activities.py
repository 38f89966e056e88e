"""Engagement activities (客户互动): plan one (or log one done after the fact), change it,
complete it with its outcome and next step, cancel it, mark its next step done, attach
files. Site and reference visits (参观考察) name their destination and, for a reference,
a reference customer that consented and is available — with a warning, never a refusal,
when that customer has hosted its yearly limit of visits already.

Every write is keyword-only, transactional and validated here (errors per field, in the
user's language); every change locks the row, checks the version the user read, bumps it
and writes one engagement log entry in the same transaction. Who: adding is for staff who
see the account; changing for the owner and those who may change the account (the scope
rules of keycare.engagement.scopes)."""

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, Contact, ContactAccount
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.core.figures import account_figures_changed
from keycare.core.scoping import scope_filter, user_can
from keycare.core.services import check_version
from keycare.service.models import private_storage
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User

from ..choices import ActivityKind, ActivityStatus, VisitDestination
from ..log import log_event
from ..models import Activity, ActivityAttachment, PlaybookItem, ReferenceCustomer

#: What `activity_create` takes besides its named arguments, and what `activity_update`
#: may change.
EXTRA_FIELDS = ("duration_minutes", "location", "outcome", "next_step", "next_step_due", "cost",
                "destination", "reference_account", "host", "itinerary")  # fmt: skip
UPDATE_FIELDS = ("kind", "subject", "planned_at", "done_at", "owner", "contacts", "participants",
                 "target_contact", "objective", "playbook_item", *EXTRA_FIELDS)  # fmt: skip
MAX_COST = Decimal("9999999999.99")
MAX_DURATION = 14 * 24 * 60  # two weeks, in minutes
#: How far ahead an activity may be planned, and the clock skew a "done now" may have.
PLAN_AHEAD_DAYS = 5 * 366
CLOCK_SKEW = dt.timedelta(minutes=5)
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


# --- shared checks -------------------------------------------------------------------------


def permission_denied() -> PermissionDeniedError:
    return PermissionDeniedError(
        _("You do not have permission to do this."), extra={"code": "permission_denied"}
    )


def may_act_on_account(actor: User | None, model: type[models.Model], action: str,
                       account: Account) -> bool:  # fmt: skip
    """Whether `actor` may do `action` on a row of `model` for `account`, by the model's
    scope rule. The engagement rules scope rows through their account (keycare.engagement
    .scopes): adding an activity follows the account being seen, everything else the
    account being changeable — so a rule that answers with a filter is decided on the
    account itself."""
    verdict = scope_filter(model, actor, action)
    if isinstance(verdict, bool):
        return verdict
    seen_is_enough = action == "view" or (model is Activity and action == "add")
    return user_can(actor, "view" if seen_is_enough else "change", account)


def _pk(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, models.Model):
        return value.pk
    try:
        pk = int(str(value).strip())
    except ValueError:
        return -1
    return pk if 0 < pk < 2**63 else -1


def _pks(values: Iterable[Any] | None) -> list[int]:
    if values in (None, ""):
        return []
    if isinstance(values, (str, int, models.Model)):
        values = [values]
    seen: list[int] = []
    for value in values:
        pk = _pk(value)
        if pk is not None and pk not in seen:
            seen.append(pk)
    return seen


def at_account_q(account: Account | int) -> Q:
    """Contacts of an account: its main account, or a further account they are at."""
    account_id = account.pk if isinstance(account, Account) else account
    return Q(account_id=account_id) | Q(
        pk__in=ContactAccount.objects.filter(account_id=account_id).values("contact_id")
    )


def contact_at_account(value: Any, account: Account) -> Contact | None:
    """The contact (given by id or as an object) if it is at the account, else None."""
    pk = _pk(value)
    if not pk or pk < 0:
        return None
    return Contact.objects.filter(at_account_q(account), pk=pk).first()


def staff_users() -> models.QuerySet[User]:
    """Active users of the company's own staff (not customer contacts)."""
    in_staff_group = User.groups.through.objects.filter(group__name__in=STAFF_ROLES)
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(pk__in=in_staff_group.values("user_id"))
    )


def _staff(pks: list[int]) -> dict[int, User]:
    if not pks:
        return {}
    return {u.pk: u for u in staff_users().filter(pk__in=[p for p in pks if p > 0])}


def _aware(value: Any, field: str, errors: dict) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            errors[field] = [_("Enter a date and time.")]
            return None
        value = parsed
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        errors[field] = [_("Enter a date and time.")]
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _date(value: Any, field: str, errors: dict) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value).strip())
    if parsed is None:
        errors[field] = [_("Enter a date as YYYY-MM-DD.")]
    return parsed


def _cost(value: Any, errors: dict) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        cost = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors["cost"] = [_("Enter a number.")]
        return Decimal("0.00")
    if not cost.is_finite() or cost < 0 or cost > MAX_COST:
        errors["cost"] = [_("Enter a cost from 0 to %(max)s.") % {"max": f"{MAX_COST:,}"}]
        return Decimal("0.00")
    return cost.quantize(Decimal("0.01"))


def _duration(value: Any, errors: dict) -> int:
    if value in (None, ""):
        return 60
    try:
        minutes = int(str(value).strip())
    except ValueError:
        minutes = -1
    if not 1 <= minutes <= MAX_DURATION:
        errors["duration_minutes"] = [
            _("Enter a duration from %(min)s to %(max)s minutes.") % {"min": 1, "max": MAX_DURATION}
        ]
        return 60
    return minutes


# --- validation of the whole activity ----------------------------------------------------


def _validate(state: dict[str, Any], account: Account, *, current: Activity | None) -> dict:
    """Check an activity as it would be (`state`: every field, raw or parsed) and return it
    parsed: relations as objects, dates aware. Raises ValidationError with every problem
    found, per field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    now = timezone.now()
    kind = state.get("kind")
    if kind not in ActivityKind.values:
        errors["kind"] = [_("Choose a kind of activity from the list.")]
    out["kind"] = kind
    subject = str(state.get("subject") or "").strip()
    if not subject:
        errors["subject"] = [_("Say what the activity is about.")]
    elif len(subject) > 200:
        errors["subject"] = [_("Keep the subject to %(n)d characters.") % {"n": 200}]
    out["subject"] = subject
    planned_at = _aware(state.get("planned_at"), "planned_at", errors)
    done_at = _aware(state.get("done_at"), "done_at", errors)
    status = state.get("status") or (ActivityStatus.DONE if done_at else ActivityStatus.PLANNED)
    latest = now + dt.timedelta(days=PLAN_AHEAD_DAYS)
    if planned_at is not None and not EARLIEST <= planned_at <= latest:
        errors["planned_at"] = [_("Choose a date from 1990 to five years ahead.")]
    if status == ActivityStatus.PLANNED and planned_at is None and "planned_at" not in errors:
        errors["planned_at"] = [_("Say when it is planned for, or give the date it was done on.")]
    if done_at is not None:
        if done_at > now + CLOCK_SKEW:
            errors["done_at"] = [_("It cannot have been done in the future: plan it instead.")]
        elif done_at < EARLIEST:
            errors["done_at"] = [_("Choose a date from 1990 to five years ahead.")]
    if status == ActivityStatus.DONE and done_at is None and "done_at" not in errors:
        errors["done_at"] = [_("Say when it was done.")]
    out.update(status=status, planned_at=planned_at, done_at=done_at)
    out["duration_minutes"] = _duration(state.get("duration_minutes"), errors)
    out["cost"] = _cost(state.get("cost"), errors)
    for name, limit in (("location", 200), ("next_step", 300)):
        text = str(state.get(name) or "").strip()
        if len(text) > limit:
            errors[name] = [_("Keep it to %(n)d characters.") % {"n": limit}]
        out[name] = text
    for name in ("objective", "outcome", "itinerary"):
        out[name] = str(state.get(name) or "").strip()
    out["next_step_due"] = _date(state.get("next_step_due"), "next_step_due", errors)
    if out["next_step_due"] and not out["next_step"] and "next_step_due" not in errors:
        errors["next_step"] = [_("Say what the next step is.")]

    # the people: theirs at the account, ours on the staff
    contact_ids = _pks(state.get("contacts"))
    contacts = {c.pk: c for c in Contact.objects.filter(at_account_q(account),
                                                        pk__in=[p for p in contact_ids if p > 0])}  # fmt: skip
    if len(contacts) != len(contact_ids):
        errors["contacts"] = [_("Choose people of this account.")]
    out["contacts"] = [contacts[p] for p in contact_ids if p in contacts]
    participant_ids = _pks(state.get("participants"))
    owner_id, host_id = _pk(state.get("owner")), _pk(state.get("host"))
    staff = _staff([*participant_ids, *(p for p in (owner_id, host_id) if p)])
    if any(p not in staff for p in participant_ids):
        errors["participants"] = [_("Choose colleagues of ours (staff users).")]
    out["participants"] = [staff[p] for p in participant_ids if p in staff]
    owner = staff.get(owner_id) if owner_id else None
    if owner is None:
        errors["owner"] = [_("Choose a colleague of ours as the owner.")]
    elif not user_can(owner, "view", account):
        errors["owner"] = [_("The owner must be someone who sees this account.")]
    out["owner"] = owner
    out["host"] = staff.get(host_id) if host_id else None
    if host_id and out["host"] is None:
        errors["host"] = [_("Choose colleagues of ours (staff users).")]
    target = state.get("target_contact")
    out["target_contact"] = contact_at_account(target, account) if _pk(target) else None
    if _pk(target) and out["target_contact"] is None:
        errors["target_contact"] = [_("Choose a person of this account.")]
    if (
        kind == ActivityKind.INTRODUCTION
        and "target_contact" not in errors
        and (out["target_contact"] is None)
    ):
        errors["target_contact"] = [_("An introduction names the person it is to reach.")]
    item = _pk(state.get("playbook_item"))
    out["playbook_item"] = (
        PlaybookItem.objects.filter(pk=item).first() if item and item > 0 else None
    )
    if item and out["playbook_item"] is None:
        errors["playbook_item"] = [_("Choose a playbook item from the list.")]

    # a site or reference visit
    destination = state.get("destination") or ""
    reference_id = _pk(state.get("reference_account"))
    out["destination"], out["reference_account"] = destination, None
    if kind == ActivityKind.SITE_VISIT:
        if destination not in VisitDestination.values:
            errors["destination"] = [
                _("Say where the visit goes: our site or a reference customer.")
            ]
        elif destination == VisitDestination.REFERENCE:
            reference = (
                ReferenceCustomer.objects.select_related("account")
                .filter(account_id=reference_id).first()
                if reference_id and reference_id > 0 else None
            )  # fmt: skip
            if reference is None or not (reference.consent and reference.available):
                errors["reference_account"] = [
                    _("Choose a reference customer that has given its consent and is available.")
                ]
            elif reference.account_id == account.pk:
                errors["reference_account"] = [_("An account cannot visit itself as a reference.")]
            else:
                out["reference_account"] = reference.account
                out["reference"] = reference
        elif reference_id:
            errors["reference_account"] = [_("A visit to our site has no reference customer.")]
    elif destination or reference_id:
        errors["destination"] = [_("Only a site or reference visit has a destination.")]
    if errors:
        raise ValidationError(errors)
    return out


def _reference_warnings(out: dict, *, exclude: int | None) -> list[dict[str, str]]:
    """The over-use warning: the reference customer already hosts its yearly limit of
    visits in the year of this one (this one would be over it)."""
    from ..selectors.programme import reference_visit_limit, reference_visits_in_year

    reference = out.get("reference")
    when = out.get("done_at") or out.get("planned_at")
    if reference is None or when is None or out.get("status") == ActivityStatus.CANCELLED:
        return []
    year = timezone.localtime(when).year
    already = reference_visits_in_year(account_id=reference.account_id, year=year, exclude=exclude)
    limit = reference_visit_limit(reference)
    if already < limit:
        return []
    return [{
        "code": "reference_over_used",
        "message": _("%(reference)s has already hosted %(count)d visits in %(year)d, its limit "
                     "is %(limit)d a year: think of another reference, so as not to over-use it.")
        % {"reference": reference.account.name, "count": already, "year": year, "limit": limit},
    }]  # fmt: skip


def reference_visit_warnings(*, activity: Activity) -> list[dict[str, str]]:
    """The warnings of a saved activity (for a page that shows it again)."""
    if activity.kind != ActivityKind.SITE_VISIT or not activity.reference_account_id:
        return []
    reference = ReferenceCustomer.objects.filter(account_id=activity.reference_account_id).first()
    if reference is None:
        return []
    return _reference_warnings(
        {"reference": reference, "done_at": activity.done_at, "planned_at": activity.planned_at,
         "status": activity.status},
        exclude=activity.pk,
    )  # fmt: skip


SCALARS = ("kind", "subject", "status", "planned_at", "done_at", "duration_minutes", "location",
           "objective", "outcome", "next_step", "next_step_due", "cost", "owner",
           "target_contact", "destination", "reference_account", "host", "itinerary",
           "playbook_item")  # fmt: skip


def _model_check(activity: Activity) -> None:
    relations = ["account", "owner", "target_contact", "reference_account", "host",
                 "playbook_item", "created_by"]  # fmt: skip
    try:
        activity.full_clean(exclude=relations, validate_unique=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


def _require_cost_allowed(actor: User | None, cost: Any, current: Any = None) -> None:
    """The cost is a commercial figure: only those who may see costs set or change it (the
    system, with no actor, may)."""
    from keycare.accounts.scopes import may_see_costs

    if actor is None or cost in (None, "") or may_see_costs(actor):
        return
    try:
        same = current is not None and Decimal(str(cost)) == Decimal(str(current))
    except (ArithmeticError, ValueError):
        same = False
    if not same:
        raise ValidationError({"cost": [_("You may not set the cost of an activity.")]})


def _changed_figures(activity: Activity, before: dict | None) -> None:
    """A done activity's cost is in the account's cost to serve; its people met are in the
    account's stored coverage (refreshed after the commit)."""
    if (
        activity.status != ActivityStatus.DONE
        and (before or {}).get("status") != ActivityStatus.DONE
    ):
        return
    from ..coverage_ticks import coverage_refresh_on_commit

    coverage_refresh_on_commit([activity.account_id])
    if before is None or any(before.get(k) != getattr(activity, k)
                             for k in ("status", "cost", "done_at")):  # fmt: skip
        account_figures_changed(account_ids=[activity.account_id])


# --- the services --------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    actor: User | None,
    account: Account,
    kind: str,
    subject: str,
    planned_at: dt.datetime | None = None,
    done_at: dt.datetime | None = None,
    owner: User | None = None,
    contacts: Iterable[Any] = (),
    participants: Iterable[Any] = (),
    target_contact: Contact | None = None,
    objective: str = "",
    playbook_item: PlaybookItem | None = None,
    **fields: Any,
) -> Activity:
    """Plan an activity (`planned_at`), or log one done after the fact (`done_at`). The
    owner defaults to the actor. `fields`: duration_minutes, location, outcome, next_step,
    next_step_due, cost, destination, reference_account, host, itinerary. The returned
    activity carries `warnings` (a list of {code, message}: the reference over-use)."""
    unknown = set(fields) - set(EXTRA_FIELDS)
    if unknown:
        raise ValueError(f"unknown activity fields {sorted(unknown)}")
    if actor is not None and not may_act_on_account(actor, Activity, "add", account):
        raise permission_denied()
    _require_cost_allowed(actor, fields.get("cost"), Decimal("0"))
    state = {"kind": kind, "subject": subject, "planned_at": planned_at, "done_at": done_at,
             "owner": owner if owner is not None else actor, "contacts": contacts,
             "participants": participants, "target_contact": target_contact,
             "objective": objective, "playbook_item": playbook_item, **fields}  # fmt: skip
    out = _validate(state, account, current=None)
    warnings = _reference_warnings(out, exclude=None)
    activity = Activity(account=account, created_by=actor if getattr(actor, "pk", None) else None,
                        **{k: out[k] for k in SCALARS})  # fmt: skip
    _model_check(activity)
    activity.save()
    activity.contacts.set(out["contacts"])
    activity.participants.set(out["participants"])
    log_event(
        obj=activity, action="activity_done" if activity.status == ActivityStatus.DONE
        else "activity_planned", actor=actor, kind=activity.kind, subject=activity.subject,
        planned_at=activity.planned_at, done_at=activity.done_at,
        contacts=[c.pk for c in out["contacts"]], participants=[u.pk for u in out["participants"]],
        warnings=[w["code"] for w in warnings],
    )  # fmt: skip
    _changed_figures(activity, None)
    activity.warnings = warnings
    return activity


def _locked(activity: Activity) -> Activity:
    return (
        Activity.objects.select_for_update(of=("self",))
        .select_related("account")
        .get(pk=activity.pk)
    )


def _require_change(actor: User | None, activity: Activity) -> None:
    if actor is not None and not user_can(actor, "change", activity):
        raise permission_denied()


def _require_status(activity: Activity, *allowed: str) -> None:
    if activity.status not in allowed:
        raise ApplicationError(
            _("This activity is %(status)s: it cannot be changed this way.")
            % {"status": activity.get_status_display().lower()},
            extra={"code": "wrong_status", "status": activity.status},
        )


def _bump(activity: Activity, fields: list[str]) -> None:
    activity.version += 1
    activity.save(update_fields=[*fields, "version", "updated_at"])


def _state(activity: Activity) -> dict[str, Any]:
    state = {name: getattr(activity, name) for name in SCALARS}
    state["contacts"] = list(activity.contacts.all())
    state["participants"] = list(activity.participants.all())
    return state


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return sorted(getattr(v, "pk", v) for v in value)
    return value


@transaction.atomic
def activity_update(
    *, actor: User | None, activity: Activity, data: Mapping[str, Any], version: int | None
) -> Activity:
    """Change an activity (planned or done; a cancelled one stays as it was). `data` holds
    the fields to change (UPDATE_FIELDS); `done_at` only on a done activity. Returns the
    activity with `warnings`."""
    unknown = set(data) - set(UPDATE_FIELDS)
    if unknown:
        raise ValueError(f"unknown activity fields {sorted(unknown)}")
    activity = _locked(activity)
    _require_change(actor, activity)
    check_version(instance=activity, expected=version)
    if "cost" in data:
        _require_cost_allowed(actor, data["cost"], activity.cost)
    _require_status(activity, ActivityStatus.PLANNED, ActivityStatus.DONE)
    if "done_at" in data and activity.status != ActivityStatus.DONE and data["done_at"]:
        raise ValidationError({"done_at": [_("Complete the activity to say when it was done.")]})
    before = _state(activity)
    out = _validate({**before, **data}, activity.account, current=activity)
    changed = {name: [_plain(before[name]), _plain(out[name])]
               for name in (*SCALARS, "contacts", "participants")
               if _plain(before[name]) != _plain(out[name])}  # fmt: skip
    warnings = _reference_warnings(out, exclude=activity.pk)
    if not changed:
        activity.warnings = warnings
        return activity
    for name in SCALARS:
        setattr(activity, name, out[name])
    _model_check(activity)
    activity.version += 1
    activity.save()
    if "contacts" in changed:
        activity.contacts.set(out["contacts"])
    if "participants" in changed:
        activity.participants.set(out["participants"])
    log_event(obj=activity, action="activity_changed", actor=actor, changes=changed,
              warnings=[w["code"] for w in warnings])  # fmt: skip
    _changed_figures(activity, before)
    activity.warnings = warnings
    return activity


@transaction.atomic
def activity_complete(
    *,
    actor: User | None,
    activity: Activity,
    done_at: dt.datetime | None,
    outcome: str,
    next_step: str = "",
    next_step_due: dt.date | None = None,
    cost: Decimal | None = None,
    version: int | None,
) -> Activity:
    """Record that a planned activity was done: when, what came of it (required), the
    next step with its due date, and its cost (kept as it was when not given)."""
    activity = _locked(activity)
    _require_change(actor, activity)
    check_version(instance=activity, expected=version)
    _require_status(activity, ActivityStatus.PLANNED)
    _require_cost_allowed(actor, cost, activity.cost)
    errors: dict[str, list[str]] = {}
    if done_at in (None, ""):
        errors["done_at"] = [_("Say when it was done.")]
    if not str(outcome or "").strip():
        errors["outcome"] = [_("Say what came of it.")]
    if errors:
        raise ValidationError(errors)
    before = _state(activity)
    state = {**before, "status": ActivityStatus.DONE, "done_at": done_at, "outcome": outcome,
             "next_step": next_step, "next_step_due": next_step_due}  # fmt: skip
    if cost not in (None, ""):
        state["cost"] = cost
    out = _validate(state, activity.account, current=activity)
    for name in ("status", "done_at", "outcome", "next_step", "next_step_due", "cost"):
        setattr(activity, name, out[name])
    if activity.next_step_done_at and out["next_step"] != before["next_step"]:
        activity.next_step_done_at = None  # a new next step is open again
    _model_check(activity)
    _bump(activity, ["status", "done_at", "outcome", "next_step", "next_step_due", "cost",
                     "next_step_done_at"])  # fmt: skip
    log_event(obj=activity, action="activity_done", actor=actor, done_at=activity.done_at,
              outcome=activity.outcome, next_step=activity.next_step,
              next_step_due=activity.next_step_due, cost=activity.cost)  # fmt: skip
    _changed_figures(activity, before)
    activity.warnings = []
    return activity


@transaction.atomic
def activity_cancel(
    *, actor: User | None, activity: Activity, reason: str, version: int | None
) -> Activity:
    """Cancel a planned activity, saying why (kept in the log); its open next step goes
    with it."""
    activity = _locked(activity)
    _require_change(actor, activity)
    check_version(instance=activity, expected=version)
    _require_status(activity, ActivityStatus.PLANNED)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the activity is cancelled.")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("Keep it to %(n)d characters.") % {"n": 2000}]})
    activity.status = ActivityStatus.CANCELLED
    _bump(activity, ["status"])
    log_event(obj=activity, action="activity_cancelled", actor=actor, reason=reason)
    return activity


@transaction.atomic
def activity_next_step_done(
    *, actor: User | None, activity: Activity, version: int | None
) -> Activity:
    """Mark the activity's open next step done (now)."""
    activity = _locked(activity)
    _require_change(actor, activity)
    check_version(instance=activity, expected=version)
    _require_status(activity, ActivityStatus.PLANNED, ActivityStatus.DONE)
    if not activity.next_step or activity.next_step_done_at is not None:
        raise ApplicationError(
            _("This activity has no open next step."), extra={"code": "no_open_next_step"}
        )
    activity.next_step_done_at = timezone.now()
    _bump(activity, ["next_step_done_at"])
    log_event(obj=activity, action="activity_next_step_done", actor=actor,
              next_step=activity.next_step, due=activity.next_step_due)  # fmt: skip
    return activity


def activity_attachment_add(
    *, actor: User | None, activity: Activity, upload: File, version: int | None = None
) -> ActivityAttachment:
    """Attach a file (minutes, photos, an itinerary) to an activity: checked first (size,
    allowed type, content matching the extension, file name), stored under a random name
    in private storage; a failure after storing removes the file again. Those who may
    change the activity."""
    from keycare.service.attachments import attachment_check

    checked = attachment_check(upload=upload)  # before anything is written
    stored: list[str] = []
    try:
        with transaction.atomic():
            locked = _locked(activity)
            _require_change(actor, locked)
            check_version(instance=locked, expected=version)
            _require_status(locked, ActivityStatus.PLANNED, ActivityStatus.DONE)
            attachment = ActivityAttachment(
                activity=locked, name=checked.name, content_type=checked.content_type,
                size=checked.size, sha256=checked.sha256,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )  # fmt: skip
            attachment.file.save(f"{secrets.token_hex(16)}.{checked.extension}", checked.upload,
                                 save=False)  # fmt: skip
            stored.append(attachment.file.name)
            attachment.full_clean(exclude=["activity", "uploaded_by"])
            attachment.save()
            _bump(locked, [])
            log_event(obj=locked, action="activity_attachment_added", actor=actor,
                      attachment=attachment.pk, name=attachment.name, size=attachment.size)  # fmt: skip
    except BaseException:
        for name in stored:
            private_storage.delete(name)
        raise
    return attachment
