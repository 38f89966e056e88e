"""Per-account value metrics for a period, recomputed set-based.

Each source is read with one grouped query (orders, the previous period's orders, the
first and last order, tickets with their cost to serve, CSAT ratings, NPS answers), never a
loop over order lines. Group figures ("group" scope) add every account's own figures to all
its ancestors through the materialised path, a loop over accounts (not over lines). The
period's rows are replaced in one transaction."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from keycare.accounts.models import Account, Order

from .models import AccountMetric, MetricScope

BATCH = 5000
ZERO = Decimal("0")


def trailing_twelve_months(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The default period: the twelve months up to and including today."""
    end = today or timezone.localdate()
    try:
        start = end.replace(year=end.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28) + dt.timedelta(days=1)
    return start, end


@dataclass
class _Figures:
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    discounts: Decimal = ZERO
    orders: int = 0
    largest: Decimal = ZERO
    previous: Decimal = ZERO
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
        for name in ("revenue", "cost", "discounts", "orders", "previous", "tickets",
                     "cost_to_serve", "rated", "satisfied", "answers", "promoters",
                     "detractors"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.largest = max(self.largest, other.largest)
        if other.first and (self.first is None or other.first < self.first):
            self.first = other.first
        if other.last and (self.last is None or other.last > self.last):
            self.last = other.last


def _own_figures(start: dt.date, end: dt.date) -> dict[int, _Figures]:
    from keycare.service.models import NpsSurvey, Ticket, TicketRating

    figures: dict[int, _Figures] = {}

    def get(account_id: int) -> _Figures:
        return figures.setdefault(account_id, _Figures())

    days = (end - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=days - 1)
    in_period = Order.objects.filter(order_date__gte=start, order_date__lte=end)
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
    previous = Order.objects.filter(order_date__gte=prev_start, order_date__lte=prev_end)
    for r in previous.values("account_id").annotate(revenue=Sum("total_net")).order_by():
        get(r["account_id"]).previous = r["revenue"] or ZERO
    lifetime = Order.objects.filter(order_date__lte=end)
    for r in (
        lifetime.values("account_id")
        .annotate(first=Min("order_date"), last=Max("order_date"))
        .order_by()
    ):
        f = get(r["account_id"])
        f.first, f.last = r["first"], r["last"]
    tickets = Ticket.objects.filter(opened_at__date__gte=start, opened_at__date__lte=end)
    for r in (
        tickets.values("account_id")
        .annotate(n=Count("id"), cost=Sum(F("labour_cost") + F("parts_cost") + F("travel_cost")))
        .order_by()
    ):
        f = get(r["account_id"])
        f.tickets, f.cost_to_serve = r["n"], r["cost"] or ZERO
    ratings = TicketRating.objects.filter(
        rated_at__date__gte=start, rated_at__date__lte=end, score__isnull=False
    )
    for r in (
        ratings.values("ticket__account_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(score__gte=4)))
        .order_by()
    ):
        f = get(r["ticket__account_id"])
        f.rated, f.satisfied = r["n"], r["ok"]
    answers = NpsSurvey.objects.filter(
        responded_at__date__gte=start, responded_at__date__lte=end, score__isnull=False
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
    return figures


def _row(
    account_id: int, scope: str, f: _Figures, start: dt.date, end: dt.date, now
) -> AccountMetric:
    months = Decimal((end - start).days + 1) / Decimal("30.4375")
    q2 = Decimal("0.01")
    return AccountMetric(
        account_id=account_id, scope=scope, period_start=start, period_end=end,
        revenue=f.revenue, cost_of_goods=f.cost, discounts=f.discounts,
        gross_profit=f.revenue - f.cost, orders=f.orders,
        order_frequency=(Decimal(f.orders) / months).quantize(Decimal("0.001")),
        largest_order=f.largest,
        average_order=(f.revenue / f.orders).quantize(q2) if f.orders else ZERO,
        first_order=f.first, last_order=f.last,
        recency_days=(end - f.last).days if f.last else None,
        tenure_days=(end - f.first).days if f.first else None,
        previous_revenue=f.previous,
        growth=((f.revenue - f.previous) * 100 / f.previous).quantize(q2) if f.previous > 0 else None,
        cost_to_serve=f.cost_to_serve, tickets=f.tickets,
        csat=(Decimal(100 * f.satisfied) / f.rated).quantize(q2) if f.rated else None,
        nps=(Decimal(100 * (f.promoters - f.detractors)) / f.answers).quantize(q2) if f.answers else None,
        computed_at=now,
    )  # fmt: skip


def metrics_recompute(
    *, start: dt.date | None = None, end: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:  # fmt: skip
    """Recompute every account's metrics for the period (own and group scope), replacing the
    period's rows in one transaction. Returns the number of rows written."""
    if start is None or end is None:
        start, end = trailing_twelve_months()
    if start > end:
        raise ValueError("the period ends before it starts")
    own = _own_figures(start, end)
    accounts = list(Account.objects.values_list("pk", "path"))
    group: dict[int, _Figures] = {pk: _Figures() for pk, _path in accounts}
    for pk, path in accounts:
        figures = own.get(pk)
        if figures is None:
            continue
        ancestors = [int(x) for x in path.strip("/").split("/") if x] if path else [pk]
        for ancestor in ancestors:
            if ancestor in group:
                group[ancestor].add(figures)
    now = timezone.now()
    rows = [
        _row(pk, scope, figures, start, end, now)
        for pk, _path in accounts
        for scope, figures in (
            (MetricScope.OWN, own.get(pk) or _Figures()),
            (MetricScope.GROUP, group[pk]),
        )
    ]
    with transaction.atomic():
        AccountMetric.objects.filter(period_start=start, period_end=end).delete()
        for i in range(0, len(rows), BATCH):
            AccountMetric.objects.bulk_create(rows[i : i + BATCH])
            if progress:
                progress(min(i + BATCH, len(rows)), len(rows))
    return len(rows)


def metrics_ensure(*, start: dt.date, end: dt.date) -> bool:
    """Compute the period when it never has been (a period asked for the first time);
    whether it computed."""
    if AccountMetric.objects.filter(period_start=start, period_end=end).exists():
        return False
    metrics_recompute(start=start, end=end)
    return True
