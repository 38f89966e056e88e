"""Reads of the insights app, scoped to the acting user (metrics are commercial figures: only
for those who may see orders, and for the accounts they see)."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from keycare.core.filtering import exact_values, period_from_filters
from keycare.core.scoping import restrict, scope_filter
from keycare.users.models import User

from . import calculations as calc
from .metrics import trailing_twelve_months
from .models import AccountMetric, MetricScope
from .settings import insights_settings_get

LEVELS = ("account", "group")


def rounded(value: float | None, digits: int = 2) -> float | None:
    return round(value, digits) if value is not None else None


def insights_period(filters: Mapping[str, Any] | None) -> tuple[dt.date, dt.date]:
    """The period asked for (default: the trailing twelve months), validated."""
    return period_from_filters(filters, default=trailing_twelve_months())


def _percent_pair(
    filters: Mapping[str, Any] | None,
    keys: tuple[str, str],
    defaults: tuple[float, float],
    *,
    not_numbers: str,
    out_of_order: str,
) -> tuple[float, float]:
    """Two ordered percentages from the filters (0 < first ≤ second ≤ 100), with the given
    messages for input that is not a number or out of order."""
    raw = [(filters or {}).get(key) or default for key, default in zip(keys, defaults, strict=True)]
    try:
        first, second = float(raw[0]), float(raw[1])
    except (TypeError, ValueError):
        raise ValidationError({keys[0]: [not_numbers]}) from None
    if not 0 < first <= second <= 100:
        raise ValidationError({keys[1]: [out_of_order]})
    return first, second


def _cutoffs(filters: Mapping[str, Any] | None) -> tuple[float, float]:
    settings = insights_settings_get()  # the administrators' defaults
    return _percent_pair(
        filters, ("cutoff_a", "cutoff_b"), (float(settings.cutoff_a), float(settings.cutoff_b)),
        not_numbers=_("Cut-offs are percentages."),
        out_of_order=_("Cut-offs must satisfy 0 < A ≤ B ≤ 100 (e.g. 80 and 95)."),
    )  # fmt: skip


def _splits(filters: Mapping[str, Any] | None) -> tuple[float, float]:
    settings = insights_settings_get()  # the administrators' defaults
    return _percent_pair(
        filters, ("platinum", "gold"), (float(settings.platinum), float(settings.gold)),
        not_numbers=_("The splits are percentages."),
        out_of_order=_("The splits must satisfy 0 < platinum ≤ gold ≤ 100 (e.g. 10 and 30)."),
    )  # fmt: skip


#: The account attributes the analyses filter on (exact match), with the longest value each
#: field holds: the region is the account's province.
ACCOUNT_FILTERS = {"province": 30, "industry": 60}


def insights_account_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """The region (`province`) and `industry` asked for, as exact values: one that no account
    has simply matches nothing, but input no field could hold (too long, control
    characters) is an error rather than an empty result."""
    messages = {
        "province": _("Choose a region from the list (at most %(n)d characters)."),
        "industry": _("Choose an industry from the list (at most %(n)d characters)."),
    }
    return exact_values(filters, ACCOUNT_FILTERS, messages)


def insights_filter_choices(*, actor: User) -> dict[str, list[str]]:
    """The regions and industries of the accounts the actor sees, for the filter selects
    (one query each; sorted here, the same on every database collation)."""
    from keycare.accounts.models import Account

    if connection.vendor == "postgresql" and scope_filter(Account, actor, "view") is True:
        return {key: sorted(_distinct_values(Account, key)) for key in ACCOUNT_FILTERS}
    visible = restrict(Account.objects.all(), actor, "view")
    return {
        key: sorted(visible.exclude(**{key: ""}).order_by().values_list(key, flat=True).distinct())
        for key in ACCOUNT_FILTERS
    }


def _distinct_values(model, field: str) -> list[str]:
    """The non-empty values of an indexed column, one index probe per value (a "loose index
    scan"): a plain DISTINCT reads every row — 50 ms per column at 100,000 accounts — to
    find a few dozen regions."""
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    table = connection.ops.quote_name(model._meta.db_table)
    # the names are the model's own, quoted; there are no values in the statement
    sql = (
        f"WITH RECURSIVE v(x) AS (SELECT MIN({column}) FROM {table} WHERE {column} > '' "  # noqa: S608
        f"UNION ALL SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.x) "
        "FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def metric_list(
    *,
    actor: User,
    start: dt.date,
    end: dt.date,
    level: str = "account",
    filters: Mapping[str, Any] | None = None,
) -> QuerySet[AccountMetric]:
    """The period's metric rows the actor may see: every account's own figures (level
    "account"), or the groups' rolled-up figures (level "group": top-level accounts with
    their branches), narrowed to the region and industry in `filters` (of the group's
    top-level account at the group level). The entry points compute a period asked for the
    first time (`metrics.metrics_ensure`) before reading."""
    if level not in LEVELS:
        raise ValidationError({"level": [_("Choose the account or the group level.")]})
    account = insights_account_filters(filters)
    qs = AccountMetric.objects.filter(
        period_start=start, period_end=end, **{f"account__{k}": v for k, v in account.items()}
    )
    if level == "group":
        qs = qs.filter(scope=MetricScope.GROUP, account__parent__isnull=True)
    else:
        qs = qs.filter(scope=MetricScope.OWN)
    return restrict(qs, actor, "view").select_related("account")


#: The measures' columns in the ranking SQL (also the prefixes of their figures).
_PARETO_COLUMNS = {"revenue": "r", "gross_profit": "g"}


def _pareto_sql(
    base_sql: str, base_params, *, cutoffs: tuple[float, float], rows: int | None,
    abc: str | None, curve: int | None,
) -> tuple[str, list]:  # fmt: skip
    """Both rankings in one statement over `base_sql` (columns k = account, r = revenue,
    g = gross profit), portable between SQLite and PostgreSQL. Per measure, in one sort: the
    rank (value descending, ties by account), the running sums of the positive values up to
    and before each account (its cumulative share and the share before it) and of the
    values, and the next value; with the count and the totals (an aggregate of the same
    rows), each account's class (A while the share before it is below the A cut-off, as
    calculations.pareto). The classes are consecutive ranks, so the last account of a class
    (whose cumulative share reaches the next cut-off, or whose next value is not positive)
    carries the class's running totals: the class figures and the top 20% come from a few
    rows, without a whole-set window. Only the rows asked for leave the database: the
    table's first `rows` (of class `abc`; None: all), the curve's points (every rank up to
    `curve` accounts, beyond that every step-th) and the rows that carry the figures."""
    a_cut, b_cut = cutoffs
    windows, named, classes, keep, keep_params, class_params = [], [], [], [], [], []
    for p in _PARETO_COLUMNS.values():
        # one window per measure (one sort): the frame is the running one, which the rank
        # and the next value ignore
        named.append(f"{p}_w AS (ORDER BY {p} DESC, k ROWS UNBOUNDED PRECEDING)")
        windows += [f"ROW_NUMBER() OVER {p}_w AS {p}_rn", f"SUM({p}_pos) OVER {p}_w AS {p}_cum",
                    f"SUM({p}) OVER {p}_w AS {p}_cum_value", f"LEAD({p}) OVER {p}_w AS {p}_next"]  # fmt: skip
        total = f"{p}_total"
        # in whole cents, the running sums are exact: the share before an account is the
        # cumulative share of the one above, to the cent (no rounding between rows)
        before = f"100 * ({p}_cum - {p}_pos)"
        classes.append(
            f"CASE WHEN {p} <= 0 THEN 'C' WHEN {before} < %s * {total} THEN 'A' "
            f"WHEN {before} < %s * {total} THEN 'B' ELSE 'C' END AS {p}_abc"
        )
        class_params += [a_cut, b_cut]
        # the last account of class A (B): the next one is not (its share before — this
        # one's cumulative share — reaches the cut-off, or its value is not positive)
        ends = " OR ".join(
            f"({p}_abc = '{c}' AND ({p}_rn = n OR {p}_next <= 0 OR 100 * {p}_cum >= %s * {p}_total))"
            for c in "AB"
        )
        top = f"{p}_rn = CASE WHEN (2 * n + 5) / 10 < 1 THEN 1 ELSE (2 * n + 5) / 10 END"
        wanted = [f"{p}_rn = n", top, ends]
        wanted_params = [a_cut, b_cut]
        if abc is None:
            wanted.append("1 = 1" if rows is None else f"{p}_rn <= %s")
            wanted_params += [] if rows is None else [rows]
        else:  # the classes are consecutive ranks: the rows of class abc after the others
            before_class = {"A": "0", "B": f"{p}_nA", "C": f"{p}_nA + {p}_nB"}[abc]
            wanted.append(f"{p}_abc = %s" + ("" if rows is None
                                             else f" AND {p}_rn <= {before_class} + %s"))  # fmt: skip
            wanted_params += [abc] + ([] if rows is None else [rows])
        if curve is not None:
            wanted.append(f"n <= %s OR {p}_rn %% ((n + %s - 1) / %s) = 0")
            wanted_params += [curve, curve, curve]
        keep.append(" OR ".join(f"({w})" for w in wanted))
        keep_params += wanted_params
    from keycare.accounts.models import Account

    account = connection.ops.quote_name(Account._meta.db_table)
    # the values in whole cents (the metrics have two decimals) as floating point: fast, and
    # the sums stay exact integers (below 2**53 cents) on both databases
    cents = {p: f"CAST(ROUND(b.{p} * 100) AS DOUBLE PRECISION)" for p in _PARETO_COLUMNS.values()}
    values = ", ".join(f"{c} AS {p}, CASE WHEN b.{p} > 0 THEN {c} ELSE 0 END AS {p}_pos"
                       for p, c in cents.items())  # fmt: skip
    totals = ", ".join(f"SUM(CASE WHEN b.{p} > 0 THEN {c} ELSE 0 END) AS {p}_total"
                       for p, c in cents.items())  # fmt: skip
    ranked = (
        f"SELECT w.*, {', '.join(classes)} FROM ("  # noqa: S608 (identifiers; values are parameters)
        f"SELECT v.*, t.*, {', '.join(windows)} FROM (SELECT b.k, {values} FROM ({base_sql}) b) v"
        f" CROSS JOIN totals t WINDOW {', '.join(named)}) w"
    )
    params = [*base_params, *class_params, *base_params]
    if abc is not None:  # the class sizes before the class asked for: a whole-set window
        counts = ", ".join(f"SUM(CASE WHEN {p}_abc = '{c}' THEN 1 ELSE 0 END) OVER () AS {p}_n{c}"
                           for p in _PARETO_COLUMNS.values() for c in "AB")  # fmt: skip
        ranked = f"SELECT c.*, {counts} FROM ({ranked}) c"  # noqa: S608
    sql = (
        f"WITH totals AS (SELECT COUNT(*) AS n, {totals} FROM ({base_sql}) b) "  # noqa: S608
        f"SELECT s.*, (SELECT a.name FROM {account} a WHERE a.id = s.k) AS name "
        f"FROM ({ranked}) s WHERE {' OR '.join(f'({x})' for x in keep)}"
    )
    return sql, [*params, *keep_params]


def _number(value) -> float:
    return float(value or 0)


def _percent(value, total: float) -> float:
    return 100 * float(value) / total if total else 0.0


def _figures_key(name: str, actor: User, start: dt.date, end: dt.date, parts) -> str:
    """Cache key of figures computed from the period's stored metrics: who may see which
    accounts, the period, the arguments, and when the period's metrics were last written
    (an index probe, metric_period_computed), so a recompute or refresh is seen at once."""
    import hashlib

    from django.db.models import Max

    from keycare.accounts.models import Account

    stamp = AccountMetric.objects.filter(period_start=start, period_end=end).aggregate(
        at=Max("computed_at")
    )["at"]
    scope = "all" if scope_filter(Account, actor, "view") is True else f"user-{actor.pk}"
    raw = repr((name, scope, start, end, stamp, parts))
    return f"insights:{name}:{hashlib.sha256(raw.encode()).hexdigest()}"


#: How long computed figures are kept at most; the key changes as soon as the metrics do
#: (see _figures_key), so this bounds only how long a renamed account keeps its old name.
FIGURES_SECONDS = 600


def pareto_analysis(
    *, actor: User, filters: Mapping[str, Any] | None = None, rows: int | None = None,
    abc: str | None = None, curve: int | None = None,
) -> dict:  # fmt: skip
    """The Pareto figures (see _pareto_compute), kept in the cache until the period's
    metrics change: the ranking of 100,000 accounts is one window-function query of about
    0.3 s, the page reads it in a few milliseconds afterwards."""
    from django.core.cache import cache

    start, end = insights_period(filters)
    level = (filters or {}).get("level") or "account"
    parts = (_cutoffs(filters), level, sorted(insights_account_filters(filters).items()),
             rows, abc, curve)  # fmt: skip
    return cache.get_or_set(
        _figures_key("pareto", actor, start, end, parts),
        lambda: _pareto_compute(actor=actor, filters=filters, rows=rows, abc=abc, curve=curve),
        FIGURES_SECONDS,
    )


def _pareto_compute(
    *, actor: User, filters: Mapping[str, Any] | None = None, rows: int | None = None,
    abc: str | None = None, curve: int | None = None,
) -> dict:  # fmt: skip
    """Pareto / ABC (帕累托) on revenue and on gross profit: each measure ranks the accounts
    by itself, with cumulative shares, A/B/C classes at the cut-offs, the share of the top
    20% and the totals per class. Set-based (one query, see _pareto_sql): the `rows` of each
    measure are its first `rows` ranks (None: every account), of class `abc` only if given;
    with `curve`, `curve_points` holds at most about that many points of the cumulative
    curve (rank, cumulative share, account), always with the class cut-offs and the last."""
    start, end = insights_period(filters)
    cutoffs = _cutoffs(filters)
    level = (filters or {}).get("level") or "account"
    base = metric_list(actor=actor, start=start, end=end, level=level, filters=filters)
    base = base.order_by().values(k=F("account_id"), r=F("revenue"), g=F("gross_profit"))
    base_sql, base_params = base.query.sql_with_params()
    sql, params = _pareto_sql(base_sql, base_params, cutoffs=cutoffs, rows=rows, abc=abc,
                              curve=curve)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    n = fetched[0]["n"] if fetched else 0
    result = {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "level": level,
        "cutoffs": list(cutoffs),
        "accounts": n,
    }
    for measure, p in _PARETO_COLUMNS.items():
        total = _number(fetched[0][f"{p}_total"]) / 100 if fetched else 0.0
        by_rank = {f[f"{p}_rn"]: f for f in fetched}
        ranked = [by_rank[rank] for rank in sorted(by_rank)]
        # the last rank of A and of B (a class without accounts ends where the one before)
        ends = {c: max((f[f"{p}_rn"] for f in ranked if f[f"{p}_abc"] == c), default=None)
                for c in "AB"}  # fmt: skip
        last = {"": 0, "A": ends["A"] or 0}
        last["B"] = ends["B"] or last["A"]
        last["C"] = n

        def running(rank: int, column: str, p: str = p, by_rank=by_rank) -> float:
            return _number(by_rank[rank][f"{p}_{column}"]) / 100 if rank else 0.0

        classes = {}
        for c, previous in (("A", ""), ("B", "A"), ("C", "B")):
            members = last[c] - last[previous]
            classes[c] = {
                "accounts": members,
                "share_of_accounts": round(100 * members / n, 1) if n else None,
                "share": round(_percent(running(last[c], "cum") - running(last[previous], "cum"),
                                        total), 2),
                "value": round(running(last[c], "cum_value")
                               - running(last[previous], "cum_value"), 2),
            }  # fmt: skip
        top = max(1, (2 * n + 5) // 10)  # round(n / 5), at least one
        top20 = _percent(running(top, "cum"), total) if n and total > 0 else None
        first = {"A": 0, "B": last["A"], "C": last["B"]}[abc or "A"]
        table = [
            f for f in ranked
            if (abc is None or f[f"{p}_abc"] == abc)
            and (rows is None or f[f"{p}_rn"] <= first + rows)
        ]  # fmt: skip
        result[measure] = {
            "total": round(total, 2) if fetched else 0,
            "top_20_share": round(top20, 2) if top20 is not None else None,
            "classes": classes,
            "rows": [
                {
                    "account": f["k"],
                    "name": f["name"],
                    "value": round(f[p] / 100, 2),
                    "share": round(_percent(f[f"{p}_pos"] / 100, total), 2),
                    "cumulative": round(_percent(f[f"{p}_cum"] / 100, total), 2),
                    "abc": f[f"{p}_abc"],
                }
                for f in table
            ],
        }
        if curve is not None:
            step = -(-n // curve) if n > curve else 1
            cuts = {n, last["A"], last["B"]}
            result[measure]["curve_points"] = [
                {"rank": f[f"{p}_rn"],
                 "cumulative": round(_percent(f[f"{p}_cum"] / 100, total), 2),
                 "account": f["k"]}
                for f in ranked if f[f"{p}_rn"] % step == 0 or f[f"{p}_rn"] in cuts
            ]  # fmt: skip
    return result


def pyramid_analysis(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The customer pyramid (金字塔模型) by gross profit after the cost to serve: lead =
    accounts that cost money, the profitable ones split at the percentiles (platinum the top
    10%, gold the next 20%, iron the rest by default). Lead accounts come with the reason."""
    start, end = insights_period(filters)
    splits = _splits(filters)
    level = (filters or {}).get("level") or "account"
    rows = list(
        metric_list(actor=actor, start=start, end=end, level=level, filters=filters).values(
            "account_id", "account__name", "account__tier", "revenue", "gross_profit",
            "cost_to_serve", "discounts", "orders",
        )
    )  # fmt: skip
    profit = {r["account_id"]: r["gross_profit"] - r["cost_to_serve"] for r in rows}
    ranked = {r["account_id"] for r in rows if r["orders"]}  # no orders: never platinum
    tiers = calc.pyramid(profit, splits=splits, ranked=ranked)
    order = ["platinum", "gold", "iron", "lead"]
    summary = {
        tier: {
            "accounts": sum(1 for t in tiers.values() if t == tier),
            "revenue": round(sum(float(r["revenue"]) for r in rows if tiers[r["account_id"]] == tier), 2),
            "profit": round(sum(float(profit[r["account_id"]]) for r in rows if tiers[r["account_id"]] == tier), 2),
        }
        for tier in order
    }  # fmt: skip
    lead = []
    for r in rows:
        if tiers[r["account_id"]] != "lead":
            continue
        if r["gross_profit"] < 0:
            reason = _("sold below cost (gross profit %(gp)s)") % {"gp": r["gross_profit"]}
        else:
            reason = _("the cost to serve (%(cts)s) exceeds the gross profit (%(gp)s)") % {
                "cts": r["cost_to_serve"], "gp": r["gross_profit"]}  # fmt: skip
        lead.append({"account": r["account_id"], "name": r["account__name"],
                     "profit": float(profit[r["account_id"]]), "reason": reason})  # fmt: skip
    lead.sort(key=lambda x: x["profit"])
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "level": level,
        "splits": list(splits),
        "tiers": summary,
        "accounts": [
            {
                "account": r["account_id"],
                "name": r["account__name"],
                "tier": tiers[r["account_id"]],
                "current_tier": r["account__tier"],
                "profit": float(profit[r["account_id"]]),
            }
            for r in sorted(rows, key=lambda r: -profit[r["account_id"]])
        ],
        "lead": lead,
    }


#: How many calendar years the concentration trend shows, up to the period's last year.
TREND_YEARS = 5
#: The concentration figures with an alert threshold, and the setting that holds it.
ALERT_THRESHOLDS = {"top_1_share": "alert_top_1", "top_5_share": "alert_top_5", "hhi": "alert_hhi"}


def _trend_years(end: dt.date) -> list[tuple[dt.date, dt.date]]:
    return [(dt.date(year, 1, 1), dt.date(year, 12, 31))
            for year in range(end.year - TREND_YEARS + 1, end.year + 1)]  # fmt: skip


def concentration_periods(filters: Mapping[str, Any] | None) -> list[tuple[dt.date, dt.date]]:
    """The periods the concentration analysis reads: the one asked for, then the last
    TREND_YEARS calendar years up to the year it ends in, each once (the entry points
    compute each through metrics_ensure first)."""
    start, end = insights_period(filters)
    return [(start, end), *[p for p in _trend_years(end) if p != (start, end)]]


def _concentration_figures(
    *, actor: User, start: dt.date, end: dt.date, level: str, filters: Mapping[str, Any] | None
) -> dict:
    """One period's figures: one aggregate query on the stored metrics (the figures of
    calculations.top_n_share, hhi and gini, set-based). Negative values count as zero; the
    Gini sum Σ i·x(i) over the ascending values is (n + 1)·Σx − Σ rank·x with the rank from
    the largest (ties do not change it)."""
    metrics = metric_list(actor=actor, start=start, end=end, level=level, filters=filters)
    base_sql, params = metrics.order_by().values(v=F("revenue")).query.sql_with_params()
    positive = "CASE WHEN b.v > 0 THEN CAST(b.v AS DOUBLE PRECISION) ELSE 0 END"
    tops = ", ".join(f"SUM(CASE WHEN rn <= {n} THEN x ELSE 0 END)" for n in (1, 5, 10))
    sql = (
        f"SELECT COUNT(*), SUM(x), SUM(x * x), SUM(rn * x), {tops} FROM ("  # noqa: S608
        f"SELECT {positive} AS x, ROW_NUMBER() OVER (ORDER BY b.v DESC) AS rn "
        f"FROM ({base_sql}) b) r"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        n, total, squares, ranked, *top = cursor.fetchone()
    total = float(total or 0)

    def share(amount) -> float | None:
        return 100 * float(amount) / total if total > 0 else None

    weighted = (n + 1) * total - float(ranked or 0)
    return {
        "accounts": n,
        "top_1_share": rounded(share(top[0])),
        "top_5_share": rounded(share(top[1])),
        "top_10_share": rounded(share(top[2])),
        "hhi": rounded(10_000 * float(squares) / total**2, 1) if total > 0 else None,
        "gini": rounded(2 * weighted / (n * total) - 1 - 1 / n, 4) if total > 0 else None,
    }


def _thresholds(settings) -> dict[str, float]:
    return {figure: float(getattr(settings, field)) for figure, field in ALERT_THRESHOLDS.items()}


def _exceeded(figures: dict, thresholds: dict[str, float]) -> list[str]:
    """The figures above their alert threshold (strictly: at the threshold is no alert)."""
    return [f for f, limit in thresholds.items() if figures[f] is not None and figures[f] > limit]


def _alert_message(figure: str, value: float, threshold: float) -> str:
    messages = {
        "top_1_share": _("The largest account brings %(value)s%% of the revenue, more than "
                         "the alert threshold of %(threshold)s%%."),
        "top_5_share": _("The five largest accounts bring %(value)s%% of the revenue, more "
                         "than the alert threshold of %(threshold)s%%."),
        "hhi": _("The Herfindahl–Hirschman index is %(value)s, above the alert threshold of "
                 "%(threshold)s."),
    }  # fmt: skip
    return messages[figure] % {"value": f"{value:g}", "threshold": f"{threshold:g}"}


def concentration_analysis(
    *, actor: User, filters: Mapping[str, Any] | None = None, trend: bool = True
) -> dict:
    """Revenue concentration (将自身身家安全系于一仞间): top-1, top-5 and top-10 shares, the
    Herfindahl–Hirschman index on shares in percent and the Gini coefficient; `alerts`, one
    per figure above its threshold in the settings (figure, value, threshold, message); and
    (unless `trend` is False) the `trend`: the same figures for each of the last five
    calendar years and the period asked for (`selected`), each with the figures it exceeds.
    One query per period on the stored metrics (see concentration_periods)."""
    start, end = insights_period(filters)
    level = (filters or {}).get("level") or "group"
    figures = _concentration_figures(actor=actor, start=start, end=end, level=level,
                                     filters=filters)  # fmt: skip
    thresholds = _thresholds(insights_settings_get())
    alerts = [
        {"figure": f, "value": figures[f], "threshold": thresholds[f],
         "message": _alert_message(f, figures[f], thresholds[f])}
        for f in _exceeded(figures, thresholds)
    ]  # fmt: skip
    rows = []
    for p_start, p_end in _trend_years(end) if trend else []:
        selected = (p_start, p_end) == (start, end)  # read once when it is one of the years
        year = figures if selected else _concentration_figures(
            actor=actor, start=p_start, end=p_end, level=level, filters=filters)  # fmt: skip
        rows.append({"label": str(p_start.year), "from": p_start.isoformat(),
                     "to": p_end.isoformat(), "selected": selected, **year,
                     "exceeded": _exceeded(year, thresholds)})  # fmt: skip
    if trend and not any(r["selected"] for r in rows):
        rows.append({"label": f"{start.isoformat()} – {end.isoformat()}",
                     "from": start.isoformat(), "to": end.isoformat(), "selected": True,
                     **figures, "exceeded": _exceeded(figures, thresholds)})  # fmt: skip
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "level": level,
        **figures,
        "thresholds": thresholds,
        "alerts": alerts,
        "trend": rows,
    }


def insights_alerts(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The alerts of the risk views in short, for a page header: the concentration alerts
    (groups, for the period and region/industry asked for) and how many active accounts
    nobody has served for the settings' days."""
    from django.core.cache import cache
    from django.db.models import Max
    from django.utils import timezone

    from keycare.accounts.models import Order
    from keycare.service.models import FieldVisit, Ticket

    keys = ("period_from", "period_to", "province", "industry")
    narrowed = {k: (filters or {}).get(k) for k in keys if (filters or {}).get(k)}
    start, end = insights_period(narrowed)
    # the neglect count reads live orders, tickets and visits: a new one of any (a higher
    # id, one index probe each) or a new day makes a new key
    latest = [m.objects.aggregate(n=Max("pk"))["n"] for m in (Order, Ticket, FieldVisit)]
    settings = insights_settings_get()  # the thresholds and the neglect days
    parts = (sorted(narrowed.items()), latest, timezone.localdate(),
             sorted((f.attname, getattr(settings, f.attname)) for f in settings._meta.concrete_fields))  # fmt: skip

    def compute() -> dict:
        concentration = concentration_analysis(actor=actor, filters=narrowed, trend=False)
        neglected, days = neglected_count(
            actor=actor, filters={k: v for k, v in narrowed.items() if k in ACCOUNT_FILTERS}
        )
        return {"concentration": concentration["alerts"], "neglected": neglected,
                "neglect_days": days}  # fmt: skip

    return cache.get_or_set(_figures_key("alerts", actor, start, end, parts), compute,
                            FIGURES_SECONDS)  # fmt: skip


def _neglect_days(filters: Mapping[str, Any] | None) -> int:
    """The days asked for (default: the settings' neglect_days), validated."""
    raw = (filters or {}).get("days") or insights_settings_get().neglect_days
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({"days": [_("Give the number of days as a whole number.")]}) from None
    if not 1 <= days <= 3650:
        raise ValidationError({"days": [_("Choose between 1 and 3,650 days.")]})
    return days


def _neglected(actor: User, filters: Mapping[str, Any] | None):
    """The days asked for (validated), the moment they reach back to, the region/industry
    filters and the queryset of the visible active accounts with no order, ticket or
    checked-in field visit since then. "Nothing since" is NOT EXISTS with the date bound
    (an anti-join of the recent orders, tickets and visits, set-based), not a correlated
    "last contact" subquery per account."""
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from keycare.accounts.choices import AccountStatus
    from keycare.accounts.models import Account, Order
    from keycare.service.models import FieldVisit, Ticket

    days = _neglect_days(filters)
    account = insights_account_filters(filters)
    since = timezone.now() - dt.timedelta(days=days)
    recent = {
        "order": Order.objects.filter(
            account=OuterRef("pk"), order_date__gte=timezone.localdate(since)
        ),
        "ticket": Ticket.objects.filter(account=OuterRef("pk"), opened_at__gte=since),
        "visit": FieldVisit.objects.filter(
            ticket__account=OuterRef("pk"), checked_in_at__gte=since
        ),
    }
    accounts = restrict(
        Account.objects.filter(status=AccountStatus.ACTIVE, **account), actor, "view"
    ).filter(*(~Exists(qs.order_by().values("pk")) for qs in recent.values()))
    return days, since, account, accounts


def neglected_count(*, actor: User, filters: Mapping[str, Any] | None = None) -> tuple[int, int]:
    """How many accounts are neglected (one COUNT query with three anti-joins), and for how
    many days."""
    days, _since, _account, accounts = _neglected(actor, filters)
    return accounts.count(), days


def neglected_accounts(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """Accounts of *any* tier (误区2 抓大放小: small ones too) that nobody has served for
    `days` (default: the settings' neglect_days): no order, ticket or field visit since.
    Active accounts only; one query (anti-joins, then the last contacts of the neglected
    accounts only), evaluated for the visible accounts. With them, the small accounts served
    below the floor."""
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from keycare.accounts.models import Order
    from keycare.service.models import FieldVisit, Ticket

    days, since, account, queryset = _neglected(actor, filters)
    now = timezone.now()
    # the last contacts (all before `since`), read for the neglected accounts only
    last_order = Subquery(
        Order.objects.filter(account=OuterRef("pk")).order_by("-order_date")
        .values("order_date")[:1]
    )  # fmt: skip
    last_ticket = Subquery(
        Ticket.objects.filter(account=OuterRef("pk")).order_by("-opened_at").values("opened_at")[:1]
    )
    last_visit = Subquery(
        FieldVisit.objects.filter(ticket__account=OuterRef("pk"), checked_in_at__isnull=False)
        .order_by("-checked_in_at").values("checked_in_at")[:1]
    )  # fmt: skip
    queryset = queryset.annotate(last_order=last_order, last_ticket=last_ticket,
                                 last_visit=last_visit)  # fmt: skip
    accounts = queryset.values("pk", "name", "tier", "last_order", "last_ticket", "last_visit")
    rows = []
    for a in accounts:
        moments = [timezone.localdate(m) for m in (a["last_ticket"], a["last_visit"]) if m]
        moments += [a["last_order"]] if a["last_order"] else []
        last = max(moments) if moments else None
        rows.append({
            "account": a["pk"], "name": a["name"], "tier": a["tier"],
            "last_order": a["last_order"].isoformat() if a["last_order"] else None,
            "last_ticket": a["last_ticket"].isoformat() if a["last_ticket"] else None,
            "last_visit": a["last_visit"].isoformat() if a["last_visit"] else None,
            "last_contact": last.isoformat() if last else None,
            "days_since": (timezone.localdate(now) - last).days if last else None,
        })  # fmt: skip
    rows.sort(key=lambda r: (r["last_contact"] or "", r["name"]))
    by_tier: dict[str, int] = {}
    for r in rows:
        by_tier[r["tier"] or ""] = by_tier.get(r["tier"] or "", 0) + 1
    return {"days": days, "accounts": rows, "by_tier": by_tier,
            "below_floor": small_accounts_below_floor(actor=actor, since=since, filters=account)}  # fmt: skip


SMALL_TIERS = ("iron", "lead", "")


def small_accounts_below_floor(*, actor: User, since, filters: Mapping[str, str]) -> list[dict]:
    """Small accounts (iron, lead or no tier) whose service fell below the floor since
    `since`: tickets opened since then that breached their SLA target (first response or
    resolution) — even the floor policy every account is owed. One grouped query."""
    from django.db.models import Count, Q

    from keycare.service.choices import SlaState
    from keycare.service.models import Ticket

    breached = Q(response_sla=SlaState.BREACHED) | Q(resolution_sla=SlaState.BREACHED)
    tickets = restrict(
        Ticket.objects.filter(
            opened_at__gte=since, account__tier__in=SMALL_TIERS, account__status="active",
            **{f"account__{k}": v for k, v in filters.items()},
        ), actor, "view",
    )  # fmt: skip
    rows = (
        tickets.values("account_id", "account__name", "account__tier")
        .annotate(tickets=Count("id"), breached=Count("id", filter=breached))
        .filter(breached__gt=0)
        .order_by("-breached", "account__name")
    )
    return [
        {"account": r["account_id"], "name": r["account__name"], "tier": r["account__tier"],
         "tickets": r["tickets"], "breached": r["breached"],
         "met": round(100 * (r["tickets"] - r["breached"]) / r["tickets"], 1)}
        for r in rows
    ]  # fmt: skip


def volume_profit(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """Volume versus profit (误区4 获量 vs 获利): each account's revenue against its gross
    profit and its contribution after the cost to serve. Accounts in the upper half by
    revenue whose contribution margin is below the median margin bring volume without
    profit; they are flagged."""
    from statistics import median

    start, end = insights_period(filters)
    level = (filters or {}).get("level") or "account"
    rows = list(
        metric_list(actor=actor, start=start, end=end, level=level, filters=filters)
        .filter(revenue__gt=0)
        .values("account_id", "account__name", "revenue", "gross_profit", "cost_to_serve")
    )
    points = []
    for r in rows:
        revenue, gp = float(r["revenue"]), float(r["gross_profit"])
        contribution = gp - float(r["cost_to_serve"])
        points.append({"account": r["account_id"], "name": r["account__name"], "revenue": revenue,
                       "gross_profit": gp, "contribution": round(contribution, 2),
                       "margin": round(100 * contribution / revenue, 2)})  # fmt: skip
    median_revenue = median(p["revenue"] for p in points) if points else None
    median_margin = median(p["margin"] for p in points) if points else None
    for p in points:
        p["volume_without_profit"] = bool(
            p["revenue"] >= median_revenue and p["margin"] < median_margin
        )
    points.sort(key=lambda p: -p["revenue"])
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "level": level,
        "median_revenue": median_revenue,
        "median_margin": median_margin,
        "points": points,
        "flagged": [p for p in points if p["volume_without_profit"]],
    }


def clv_at_bound(bgnbd, gamma_gamma) -> list[str]:
    """The parameters the data could not pin down (they sit at the search bound)."""
    import math

    from .clv import LOG_BOUND

    values = {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b,
              "p": gamma_gamma.p, "q": gamma_gamma.q, "gamma": gamma_gamma.gamma}  # fmt: skip
    return [k for k, v in values.items() if abs(math.log(v)) > LOG_BOUND - 3]


CLV_LATEST = "keycare:clv:latest"


def clv_fitted() -> dict:
    """BG/NBD and Gamma-Gamma fitted on the whole order book (the models describe the
    customer base) with each account's P(alive), expected orders and expected revenue over
    the next 12 months: ``{"bgnbd", "gamma_gamma", "at_bound", "accounts": {pk: (alive,
    orders, revenue)}}``. Cached for the day and the state of the order book; too few repeat
    purchases raise ApplicationError ("not_enough_data")."""
    from django.core.cache import cache
    from django.db.models import Count, Max
    from django.utils import timezone

    from keycare.accounts.models import Order

    from . import clv

    end = timezone.localdate()
    book = Order.objects.filter(order_date__lte=end).aggregate(n=Count("id"), last=Max("id"))
    key = f"keycare:clv:{end.isoformat()}:{book['n']}:{book['last']}"
    fitted = cache.get(key)
    if fitted is None:
        rows = Order.objects.filter(order_date__lte=end).values_list(
            "account_id", "order_date", "total_net"
        )
        try:
            rfm = clv.rfm_from_transactions(rows.iterator(), calibration_end=end, time_unit="week")
            bgnbd, gamma_gamma = clv.fit(rfm)
        except clv.CLVError as error:
            from keycare.core.exceptions import ApplicationError

            raise ApplicationError(
                _("Not enough repeat purchases to fit the customer value models."),
                extra={"code": "not_enough_data", "detail": str(error)},
            ) from None
        alive = clv.bgnbd_probability_alive(bgnbd, rfm.frequency, rfm.recency, rfm.T)
        weeks = 12 * clv.DAYS_PER_MONTH / 7
        orders = clv.bgnbd_expected_purchases(bgnbd, weeks, rfm.frequency, rfm.recency, rfm.T)
        at_bound = clv_at_bound(bgnbd, gamma_gamma)
        try:
            revenue = clv.expected_revenue(rfm, bgnbd, gamma_gamma)
        except clv.CLVError:
            # spend per order too uniform for Gamma-Gamma (q ≤ 1: no finite mean): the
            # purchase predictions stand, the revenue is unknown
            revenue = [float("nan")] * len(rfm.customers)
            at_bound = sorted({*at_bound, "q"})
        import math

        def finite(value) -> float | None:
            # at the edge of what the data can tell (a parameter at its bound) the closed
            # forms can break down numerically: say "unknown" rather than show a number
            value = float(value)
            return value if math.isfinite(value) else None

        fitted = {
            "bgnbd": {"r": bgnbd.r, "alpha": bgnbd.alpha, "a": bgnbd.a, "b": bgnbd.b},
            "gamma_gamma": {"p": gamma_gamma.p, "q": gamma_gamma.q, "gamma": gamma_gamma.gamma},
            "at_bound": at_bound,
            "accounts": {
                pk: (finite(alive[i]), finite(orders[i]), finite(revenue[i]))
                for i, pk in enumerate(rfm.customers)
            },
        }
        cache.set(key, fitted, timeout=24 * 3600)
        # the latest fit, for readers that must not count the order book (the 360 page)
        cache.set(CLV_LATEST, {"date": end.isoformat(), "accounts": fitted["accounts"]},
                  timeout=7 * 24 * 3600)  # fmt: skip
    return fitted


def clv_analysis(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """Predictive customer value: the fitted models (`clv_fitted`) and each account the actor
    sees (narrowed to the region and industry in `filters`) with P(alive), expected orders
    and expected revenue over the next 12 months."""
    from django.utils import timezone

    from keycare.accounts.models import Account

    chosen = insights_account_filters(filters)
    fitted = clv_fitted()
    end = timezone.localdate()
    # the accounts the actor sees (in the region and industry asked for) that the fit covers
    visible = restrict(Account.objects.filter(**chosen), actor, "view")
    names = dict(visible.values_list("pk", "name"))

    rows = [
        {"account": pk, "name": names[pk], "p_alive": rounded(a, 4),
         "expected_orders_12m": rounded(o, 2), "expected_revenue_12m": rounded(r, 2)}
        for pk, (a, o, r) in fitted["accounts"].items() if pk in names
    ]  # fmt: skip
    rows.sort(key=lambda r: (r["expected_revenue_12m"] is None, -(r["expected_revenue_12m"] or 0)))
    return {
        "calibration_end": end.isoformat(),
        "at_bound": fitted["at_bound"],
        "bgnbd": {k: round(v, 4) for k, v in fitted["bgnbd"].items()},
        "gamma_gamma": {k: round(v, 4) for k, v in fitted["gamma_gamma"].items()},
        "accounts": rows,
    }
