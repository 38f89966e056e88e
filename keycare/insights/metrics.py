"""Per-account value metrics for a period, recomputed set-based.

Each source is read with one grouped query (orders, the previous period's orders, the
first and last order, tickets with their cost to serve, CSAT ratings, NPS answers), never a
loop over order lines. Group figures ("group" scope) add every account's own figures to all
its ancestors through the materialised path, a loop over accounts (not over lines).

`metrics_recompute` replaces a whole period in one transaction (on PostgreSQL the rows go
in with COPY). `metrics_refresh` keeps every stored period up to date after a change,
rewriting only the rows the change can move (the changed accounts' own rows and the group
rows of them and their ancestors), from the same grouped queries restricted to the
subtrees concerned. Both take the metrics lock before they read (lock_objects.py)."""

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from keycare.accounts.models import Account, Order
from keycare.core.bulk import bulk_insert_values
from keycare.core.filtering import trailing_twelve_months

from .lock_objects import metrics_lock
from .models import AccountMetric, MetricScope

BATCH = 5000
ZERO = Decimal("0")
#: Past this many rewritten accounts a refresh recomputes the stored periods instead: the
#: full recompute is a few grouped scans, cheaper than long lists of accounts in every query.
REFRESH_LIMIT = 2000
#: ... and past this many accounts in the subtrees whose figures it reads.
REFRESH_READ_LIMIT = 20_000
#: Account ids listed per query of a refresh.
ID_CHUNK = 2000
#: Hierarchy prefixes per query when a refresh looks up the subtrees.
PATH_CHUNK = 50
_VALUE_FIELDS = [
    "revenue", "cost_of_goods", "discounts", "gross_profit", "orders", "order_frequency",
    "largest_order", "average_order", "first_order", "last_order", "recency_days",
    "tenure_days", "previous_revenue", "growth", "year_ago_revenue", "growth_yoy",
    "cost_to_serve", "tickets", "csat", "nps", "computed_at",
]  # fmt: skip


@dataclass
class _Figures:
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    discounts: Decimal = ZERO
    orders: int = 0
    largest: Decimal = ZERO
    previous: Decimal = ZERO
    year_ago: Decimal = ZERO
    first: dt.date | None = None
    last: dt.date | None = None
    tickets: int = 0
    cost_to_serve: Decimal = ZERO
    rated: int = 0
    satisfied: int = 0
    answers: int = 0
    promoters: int = 0
    detractors: int = 0
    touched: bool = field(default=False)

    def add(self, other: "_Figures") -> None:
        # spelled out: this runs once per account and ancestor (getattr/setattr in a loop
        # over the names took a quarter of the recompute's Python time at 100,000 accounts)
        self.revenue += other.revenue
        self.cost += other.cost
        self.discounts += other.discounts
        self.orders += other.orders
        self.previous += other.previous
        self.year_ago += other.year_ago
        self.tickets += other.tickets
        self.cost_to_serve += other.cost_to_serve
        self.rated += other.rated
        self.satisfied += other.satisfied
        self.answers += other.answers
        self.promoters += other.promoters
        self.detractors += other.detractors
        self.largest = max(self.largest, other.largest)
        if other.first and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last and (self.last is None or other.last > self.last):
            self.last = other.last


def _own_figures(
    start: dt.date, end: dt.date, account_ids: Collection[int] | None = None
) -> dict[int, _Figures]:
    """Every account's own figures for the period; with `account_ids`, only theirs: the same
    grouped queries with the ids listed, ID_CHUNK at a time (a bounded statement on every
    database, and an index lookup per account rather than a scan)."""
    from keycare.profitability.pnl import costs_to_serve
    from keycare.service.models import NpsSurvey, TicketRating

    figures: dict[int, _Figures] = {}

    def get(account_id: int) -> _Figures:
        return figures.setdefault(account_id, _Figures())

    def read(chunk: list[int] | None) -> None:
        def scoped(qs: QuerySet, account_field: str = "account_id") -> QuerySet:
            return qs if chunk is None else qs.filter(**{f"{account_field}__in": chunk})

        days = (end - start).days + 1
        prev_end = start - dt.timedelta(days=1)
        prev_start = prev_end - dt.timedelta(days=days - 1)
        in_period = scoped(Order.objects.filter(order_date__gte=start, order_date__lte=end))
        for r in in_period.values("account_id").annotate(
            revenue=Sum("total_net"), cost=Sum("total_cost"), discounts=Sum("total_discount"),
            n=Count("id"), largest=Max("total_net"),
        ).order_by():  # fmt: skip
            f = get(r["account_id"])
            f.revenue, f.cost, f.discounts = (
                r["revenue"] or ZERO,
                r["cost"] or ZERO,
                r["discounts"] or ZERO,
            )
            f.orders, f.largest = r["n"], r["largest"] or ZERO
        previous = scoped(
            Order.objects.filter(order_date__gte=prev_start, order_date__lte=prev_end)
        )
        for r in previous.values("account_id").annotate(revenue=Sum("total_net")).order_by():
            get(r["account_id"]).previous = r["revenue"] or ZERO
        year_ago = scoped(  # year over year: the same dates a year before
            Order.objects.filter(
                order_date__gte=_year_before(start), order_date__lte=_year_before(end)
            )
        )
        for r in year_ago.values("account_id").annotate(revenue=Sum("total_net")).order_by():
            get(r["account_id"]).year_ago = r["revenue"] or ZERO
        lifetime = scoped(Order.objects.filter(order_date__lte=end))
        for r in (
            lifetime.values("account_id")
            .annotate(first=Min("order_date"), last=Max("order_date"))
            .order_by()
        ):
            f = get(r["account_id"])
            f.first, f.last = r["first"], r["last"]
        # the cost to serve by the profitability app's drivers (service work at the
        # activity rates, warranty, concessions granted, engagement)
        for pk, (n, cost) in costs_to_serve(start=start, end=end, account_ids=chunk).items():
            f = get(pk)
            f.tickets, f.cost_to_serve = n, cost
        ratings = scoped(
            TicketRating.objects.filter(
                rated_at__date__gte=start, rated_at__date__lte=end, score__isnull=False
            ),
            "ticket__account_id",
        )
        for r in (
            ratings.values("ticket__account_id")
            .annotate(n=Count("id"), ok=Count("id", filter=Q(score__gte=4)))
            .order_by()
        ):
            f = get(r["ticket__account_id"])
            f.rated, f.satisfied = r["n"], r["ok"]
        answers = scoped(
            NpsSurvey.objects.filter(
                responded_at__date__gte=start, responded_at__date__lte=end, score__isnull=False
            )
        )
        for r in (
            answers.values("account_id")
            .annotate(
                n=Count("id"),
                pro=Count("id", filter=Q(score__gte=9)),
                det=Count("id", filter=Q(score__lte=6)),
            )
            .order_by()
        ):
            f = get(r["account_id"])
            f.answers, f.promoters, f.detractors = r["n"], r["pro"], r["det"]

    if account_ids is None:
        read(None)
    else:
        ids = sorted(set(account_ids))
        for i in range(0, len(ids), ID_CHUNK):
            read(ids[i : i + ID_CHUNK])
    return figures


def _chain(pk: int, path: str) -> list[int]:
    """The account and its ancestors, from the materialised path ("/1/5/9/" → 1, 5, 9)."""
    return [int(x) for x in path.strip("/").split("/") if x] if path else [pk]


def _roll_up(
    own: dict[int, _Figures], members: Iterable[tuple[int, str]], targets: Collection[int]
) -> dict[int, _Figures]:
    """Group figures of the `targets`: the own figures of every member (pk, path) added to
    each of its ancestors that is a target. A loop over accounts, not over lines."""
    group = {pk: _Figures() for pk in targets}
    for pk, path in members:
        figures = own.get(pk)
        if figures is None:
            continue
        for ancestor in _chain(pk, path):
            target = group.get(ancestor)
            if target is not None:
                target.add(figures)
    return group


_COLUMNS = ["account_id", "scope", "period_start", "period_end", *_VALUE_FIELDS]


#: growth % is stored in numeric(10, 2): a tiny previous revenue must not overflow it
GROWTH_LIMIT = Decimal("99999999.99")


def _year_before(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _growth(revenue: Decimal, previous: Decimal) -> Decimal | None:
    """Growth versus the previous period in %, None without previous revenue; clamped to
    what the column holds (from a previous revenue of 0.01 a rise is "huge" either way)."""
    if previous <= 0:
        return None
    growth = ((revenue - previous) * 100 / previous).quantize(Decimal("0.01"))
    return max(-GROWTH_LIMIT, min(GROWTH_LIMIT, growth))


def _values(account_id: int, scope: str, f: _Figures, start: dt.date, end: dt.date, now) -> tuple:
    """One metrics row as values in the order of _COLUMNS."""
    months = Decimal((end - start).days + 1) / Decimal("30.4375")
    q2 = Decimal("0.01")
    as_of = min(end, timezone.localdate(now))  # a period ending in the future: up to today
    return (
        account_id, str(scope), start, end,
        f.revenue, f.cost, f.discounts, f.revenue - f.cost, f.orders,
        (Decimal(f.orders) / months).quantize(Decimal("0.001")),  # order_frequency
        f.largest,
        (f.revenue / f.orders).quantize(q2) if f.orders else ZERO,  # average_order
        f.first, f.last,
        max(0, (as_of - f.last).days) if f.last else None,  # recency_days (an order dated
        max(0, (as_of - f.first).days) if f.first else None,  # later than today counts 0)
        f.previous,
        _growth(f.revenue, f.previous),
        f.year_ago,
        _growth(f.revenue, f.year_ago),
        f.cost_to_serve, f.tickets,
        (Decimal(100 * f.satisfied) / f.rated).quantize(q2) if f.rated else None,  # csat
        (Decimal(100 * (f.promoters - f.detractors)) / f.answers).quantize(q2) if f.answers else None,
        now,  # computed_at
    )  # fmt: skip


def _row(
    account_id: int, scope: str, f: _Figures, start: dt.date, end: dt.date, now
) -> AccountMetric:
    return AccountMetric(**dict(zip(_COLUMNS, _values(account_id, scope, f, start, end, now),
                                    strict=True)))  # fmt: skip


def _insert(rows: Iterable[tuple], total: int, progress: Callable[[int, int], None] | None) -> None:
    """Insert metric rows (tuples in the order of _COLUMNS): COPY on PostgreSQL."""
    bulk_insert_values(AccountMetric, _COLUMNS, rows, total=total, progress=progress)


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    if start is None or end is None:
        start, end = trailing_twelve_months()
    if start > end:
        raise ValueError("the period ends before it starts")
    return start, end


@transaction.atomic
def metrics_recompute(
    *, start: dt.date | None = None, end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:  # fmt: skip
    """Recompute every account's metrics for the period (own and group scope), replacing the
    period's rows in one transaction. Returns the number of rows written."""
    start, end = _period(start, end)
    metrics_lock()  # before reading, so no refresh writes older figures after ours
    own = _own_figures(start, end)
    accounts = list(Account.objects.values_list("pk", "path"))
    group = _roll_up(own, accounts, [pk for pk, _path in accounts])
    now = timezone.now()
    rows = (
        _values(pk, scope, figures, start, end, now)
        for pk, _path in accounts
        for scope, figures in (
            (MetricScope.OWN, own.get(pk) or _Figures()),
            (MetricScope.GROUP, group[pk]),
        )
    )
    AccountMetric.objects.filter(period_start=start, period_end=end).delete()  # one DELETE
    _insert(rows, 2 * len(accounts), progress)
    return 2 * len(accounts)


#: How many periods other than calendar years and trailing twelve months stay stored.
ADHOC_PERIODS_KEPT = 12


def _kept_for_good(start: dt.date, end: dt.date, first_year: int | None = None) -> bool:
    """Trailing-twelve-month periods (pruned by their own rule) and the calendar years from
    the first order's year to this one stay; other years and ranges are kept while recent."""
    calendar_year = (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and (
        start.year == end.year
    )
    if not calendar_year:  # (a calendar year is also a trailing year: it is judged as a year)
        return (start, end) == trailing_twelve_months(end)
    if first_year is None:
        first = Order.objects.aggregate(first=Min("order_date"))["first"]
        first_year = first.year if first else timezone.localdate().year
    return first_year <= start.year <= timezone.localdate().year


def metrics_prune_adhoc(*, keep: int | None = None) -> list[tuple[dt.date, dt.date]]:
    """Keep the `keep` most recently computed periods that someone asked for (any other
    range than a calendar year or a trailing year), dropping older ones with their scores:
    each stored period costs a row per account and scope, and every refresh walks it. A
    dropped range is computed again when asked for. Returns the periods dropped."""
    from .models import AccountScore

    keep = ADHOC_PERIODS_KEPT if keep is None else keep
    first = Order.objects.aggregate(first=Min("order_date"))["first"]
    first_year = first.year if first else timezone.localdate().year
    adhoc = [
        (row["period_start"], row["period_end"], row["first"])
        for row in AccountMetric.objects.values("period_start", "period_end")
        .annotate(first=Min("computed_at")).order_by()
        if not _kept_for_good(row["period_start"], row["period_end"], first_year)
    ]  # fmt: skip
    adhoc.sort(key=lambda p: p[2], reverse=True)
    dropped = [(start, end) for start, end, _first in adhoc[keep:]]
    with transaction.atomic():
        for start, end in dropped:
            AccountMetric.objects.filter(period_start=start, period_end=end).delete()
            AccountScore.objects.filter(period_start=start, period_end=end).delete()
    return dropped


def metrics_ensure(*, start: dt.date, end: dt.date) -> bool:
    """Compute the period when it never has been (a period asked for the first time);
    whether it computed. A new range beyond the kept number drops the oldest computed one
    (`metrics_prune_adhoc`)."""
    if AccountMetric.objects.filter(period_start=start, period_end=end).exists():
        return False
    metrics_recompute(start=start, end=end)
    if not _kept_for_good(start, end):
        metrics_prune_adhoc()
    return True


def metric_periods() -> list[tuple[dt.date, dt.date]]:
    """The stored periods (start, end), oldest first."""
    return list(
        AccountMetric.objects.order_by("period_start", "period_end")
        .values_list("period_start", "period_end")
        .distinct()
    )


def metrics_prune_trailing(*, today: dt.date | None = None) -> list[tuple[dt.date, dt.date]]:
    """Drop the trailing-twelve-months periods of earlier days, with their value scores: the
    tick computes a new one every day, and without pruning the table (and every refresh,
    which walks the stored periods) would grow by one period a day. Calendar years and the
    ranges people asked for are kept. Returns the periods dropped."""
    from .models import AccountScore

    today = today or timezone.localdate()
    stale = [
        (start, end)
        for start, end in metric_periods()
        if end < today and (start, end) == trailing_twelve_months(end)
        and not (start.month == 1 and start.day == 1)
    ]  # fmt: skip
    with transaction.atomic():
        for start, end in stale:
            AccountMetric.objects.filter(period_start=start, period_end=end).delete()
            AccountScore.objects.filter(period_start=start, period_end=end).delete()
    return stale


def _subtree_members(paths: Iterable[str]) -> list[tuple[int, str]]:
    """(pk, path) of every account under (or at) any of the paths: one indexed prefix filter
    per topmost path, PATH_CHUNK of them per query."""
    tops: list[str] = []
    for path in sorted(paths):  # a prefix sorts before every path it covers
        if not tops or not path.startswith(tops[-1]):
            tops.append(path)
    members: list[tuple[int, str]] = []
    for i in range(0, len(tops), PATH_CHUNK):
        condition = Q()
        for path in tops[i : i + PATH_CHUNK]:
            condition |= Q(path__startswith=path)
        members += Account.objects.filter(condition).values_list("pk", "path")
    return members


@transaction.atomic
def metrics_refresh(*, account_ids: Iterable[int] | None) -> int:
    """Bring every stored period up to date after the figures of `account_ids` changed (their
    orders, tickets and their costs, ratings, NPS answers, or their place in the hierarchy;
    None: any account). Rewrites their own rows and the group rows of them and all their
    ancestors — no other row — from the grouped queries of the recompute restricted to the
    accounts under their topmost ancestors, and upserts the rows in one transaction. Ids of
    accounts that are gone are ignored (a caller deleting one passes its ancestors). Past
    REFRESH_LIMIT rewritten accounts, or REFRESH_READ_LIMIT accounts to read, it recomputes
    each stored period in full instead. Idempotent. Returns the number of rows written."""
    metrics_lock()  # before reading: a concurrent writer cannot write older figures last
    periods = metric_periods()
    ids = None if account_ids is None else {int(pk) for pk in account_ids}
    if not periods or ids == set():
        return 0
    if ids is None or len(ids) > REFRESH_LIMIT:
        return _recompute_all(periods)
    paths = dict(Account.objects.filter(pk__in=ids).values_list("pk", "path"))
    group_ids = {ancestor for pk, path in paths.items() for ancestor in _chain(pk, path)}
    if len(group_ids) > REFRESH_LIMIT:
        return _recompute_all(periods)
    group_paths = dict(Account.objects.filter(pk__in=group_ids).values_list("pk", "path"))
    if not group_paths:
        return 0
    # the subtrees of the topmost ancestors hold every account a group row sums
    members = _subtree_members(path for path in group_paths.values() if path)
    members += [(pk, path) for pk, path in group_paths.items() if not path]
    if len(members) > REFRESH_READ_LIMIT:
        return _recompute_all(periods)
    member_ids = [pk for pk, _path in members]
    now = timezone.now()
    rows: list[AccountMetric] = []
    for start, end in periods:
        own = _own_figures(start, end, account_ids=member_ids)
        group = _roll_up(own, members, group_paths)
        rows += [_row(pk, MetricScope.OWN, own.get(pk) or _Figures(), start, end, now)
                 for pk in sorted(paths)]  # fmt: skip
        rows += [_row(pk, MetricScope.GROUP, group[pk], start, end, now) for pk in sorted(group)]
    for i in range(0, len(rows), BATCH):
        AccountMetric.objects.bulk_create(
            rows[i : i + BATCH], update_conflicts=True,
            unique_fields=["account", "scope", "period_start", "period_end"],
            update_fields=_VALUE_FIELDS,
        )  # fmt: skip
    return len(rows)


def _recompute_all(periods: list[tuple[dt.date, dt.date]]) -> int:
    return sum(metrics_recompute(start=start, end=end) for start, end in periods)
