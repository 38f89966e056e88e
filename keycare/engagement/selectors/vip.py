"""Reads of the VIP club: its levels, its members with their effective level (the level set
by hand, else the level of the account's tier), worked out in SQL so the lists filter and
order by it, and who may come to a member event."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account, ContactAccount
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.users.models import User

from ..filters_events import VipMemberFilterSet
from ..models import VipLevel, VipMember

#: Tiers that give no VIP level of themselves: a lead is not a customer yet.
NO_LEVEL_TIERS = ("", AccountTier.LEAD)


def _by_tier(field: str, output) -> Subquery:
    levels = VipLevel.objects.filter(tier=OuterRef("account__tier")).exclude(
        tier__in=NO_LEVEL_TIERS
    )
    return Subquery(levels.values(field)[:1], output_field=output)


def with_effective_level(qs: QuerySet[VipMember]) -> QuerySet[VipMember]:
    """Adds `effective_level_id`, `effective_rank`, `effective_name` and `effective_name_zh`:
    the override's, else those of the level whose tier is the account's (NULL for an account
    of no tier or a lead, without an override)."""
    return qs.annotate(
        effective_level_id=Coalesce(
            "level_override_id", _by_tier("pk", IntegerField()), output_field=IntegerField()
        ),
        effective_rank=Coalesce(
            "level_override__rank", _by_tier("rank", IntegerField()), output_field=IntegerField()
        ),
        effective_name=Coalesce(
            "level_override__name", _by_tier("name", CharField()), output_field=CharField()
        ),
        effective_name_zh=Coalesce(
            "level_override__name_zh", _by_tier("name_zh", CharField()), output_field=CharField()
        ),
    )


def vip_level_for_tier(tier: str | None) -> VipLevel | None:
    """The level an account of this tier gives its members (none for a lead or no tier)."""
    if (tier or "") in NO_LEVEL_TIERS:
        return None
    return VipLevel.objects.filter(tier=tier).first()


def vip_level_list(*, actor: User) -> QuerySet[VipLevel]:
    return restrict(VipLevel.objects.all(), actor, "view").order_by("rank")


def vip_member_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[VipMember]:
    """The members the actor sees (those of the accounts they see), with their effective
    level; filters: q, account, level (the effective one), is_active, overridden."""
    qs = restrict(VipMember.objects.all(), actor, "view").select_related(
        "contact", "account", "level_override"
    )
    return filter_queryset(VipMemberFilterSet, filters, with_effective_level(qs))


def vip_member_get(*, actor: User, pk: int) -> VipMember:
    return vip_member_list(actor=actor).get(pk=pk)


def vip_level_member_counts(*, actor: User) -> dict[int, int]:
    """{level id: active members the actor sees at that effective level}, one grouped query."""
    qs = with_effective_level(restrict(VipMember.objects.filter(is_active=True), actor, "view"))
    return {
        row["effective_level_id"]: row["n"]
        for row in qs.values("effective_level_id").annotate(n=Count("pk")).order_by()
        if row["effective_level_id"] is not None
    }


def vip_eligible_contact_ids(*, contact_ids: Iterable[int], level: VipLevel) -> set[int]:
    """Of these contacts, those who may come to an event for members of `level`: active
    members whose effective level is `level` or higher (rank 1 is the highest)."""
    ids = list(contact_ids)
    if not ids:
        return set()
    members = with_effective_level(VipMember.objects.filter(contact_id__in=ids, is_active=True))
    return set(members.filter(effective_rank__lte=level.rank).values_list("contact_id", flat=True))


def contact_accounts(contact) -> QuerySet[Account]:
    """The accounts a contact belongs to: the main one and the others."""
    others = ContactAccount.objects.filter(contact=contact).values("account_id")
    return Account.objects.filter(Q(pk=contact.account_id) | Q(pk__in=others))
