"""Gifts to the people at customers (商务活动 — 礼品), held to a yearly limit per person,
and the register of them all for compliance review.

The limit: the account's concession policy's `gift_limit_per_contact` (Profitability
issue), or, where the policy sets none, the engagement setting of the same name (row 1);
neither: no limit.

What counts against it — one rule with the concession check, so a person cannot receive
the limit twice, once as engagement gifts and once as GIFT concessions: for the recipient
(whichever account gave), the approved engagement gifts plus the granted GIFT concessions,
over the worst twelve months (365 days) that contain the new gift's date — the rule of
`keycare.profitability.concessions._worst_year`, reused here, not copied. A limit holds in
every year around a gift, so a gift planned for next spring counts against one given last
summer. Pending, rejected and cancelled gifts do not count.

Exactly at the limit is within it; one cent over is not. A gift within the limit is
approved as recorded; over it, it waits (PENDING, with the limit and the year total
recorded) and every approver — the executives and administrators, but not the one who
recorded it — gets a reminder (kind GIFT_APPROVAL, key "gift:<id>"; the reminder
delivery sends it). An approver decides it at the version they saw; nobody decides their
own gift, except an administrator. The recorder may cancel it while it waits.

The recipient's contact row is locked before the check, as the concession service locks
it for a GIFT concession, so two gifts (or a gift and a GIFT concession) recorded at once
are checked against each other; the approved gifts are registered with
`keycare.profitability.concessions.gift_source`, so the concession check counts them too.
An approved gift adds its value to its account's cost to serve on its date.

A gift is booked to an account: the one named (the person's main account or one they also
belong to, one the recorder may record for), else the event's or the activity's, else the
person's main account; that account's policy gives the limit."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.lock_objects import contact_qs_select_for_update
from keycare.accounts.models import Account, Contact, ContactAccount
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.figures import account_figures_changed
from keycare.core.scoping import scope_filter, user_can
from keycare.profitability.choices import ConcessionKind, ConcessionStatus
from keycare.profitability.concessions import YEAR_DAYS, _worst_year, gift_source
from keycare.profitability.models import Concession
from keycare.profitability.policies import policy_for_account
from keycare.users.choices import Role
from keycare.users.models import User

from ..choices import EventStatus, GiftStatus, ReminderKind
from ..log import log_event
from ..models import Activity, BusinessEvent, EngagementSettings, EventInvitation, Gift, Reminder

CENT = Decimal("0.01")
MAX_VALUE = Decimal("9999999999.99")
#: How far from today a gift's date may be (recorded late, or planned ahead).
DATE_WINDOW_DAYS = 366
APPROVER_ROLES = (Role.EXECUTIVE, Role.ADMINISTRATOR)


@dataclass(frozen=True)
class GiftCheck:
    """A gift against the recipient's yearly limit: the limit (None: no limit) and where it
    comes from ("policy", "setting" or None), what was given in the worst twelve months
    around the date before it, the total with it, and whether that is over the limit."""

    limit: Decimal | None
    source: str | None
    policy_name: str | None
    given: Decimal
    year_total: Decimal
    over: bool

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.given


def _denied(message: str | None = None, code: str = "permission_denied") -> PermissionDeniedError:
    return PermissionDeniedError(
        message or _("You do not have permission to do this."), extra={"code": code}
    )


def gift_limit(account: Account) -> tuple[Decimal | None, str | None, str | None]:
    """(limit, "policy" / "setting" / None, the policy's name) for gifts at this account."""
    policy = policy_for_account(account)
    if policy is not None and policy.gift_limit_per_contact is not None:
        return Decimal(policy.gift_limit_per_contact), "policy", policy.name
    setting = (
        EngagementSettings.objects.filter(pk=1)
        .values_list("gift_limit_per_contact", flat=True)
        .first()
    )
    if setting is not None:
        return Decimal(setting), "setting", None
    return None, None, None


def gift_given_so_far(*, contact: Contact, day: dt.date, exclude: int | None = None) -> Decimal:
    """The most the person received in any twelve months that contain `day`: approved
    engagement gifts and granted GIFT concessions (see the module's docstring)."""
    first, last = day - dt.timedelta(days=YEAR_DAYS - 1), day + dt.timedelta(days=YEAR_DAYS - 1)
    gifts = (
        Gift.objects.filter(contact=contact, status=GiftStatus.APPROVED,
                            given_on__gte=first, given_on__lte=last)
        .exclude(pk=exclude or 0)
        .values_list("given_on", "value")
    )  # fmt: skip
    concessions = Concession.objects.filter(
        contact=contact, kind=ConcessionKind.GIFT, status=ConcessionStatus.GRANTED,
        effective_date__gte=first, effective_date__lte=last,
    ).values_list("effective_date", "amount")  # fmt: skip
    rows = [(d, Decimal(v or 0)) for d, v in [*gifts, *concessions]]
    return Decimal(_worst_year(rows, day)).quantize(CENT)


@gift_source
def approved_gifts(
    contact: Contact, first: dt.date, last: dt.date
) -> list[tuple[dt.date, Decimal]]:
    """The person's approved engagement gifts dated first..last, for the GIFT concession
    check (registered with profitability; it imports nothing of engagement)."""
    return list(
        Gift.objects.filter(contact=contact, status=GiftStatus.APPROVED,
                            given_on__gte=first, given_on__lte=last)
        .values_list("given_on", "value")
    )  # fmt: skip


def gift_account_check(*, actor: User | None, contact: Contact, account: Account) -> None:
    """An account named for a gift is the person's main account or one they also belong
    to, and one the actor may record gifts for."""
    if (
        account.pk != contact.account_id
        and not ContactAccount.objects.filter(contact=contact, account=account).exists()
    ):
        raise ValidationError({"account": [
            _("%(name)s does not belong to %(account)s.") % {"name": contact.name,
                                                              "account": account.name}
        ]})  # fmt: skip
    if actor is not None and not gift_may_record(actor, account):
        raise _denied(_("You may not record gifts for this account."))


def gift_check(
    *, contact: Contact, value: Decimal, given_on: dt.date, account: Account | None = None,
    exclude: int | None = None, actor: User | None = None,
) -> GiftCheck:  # fmt: skip
    """The limit check of a gift (changes nothing): what the record-a-gift form shows
    before saving, and what `gift_record` decides on. With `actor`, a named `account` is
    checked (see `gift_account_check`)."""
    if account is not None and actor is not None:
        gift_account_check(actor=actor, contact=contact, account=account)
    limit, source, policy_name = gift_limit(account or contact.account)
    given = gift_given_so_far(contact=contact, day=given_on, exclude=exclude)
    total = (given + Decimal(value)).quantize(CENT)
    return GiftCheck(limit=limit, source=source, policy_name=policy_name, given=given,
                     year_total=total, over=limit is not None and total > limit)  # fmt: skip


def gift_may_record(actor: User | None, account: Account) -> bool:
    """The gift rule (engagement.scopes): executives and administrators for any account,
    others for the accounts they may change."""
    verdict = scope_filter(Gift, actor, "add")
    if isinstance(verdict, bool):
        return verdict
    return user_can(actor, "change", account)


def gift_may_decide(actor: User | None, gift: Gift) -> bool:
    """Executives and administrators decide a waiting gift; nobody their own, except an
    administrator."""
    if actor is None or gift.status != GiftStatus.PENDING or not actor.has_role(*APPROVER_ROLES):
        return False
    return gift.requested_by_id != actor.pk or actor.has_role(Role.ADMINISTRATOR)


# --- recording -----------------------------------------------------------------------------


def _value(raw: Any, errors: dict) -> Decimal | None:
    if raw in (None, ""):
        errors["value"] = [_("This field is required.")]
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors["value"] = [_("Enter a number.")]
        return None
    if not value.is_finite() or value < CENT or value > MAX_VALUE:
        errors["value"] = [_("Enter a value from 0.01 to 9,999,999,999.99.")]
        return None
    return value.quantize(CENT)


def _where(contact: Contact, event: BusinessEvent | None, activity: Activity | None,
           errors: dict) -> Account:  # fmt: skip
    """The account the gift is for: the one the person was invited to the event for, the
    activity's, or the person's main account."""
    if event is not None and activity is not None:
        errors["event"] = [_("Record a gift at an event or with an activity, not both.")]
        return contact.account
    if event is not None:
        invitation = (
            EventInvitation.objects.filter(event=event, contact=contact)
            .select_related("account")
            .first()
        )
        if event.status == EventStatus.CANCELLED:
            errors["event"] = [_("The event was cancelled.")]
        elif invitation is None:
            errors["event"] = [_("%(name)s is not invited to this event.") % {"name": contact.name}]
        else:
            return invitation.account
    if activity is not None:
        if not activity.contacts.filter(pk=contact.pk).exists():
            errors["activity"] = [_("%(name)s is not among the people of this activity.")
                                  % {"name": contact.name}]  # fmt: skip
        else:
            return activity.account
    return contact.account


def _approvers(recorder: User) -> list[User]:
    return list(
        User.objects.filter(is_active=True, groups__name__in=APPROVER_ROLES)
        .exclude(pk=recorder.pk)
        .distinct()
        .order_by("pk")
    )


def _remind_approvers(gift: Gift) -> int:
    """One GIFT_APPROVAL reminder per approver, keyed "gift:<id>" (created once)."""
    params = {
        "gift": gift.pk, "contact": gift.contact.name, "account": gift.account.name,
        "value": str(gift.value), "limit": str(gift.limit) if gift.limit is not None else None,
        "year_total": str(gift.year_total), "recorded_by": str(gift.requested_by),
        "description": gift.description,
    }  # fmt: skip
    from ..reminders import ReminderSpec, reminders_record

    # recorded and delivered (email, webhooks) like every other reminder, once per approver
    spec = ReminderSpec(
        kind=ReminderKind.GIFT_APPROVAL, key=f"gift:{gift.pk}", account_id=gift.account_id,
        contact_id=gift.contact_id, params=params, link=f"/engagement/gifts/{gift.pk}/",
        due_on=gift.given_on, user_ids=[user.pk for user in _approvers(gift.requested_by)],
    )  # fmt: skip
    return len(reminders_record(specs=[spec]))


@transaction.atomic
def gift_record(
    *, actor: User, contact: Contact, value: Any, occasion: str, description: str,
    given_on: dt.date | None, event: BusinessEvent | None = None,
    activity: Activity | None = None, account: Account | None = None,
) -> Gift:  # fmt: skip
    """Record a gift: within the recipient's yearly limit it is approved at once; over it,
    it waits for an approver (see the module's docstring). `account`: the account it is
    booked to (the person's main account or one they belong to; default: the event's, the
    activity's or the main one)."""
    errors: dict[str, list[str]] = {}
    amount = _value(value, errors)
    if not (occasion or "").strip():
        errors["occasion"] = [_("Say what the occasion is.")]
    if not (description or "").strip():
        errors["description"] = [_("Say what the gift is.")]
    today = timezone.localdate()
    if given_on is None:
        errors["given_on"] = [_("This field is required.")]
    elif abs((given_on - today).days) > DATE_WINDOW_DAYS:
        errors["given_on"] = [
            _("Choose a date from %(first)s to %(last)s.") % {
                "first": (today - dt.timedelta(days=DATE_WINDOW_DAYS)).isoformat(),
                "last": (today + dt.timedelta(days=DATE_WINDOW_DAYS)).isoformat()}
        ]  # fmt: skip
    if not contact.is_active:
        errors["contact"] = [_("%(name)s has left the company.") % {"name": contact.name}]
    where = _where(contact, event, activity, errors)
    if account is not None:
        if (
            account.pk != contact.account_id
            and not ContactAccount.objects.filter(contact=contact, account=account).exists()
        ):
            errors["account"] = [_("%(name)s does not belong to %(account)s.")
                                 % {"name": contact.name, "account": account.name}]  # fmt: skip
        elif (
            (event is not None or activity is not None)
            and where.pk != account.pk
            and ("event" not in errors and "activity" not in errors)
        ):
            errors["account"] = [_("The gift is for %(account)s at this event or activity.")
                                 % {"account": where.name}]  # fmt: skip
    if account is None or "account" in errors:
        account = where
    if not gift_may_record(actor, account):
        raise _denied()
    if errors:
        raise ValidationError(errors)
    contact_qs_select_for_update().get(pk=contact.pk)  # this person's gifts, one at a time
    check = gift_check(contact=contact, value=amount, given_on=given_on, account=account)
    now = timezone.now()
    gift = Gift(
        contact=contact, account=account, description=description.strip()[:200],
        occasion=occasion.strip()[:200], value=amount, given_on=given_on, event=event,
        activity=activity, limit=check.limit, year_total=check.year_total, requested_by=actor,
        status=GiftStatus.PENDING if check.over else GiftStatus.APPROVED,
        decided_at=None if check.over else now,
    )  # fmt: skip
    gift.full_clean()
    gift.save()
    log_event(obj=gift, action="gift_recorded", actor=actor, status=gift.status, value=amount,
              limit=check.limit, limit_from=check.source, given_so_far=check.given,
              year_total=check.year_total)  # fmt: skip
    if check.over:
        _remind_approvers(gift)
    else:
        account_figures_changed(account_ids=[account.pk])
    return gift


# --- decisions -----------------------------------------------------------------------------


def _locked(gift: Gift) -> Gift:
    contact_id = Gift.objects.values_list("contact_id", flat=True).get(pk=gift.pk)
    contact_qs_select_for_update().get(pk=contact_id)  # as gift_record and the concessions
    return (
        Gift.objects.select_for_update(of=("self",))
        .select_related("contact", "account", "requested_by")
        .get(pk=gift.pk)
    )


def _require_pending(gift: Gift, expected_version: int | None) -> None:
    if gift.status != GiftStatus.PENDING:
        raise ApplicationError(
            _("This gift has already been decided (%(status)s).")
            % {"status": gift.get_status_display()},
            extra={"code": "already_decided", "status": gift.status},
        )
    if expected_version is not None and int(expected_version) != gift.version:
        raise ConflictError(
            _("Someone else changed this gift while you were looking at it. Reload and try again."),
            extra={"code": "stale_version", "current_version": gift.version},
        )


def _decide_checks(actor: User, gift: Gift, expected_version: int | None) -> None:
    if not actor.has_role(*APPROVER_ROLES):
        raise _denied(_("Gifts over the limit are approved by executives and administrators."))
    if expected_version is None:
        raise ValidationError(
            {"version": [_("Reload the gift: a decision needs the version you saw.")]}
        )
    _require_pending(gift, expected_version)
    if not gift_may_decide(actor, gift):
        raise _denied(_("You cannot decide a gift you recorded yourself."), code="own_gift")


def _close(gift: Gift, actor: User, status: str, note: str, now: dt.datetime) -> None:
    gift.status, gift.decided_by, gift.decided_at = status, actor, now
    gift.decision_note = (note or "").strip()[:300]
    gift.version += 1
    gift.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "version",
                             "updated_at"])  # fmt: skip
    # the approvers' reminders of it are done with
    Reminder.objects.filter(key=f"gift:{gift.pk}", kind=ReminderKind.GIFT_APPROVAL,
                            read_at__isnull=True).update(read_at=now)  # fmt: skip


@transaction.atomic
def gift_approve(*, actor: User, gift: Gift, expected_version: int | None, note: str = "") -> Gift:
    """Approve a gift over the limit (its value then counts against the limit and in the
    account's cost to serve)."""
    gift = _locked(gift)
    _decide_checks(actor, gift, expected_version)
    now = timezone.now()
    check = gift_check(contact=gift.contact, value=gift.value, given_on=gift.given_on,
                       account=gift.account, exclude=gift.pk)  # fmt: skip
    _close(gift, actor, GiftStatus.APPROVED, note, now)
    log_event(obj=gift, action="gift_approved", actor=actor, note=gift.decision_note,
              limit=check.limit, year_total=check.year_total)  # fmt: skip
    account_figures_changed(account_ids=[gift.account_id])
    return gift


@transaction.atomic
def gift_reject(*, actor: User, gift: Gift, note: str, expected_version: int | None) -> Gift:
    """Reject a gift over the limit, saying why."""
    gift = _locked(gift)
    _decide_checks(actor, gift, expected_version)
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the gift is rejected.")]})
    _close(gift, actor, GiftStatus.REJECTED, note, timezone.now())
    log_event(obj=gift, action="gift_rejected", actor=actor, note=gift.decision_note)
    return gift


@transaction.atomic
def gift_cancel(
    *, actor: User, gift: Gift, expected_version: int | None = None, note: str = ""
) -> Gift:
    """The recorder withdraws a gift that still waits for approval."""
    gift = _locked(gift)
    if gift.requested_by_id != actor.pk:
        raise _denied(_("Only who recorded the gift can cancel it."), code="not_recorder")
    _require_pending(gift, expected_version)
    gift.status = GiftStatus.CANCELLED
    gift.decision_note = (note or "").strip()[:300]
    gift.version += 1
    gift.save(update_fields=["status", "decision_note", "version", "updated_at"])
    Reminder.objects.filter(key=f"gift:{gift.pk}", kind=ReminderKind.GIFT_APPROVAL,
                            read_at__isnull=True).update(read_at=timezone.now())  # fmt: skip
    log_event(obj=gift, action="gift_cancelled", actor=actor, note=gift.decision_note)
    return gift
