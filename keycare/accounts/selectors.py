"""Reads of the accounts app, scoped to the acting user and joined for what pages show."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, scope_filter
from keycare.users.models import User

from . import scopes
from .filters import (
    AccountFilterSet,
    ContactFilterSet,
    EquipmentFilterSet,
    OrderFilterSet,
    ProductFilterSet,
)
from .models import (
    Account,
    AccountTeamMember,
    Contact,
    ContactAccount,
    Equipment,
    Order,
    OrderLine,
    PersonalDataAccess,
    Product,
)

# --- accounts -------------------------------------------------------------------------------


def account_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Account]:
    qs = restrict(Account.objects.all(), actor, "view")
    qs = filter_queryset(AccountFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("name", "id")
    # Branch counts come from a subquery, not a join, so paging and ordering stay cheap.
    branches = (
        Account.objects.filter(parent=OuterRef("pk"))
        .order_by()
        .values("parent")
        .annotate(c=Count("pk"))
        .values("c")
    )
    return qs.select_related("owner", "parent").annotate(
        branch_count=Coalesce(Subquery(branches), Value(0))
    )


def account_get(*, actor: User, pk: int) -> Account:
    """Raises Account.DoesNotExist when the account is missing or not visible to the actor."""
    return (
        restrict(Account.objects.all(), actor, "view")
        .select_related("owner", "parent")
        .prefetch_related(
            Prefetch("team", queryset=AccountTeamMember.objects.select_related("user")),
            "tags",
        )
        .get(pk=pk)
    )


def account_subtree(*, actor: User, account: Account) -> list[Account]:
    """The account's branches and plants at any depth that the actor may see, in tree order."""
    return list(
        restrict(Account.objects.filter(path__startswith=account.path), actor, "view")
        .exclude(pk=account.pk)
        .order_by("path")
        .only(
            "id", "name", "short_name", "province", "city", "status", "path", "depth", "parent_id"
        )
    )


def account_ancestors(*, actor: User, account: Account) -> list[Account]:
    ids = [int(x) for x in account.path.strip("/").split("/")[:-1] if x]
    if not ids:
        return []
    found = {a.pk: a for a in restrict(Account.objects.filter(pk__in=ids), actor, "view")}
    return [found[i] for i in ids if i in found]


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


# --- contacts -------------------------------------------------------------------------------


def contact_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Contact]:
    qs = restrict(Contact.objects.all(), actor, "view")
    qs = filter_queryset(ContactFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("name", "id")
    return qs.select_related("account", "reports_to")


def contact_get(*, actor: User, pk: int) -> Contact:
    return (
        restrict(Contact.objects.all(), actor, "view")
        .select_related(
            "account", "reports_to", "introduced_by_contact", "introduced_by_user", "user"
        )
        .prefetch_related(
            Prefetch("memberships", queryset=ContactAccount.objects.select_related("account"))
        )
        .get(pk=pk)
    )


def account_contacts(*, actor: User, account: Account) -> list[Contact]:
    """People at this account: its own contacts and those who also belong to it, each with
    `role_here` (their buying role at this account)."""
    links = {
        link.contact_id: link
        for link in ContactAccount.objects.filter(account=account).only(
            "contact_id", "buying_role", "title"
        )
    }
    contacts = list(
        restrict(Contact.objects.filter(Q(account=account) | Q(pk__in=list(links))), actor, "view")
        .select_related("account", "user")
        .order_by("-is_active", "-influence", "name")
    )
    for contact in contacts:
        link = links.get(contact.pk)
        contact.role_here = (
            link.buying_role if link and contact.account_id != account.pk else contact.buying_role
        )
        contact.role_here_display = dict(Contact._meta.get_field("buying_role").choices)[
            contact.role_here
        ]
    return contacts


def may_see_personal_data(*, actor: User, contact: Contact) -> bool:
    return scopes.may_see_personal_data(actor, contact)


def personal_data_log(*, actor: User, contact: Contact) -> QuerySet[PersonalDataAccess]:
    return restrict(
        PersonalDataAccess.objects.filter(contact=contact), actor, "view"
    ).select_related("user")


@dataclass
class RelationshipMap:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    #: coach paths to highlight, each a list of node ids ("c12", "u3") from the first person
    #: to ask to the decision maker (engagement coverage computes them)
    paths: list[list[str]] = field(default_factory=list)


def account_relationship_map(
    *, contacts: list[Contact], account: Account, paths: list[list[str]] | None = None
) -> RelationshipMap:
    """The org chart and coach paths as a graph: contacts (decision makers and coaches
    highlighted), reports-to and introduced-by edges, and colleagues who introduced someone.
    Built from the contacts already loaded for the page (no extra query)."""
    graph = RelationshipMap(paths=[list(p) for p in paths or []])
    ids = {c.pk for c in contacts}
    for c in contacts:
        graph.nodes.append(
            {
                "id": f"c{c.pk}",
                "name": c.name,
                "title": c.title,
                "role": c.role_here,
                "role_label": str(c.role_here_display),
                "style": c.decision_style,
                "influence": c.influence,
                "active": c.is_active,
            }
        )
    users: dict[int, str] = {}
    for c in contacts:
        if c.reports_to_id in ids:
            graph.links.append(
                {"source": f"c{c.pk}", "target": f"c{c.reports_to_id}", "kind": "reports_to"}
            )
        if c.introduced_by_contact_id in ids:
            graph.links.append(
                {
                    "source": f"c{c.introduced_by_contact_id}",
                    "target": f"c{c.pk}",
                    "kind": "introduced",
                }
            )
        if c.introduced_by_user_id:
            users[c.introduced_by_user_id] = ""
            graph.links.append(
                {
                    "source": f"u{c.introduced_by_user_id}",
                    "target": f"c{c.pk}",
                    "kind": "introduced",
                }
            )
    if users:
        for user in User.objects.filter(pk__in=list(users)):
            graph.nodes.append(
                {
                    "id": f"u{user.pk}",
                    "name": str(user),
                    "title": "",
                    "role": "colleague",
                    "role_label": "",
                    "style": "",
                    "influence": 3,
                    "active": True,
                }
            )
    return graph


# --- equipment, orders, products ---------------------------------------------------------------


def equipment_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Equipment]:
    qs = restrict(Equipment.objects.all(), actor, "view")
    qs = filter_queryset(EquipmentFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("account_id", "serial_number", "id")
    return qs.select_related("product", "account", "parent")


def equipment_get(*, actor: User, pk: int) -> Equipment:
    return (
        restrict(Equipment.objects.all(), actor, "view")
        .select_related("product", "account", "parent")
        .get(pk=pk)
    )


def order_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Order]:
    qs = restrict(Order.objects.all(), actor, "view")
    qs = filter_queryset(OrderFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("-order_date", "-id")
    return qs.select_related("account")


def account_recent_orders(*, actor: User, account: Account, limit: int = 10) -> list[Order]:
    """The latest orders of the account and its branches."""
    qs = restrict(Order.objects.filter(account__path__startswith=account.path), actor, "view")
    return list(qs.select_related("account").order_by("-order_date", "-id")[:limit])


def order_get(*, actor: User, pk: int) -> Order:
    return (
        restrict(Order.objects.all(), actor, "view")
        .select_related("account")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.select_related("product").order_by("line_number"),
            )
        )
        .get(pk=pk)
    )


def product_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Product]:
    qs = restrict(Product.objects.all(), actor, "view")
    qs = filter_queryset(ProductFilterSet, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("code")
    return qs.select_related("product_line")


def product_get(*, actor: User, pk: int) -> Product:
    return restrict(Product.objects.all(), actor, "view").select_related("product_line").get(pk=pk)


@dataclass
class RevenueSummary:
    months: list[str]
    revenue: list[float]
    gross_profit: list[float]
    total_revenue: Decimal
    total_profit: Decimal
    order_count: int


def account_revenue_by_month(
    *, actor: User, account: Account, months: int = 24
) -> RevenueSummary | None:
    """Monthly revenue and gross profit of the account and all its branches (roll-up), in one
    grouped query. None when the actor may not see orders."""
    verdict = scope_filter(Order, actor, "view")
    if verdict is False:
        return None
    today = timezone.localdate()
    start = dt.date(today.year - (months // 12), today.month, 1)
    qs = restrict(
        Order.objects.filter(account__path__startswith=account.path, order_date__gte=start),
        actor,
        "view",
    )
    rows = (
        qs.annotate(month=TruncMonth("order_date"))
        .values("month")
        .annotate(net=Sum("total_net"), cost=Sum("total_cost"), n=Count("id"))
        .order_by("month")
    )
    by_month = {
        r["month"].strftime("%Y-%m") if hasattr(r["month"], "strftime") else str(r["month"])[:7]: r
        for r in rows
    }
    labels, revenue, profit = [], [], []
    y, m = start.year, start.month
    while (y, m) <= (today.year, today.month):
        key = f"{y:04d}-{m:02d}"
        row = by_month.get(key)
        labels.append(key)
        revenue.append(float(row["net"] or 0) if row else 0.0)
        profit.append(float((row["net"] or 0) - (row["cost"] or 0)) if row else 0.0)
        m += 1
        if m > 12:
            y, m = y + 1, 1
    total_rev = sum((r["net"] or Decimal(0) for r in by_month.values()), Decimal(0))
    total_cost = sum((r["cost"] or Decimal(0) for r in by_month.values()), Decimal(0))
    return RevenueSummary(
        months=labels,
        revenue=revenue,
        gross_profit=profit,
        total_revenue=total_rev,
        total_profit=total_rev - total_cost,
        order_count=sum(r["n"] for r in by_month.values()),
    )
