"""Pure functions of profitability (no ORM): the P&L arithmetic, the whale curve, the policy
check of a concession and the routing of its approval chain."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from .choices import LEVEL_ORDER, ApprovalLevel, ConcessionKind, PnlDriver

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")
DRIVERS = [d.value for d in PnlDriver]


@dataclass
class Pnl:
    """One account's (or one group's) P&L for a period.

    list value − discounts − rebates = revenue; revenue − cost of goods = gross profit;
    gross profit − cost to serve (the sum of the drivers) = contribution."""

    list_value: Decimal = ZERO
    discounts: Decimal = ZERO
    rebates: Decimal = ZERO
    revenue: Decimal = ZERO
    cost_of_goods: Decimal = ZERO
    orders: int = 0
    tickets: int = 0
    visits: int = 0
    drivers: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(DRIVERS, ZERO))

    @property
    def gross_profit(self) -> Decimal:
        return self.revenue - self.cost_of_goods

    @property
    def cost_to_serve(self) -> Decimal:
        return sum(self.drivers.values(), ZERO)

    @property
    def contribution(self) -> Decimal:
        return self.gross_profit - self.cost_to_serve

    @property
    def gross_margin(self) -> Decimal | None:
        return percent(self.gross_profit, self.revenue)

    @property
    def contribution_margin(self) -> Decimal | None:
        return percent(self.contribution, self.revenue)

    @property
    def active(self) -> bool:
        return bool(self.revenue or self.cost_of_goods or self.cost_to_serve or self.orders)

    def add(self, other: "Pnl") -> None:
        for name in ("list_value", "discounts", "rebates", "revenue", "cost_of_goods",
                     "orders", "tickets", "visits"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for driver, value in other.drivers.items():
            self.drivers[driver] = self.drivers.get(driver, ZERO) + value

    def as_dict(self) -> dict:
        return {
            "list_value": self.list_value, "discounts": self.discounts, "rebates": self.rebates,
            "revenue": self.revenue, "cost_of_goods": self.cost_of_goods,
            "gross_profit": self.gross_profit, "gross_margin": self.gross_margin,
            "cost_to_serve": self.cost_to_serve, "drivers": dict(self.drivers),
            "contribution": self.contribution, "contribution_margin": self.contribution_margin,
            "orders": self.orders, "tickets": self.tickets, "visits": self.visits,
        }  # fmt: skip


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part ÷ whole in %, to the hundredth (None for no whole)."""
    if not whole:
        return None
    return (HUNDRED * Decimal(part) / Decimal(whole)).quantize(CENT)


def loss_reasons(pnl: Pnl) -> list[dict]:
    """Why an account loses money: sold below cost, and the cost drivers that exceed what its
    gross profit leaves, largest first, each with its share of the cost to serve."""
    reasons = []
    if pnl.gross_profit < 0:
        reasons.append({"code": "below_cost", "value": pnl.gross_profit})
    total = pnl.cost_to_serve
    for driver, value in sorted(pnl.drivers.items(), key=lambda kv: kv[1], reverse=True):
        if value > 0:
            reasons.append({"code": driver, "value": value, "share": percent(value, total)})
    return reasons


def whale_curve(contributions: Sequence[tuple[int, Decimal]]) -> dict:
    """The whale curve: accounts ranked from most to least profitable (by contribution, ties
    by id), cumulative contribution as % of the total. Returns the points (rank, account id,
    contribution, cumulative, cumulative %), the peak (its % and the number of accounts at
    which it is reached: the last account that adds profit) and the total. With a total of
    zero or less the % is not defined (None)."""
    ranked = sorted(contributions, key=lambda item: (-item[1], item[0]))
    total = sum((c for _pk, c in ranked), ZERO)
    points, running = [], ZERO
    peak_value, peak_rank = ZERO, 0
    for rank, (pk, contribution) in enumerate(ranked, start=1):
        running += contribution
        points.append({
            "rank": rank, "account_id": pk, "contribution": contribution, "cumulative": running,
            "cumulative_pct": percent(running, total) if total > 0 else None,
        })  # fmt: skip
        if running > peak_value:
            peak_value, peak_rank = running, rank
    return {
        "points": points,
        "total": total,
        "peak": peak_value,
        "peak_pct": percent(peak_value, total) if total > 0 else None,
        "peak_rank": peak_rank,
        "accounts": len(ranked),
        "loss_makers": sum(1 for _pk, c in ranked if c < 0),
        "destroyed": -sum((c for _pk, c in ranked if c < 0), ZERO),
    }


# --- concessions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Breach:
    """One policy limit a concession exceeds: which, the limit and the value it would reach."""

    code: str
    limit: Decimal
    value: Decimal

    def as_dict(self) -> dict:
        return {"code": self.code, "limit": str(self.limit), "value": str(self.value)}


def discount_value(*, list_amount: Decimal, discount_pct: Decimal) -> Decimal:
    return (Decimal(list_amount) * Decimal(discount_pct) / HUNDRED).quantize(CENT)


def line_margin(*, list_amount: Decimal, discount: Decimal, cost_amount: Decimal) -> Decimal | None:
    """The gross margin (%) of a line sold at list − discount, unrounded (exact boundaries)."""
    net = Decimal(list_amount) - Decimal(discount)
    if net <= 0:
        return None
    return HUNDRED * (net - Decimal(cost_amount)) / net


def _margin(part: Decimal, whole: Decimal) -> Decimal | None:
    return HUNDRED * part / whole if whole else None


def simulate(*, before: Pnl, kind: str, amount: Decimal) -> Pnl:
    """The account's P&L if the concession were granted: a discount lowers revenue (it
    arrives with the order); every other concession adds to the cost to serve."""
    after = Pnl()
    after.add(before)
    if kind == ConcessionKind.DISCOUNT:
        after.discounts += amount
        after.revenue -= amount
    else:
        after.drivers[PnlDriver.CONCESSIONS] += amount
    return after


def evaluate(
    *,
    kind: str,
    has_policy: bool = True,
    amount: Decimal,
    limits: Mapping[str, Decimal | int | None],
    after: Pnl,
    request: Mapping[str, Decimal | int | None],
    granted: Mapping[str, Decimal],
) -> list[Breach]:
    """The policy limits a concession would exceed. `limits` are the policy's (None: no
    limit); `request` holds what is asked (discount_pct, list_amount, cost_amount, hours,
    visits, months); `granted` what the account (or, for a gift, the contact) was already
    granted in the period (hours, visits, goodwill, waiver, gifts). Exactly at a limit is
    within it; one cent over is not. The account-period margin floors are checked on the
    P&L after the concession. Without a policy nothing is within one: the whole chain decides."""
    breaches: list[Breach] = []
    if not has_policy:
        return [Breach("no_policy", ZERO, amount)]

    def over(code: str, limit, value) -> None:
        if limit is not None and value is not None and Decimal(value) > Decimal(limit):
            breaches.append(Breach(code, Decimal(limit), Decimal(value)))

    def under(code: str, floor, value) -> None:
        # compared unrounded; shown rounded down, so "19.99 % below 20 %", never "20 % below 20 %"
        if floor is not None and value is not None and Decimal(value) < Decimal(floor):
            breaches.append(
                Breach(code, Decimal(floor), Decimal(value).quantize(CENT, rounding=ROUND_FLOOR))
            )

    if kind == ConcessionKind.DISCOUNT:
        over("max_discount_pct", limits.get("max_discount_pct"), request.get("discount_pct"))
        margin = line_margin(list_amount=request.get("list_amount") or ZERO, discount=amount,
                             cost_amount=request.get("cost_amount") or ZERO)  # fmt: skip
        under("min_line_margin_pct", limits.get("min_line_margin_pct"),
              margin if margin is not None else Decimal("-100"))  # fmt: skip
    elif kind == ConcessionKind.FREE_SERVICE:
        over("max_free_service_hours", limits.get("max_free_service_hours"),
             granted.get("hours", ZERO) + Decimal(request.get("hours") or 0))  # fmt: skip
        over("max_free_visits", limits.get("max_free_visits"),
             granted.get("visits", ZERO) + Decimal(request.get("visits") or 0))  # fmt: skip
    elif kind == ConcessionKind.GOODWILL_PARTS:
        over("max_goodwill_parts_value", limits.get("max_goodwill_parts_value"),
             granted.get("goodwill", ZERO) + amount)  # fmt: skip
    elif kind == ConcessionKind.EXTENDED_WARRANTY:  # per piece of equipment, like the others a year
        over("max_extended_warranty_months", limits.get("max_extended_warranty_months"),
             granted.get("months", ZERO) + Decimal(request.get("months") or 0))  # fmt: skip
    elif kind == ConcessionKind.SLA_PENALTY_WAIVER:
        over("max_penalty_waiver_value", limits.get("max_penalty_waiver_value"),
             granted.get("waiver", ZERO) + amount)  # fmt: skip
    elif kind == ConcessionKind.GIFT:
        over("gift_limit_per_contact", limits.get("gift_limit_per_contact"),
             granted.get("gifts", ZERO) + amount)  # fmt: skip
    if after.revenue > 0:
        under("min_period_margin_pct", limits.get("min_period_margin_pct"),
              _margin(after.gross_profit, after.revenue))  # fmt: skip
        under("min_contribution_margin_pct", limits.get("min_contribution_margin_pct"),
              _margin(after.contribution, after.revenue))  # fmt: skip
    elif amount > 0 and (limits.get("min_period_margin_pct") is not None
                         or limits.get("min_contribution_margin_pct") is not None):  # fmt: skip
        # no revenue this period: any concession is beyond a margin floor
        floor = limits.get("min_contribution_margin_pct")
        if floor is None:
            floor = limits.get("min_period_margin_pct")
        breaches.append(Breach("no_revenue", Decimal(floor), ZERO))
    return breaches


@dataclass(frozen=True)
class ChainLimits:
    service_manager_above: Decimal
    executive_above: Decimal
    service_manager_share: Decimal
    executive_share: Decimal


def approval_chain(
    *,
    amount: Decimal,
    contribution_before: Decimal,
    contribution_after: Decimal,
    limits: ChainLimits,
    requester_level: str | None,
    colleague_available: bool = True,
    everyone: bool = False,
) -> list[str]:
    """The approval levels a concession beyond its policy needs, lowest first: the key
    account manager always; a service manager as well when it is larger than the service
    manager threshold or share of the account's contribution; an executive as well above
    the executive threshold or share, or when it would leave the account losing money.
    Levels below the requester's own are left out (the request is their endorsement); the
    requester's level stays and is decided by someone else. When no other key account
    manager looks after the account (`colleague_available`), the key account manager's step
    goes to a service manager instead, so someone is there to decide it. `everyone`: every
    level (a request no policy covers)."""
    share = (HUNDRED * amount / contribution_before) if contribution_before > 0 else None
    levels = [ApprovalLevel.KEY_ACCOUNT_MANAGER]
    big = (
        amount > limits.service_manager_above
        or share is None
        or share > limits.service_manager_share
    )
    huge = (
        everyone
        or amount > limits.executive_above
        or share is None
        or share > limits.executive_share
        or contribution_after < 0
    )
    if big or huge:
        levels.append(ApprovalLevel.SERVICE_MANAGER)
    if huge:
        levels.append(ApprovalLevel.EXECUTIVE)
    if requester_level is not None:
        floor = LEVEL_ORDER.index(requester_level)
        levels = [lv for lv in levels if LEVEL_ORDER.index(lv) >= floor] or [requester_level]
    if levels[0] == ApprovalLevel.KEY_ACCOUNT_MANAGER and not colleague_available:
        levels = [ApprovalLevel.SERVICE_MANAGER] + [
            lv for lv in levels[1:] if lv != ApprovalLevel.SERVICE_MANAGER
        ]
    return [str(lv) for lv in levels]


def level_rank(level: str | None) -> int:
    return -1 if level is None else LEVEL_ORDER.index(level)


def highest_level(levels: Iterable[str]) -> str | None:
    ranked = [lv for lv in levels if lv in LEVEL_ORDER]
    return max(ranked, key=LEVEL_ORDER.index) if ranked else None
