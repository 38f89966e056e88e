"""The account P&L (客户损益) with its cost to serve by driver, read set-based: one grouped
query each over orders, tickets, visits and concessions for a whole period, whatever the
number of accounts.

Where each figure comes from (a period holds what happened in it):
- revenue, discounts, rebates and cost of goods: the orders dated in the period;
- service work: the tickets opened in the period. Their labour (engineer hours at the rate
  of the day of the work, recorded on each visit), parts and travel, each completed visit
  at the field-visit rate and each ticket at the ticket-handling rate of its day. Work on
  tickets under warranty is the warranty driver; the labour, parts, travel and visits of
  billable tickets are billed to the customer and recovered, so they are not a cost to serve
  (their handling is);
- concessions: those granted with an effective date in the period (a discount is not
  counted here: it reaches revenue with its order);
- engagement: the costs other apps register with ``cost_source`` (events, gifts, visits).
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, Order
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.filtering import exact_values, period_from_filters, trailing_twelve_months
from keycare.core.scoping import restrict, scope_filter
from keycare.service.choices import Coverage
from keycare.service.models import FieldVisit, Ticket
from keycare.users.models import User

from .calculations import ZERO, Pnl, loss_reasons, whale_curve
from .choices import ConcessionKind, ConcessionStatus, CostDriver, PnlDriver
from .models import Concession, CostRate
from .rates import day_start, rate_case

MONEY = DecimalField(max_digits=18, decimal_places=2)
#: How a P&L can be rolled up (`group_by`).
GROUPINGS = ("account", "group", "tier", "account_type", "province", "owner")
ACCOUNT_FILTERS = {"province": 30, "industry": 60, "tier": 20, "account_type": 20}

CostSource = Callable[[dt.date, dt.date, "QuerySet | list[int] | None"], Mapping[int, Decimal]]
_COST_SOURCES: dict[str, list[CostSource]] = {}


def cost_source(driver: str) -> Callable[[CostSource], CostSource]:
    """Register a source of cost to serve under a driver (e.g. the engagement app's events
    and gifts): called with the period and the accounts (a queryset of ids, a list of ids, or
    None for all), it returns {account id: cost} from one grouped query."""
    if driver not in PnlDriver.values:
        raise ValueError(f"unknown driver {driver!r}")

    def register(func: CostSource) -> CostSource:
        if func not in _COST_SOURCES.setdefault(driver, []):
            _COST_SOURCES[driver].append(func)
        return func

    return register


#: Granted concessions whose cost reaches the P&L another way, so they are not counted twice:
#: a discount lowers revenue with its order; an extended warranty's work is warranty work when
#: it happens; free service or goodwill parts on a ticket that is not billed are already in
#: that ticket's labour, visits and parts (on a billable ticket they are what is not billed).
COUNTED_ELSEWHERE = Q(kind__in=(ConcessionKind.DISCOUNT, ConcessionKind.EXTENDED_WARRANTY)) | (
    Q(kind__in=(ConcessionKind.FREE_SERVICE, ConcessionKind.GOODWILL_PARTS), ticket__isnull=False)
    & ~Q(ticket__coverage=Coverage.BILLABLE)
)


def _cents(value) -> Decimal:
    """A sum to the cent (SQLite returns rate × count sums with float noise)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _sum(expression, **extra) -> Coalesce:
    return Coalesce(Sum(expression, output_field=MONEY, **extra), Value(ZERO, output_field=MONEY))


def _in(qs: QuerySet, accounts, field: str = "account_id") -> QuerySet:
    if accounts is None:
        return qs
    if isinstance(accounts, QuerySet):
        return qs.filter(**{f"{field}__in": accounts.values("pk")})
    return qs.filter(**{f"{field}__in": list(accounts)})


def pnl_compute(
    *, start: dt.date, end: dt.date, accounts: "QuerySet | Iterable[int] | None" = None
) -> dict[int, Pnl]:
    """Every account's own P&L for the period (accounts: a queryset, ids, or None for all);
    accounts with nothing in the period are absent."""
    if accounts is not None and not isinstance(accounts, QuerySet):
        accounts = sorted(set(accounts))
    rows: dict[int, Pnl] = {}

    def get(pk: int) -> Pnl:
        p = rows.get(pk)
        if p is None:
            p = rows[pk] = Pnl()
        return p

    orders = _in(Order.objects.filter(order_date__gte=start, order_date__lte=end), accounts)
    for r in orders.values("account_id").annotate(
        list_value=_sum("total_list"), revenue=_sum("total_net"), discounts=_sum("total_discount"),
        rebates=_sum("total_rebate"), cost=_sum("total_cost"), n=Count("id"),
    ).order_by():  # fmt: skip
        p = get(r["account_id"])
        p.list_value = _cents(r["list_value"] + r["rebates"])  # rebate lines: negative list value
        p.discounts, p.rebates, p.revenue = (
            _cents(r["discounts"]),
            _cents(r["rebates"]),
            _cents(r["revenue"]),
        )
        p.cost_of_goods, p.orders = _cents(r["cost"]), r["n"]

    rates = list(CostRate.objects.all())
    warranty = Q(coverage=Coverage.WARRANTY)
    billable = Q(coverage=Coverage.BILLABLE)
    work = ~warranty & ~billable
    since, until = day_start(start), day_start(end + dt.timedelta(days=1))
    handling = rate_case(CostDriver.TICKET, "opened_at", rates)
    tickets = _in(Ticket.objects.filter(opened_at__gte=since, opened_at__lt=until), accounts)
    for r in tickets.values("account_id").annotate(
        n=Count("id"),
        labour=_sum("labour_cost", filter=work), parts=_sum("parts_cost", filter=work),
        travel=_sum("travel_cost", filter=work), handling=_sum(handling, filter=~warranty),
        warranty=_sum(F("labour_cost") + F("parts_cost") + F("travel_cost") + handling,
                      filter=warranty),
    ).order_by():  # fmt: skip
        p = get(r["account_id"])
        p.tickets = r["n"]
        d = p.drivers
        d[PnlDriver.SERVICE_LABOUR] += _cents(r["labour"]) + _cents(r["handling"])
        d[PnlDriver.PARTS] += _cents(r["parts"])
        d[PnlDriver.TRAVEL] += _cents(r["travel"])
        d[PnlDriver.WARRANTY] += _cents(r["warranty"])

    overhead = rate_case(CostDriver.FIELD_VISIT, "checked_out_at", rates)
    visits = _in(
        FieldVisit.objects.filter(
            status=FieldVisit.Status.DONE,
            ticket__opened_at__gte=since, ticket__opened_at__lt=until,
        ),
        accounts, "ticket__account_id",
    )  # fmt: skip
    for r in visits.values("ticket__account_id").annotate(
        n=Count("id"),
        visits=_sum(overhead, filter=~Q(ticket__coverage__in=(Coverage.WARRANTY, Coverage.BILLABLE))),
        warranty=_sum(overhead, filter=Q(ticket__coverage=Coverage.WARRANTY)),
    ).order_by():  # fmt: skip
        p = get(r["ticket__account_id"])
        p.visits = r["n"]
        p.drivers[PnlDriver.FIELD_VISITS] += _cents(r["visits"])
        p.drivers[PnlDriver.WARRANTY] += _cents(r["warranty"])

    granted = _in(
        Concession.objects.filter(
            status=ConcessionStatus.GRANTED, effective_date__gte=start, effective_date__lte=end
        ).exclude(COUNTED_ELSEWHERE),
        accounts,
    )
    for r in granted.values("account_id").annotate(s=_sum("amount")).order_by():
        get(r["account_id"]).drivers[PnlDriver.CONCESSIONS] += _cents(r["s"])

    for driver, sources in _COST_SOURCES.items():
        for source in sources:
            for pk, value in source(start, end, accounts).items():
                get(pk).drivers[driver] += _cents(value)
    return rows


def costs_to_serve(
    *, start: dt.date, end: dt.date, account_ids: Iterable[int] | None
) -> dict[int, tuple[int, Decimal]]:
    """(tickets, cost to serve) of each account in the period: what the value metrics hold."""
    return {
        pk: (p.tickets, p.cost_to_serve)
        for pk, p in pnl_compute(start=start, end=end, accounts=account_ids).items()
        if p.tickets or p.cost_to_serve
    }


# --- reads for the pages and the API -----------------------------------------------------


def pnl_may_view(actor: User | None) -> bool:
    """Margins and costs are for those who may see orders (not service engineers, not the
    portal), for the accounts they see."""
    return actor is not None and scope_filter(Order, actor, "view") is not False


def require_pnl(actor: User | None) -> None:
    if not pnl_may_view(actor):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


def pnl_period(filters: Mapping[str, Any] | None) -> tuple[dt.date, dt.date]:
    return period_from_filters(filters, default=trailing_twelve_months())


def pnl_account_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """The account filters asked for (region, industry, tier, type), validated."""
    return exact_values(filters, ACCOUNT_FILTERS)


def visible_accounts(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet:
    require_pnl(actor)
    accounts = restrict(Account.objects.all(), actor, "view")
    return accounts.filter(**pnl_account_filters(filters))


def _grouping(filters: Mapping[str, Any] | None) -> str:
    group_by = str((filters or {}).get("group_by") or "account")
    if group_by not in GROUPINGS:
        raise ValidationError({"group_by": [_("Choose how to group the P&L from the list.")]})
    return group_by


def _label(group_by: str, key: Any, info: Mapping) -> str:
    from keycare.accounts.choices import AccountTier, AccountType

    if group_by in ("account", "group", "owner"):
        return info.get("name", "")
    if not key:
        return _("(none)")
    if group_by == "tier":
        return str(AccountTier(key).label) if key in AccountTier.values else key
    if group_by == "account_type":
        return str(AccountType(key).label) if key in AccountType.values else key
    return str(key)


class PnlEntry(NamedTuple):
    key: Any
    label: str
    members: int
    pnl: Pnl
    contribution: Decimal


class PnlRows(Sequence):
    """The report's rows, sorted, built into dicts only when read: a page of 100 rows of a
    P&L over 100,000 accounts builds 100 (an export or a full iteration builds them all)."""

    def __init__(self, entries: list[PnlEntry], *, with_account: bool):
        self.entries, self.with_account = entries, with_account
        self._built: dict[int, dict] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self.entries)))]
        if index < 0:
            index += len(self.entries)
        if not 0 <= index < len(self.entries):
            raise IndexError(index)
        return self._row(index)

    def _row(self, i: int) -> dict:
        row = self._built.get(i)
        if row is None:
            e = self.entries[i]
            row = {"key": e.key, "label": e.label, "accounts": e.members, **e.pnl.as_dict()}
            if self.with_account:
                row["account_id"] = e.key
            row["reasons"] = loss_reasons(e.pnl) if e.contribution < 0 else []
            self._built[i] = row
        return row


def pnl_report(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The period's P&L per account (or per group, tier, type, region or key account
    manager), with totals, sorted by contribution (highest first; `order=asc` for the
    loss-makers first). Rows carry the breakdown by driver and the loss reasons."""
    from keycare.users.models import User as UserModel

    start, end = pnl_period(filters)
    group_by = _grouping(filters)
    ascending = str((filters or {}).get("order") or "") == "asc"
    accounts = visible_accounts(actor=actor, filters=filters if group_by != "group" else {})
    info = {
        a["pk"]: a
        for a in accounts.values(
            "pk", "name", "province", "industry", "tier", "account_type", "owner_id", "path"
        )
    }
    chosen = pnl_account_filters(filters) if group_by == "group" else {}
    own = pnl_compute(start=start, end=end, accounts=accounts)
    groups: dict[Any, Pnl] = {}
    members: dict[Any, int] = {}
    for pk, p in own.items():
        a = info.get(pk)
        if a is None:
            continue
        if group_by == "account":
            groups[pk], members[pk] = p, 1  # an account is its own row: nothing to add up
            continue
        if group_by == "group":
            # the group as the reader sees it: the highest account of the path they may see
            path = [int(x) for x in a["path"].strip("/").split("/") if x] or [pk]
            key = next(x for x in path if x in info)
            if any(info[key][k] != v for k, v in chosen.items()):
                continue  # the region, industry, tier or type of the group's head
        elif group_by == "owner":
            key = a["owner_id"]
        else:
            key = a[group_by]
        group = groups.get(key)
        if group is None:
            group = groups[key] = Pnl()
        group.add(p)
        members[key] = members.get(key, 0) + 1
    labels = {}
    if group_by == "group":
        labels = {pk: {"name": info[pk]["name"]} for pk in groups}
    elif group_by == "owner":
        labels = {pk: {"name": str(u)} for pk, u in
                  ((u.pk, u) for u in UserModel.objects.filter(pk__in=[k for k in groups if k]))}  # fmt: skip
    entries = []
    for key, p in groups.items():
        if not p.active:
            continue
        meta = info.get(key, {}) if group_by == "account" else labels.get(key, {})
        label = _label(group_by, key, meta) if group_by != "owner" or key else _("(no owner)")
        entries.append(PnlEntry(key, label, members[key], p, p.contribution))
    entries.sort(key=lambda e: (e.contribution, str(e.key)), reverse=not ascending)
    total = Pnl()
    for p in groups.values():
        total.add(p)
    rows = PnlRows(entries, with_account=group_by in ("account", "group"))
    return {
        "start": start, "end": end, "group_by": group_by, "rows": rows,
        "total": total.as_dict(), "loss_makers": sum(1 for e in entries if e.contribution < 0),
        "accounts": sum(e.members for e in entries),
    }  # fmt: skip


def _downsample(points: list[dict], limit: int, keep: Iterable[int]) -> list[dict]:
    if len(points) <= limit:
        return points
    step = len(points) / limit
    ranks = {int(i * step) for i in range(limit)} | {len(points) - 1} | {k - 1 for k in keep}
    return [points[i] for i in sorted(ranks) if 0 <= i < len(points)]


def whale_curve_report(
    *, actor: User, filters: Mapping[str, Any] | None = None, max_points: int = 500
) -> dict:
    """The whale curve of the accounts the actor sees (or their groups): cumulative
    contribution from the most to the least profitable, its peak and where it is reached,
    and the accounts that destroy profit with their reasons (largest losses first)."""
    # items(): a QueryDict's values, not the lists `{**querydict}` would copy
    report = pnl_report(actor=actor, filters={**dict((filters or {}).items()), "order": "desc",
                                              "group_by": "group" if str((filters or {}).get("level") or "") == "group" else "account"})  # fmt: skip
    rows: PnlRows = report["rows"]
    by_key = {e.key: e for e in rows.entries}
    curve = whale_curve([(e.key, e.contribution) for e in rows.entries])
    for point in curve["points"]:
        entry = by_key[point["account_id"]]
        point["name"] = entry.label
        point["revenue"] = entry.pnl.revenue
    # the loss-makers come last in the report (highest contribution first): worst first
    losers = [rows[i] for i in range(len(rows) - 1, -1, -1) if rows.entries[i].contribution < 0]
    curve["all_points"] = len(curve["points"])
    curve["points"] = _downsample(curve["points"], max_points, [curve["peak_rank"]])
    curve.update(start=report["start"], end=report["end"], loss_making_accounts=losers,
                 level=report["group_by"])  # fmt: skip
    return curve


def account_pnl(
    *,
    actor: User,
    account: Account,
    filters: Mapping[str, Any] | None = None,
    has_branches: bool | None = None,
) -> dict:
    """One account's P&L for the period: its own, and with its branches (a group).
    `has_branches`: whether the actor sees any branch, when the caller already knows (the
    account 360 page reads the branches anyway), to spare a query."""
    require_pnl(actor)
    start, end = pnl_period(filters)
    visible = restrict(Account.objects.all(), actor, "view")
    subtree = (
        visible.filter(path__startswith=account.path)
        if account.path
        else visible.filter(pk=account.pk)
    )
    # one computation for the account and its branches: its own row is among them
    rows = pnl_compute(start=start, end=end, accounts=subtree)
    own = rows.get(account.pk, Pnl())
    group = Pnl()
    for p in rows.values():
        group.add(p)
    return {
        "start": start, "end": end, "own": own.as_dict(), "group": group.as_dict(),
        "has_branches": subtree.exclude(pk=account.pk).exists()
        if has_branches is None
        else has_branches,
        "reasons": loss_reasons(own) if own.contribution < 0 else [],
    }  # fmt: skip
