"""Writes of the engagement programme data: the reference customers (参观考察: consent,
availability, a yearly cap), the style matrix guidance (风格矩阵, administrators, both
languages) and the engagement settings (administrators). Each edit carries the version it
was read at; a stale one is refused (409) and changes nothing; each writes the engagement
log in the same transaction."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.choices import DecisionStyle
from keycare.accounts.lock_objects import account_qs_select_for_update
from keycare.accounts.models import Account
from keycare.core.services import check_version, require_role
from keycare.users.choices import Role
from keycare.users.models import User

from ..log import log_event
from ..models import EngagementSettings, ReferenceCustomer, StyleGuidance
from .activities import contact_at_account, may_act_on_account, permission_denied

SETTINGS_FIELDS = ("gift_limit_per_contact", "key_person_days", "dormant_days",
                   "reference_visits_per_year")  # fmt: skip
GUIDANCE_FIELDS = ("summary", "summary_zh", "tips", "tips_zh")
REFERENCE_FIELDS = ("consent", "consent_on", "consent_by", "available", "availability",
                    "showcase", "max_visits_per_year")  # fmt: skip


def _unknown(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")


def _changes(instance, data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, list]:
    """Set the given fields; return {field: [from, to]} of those that changed."""
    changed = {}
    for name in fields:
        if name not in data:
            continue
        before, after = getattr(instance, name), data[name]
        if before != after:
            setattr(instance, name, after)
            changed[name] = [before, after]
    return changed


def _full_clean(instance, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None


# --- settings ------------------------------------------------------------------------------


def engagement_settings_get() -> EngagementSettings:
    """The one settings row (pk 1), created with the defaults when missing."""
    row, _created = EngagementSettings.objects.get_or_create(pk=1)
    return row


@transaction.atomic
def engagement_settings_update(
    *, actor: User | None, data: Mapping[str, Any], lock_version: int | None
) -> EngagementSettings:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    _unknown(data, SETTINGS_FIELDS)
    engagement_settings_get()
    row = EngagementSettings.objects.select_for_update().get(pk=1)
    check_version(instance=row, expected=lock_version, field="lock_version")
    changed = _changes(row, data, SETTINGS_FIELDS)
    if not changed:
        return row
    _full_clean(row)
    row.lock_version += 1
    row.updated_by, row.updated_at = actor, timezone.now()
    row.save()
    log_event(obj=row, action="settings_changed", actor=actor, account=None, changes=changed)
    return row


# --- style guidance ------------------------------------------------------------------------


@transaction.atomic
def style_guidance_update(
    *, actor: User | None, style: str, data: Mapping[str, Any], lock_version: int | None
) -> StyleGuidance:
    """Change the guidance of one decision style, in both languages (a summary in each is
    required; tips in one language need them in the other)."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    _unknown(data, GUIDANCE_FIELDS)
    if style not in DecisionStyle.values:
        raise ValidationError({"style": [_("Choose a decision style from the list.")]})
    from ..selectors.programme import _default_guidance

    seed = _default_guidance(style)
    StyleGuidance.objects.get_or_create(
        style=style, defaults={f: getattr(seed, f) for f in GUIDANCE_FIELDS}
    )
    row = StyleGuidance.objects.select_for_update().get(style=style)
    check_version(instance=row, expected=lock_version, field="lock_version")
    cleaned = {k: str(v or "").strip() for k, v in data.items()}
    changed = _changes(row, cleaned, GUIDANCE_FIELDS)
    errors = {}
    for name in ("summary", "summary_zh"):
        if not getattr(row, name):
            errors[name] = [_("Give the summary in both languages.")]
    if bool(row.tips) != bool(row.tips_zh):
        errors["tips_zh" if row.tips else "tips"] = [_("Give the tips in both languages.")]
    if errors:
        raise ValidationError(errors)
    if not changed:
        return row
    _full_clean(row)
    row.lock_version += 1
    row.updated_by, row.updated_at = actor, timezone.now()
    row.save()
    log_event(obj=row, action="style_guidance_changed", actor=actor, account=None,
              style=style, changes=changed)  # fmt: skip
    return row


# --- reference customers -------------------------------------------------------------------


@transaction.atomic
def reference_customer_set(
    *, actor: User | None, account: Account, data: Mapping[str, Any], version: int | None = None
) -> ReferenceCustomer:
    """Mark an account as a reference customer, or change its consent, availability,
    showcase and yearly cap (`version`: the lock_version read; a stale one is a 409).
    Withdrawn consent clears who gave it and when; given consent without a date is dated
    today. Administrators and those who may change the account."""
    _unknown(data, REFERENCE_FIELDS)
    if actor is not None and not may_act_on_account(actor, ReferenceCustomer, "change", account):
        raise permission_denied()
    account = account_qs_select_for_update().get(pk=account.pk)
    reference = ReferenceCustomer.objects.select_for_update().filter(account=account).first()
    created = reference is None
    if created:
        reference = ReferenceCustomer(account=account)
    elif version is None:  # a change needs the version read: else no stale check
        raise ValidationError({"lock_version": [
            _("The edit version is missing: reload the page and make the change again.")
        ]})  # fmt: skip
    else:
        check_version(instance=reference, expected=version, field="lock_version")
    values = dict(data)
    errors: dict[str, list[str]] = {}
    if "consent_by" in values and values["consent_by"] not in (None, ""):
        contact = contact_at_account(values["consent_by"], account)
        if contact is None:
            errors["consent_by"] = [_("Choose a person of this account.")]
        values["consent_by"] = contact
    elif "consent_by" in values:
        values["consent_by"] = None
    if "max_visits_per_year" in values and values["max_visits_per_year"] in ("",):
        values["max_visits_per_year"] = None
    if errors:
        raise ValidationError(errors)
    changed = _changes(reference, values, REFERENCE_FIELDS)
    if reference.consent and reference.consent_on is None:
        reference.consent_on = timezone.localdate()
        changed["consent_on"] = [None, reference.consent_on]
    if not reference.consent and (reference.consent_on or reference.consent_by_id):
        changed["consent_on"] = [reference.consent_on, None]
        reference.consent_on, reference.consent_by = None, None
    if not created and not changed:
        return reference
    _full_clean(reference, exclude=["account"])
    if not created:
        reference.lock_version += 1
    reference.updated_by, reference.updated_at = actor, timezone.now()
    reference.save()
    log_event(obj=reference, action="reference_set" if created else "reference_changed",
              actor=actor, changes=changed)  # fmt: skip
    return reference
