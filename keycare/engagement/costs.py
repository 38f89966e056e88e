"""The engagement costs in each account's cost to serve (the P&L's engagement driver):
activities done in the period (their own cost: travel, a dinner, a site visit), gifts
approved with their date in the period, and business events held in the period, whose cost
is shared equally among the people who came (each share to the account they came for).
An event nobody was recorded as attending is not put on any account: it stays a company
cost, shown on the event.

An event's cost is split in cents, not divided in the database: SQLite keeps a whole
amount (1000.00) as the integer 1000, so `cost / attendees` there is an integer division
(333 for three), and even an exact division leaves fractions of a cent that rounding per
account loses or invents. Each account gets cost × its attendees ÷ all attendees, rounded
down to the cent, and the cents left over go to the largest remainders (then the lowest
account id): the shares add up to the event's cost exactly, on every database, whichever
accounts are asked for. Three grouped queries, whatever the data size."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum

from keycare.profitability.choices import PnlDriver
from keycare.profitability.pnl import cost_source

from .choices import ActivityStatus, EventStatus, GiftStatus, InvitationStatus
from .models import Activity, EventInvitation, Gift

CENT = Decimal("0.01")


def _in(qs: QuerySet, accounts, field: str = "account_id") -> QuerySet:
    if accounts is None:
        return qs
    return qs.filter(**{f"{field}__in": _ids(accounts)})


def _ids(accounts):
    return accounts.values("pk") if isinstance(accounts, QuerySet) else list(accounts)


def split_cents(total: Decimal, weights: dict[int, int]) -> dict[int, Decimal]:
    """`total` (to the cent) shared in proportion to `weights` ({key: count}): each key
    gets its share rounded down to the cent, and the cents left go to the largest
    remainders, ties to the lowest key. The shares add up to `total` exactly."""
    n = sum(weights.values())
    if n <= 0:
        return {}
    cents = int((Decimal(total) / CENT).to_integral_value())
    base = {key: cents * k // n for key, k in weights.items()}
    left = cents - sum(base.values())
    by_remainder = sorted(weights, key=lambda key: (-(cents * weights[key] % n), key))
    for key in by_remainder[:left]:
        base[key] += 1
    return {key: Decimal(c) * CENT for key, c in base.items()}


def _split(rows) -> dict[int, dict[int, Decimal]]:
    weights: dict[int, dict[int, int]] = defaultdict(dict)
    costs: dict[int, Decimal] = {}
    for row in rows:
        weights[row["event_id"]][row["account_id"]] = row["n"]
        costs[row["event_id"]] = Decimal(row["event__cost"] or 0)
    return {event: split_cents(costs[event], w) for event, w in weights.items()}


def _attended(qs: QuerySet) -> QuerySet:
    return (
        qs.filter(status=InvitationStatus.ATTENDED)
        .values("event_id", "event__cost", "account_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


def event_account_shares(event_ids: Iterable[int]) -> dict[int, dict[int, Decimal]]:
    """{event id: {account id: its share of the event's cost}} for these events (held or
    not: the event page shows what the split is or would be), from one grouped query."""
    ids = list(event_ids)
    if not ids:
        return {}
    return _split(_attended(EventInvitation.objects.filter(event_id__in=ids)))


def event_shares(*, start: dt.date, end: dt.date, accounts=None) -> dict[int, Decimal]:
    """{account id: its shares of the events held in the period}, from one grouped query.
    Each event is split over everyone who came (whatever `accounts` holds), so an
    account's share does not depend on which accounts are asked for."""
    held = EventInvitation.objects.filter(
        status=InvitationStatus.ATTENDED,
        event__status=EventStatus.HELD,
        event__starts_at__date__gte=start,
        event__starts_at__date__lte=end,
        event__cost__gt=0,
    )
    rows = _attended(held)
    if accounts is not None:
        rows = rows.filter(event_id__in=_in(held, accounts).values("event_id")).annotate(
            wanted=ExpressionWrapper(
                Q(account_id__in=_ids(accounts)),
                output_field=BooleanField(),
            )
        )
    rows = list(rows)
    wanted = {r["account_id"] for r in rows if r.get("wanted", True)}
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for shares in _split(rows).values():
        for account_id, share in shares.items():
            if account_id in wanted:
                totals[account_id] += share
    return totals


@cost_source(PnlDriver.ENGAGEMENT)
def engagement_costs(start: dt.date, end: dt.date, accounts) -> dict[int, Decimal]:
    costs: dict[int, Decimal] = defaultdict(Decimal)
    activities = _in(
        Activity.objects.filter(
            status=ActivityStatus.DONE, done_at__date__gte=start, done_at__date__lte=end
        ),
        accounts,
    )
    for pk, total in (
        activities.values("account_id")
        .annotate(s=Sum("cost"))
        .order_by()
        .values_list("account_id", "s")
    ):
        costs[pk] += Decimal(total or 0)
    gifts = _in(
        Gift.objects.filter(status=GiftStatus.APPROVED, given_on__gte=start, given_on__lte=end),
        accounts,
    )
    for pk, total in (
        gifts.values("account_id")
        .annotate(s=Sum("value"))
        .order_by()
        .values_list("account_id", "s")
    ):
        costs[pk] += Decimal(total or 0)
    for pk, total in event_shares(start=start, end=end, accounts=accounts).items():
        costs[pk] += total
    return {pk: value.quantize(CENT) for pk, value in costs.items() if value}
