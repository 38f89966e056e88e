"""Reads of the value scorecard, scoped to the acting user: the ranking with every score
explained criterion by criterion, one account's explanation, the single-metric comparison
(误区1), "a big order is not a big account" (误区3), and key account proposals."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from keycare.accounts.models import Account
from keycare.core.scoping import restrict
from keycare.users.models import User

from . import calculations as calc
from .models import AccountScore, KeyAccount, KeyAccountChange, MetricScope, Scorecard
from .scorecard import METRICS, criterion_values, metric_label, scorecard_active, scores_ensure
from .selectors import insights_account_filters, insights_period

GRADES = ("A", "B", "C")


def scorecard_choose(filters: Mapping[str, Any] | None) -> Scorecard:
    """The version asked for (`scorecard` = its id; default: the active one)."""
    raw = (filters or {}).get("scorecard")
    if not raw:
        return scorecard_active()
    try:
        return Scorecard.objects.exclude(status=Scorecard.Status.DRAFT).get(pk=int(raw))
    except (TypeError, ValueError, Scorecard.DoesNotExist):
        raise ValidationError({"scorecard": [_("Choose a published scorecard version.")]}) from None


def criterion_rows(scorecard: Scorecard) -> list[dict]:
    """The version's criteria as shown: key, label, weight, normalisation and parameters."""
    labels = dict(scorecard.criteria.model.Normalisation.choices)
    return [
        {"key": c.key, "label": c.qualitative.label if c.qualitative_id else metric_label(c.metric),
         "qualitative": bool(c.qualitative_id), "weight": float(c.weight),
         "normalisation": c.normalisation, "normalisation_label": str(labels[c.normalisation]),
         "higher_is_better": c.higher_is_better, "parameters": c.parameters}
        for c in scorecard.criteria.select_related("qualitative")
    ]  # fmt: skip


def _explained(breakdown: list[dict], criteria: dict[str, dict]) -> list[dict]:
    return [{**part, "label": criteria[part["key"]]["label"] if part["key"] in criteria
             else part["key"], "missing": part["value"] is None} for part in breakdown]  # fmt: skip


def _scope(filters: Mapping[str, Any] | None) -> str:
    """Level "account" (default: each account's own figures) or "group" (the groups with
    their branches, ranked among the groups)."""
    level = (filters or {}).get("level") or "account"
    if level not in ("account", "group"):
        raise ValidationError({"level": [_("Choose the account or the group level.")]})
    return MetricScope.OWN if level == "account" else MetricScope.GROUP


def _context(filters: Mapping[str, Any] | None) -> tuple[Scorecard, dt.date, dt.date]:
    start, end = insights_period(filters)
    scorecard = scorecard_choose(filters)
    # stored scores are served; stale ones are recomputed by a task after the request
    scores_ensure(scorecard=scorecard, start=start, end=end, background=True,
                  scope=_scope(filters))  # fmt: skip
    return scorecard, start, end


def _header(scorecard: Scorecard, start: dt.date, end: dt.date, filters=None) -> dict:
    return {
        "level": "group" if _scope(filters) == MetricScope.GROUP else "account",
        "scorecard": {"id": scorecard.pk, "name": scorecard.name, "version": scorecard.version,
                      "status": scorecard.status, "grade_a": float(scorecard.grade_a),
                      "grade_b": float(scorecard.grade_b), "proposals": scorecard.proposals},
        "period": {"from": start.isoformat(), "to": end.isoformat()},
    }  # fmt: skip


def score_list(
    *, actor: User, scorecard: Scorecard, start: dt.date, end: dt.date,
    filters: Mapping[str, Any] | None = None,
):  # fmt: skip
    """The stored scores of the version and period the actor may see, best first, narrowed
    to the region and industry in `filters` (ranks stay those among all accounts)."""
    account = insights_account_filters(filters)
    qs = AccountScore.objects.filter(
        scorecard=scorecard, scope=_scope(filters), period_start=start, period_end=end,
        **{f"account__{k}": v for k, v in account.items()},
    )  # fmt: skip
    return restrict(qs, actor, "view").select_related("account").order_by("rank", "account_id")


def scorecard_ranking(
    *, actor: User, filters: Mapping[str, Any] | None = None, limit: int | None = None
) -> dict:
    """Every visible account's score, grade and rank on the version for the period, each
    explained criterion by criterion; `grade` narrows to one grade. The counts per grade
    and in all are aggregated in SQL; `limit` keeps only the best rows (a page shows 100 of
    100,000)."""
    from django.db.models import Count, Exists, OuterRef

    scorecard, start, end = _context(filters)
    grade = (filters or {}).get("grade") or ""
    if grade and grade not in GRADES:
        raise ValidationError({"grade": [_("Choose grade A, B or C.")]})
    criteria = criterion_rows(scorecard)
    by_key = {c["key"]: c for c in criteria}
    visible = score_list(actor=actor, scorecard=scorecard, start=start, end=end, filters=filters)
    counts = dict.fromkeys(GRADES, 0)
    counts.update(visible.order_by().values_list("grade").annotate(n=Count("id")))
    chosen = (visible.filter(grade=grade) if grade else visible).annotate(
        is_key=Exists(KeyAccount.objects.filter(account_id=OuterRef("account_id")))
    )
    scores = list(chosen[:limit] if limit is not None else chosen)
    return {
        **_header(scorecard, start, end, filters),
        "criteria": criteria,
        "grades": counts,
        "accounts": sum(counts.values()),
        "shown": len(scores),
        "rows": [
            {"account": s.account_id, "name": s.account.name, "rank": s.rank,
             "score": float(s.score), "grade": s.grade, "key_account": s.is_key,
             "breakdown": _explained(s.breakdown, by_key)}
            for s in scores
        ],
    }  # fmt: skip


def account_score_get(
    *, actor: User, account: Account, filters: Mapping[str, Any] | None = None
) -> dict | None:
    """One account's score explained (None when it has no score for the period, e.g. no
    figures, or when the actor may not see scores)."""
    scorecard, start, end = _context(filters)
    score = (
        score_list(actor=actor, scorecard=scorecard, start=start, end=end)
        .filter(account=account).first()
    )  # fmt: skip
    if score is None:
        return None
    criteria = {c["key"]: c for c in criterion_rows(scorecard)}
    total = AccountScore.objects.filter(scorecard=scorecard, scope=_scope(filters),
                                        period_start=start, period_end=end).count()  # fmt: skip
    return {
        **_header(scorecard, start, end, filters),
        "account": account.pk, "rank": score.rank, "of": total, "score": float(score.score),
        "grade": score.grade, "computed_at": score.computed_at.isoformat(),
        "breakdown": _explained(score.breakdown, criteria),
    }  # fmt: skip


def single_metric_analysis(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """Ranking by one metric alone (单一指标), set against the scorecard's ranking: Spearman's
    rank correlation, and the accounts one metric misjudges — in the top N by the metric but
    not by value (overrated), and in the top N by value but not by the metric (overlooked);
    N is the number of key accounts the scorecard proposes (at most a fifth of the accounts,
    at least one)."""
    metric = (filters or {}).get("metric") or "revenue"
    if metric not in METRICS:
        raise ValidationError({"metric": [_("Choose one of the metrics.")]})
    scorecard, start, end = _context(filters)
    scores = list(score_list(actor=actor, scorecard=scorecard, start=start, end=end,
                             filters=filters))  # fmt: skip
    _scored, found = criterion_values(keys={metric}, start=start, end=end, scope=_scope(filters))
    values = found[metric]
    higher = METRICS[metric][1]
    present = [s for s in scores if values.get(s.account_id) is not None]
    ordered = sorted(present, key=lambda s: (-(values[s.account_id]) if higher
                                             else values[s.account_id], s.account_id))  # fmt: skip
    metric_rank = {s.account_id: i for i, s in enumerate(ordered, start=1)}
    n = max(1, min(scorecard.proposals, len(scores) // 5 or 1))
    top_metric = {s.account_id for s in ordered[:n]}
    top_value = {s.account_id for s in scores[:n]}
    rho = calc.spearman(
        [(-values[s.account_id] if higher else values[s.account_id]) for s in present],
        [s.rank for s in present],
    )

    def row(s: AccountScore) -> dict:
        return {"account": s.account_id, "name": s.account.name,
                "value": values.get(s.account_id), "metric_rank": metric_rank.get(s.account_id),
                "score": float(s.score), "grade": s.grade, "score_rank": s.rank}  # fmt: skip

    return {
        **_header(scorecard, start, end, filters),
        "metric": metric, "metric_label": metric_label(metric), "higher_is_better": higher,
        "top_n": n, "accounts": len(scores),
        "spearman": round(rho, 3) if rho is not None else None,
        "rows": [row(s) for s in ordered]
        + [row(s) for s in scores if s.account_id not in metric_rank],
        "overrated": [row(s) for s in ordered[:n] if s.account_id not in top_value],
        "overlooked": [row(s) for s in scores[:n] if s.account_id not in top_metric],
    }  # fmt: skip


def big_order_analysis(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """ "A big order is not a big account" (误区3): the ranking by largest order against the
    ranking by value; big by order size but not by value, and the reverse."""
    # dict(items()): spreading a QueryDict would copy its value lists, not its values
    return single_metric_analysis(
        actor=actor, filters={**dict((filters or {}).items()), "metric": "largest_order"}
    )


def key_account_overview(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The confirmed key accounts with their current score, the scorecard's proposals (its
    top accounts that are not key accounts yet), key accounts whose grade fell to C or that
    have no score (to review), and the record of decisions; narrowed to the region and
    industry in `filters`. A fixed number of queries, none reading every score."""
    scorecard, start, end = _context(filters)
    chosen = insights_account_filters(filters)
    visible = restrict(Account.objects.filter(**chosen), actor, "view")
    keys = list(
        KeyAccount.objects.filter(account__in=visible)
        .select_related("account", "confirmed_by").order_by("account__name")
    )  # fmt: skip
    scores = score_list(actor=actor, scorecard=scorecard, start=start, end=end, filters=filters)
    current = {s.account_id: s for s in scores.filter(account__key_account__isnull=False)}
    top = list(scores.filter(rank__lte=scorecard.proposals, account__key_account__isnull=True))
    history = list(
        KeyAccountChange.objects.filter(account__in=visible)
        .select_related("account", "actor")[:50]
    )  # fmt: skip

    def figures(pk: int) -> dict:
        s = current.get(pk)
        return {"score": float(s.score), "grade": s.grade, "rank": s.rank} if s else \
            {"score": None, "grade": None, "rank": None}  # fmt: skip

    return {
        **_header(scorecard, start, end, filters),
        "key_accounts": [
            {"account": k.account_id, "name": k.account.name, "reason": k.reason,
             "by_hand": k.by_hand, "confirmed_by": str(k.confirmed_by or ""),
             "confirmed_at": k.confirmed_at.isoformat(), **figures(k.account_id),
             "review": current[k.account_id].grade == "C" if k.account_id in current else True}
            for k in keys
        ],
        "proposals": [
            {"account": s.account_id, "name": s.account.name, "score": float(s.score),
             "grade": s.grade, "rank": s.rank}
            for s in top
        ],
        "history": [
            {"account": h.account_id, "name": h.account.name, "action": h.action,
             "action_label": h.get_action_display(), "by_hand": h.by_hand, "reason": h.reason,
             "score": float(h.score) if h.score is not None else None,
             "actor": str(h.actor or ""), "at": h.at.isoformat()}
            for h in history
        ],
    }  # fmt: skip


def account_value_summary(*, actor: User, account: Account) -> dict | None:
    """The value section of the account 360 page, read only (no computation on a page
    view): the latest stored score of the version in use — the trailing twelve months when
    scored, else the latest period — with its three largest contributions, whether it is a
    key account, and CLV from the latest fit (the daily tick fits). None for those who may
    not see scores.
    A fixed number of queries."""
    from django.core.cache import cache

    from keycare.core.scoping import user_can_any

    from .metrics import trailing_twelve_months
    from .selectors import CLV_LATEST

    if not user_can_any(actor, "view", AccountScore):
        return None
    scorecard = Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    start, end = trailing_twelve_months()
    score = None
    if scorecard is not None:
        score = (
            restrict(
                AccountScore.objects.filter(
                    scorecard=scorecard, account=account, scope=MetricScope.OWN
                ),
                actor,
            )
            .order_by(_this_period_first(start, end).desc(), "-period_end", "-computed_at")
            .first()
        )
    explained = None
    if score is not None:
        criteria = {c["key"]: c for c in criterion_rows(scorecard)}
        parts = _explained(score.breakdown, criteria)
        explained = {
            "score": float(score.score), "grade": score.grade, "rank": score.rank,
            "period": {"from": score.period_start.isoformat(), "to": score.period_end.isoformat()},
            "computed_at": score.computed_at, "version": scorecard.version,
            "top": sorted(parts, key=lambda p: -p["weighted"])[:3],
            "missing": [p["label"] for p in parts if p["missing"]],
        }  # fmt: skip
    key = KeyAccount.objects.filter(account=account).select_related("confirmed_by").first()
    latest = cache.get(CLV_LATEST)  # the last fit (within a week), no count of the orders
    clv = None
    if latest is not None and account.pk in latest["accounts"]:
        alive, orders, revenue = latest["accounts"][account.pk]
        clv = {"p_alive": alive, "expected_orders_12m": orders, "expected_revenue_12m": revenue,
               "as_of": latest["date"]}  # fmt: skip
    fitted = latest
    return {"score": explained, "key_account": key, "clv": clv, "clv_fitted": fitted is not None}


def _this_period_first(start: dt.date, end: dt.date):
    """1 for the given period's row, else 0 (to order it first)."""
    from django.db.models import Case, IntegerField, Q, Value, When

    return Case(When(Q(period_start=start, period_end=end), then=Value(1)), default=Value(0),
                output_field=IntegerField())  # fmt: skip
