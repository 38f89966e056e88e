"""Reads of the tier history (who moved up or down the pyramid, why, by whom), scoped like
the metrics: a change's reason carries profit figures, so only for those who may see orders,
and for the accounts they see."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Case, CharField, F, IntegerField, QuerySet, Value, When

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, user_can_any
from keycare.users.models import User

from .filters import TierChangeFilterSet
from .models import AccountMetric, TierChange, TierOverride

#: The pyramid from the bottom: a change to a higher rank moves the account up ("" = none).
TIER_RANK = {"": 0, "lead": 1, "iron": 2, "gold": 3, "platinum": 4}


def _rank(field: str) -> Case:
    return Case(*[When(**{field: tier}, then=Value(rank)) for tier, rank in TIER_RANK.items()],
                default=Value(0), output_field=IntegerField())  # fmt: skip


def _direction() -> Case:
    return Case(
        When(to_rank__gt=F("from_rank"), then=Value("up")),
        When(to_rank__lt=F("from_rank"), then=Value("down")),
        default=Value(""),
        output_field=CharField(),
    )


def tier_change_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[TierChange]:
    """The tier changes the actor may see, newest first, each annotated with `direction`
    ("up", "down" or "" for a change within the same rank) and joined to its account and
    actor; narrowed by TierChangeFilterSet (invalid filter input is a ValidationError)."""
    qs = (
        restrict(TierChange.objects.all(), actor, "view")
        .annotate(from_rank=_rank("from_tier"), to_rank=_rank("to_tier"))
        .annotate(direction=_direction())
        .select_related("account", "actor")
    )
    return filter_queryset(TierChangeFilterSet, filters, qs).order_by("-at", "-id")


def account_tier_summary(*, actor: User, account: Account, changes: int = 5) -> dict | None:
    """The account's tier for its 360 page: whether it is set by hand (the override, with
    who and why) and its last `changes` tier changes; None for those who may not see the
    metrics. Two queries; `choices` are the tiers one may set by hand."""
    if not user_can_any(actor, "view", AccountMetric):
        return None
    override = TierOverride.objects.filter(account=account).select_related("actor").first()
    # narrowed directly, not through the FilterSet: its form costs more than the query
    history = list(tier_change_list(actor=actor).filter(account=account)[:changes])
    return {"tier": account.tier, "override": override, "changes": history,
            "choices": AccountTier.choices}  # fmt: skip
