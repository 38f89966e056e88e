"""Concession policies (优惠政策): how far concessions may go per tier and account type, and
the approval chain's thresholds. Administrators maintain them; everyone who may request a
concession reads them."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.core.exceptions import ApplicationError
from keycare.core.scoping import restrict
from keycare.core.services import check_version, require_role
from keycare.users.choices import Role
from keycare.users.models import User

from .models import ConcessionPolicy, ProfitabilitySettings

#: The fields an administrator sets on a policy.
POLICY_FIELDS = (
    "name", "tier", "account_type", "max_discount_pct", "min_line_margin_pct",
    "min_period_margin_pct", "min_contribution_margin_pct", "max_free_service_hours",
    "max_free_visits", "max_goodwill_parts_value", "max_extended_warranty_months",
    "max_penalty_waiver_value", "gift_limit_per_contact", "is_active",
)  # fmt: skip
LIMIT_FIELDS = POLICY_FIELDS[3:-1]
SETTINGS_FIELDS = ("service_manager_above", "executive_above", "service_manager_share",
                   "executive_share")  # fmt: skip


def _default_stays() -> str:
    return _(
        "The default policy (any tier, any type) stays active: without it, accounts "
        "without a policy of their own would have no limits."
    )


def _is_default(policy: ConcessionPolicy) -> bool:
    return policy.tier == "" and policy.account_type == ""


def policy_list(*, actor: User) -> QuerySet[ConcessionPolicy]:
    return restrict(ConcessionPolicy.objects.all(), actor, "view").order_by(
        "tier", "account_type", "id"
    )


def policy_for(*, tier: str, account_type: str, policies: list[ConcessionPolicy] | None = None
               ) -> ConcessionPolicy | None:  # fmt: skip
    """The policy that applies to a tier and type: the most specific active one (tier and
    type, then tier, then type, then the default with both empty)."""
    if policies is None:
        policies = list(ConcessionPolicy.objects.filter(is_active=True))
    by_key = {(p.tier, p.account_type): p for p in policies if p.is_active}
    for key in ((tier, account_type), (tier, ""), ("", account_type), ("", "")):
        if (
            key in by_key
            and (key[0] == "" or key[0] == tier)
            and (key[1] == "" or key[1] == account_type)
        ):
            return by_key[key]
    return None


def policy_for_account(account: Account) -> ConcessionPolicy | None:
    return policy_for(tier=account.tier or "", account_type=account.account_type or "")


def policy_limits(policy: ConcessionPolicy | None) -> dict[str, Any]:
    return {name: getattr(policy, name) if policy else None for name in LIMIT_FIELDS}


def _conflict(exc: IntegrityError) -> ApplicationError:
    return ApplicationError(
        _("A policy for this tier and account type already exists."),
        extra={
            "code": "policy_exists",
            "fields": {"tier": [_("A policy for this tier and account type already exists.")]},
        },
    )


def _save(policy: ConcessionPolicy) -> None:
    """Save; a policy for the same tier and type saved meanwhile is a clear error."""
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError as exc:
        raise _conflict(exc) from exc


@transaction.atomic
def policy_create(*, actor: User | None, data: Mapping[str, Any]) -> ConcessionPolicy:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    unknown = set(data) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown policy fields {sorted(unknown)}")
    policy = ConcessionPolicy(**data)
    policy.full_clean()
    _save(policy)
    return policy


@transaction.atomic
def policy_update(
    *, actor: User | None, policy: ConcessionPolicy, data: Mapping[str, Any],
    lock_version: int | None,
) -> ConcessionPolicy:  # fmt: skip
    """Change a policy; an edit based on a stale `lock_version` is refused. Concessions
    already decided keep the policy check they were decided on."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    policy = ConcessionPolicy.objects.select_for_update().get(pk=policy.pk)
    check_version(instance=policy, expected=lock_version, field="lock_version")
    was_default = _is_default(policy)
    for field in POLICY_FIELDS:
        if field in data:
            setattr(policy, field, data[field])
    if was_default and not (_is_default(policy) and policy.is_active):
        raise ValidationError({"is_active": [_default_stays()]})
    policy.full_clean()
    policy.lock_version += 1
    _save(policy)
    return policy


@transaction.atomic
def policy_delete(*, actor: User | None, policy: ConcessionPolicy) -> None:
    """Remove a policy (the concessions decided on it keep their record of the check)."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    policy = ConcessionPolicy.objects.select_for_update().get(pk=policy.pk)
    if _is_default(policy):
        raise ValidationError({"tier": [_default_stays()]})
    if policy.concessions.exists():  # the record of what it decided stays
        raise ValidationError({"is_active": [
            _("Requests were decided on this policy: deactivate it instead of removing it.")
        ]})  # fmt: skip
    policy.delete()


def profitability_settings_get() -> ProfitabilitySettings:
    return ProfitabilitySettings.current()


@transaction.atomic
def profitability_settings_update(
    *, actor: User | None, data: Mapping[str, Any], lock_version: int | None
) -> ProfitabilitySettings:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    profitability_settings_get()
    row = ProfitabilitySettings.objects.select_for_update().get(pk=1)
    check_version(instance=row, expected=lock_version, field="lock_version")
    for field in SETTINGS_FIELDS:
        if field in data:
            setattr(row, field, data[field])
    row.full_clean()
    row.lock_version += 1
    row.save()
    return row
