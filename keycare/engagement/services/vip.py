"""The VIP club (商务活动 — VIP 俱乐部): its levels and their benefits, maintained by
administrators, and its members — contacts of the accounts the actor may change.

A member's level is the one whose tier is their account's tier (the customer pyramid of
the Insights issue), unless it is set by hand (`level_override`, with the reason). An
account of no tier or a lead gives no level: such a contact joins only with a level set by
hand. A member is removed by ending the membership (`is_active` off): the record of who was
in the club, and what they were invited to, stays."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account, Contact
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.core.scoping import scope_filter, user_can
from keycare.core.services import check_version
from keycare.users.models import User

from ..log import log_event
from ..models import VipLevel, VipMember
from ..selectors.vip import NO_LEVEL_TIERS, contact_accounts, vip_level_for_tier

LEVEL_FIELDS = ("code", "name", "name_zh", "rank", "tier", "benefits", "benefits_zh")
MEMBER_FIELDS = ("account", "level_override", "override_reason", "joined_on", "is_active", "notes")


def _denied() -> PermissionDeniedError:
    return PermissionDeniedError(
        _("You do not have permission to do this."), extra={"code": "permission_denied"}
    )


def _require_level_admin(actor: User | None, action: str) -> None:
    if scope_filter(VipLevel, actor, action) is not True:
        raise _denied()


def _tier_label(tier: str) -> str:
    return str(AccountTier(tier).label) if tier in AccountTier.values else _("no tier")


# --- levels --------------------------------------------------------------------------------


def _level_save(level: VipLevel) -> None:
    """Validate and save; a rank, code or tier taken meanwhile is a clear error."""
    errors: dict[str, list[str]] = {}
    if level.tier == AccountTier.LEAD:
        errors["tier"] = [_("A lead is not a customer yet: its tier gives no VIP level.")]
    if level.rank is not None and level.rank < 1:
        errors["rank"] = [_("The highest level has rank 1.")]
    try:
        level.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault("tier" if field == "__all__" else field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            level.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"rank": [_("Another level has this rank, code or tier. Reload and try again.")]}
        ) from exc


@transaction.atomic
def vip_level_create(*, actor: User | None, data: Mapping[str, Any]) -> VipLevel:
    _require_level_admin(actor, "add")
    unknown = set(data) - set(LEVEL_FIELDS)
    if unknown:
        raise ValueError(f"unknown VIP level fields {sorted(unknown)}")
    level = VipLevel(**{k: v for k, v in data.items() if v is not None})
    _level_save(level)
    log_event(obj=level, action="vip_level_created", actor=actor, code=level.code)
    return level


@transaction.atomic
def vip_level_update(
    *, actor: User | None, level: VipLevel, data: Mapping[str, Any], lock_version: int | None
) -> VipLevel:
    """Change a level's names, benefits (both languages), rank or tier; an edit based on a
    stale `lock_version` is refused. Members follow the new tier mapping at once."""
    _require_level_admin(actor, "change")
    level = VipLevel.objects.select_for_update().get(pk=level.pk)
    check_version(instance=level, expected=lock_version, field="lock_version")
    changes = {}
    for field in LEVEL_FIELDS:
        if field in data and getattr(level, field) != data[field]:
            changes[field] = [getattr(level, field), data[field]]
            setattr(level, field, data[field])
    if changes:
        level.lock_version += 1
        _level_save(level)
        log_event(obj=level, action="vip_level_updated", actor=actor, changes=changes)
    return level


@transaction.atomic
def vip_level_delete(*, actor: User | None, level: VipLevel) -> None:
    _require_level_admin(actor, "delete")
    level = VipLevel.objects.select_for_update().get(pk=level.pk)
    if VipMember.objects.filter(level_override=level).exists() or level.events.exists():
        raise ValidationError({"code": [_("Members or events use this level: change them first.")]})
    log_event(obj=level, action="vip_level_deleted", actor=actor, code=level.code)
    level.delete()


# --- members -------------------------------------------------------------------------------


def _may_change(actor: User | None, account: Account) -> bool:
    """The member rule (engagement.scopes): those who may change the account."""
    verdict = scope_filter(VipMember, actor, "add")
    if isinstance(verdict, bool):
        return verdict
    return user_can(actor, "change", account)


def _account_of(contact: Contact, account: Account | None) -> Account:
    if account is None:
        return contact.account
    if not contact_accounts(contact).filter(pk=account.pk).exists():
        raise ValidationError({"account": [_("Choose one of this person's accounts.")]})
    return account


def _check_level(member: VipMember, errors: dict) -> None:
    """A member needs a level: set by hand (with the reason), or from the account's tier."""
    if member.level_override_id is None:
        member.override_reason = ""
        if member.is_active and vip_level_for_tier(member.account.tier) is None:
            errors["level_override"] = [
                _("%(account)s gives no VIP level by its tier (%(tier)s): choose the level by "
                  "hand and say why.")
                % {"account": member.account.name, "tier": _tier_label(member.account.tier)}
            ]  # fmt: skip
    elif not (member.override_reason or "").strip():
        errors["override_reason"] = [_("Say why the level is set by hand.")]


def effective_level(member: VipMember) -> VipLevel | None:
    """A member's level: the one set by hand, else the one of the account's tier."""
    if member.level_override_id is not None:
        return member.level_override
    tier = member.account.tier or ""
    return None if tier in NO_LEVEL_TIERS else vip_level_for_tier(tier)


@transaction.atomic
def vip_member_add(
    *, actor: User | None, contact: Contact, account: Account | None = None,
    level_override: VipLevel | None = None, override_reason: str = "",
    joined_on: dt.date | None = None, notes: str = "",
) -> VipMember:  # fmt: skip
    """Add a contact to the club, for their main account unless another of theirs is
    chosen."""
    account = _account_of(contact, account)
    if not _may_change(actor, account):
        raise _denied()
    existing = VipMember.objects.filter(contact=contact).first()
    if existing is not None:
        message = (
            _("%(name)s is already a member of the VIP club.")
            if existing.is_active
            else _("%(name)s was a member before: edit that membership to make it active again.")
        )
        raise ValidationError({"contact": [message % {"name": contact.name}]})
    errors: dict[str, list[str]] = {}
    if not contact.is_active:
        errors["contact"] = [_("%(name)s has left the company.") % {"name": contact.name}]
    member = VipMember(
        contact=contact, account=account, level_override=level_override,
        override_reason=(override_reason or "").strip(), joined_on=joined_on or timezone.localdate(),
        notes=notes or "",
    )  # fmt: skip
    _check_level(member, errors)
    if errors:
        raise ValidationError(errors)
    member.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError as exc:  # added meanwhile
        raise ValidationError(
            {
                "contact": [
                    _("%(name)s is already a member of the VIP club.") % {"name": contact.name}
                ]
            }
        ) from exc
    log_event(obj=member, action="vip_member_added", actor=actor,
              level=level_override.code if level_override else None,
              reason=member.override_reason)  # fmt: skip
    return member


def _locked(member: VipMember) -> VipMember:
    return (
        VipMember.objects.select_for_update(of=("self",))
        .select_related("contact", "account", "level_override")
        .get(pk=member.pk)
    )


@transaction.atomic
def vip_member_update(
    *, actor: User | None, member: VipMember, data: Mapping[str, Any], expected_version: int | None
) -> VipMember:
    """Change a membership: its account (another of the contact's), the level set by hand
    and why, the joining date, active or not, notes. A stale `expected_version` is refused."""
    unknown = set(data) - set(MEMBER_FIELDS)
    if unknown:
        raise ValueError(f"unknown VIP member fields {sorted(unknown)}")
    member = _locked(member)
    if not _may_change(actor, member.account):
        raise _denied()
    check_version(instance=member, expected=expected_version)
    if "account" in data and data["account"] is not None:
        account = _account_of(member.contact, data["account"])
        if account.pk != member.account_id and not _may_change(actor, account):
            raise _denied()
        data = {**data, "account": account}
    changes = {}
    for field in MEMBER_FIELDS:
        if field not in data or (field == "account" and data[field] is None):
            continue
        value = data[field]
        if field in ("override_reason", "notes"):
            value = (value or "").strip()
        if getattr(member, field) != value:
            changes[field] = [getattr(member, field), value]
            setattr(member, field, value)
    errors: dict[str, list[str]] = {}
    if member.is_active and "is_active" in changes and not member.contact.is_active:
        errors["is_active"] = [_("%(name)s has left the company.") % {"name": member.contact.name}]
    _check_level(member, errors)
    if errors:
        raise ValidationError(errors)
    if changes:
        member.full_clean(validate_unique=False)
        member.version += 1
        member.save()
        log_event(obj=member, action="vip_member_updated", actor=actor, changes=changes)
    return member


@transaction.atomic
def vip_member_remove(
    *, actor: User | None, member: VipMember, expected_version: int | None = None
) -> VipMember:
    """End a membership (kept, inactive)."""
    member = _locked(member)
    if not _may_change(actor, member.account):
        raise _denied()
    check_version(instance=member, expected=expected_version)
    if not member.is_active:
        raise ApplicationError(
            _("This membership has already ended."), extra={"code": "already_ended"}
        )
    member.is_active = False
    member.version += 1
    member.save(update_fields=["is_active", "version", "updated_at"])
    log_event(obj=member, action="vip_member_removed", actor=actor)
    return member
