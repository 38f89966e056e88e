"""Tiers drive service: the tier from the customer pyramid or from the value scorecard's
grade (the administrators choose) is written to the account, which selects its SLA policy
(see keycare.service.services.sla_policy_for); every change is recorded with its reason, and
a tier set by hand stays until the override is lifted."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account
from keycare.accounts.services.accounts import account_update, accounts_tier_set
from keycare.core.services import require_role
from keycare.users.choices import Role
from keycare.users.models import User

from . import calculations as calc
from .metrics import metrics_ensure
from .models import AccountMetric, MetricScope, TierChange, TierOverride

BATCH = 2000


def _require_admin(actor: User | None) -> None:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))


GRADE_TIERS = {"A": "platinum", "B": "gold", "C": "iron"}


#: The reasons the system writes (translated when read: TierChange.reason_text).
PYRAMID_REASON = gettext_noop(
    "Customer pyramid %(start)s to %(end)s: profit after cost to serve %(profit)s"
)
SCORECARD_REASON = gettext_noop(
    "Value scorecard v%(version)s, %(start)s to %(end)s: score %(score)s, grade %(grade)s"
)
LIFTED_REASON = gettext_noop("Set by hand no longer: the tier source decides again.")
UNSCORED_REASON = gettext_noop(
    "Value scorecard: no order from %(start)s to %(end)s, so no score (iron)"
)


def _pyramid_tiers(start, end, splits) -> dict[int, tuple[str, str, dict]]:
    rows = AccountMetric.objects.filter(
        period_start=start, period_end=end, scope=MetricScope.OWN, account__status="active"
    ).values_list("account_id", "gross_profit", "cost_to_serve", "orders")
    rows = list(rows)
    profit = {pk: gp - cts for pk, gp, cts, _orders in rows}
    ranked = {pk for pk, _gp, _cts, orders in rows if orders}  # no orders: never platinum
    return {
        pk: (tier, PYRAMID_REASON,
             {"start": start.isoformat(), "end": end.isoformat(), "profit": str(profit[pk])})
        for pk, tier in calc.pyramid(profit, splits=splits, ranked=ranked).items()
    }  # fmt: skip


def _scorecard_tiers(start, end) -> dict[int, tuple[str, str, dict]]:
    from .models import AccountScore
    from .scorecard import scorecard_active, scores_ensure

    scorecard = scorecard_active()
    scores_ensure(scorecard=scorecard, start=start, end=end)
    rows = AccountScore.objects.filter(
        scorecard=scorecard, scope="own", period_start=start, period_end=end,
        account__status="active",
    ).values_list("account_id", "score", "grade")  # fmt: skip
    tiers = {
        pk: (GRADE_TIERS[grade], SCORECARD_REASON,
             {"version": scorecard.version, "start": start.isoformat(), "end": end.isoformat(),
              "score": str(score), "grade": grade})
        for pk, score, grade in rows
    }  # fmt: skip
    # active accounts without a score (no order in the period) are not kept at an old tier
    active = Account.objects.filter(status="active").values_list("pk", flat=True)
    unscored = [pk for pk in active if pk not in tiers]
    for pk in unscored:
        tiers[pk] = ("iron", UNSCORED_REASON, {"start": start.isoformat(), "end": end.isoformat()})
    return tiers


@transaction.atomic
def tiers_apply(
    *, actor: User | None, start: dt.date, end: dt.date,
    splits: tuple[float, float] | None = None, source: str | None = None,
) -> dict[str, int]:  # fmt: skip
    """Write the period's tier to every active account without a manual override, from the
    source the administrators chose (InsightsSettings.tier_source): the customer pyramid
    (profit after the cost to serve, at the settings' splits unless `splits` is given) or
    the active value scorecard's grade (A → platinum, B → gold, C → iron). One TierChange
    with the reason per account whose tier changes; the tier selects the SLA policy."""
    from .lock_objects import tiers_lock
    from .models import InsightsSettings

    _require_admin(actor)
    if start > timezone.localdate():
        raise ValidationError(
            {
                "period_from": [
                    _(
                        "Tiers come from a period that has begun: choose one that starts today or earlier."
                    )
                ]
            }
        )
    tiers_lock()  # overrides set meanwhile wait, so none is overwritten
    settings = InsightsSettings.current()
    source = source or settings.tier_source
    metrics_ensure(start=start, end=end)
    if source == InsightsSettings.TierSource.SCORECARD:
        tiers = _scorecard_tiers(start, end)
    else:
        if splits is None:
            splits = (float(settings.platinum), float(settings.gold))
        tiers = _pyramid_tiers(start, end, splits)
    locked = set(TierOverride.objects.values_list("account_id", flat=True))
    current = dict(Account.objects.filter(status="active").values_list("pk", "tier"))
    kept = overridden = 0
    moves: dict[str, list[int]] = {}
    changes = []
    now = timezone.now()
    kind = TierChange.Source.SCORECARD if source == "scorecard" else TierChange.Source.PYRAMID
    for pk, (tier, key, params) in tiers.items():
        if pk in locked:
            overridden += 1
            continue
        if current.get(pk) == tier:
            kept += 1
            continue
        moves.setdefault(tier, []).append(pk)
        changes.append(TierChange(account_id=pk, from_tier=current.get(pk) or "", to_tier=tier,
                                  reason=(_(key) % params)[:300], reason_key=key,
                                  reason_params=params, source=kind, actor=actor, at=now))  # fmt: skip
    # set-based: the first application may move every account
    for tier, ids in moves.items():
        accounts_tier_set(account_ids=ids, tier=tier)
    TierChange.objects.bulk_create(changes, batch_size=BATCH)
    return {"changed": len(changes), "kept": kept, "overridden": overridden}


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
    from .lock_objects import tiers_lock

    tiers_lock()
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
def tier_override_clear(*, actor: User | None, account: Account, reason: str = "") -> None:
    """Hand the account's tier back to the tier source (from its next application); the
    lifting is recorded as a tier change (the tier itself stays until then)."""
    from .lock_objects import tiers_lock

    _require_admin(actor)
    tiers_lock()
    deleted, _rows = TierOverride.objects.filter(account=account).delete()
    if not deleted:
        return
    tier = Account.objects.get(pk=account.pk).tier
    TierChange.objects.create(
        account=account, from_tier=tier, to_tier=tier, source=TierChange.Source.MANUAL,
        actor=actor,
        reason=(reason.strip() or _(LIFTED_REASON))[:300],
        reason_key="" if reason.strip() else LIFTED_REASON,
    )  # fmt: skip
