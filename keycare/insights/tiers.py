"""Tiers drive service: the customer pyramid's tier is written to the account (which selects
its SLA policy, see keycare.service.services.sla_policy_for), every change is recorded with
its reason, and a tier set by hand stays until the override is lifted."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account
from keycare.accounts.services.accounts import account_update
from keycare.core.exceptions import PermissionDeniedError
from keycare.users.choices import Role
from keycare.users.models import User

from . import calculations as calc
from .metrics import metrics_ensure
from .models import AccountMetric, MetricScope, TierChange, TierOverride


def _require_admin(actor: User | None) -> None:
    if actor is not None and not actor.has_role(Role.ADMINISTRATOR):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


@transaction.atomic
def tiers_apply(
    *, actor: User | None, start: dt.date, end: dt.date,
    splits: tuple[float, float] = calc.DEFAULT_PYRAMID,
) -> dict[str, int]:  # fmt: skip
    """Write the period's pyramid tier (profit after the cost to serve) to every account
    without a manual override; one TierChange per account whose tier changes."""
    _require_admin(actor)
    metrics_ensure(start=start, end=end)
    rows = AccountMetric.objects.filter(
        period_start=start, period_end=end, scope=MetricScope.OWN, account__status="active"
    ).values_list("account_id", "gross_profit", "cost_to_serve")
    profit = {pk: gp - cts for pk, gp, cts in rows}
    tiers = calc.pyramid(profit, splits=splits)
    locked = set(TierOverride.objects.values_list("account_id", flat=True))
    current = dict(Account.objects.filter(pk__in=list(tiers)).values_list("pk", "tier"))
    changed = kept = overridden = 0
    for pk, tier in tiers.items():
        if pk in locked:
            overridden += 1
            continue
        if current.get(pk) == tier:
            kept += 1
            continue
        account_update(actor=None, account=Account(pk=pk), data={"tier": tier})
        TierChange.objects.create(
            account_id=pk, from_tier=current.get(pk) or "", to_tier=tier,
            source=TierChange.Source.PYRAMID, actor=actor,
            reason=_("Customer pyramid %(start)s to %(end)s: profit after cost to serve %(profit)s")
            % {"start": start.isoformat(), "end": end.isoformat(), "profit": profit[pk]},
        )  # fmt: skip
        changed += 1
    return {"changed": changed, "kept": kept, "overridden": overridden}


@transaction.atomic
def tier_override_set(
    *, actor: User | None, account: Account, tier: str, reason: str
) -> TierChange:
    """Set the tier by hand (with a reason); the pyramid leaves it alone from now on."""
    _require_admin(actor)
    if tier not in AccountTier.values:
        raise ValidationError({"tier": _("Choose a tier.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the tier is set by hand.")})
    before = Account.objects.get(pk=account.pk).tier
    account_update(actor=None, account=account, data={"tier": tier})
    TierOverride.objects.update_or_create(
        account=account, defaults={"tier": tier, "reason": reason.strip()[:300], "actor": actor}
    )
    return TierChange.objects.create(
        account=account, from_tier=before, to_tier=tier, source=TierChange.Source.MANUAL,
        reason=reason.strip()[:300], actor=actor,
    )  # fmt: skip


@transaction.atomic
def tier_override_clear(*, actor: User | None, account: Account) -> None:
    """Hand the account's tier back to the pyramid (from its next application)."""
    _require_admin(actor)
    TierOverride.objects.filter(account=account).delete()
