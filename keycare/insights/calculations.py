"""The arithmetic of key-account identification, pure (no ORM): Pareto/ABC classes,
concentration (top-N share, Herfindahl–Hirschman index, Gini), rank correlation between two
rankings, the customer pyramid, and the value scorecard's normalisation and grades.
Set-based SQL produces the per-account figures; these functions take them as plain
sequences."""

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Number = int | float | Decimal

#: Default ABC cut-offs: class A holds the accounts up to 80% of the total, B up to 95%.
DEFAULT_CUTOFFS = (80.0, 95.0)
#: Default pyramid split of the profitable accounts by profit rank (Zeithaml, Rust & Lemon):
#: platinum the top 10%, gold the next 20%, iron the rest; lead = negative profit.
DEFAULT_PYRAMID = (10.0, 30.0)


@dataclass(frozen=True)
class ParetoRow:
    key: Hashable
    value: float
    share: float  # % of the total
    cumulative_before: float  # cumulative share (%) of the accounts ranked above
    cumulative: float  # cumulative share (%) including this account
    abc: str


def pareto(
    values: Mapping[Hashable, Number], cutoffs: tuple[float, float] = DEFAULT_CUTOFFS
) -> list[ParetoRow]:
    """Rank accounts by value (largest first, ties by key) and class them A/B/C.

    Boundary rule: the account whose cumulative share first reaches or crosses a cut-off
    still belongs to the higher class, so class A always covers at least the A cut-off and
    the largest account is always A. An account is A while the share *before* it is below
    the A cut-off, B while it is below the B cut-off, else C. Accounts with a value of zero
    or less carry no share and are C."""
    a_cut, b_cut = cutoffs
    if not 0 < a_cut <= b_cut <= 100:
        raise ValueError("cut-offs must satisfy 0 < A ≤ B ≤ 100")
    ranked = sorted(values.items(), key=lambda kv: (-float(kv[1]), str(kv[0])))
    total = sum(float(v) for _k, v in ranked if float(v) > 0)
    rows, running = [], 0.0
    for key, raw in ranked:
        value = float(raw)
        share = 100 * value / total if total and value > 0 else 0.0
        before = running
        running = before + share
        if value <= 0:
            abc = "C"
        elif before < a_cut:
            abc = "A"
        elif before < b_cut:
            abc = "B"
        else:
            abc = "C"
        rows.append(ParetoRow(key, value, share, before, running, abc))
    return rows


def top_share(values: Sequence[Number], fraction: float = 0.2) -> float | None:
    """The % of the total held by the top `fraction` of accounts (at least one account)."""
    ranked = sorted((float(v) for v in values), reverse=True)
    total = sum(v for v in ranked if v > 0)
    if not ranked or total <= 0:
        return None
    n = max(1, round(len(ranked) * fraction))
    return 100 * sum(v for v in ranked[:n] if v > 0) / total


def top_n_share(values: Sequence[Number], n: int) -> float | None:
    ranked = sorted((float(v) for v in values), reverse=True)
    total = sum(v for v in ranked if v > 0)
    if total <= 0:
        return None
    return 100 * sum(v for v in ranked[:n] if v > 0) / total


def hhi(values: Sequence[Number]) -> float | None:
    """Herfindahl–Hirschman index on shares in percent: shares 30/30/20/20 → 2,600; one
    account alone → 10,000. Negative values carry no share."""
    positive = [float(v) for v in values if float(v) > 0]
    total = sum(positive)
    if total <= 0:
        return None
    return sum((100 * v / total) ** 2 for v in positive)


def gini(values: Sequence[Number]) -> float | None:
    """Gini coefficient, G = 2·Σ i·x(i) / (n·Σx) − 1 − 1/n on ascending values (i from 1):
    [0, 0, 0, 10] → 0.75, equal values → 0."""
    xs = sorted(max(float(v), 0.0) for v in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total <= 0:
        return None
    weighted = sum(i * x for i, x in enumerate(xs, start=1))
    return 2 * weighted / (n * total) - 1 - 1 / n


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n (largest first), ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean
        i = j + 1
    return ranks


def spearman(first: Sequence[Number], second: Sequence[Number]) -> float | None:
    """Spearman's rank correlation of two measures of the same accounts (Pearson correlation
    of their ranks, so ties are handled): 1 = the same order, −1 = the reverse."""
    if len(first) != len(second):
        raise ValueError("both rankings must cover the same accounts")
    if len(first) < 2:
        return None
    ra, rb = _ranks([float(v) for v in first]), _ranks([float(v) for v in second])
    n = len(ra)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    if va == 0 or vb == 0:
        return None
    return cov / (va * vb) ** 0.5


def pyramid(
    profits: Mapping[Hashable, Number], splits: tuple[float, float] = DEFAULT_PYRAMID,
    ranked: Collection[Hashable] | None = None,
) -> dict[Hashable, str]:  # fmt: skip
    """The customer pyramid by profitability: accounts with negative profit are lead (they
    cost money); the others are ranked by profit and split at the percentiles: platinum the
    top `splits[0]`%, gold up to `splits[1]`%, iron the rest. At least one profitable account
    is platinum. Ranks are by position, so the split of n accounts is exact: the account at
    position i (from 1) is platinum while i ≤ ceil(n·p/100). With `ranked`, only those
    accounts (the ones that did business in the period) take part in the ranking; any other
    that does not lose money is iron — an account without orders is never platinum."""
    import math

    platinum_pct, gold_pct = splits
    if not 0 < platinum_pct <= gold_pct <= 100:
        raise ValueError("splits must satisfy 0 < platinum ≤ gold ≤ 100")
    tiers: dict[Hashable, str] = {}
    profitable = sorted(
        (
            (k, float(v))
            for k, v in profits.items()
            if float(v) >= 0 and (ranked is None or k in ranked)
        ),
        key=lambda kv: (-kv[1], str(kv[0])),
    )
    n = len(profitable)
    top = max(1, math.ceil(n * platinum_pct / 100)) if n else 0
    gold = max(top, math.ceil(n * gold_pct / 100))
    for position, (key, _profit) in enumerate(profitable, start=1):
        tiers[key] = "platinum" if position <= top else "gold" if position <= gold else "iron"
    for key, value in profits.items():
        if float(value) < 0:
            tiers[key] = "lead"
        elif key not in tiers:
            tiers[key] = "iron"
    return tiers


# --- the value scorecard (客户价值计分卡) -------------------------------------------------

NORMALISATIONS = ("minmax", "percentile", "thresholds", "range")


def normalise(
    values: Mapping[Any, Number | None], *, method: str, higher_is_better: bool = True,
    parameters: Sequence | None = None,
) -> dict[Any, float | None]:  # fmt: skip
    """0–100 points per account for one criterion; a missing value stays None (it earns no
    points, and the explanation says the value is missing).

    - minmax: (v − min) / (max − min) over the accounts present; all equal → 100 each.
    - percentile: the percent rank, 100 · (values below + ½ · other equal values) / (n − 1),
      so ties share a rank; a single account → 100.
    - thresholds: ``[[bound, points], ...]`` with ascending bounds; higher is better: the
      points of the highest bound the value reaches (below all → 0); lower is better: the
      points of the lowest bound the value stays within (above all → 0).
    - range: ``[low, high]``, linear and clamped (a 1–10 judgement: ``[1, 10]``).
    Lower is better turns minmax, percentile and range around (100 − points)."""
    present = {k: float(v) for k, v in values.items() if v is not None}
    result: dict[Any, float | None] = dict.fromkeys(values)
    if not present:
        return result
    if method == "minmax":
        lo, hi = min(present.values()), max(present.values())
        for k, v in present.items():
            points = 100.0 if hi == lo else 100 * (v - lo) / (hi - lo)
            result[k] = points if higher_is_better or hi == lo else 100 - points
    elif method == "percentile":
        ordered = sorted(present.values())
        n = len(ordered)
        for k, v in present.items():
            below = bisect_left(ordered, v)
            equal = bisect_right(ordered, v) - below
            points = 100.0 if n == 1 else 100 * (below + (equal - 1) / 2) / (n - 1)
            result[k] = points if higher_is_better or n == 1 else 100 - points
    elif method == "thresholds":
        steps = [(float(b), float(p)) for b, p in (parameters or [])]
        for k, v in present.items():
            if higher_is_better:
                reached = [p for b, p in steps if v >= b]
                result[k] = reached[-1] if reached else 0.0
            else:
                within = [p for b, p in steps if v <= b]
                result[k] = within[0] if within else 0.0
    elif method == "range":
        low, high = (float(x) for x in (parameters or [0, 100]))
        for k, v in present.items():
            points = 100 * min(max((v - low) / (high - low), 0.0), 1.0)
            result[k] = points if higher_is_better else 100 - points
    else:
        raise ValueError(f"unknown normalisation {method!r}")
    return result


def normalisation_problem(method: str, parameters: Sequence | None) -> str | None:
    """What is wrong with a criterion's parameters (in English, for the services to
    translate by code), or None."""
    if method not in NORMALISATIONS:
        return "method"
    if method == "thresholds":
        try:
            steps = [(float(b), float(p)) for b, p in (parameters or [])]
        except (TypeError, ValueError):
            return "thresholds"
        if not steps or any(not 0 <= p <= 100 for _b, p in steps):
            return "thresholds"
        if any(b2 <= b1 for (b1, _p1), (b2, _p2) in itertools.pairwise(steps)):
            return "thresholds"
    if method == "range":
        try:
            low, high = (float(x) for x in (parameters or []))
        except (TypeError, ValueError):
            return "range"
        if not high > low:
            return "range"
    return None


def grade(score: float, *, a: float, b: float) -> str:
    """A from `a` points, B from `b`, C below."""
    return "A" if score >= a else "B" if score >= b else "C"
