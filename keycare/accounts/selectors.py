"""Reads for accounts and contacts, scoped to the acting user and joined for display."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.users.models import User

from .filters import AccountFilterSet
from .models import Account, AccountTeamMember, Contact


def account_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Account]:
    qs = restrict(Account.objects.all(), actor, "view")
    qs = filter_queryset(AccountFilterSet, filters, qs)
    # An aggregate drops Meta.ordering, so order explicitly (stable pagination).
    return (
        qs.select_related("owner", "parent")
        .annotate(branch_count=Count("children", distinct=True))
        .order_by("name", "id")
    )


def account_get(*, actor: User, pk: int) -> Account:
    """Raises Account.DoesNotExist when the account is missing or not visible to the actor."""
    return (
        restrict(Account.objects.all(), actor, "view")
        .select_related("owner", "parent")
        .prefetch_related(
            Prefetch("team", queryset=AccountTeamMember.objects.select_related("user")),
            Prefetch("children", queryset=Account.objects.order_by("name", "id")),
        )
        .get(pk=pk)
    )


def account_contacts(*, actor: User, account: Account) -> QuerySet[Contact]:
    return restrict(Contact.objects.filter(account=account), actor, "view").order_by("name")


def account_counts_by_province(*, actor: User) -> list[dict[str, Any]]:
    """Visible accounts per province, largest first (one grouped query)."""
    return list(
        restrict(Account.objects.all(), actor, "view")
        .exclude(province="")
        .values("province")
        .annotate(n=Count("id"))
        .order_by("-n", "province")
    )


def account_counts_by_status(*, actor: User) -> dict[str, int]:
    rows = (
        restrict(Account.objects.all(), actor, "view")
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}
