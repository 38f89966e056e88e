"""The customer value scorecard (客户价值计分卡): its versions and criteria, the key account
manager's qualitative judgements, the computation of every account's score, and key account
designation (大客户确认).

Score = Σ weight × normalised points / 100 on 0–100 (weights sum to 100), graded A/B/C by
the version's bands. The population an account is compared with (min–max, percentile) is
every active account with figures for the period, whoever looks: the same account has the
same score for everyone. Scores are stored per version and period with each criterion's
raw value and points, so a past ranking can be shown exactly as it was."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.lock_objects import account_qs_select_for_update
from keycare.accounts.models import Account
from keycare.core.bulk import bulk_insert_values
from keycare.core.exceptions import ApplicationError
from keycare.core.services import check_version, require_permission, require_role
from keycare.users.choices import Role
from keycare.users.models import User

from . import calculations as calc
from .metrics import metrics_ensure
from .models import (
    AccountMetric,
    AccountScore,
    KeyAccount,
    KeyAccountChange,
    MetricScope,
    QualitativeCriterion,
    QualitativeScore,
    Scorecard,
    ScorecardCriterion,
)

#: The figures a criterion can use: label, and whether a higher value is better by default.
METRICS: dict[str, tuple[Any, bool]] = {
    "revenue": (gettext_lazy("Revenue"), True),
    "gross_profit": (gettext_lazy("Gross profit"), True),
    "contribution": (gettext_lazy("Profit after cost to serve"), True),
    "margin": (gettext_lazy("Gross margin %"), True),
    "orders": (gettext_lazy("Orders"), True),
    "order_frequency": (gettext_lazy("Orders per month"), True),
    "largest_order": (gettext_lazy("Largest order"), True),
    "average_order": (gettext_lazy("Average order"), True),
    "recency_days": (gettext_lazy("Days since the last order"), False),
    "tenure_days": (gettext_lazy("Days since the first order"), True),
    "growth": (gettext_lazy("Growth %"), True),
    "growth_yoy": (gettext_lazy("Growth year over year %"), True),
    "cost_to_serve": (gettext_lazy("Cost to serve"), False),
    "tickets": (gettext_lazy("Tickets"), False),
    "csat": (gettext_lazy("CSAT %"), True),
    "nps": (gettext_lazy("NPS"), True),
    "p_alive": (gettext_lazy("P(alive)"), True),
    "expected_orders_12m": (gettext_lazy("Expected orders, next 12 months"), True),
    "expected_revenue_12m": (gettext_lazy("Expected revenue, next 12 months"), True),
}
CLV_METRICS = ("p_alive", "expected_orders_12m", "expected_revenue_12m")
STORED = ("revenue", "gross_profit", "orders", "order_frequency", "largest_order",
          "average_order", "recency_days", "tenure_days", "growth", "growth_yoy", "cost_to_serve",
          "tickets", "csat", "nps")  # fmt: skip
HUNDRED = Decimal(100)


def metric_label(key: str) -> str:
    return str(METRICS[key][0]) if key in METRICS else key


def _require_admin(actor: User | None) -> None:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))


def scorecard_active() -> Scorecard:
    """The version in use."""
    scorecard = Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    if scorecard is None:
        raise ApplicationError(
            _("No value scorecard is active. An administrator publishes one first."),
            extra={"code": "no_active_scorecard"},
        )
    return scorecard


# --- versions and criteria ------------------------------------------------------------------


@transaction.atomic
def scorecard_draft(*, actor: User | None) -> Scorecard:
    """The draft to edit: the existing one, or a copy of the newest version."""
    _require_admin(actor)
    # lock the newest version first: two administrators starting a draft at once queue
    # here, and the second finds the first one's draft
    source = Scorecard.objects.select_for_update().order_by("-version").first()
    draft = Scorecard.objects.filter(status=Scorecard.Status.DRAFT).first()
    if draft is not None:
        return draft
    draft = Scorecard.objects.create(
        name=source.name if source else _("Value scorecard"),
        version=(source.version + 1) if source else 1,
        grade_a=source.grade_a if source else 70, grade_b=source.grade_b if source else 40,
        proposals=source.proposals if source else 20, notes=source.notes if source else "",
        created_by=actor,
    )  # fmt: skip
    if source is not None:
        ScorecardCriterion.objects.bulk_create(
            ScorecardCriterion(
                scorecard=draft,
                metric=c.metric,
                qualitative_id=c.qualitative_id,
                weight=c.weight,
                normalisation=c.normalisation,
                higher_is_better=c.higher_is_better,
                parameters=c.parameters,
                position=c.position,
            )
            for c in source.criteria.all()
        )
    return draft


def _criteria_from(items: Iterable[Mapping[str, Any]]) -> list[ScorecardCriterion]:
    """Validated criteria from plain input: `key` is a metric or "q:<qualitative key>"."""
    qualitative = {q.key: q for q in QualitativeCriterion.objects.all()}
    criteria, errors, seen = [], [], set()
    for position, item in enumerate(items):
        key = str(item.get("key") or "").strip()
        label = metric_label(key) if not key.startswith("q:") else key[2:]
        if key.startswith("q:") and key[2:] in qualitative:
            metric, q = "", qualitative[key[2:]]
        elif key in METRICS:
            metric, q = key, None
        else:
            errors.append(_("Criterion %(n)s: choose a metric or a qualitative criterion.")
                          % {"n": position + 1})  # fmt: skip
            continue
        if key in seen:
            errors.append(_("%(criterion)s is listed twice.") % {"criterion": label})
        seen.add(key)
        try:
            weight = Decimal(str(item.get("weight")))
        except ArithmeticError:
            weight = None
        if weight is None or not weight.is_finite() or not 0 < weight <= 100:
            errors.append(_("%(criterion)s: the weight must be a number above 0 and at most 100.")
                          % {"criterion": label})  # fmt: skip
            continue
        method = item.get("normalisation") or "minmax"
        parameters = item.get("parameters") or []
        problem = calc.normalisation_problem(method, parameters)
        if problem == "method":
            errors.append(_("%(criterion)s: choose min–max, percentile, fixed thresholds or a "
                            "fixed range.") % {"criterion": label})  # fmt: skip
        elif problem == "thresholds":
            errors.append(_("%(criterion)s: thresholds are pairs of a bound and 0–100 points, "
                            "with rising bounds (e.g. 100000 → 40, 500000 → 70, 1000000 → 100).")
                          % {"criterion": label})  # fmt: skip
        elif problem == "range":
            errors.append(_("%(criterion)s: a fixed range needs a low and a higher high value "
                            "(e.g. 1 and 10).") % {"criterion": label})  # fmt: skip
        higher = item.get("higher_is_better")
        if higher is None:
            higher = METRICS[metric][1] if metric else True
        if method in ("thresholds", "range"):
            parameters = [[float(x) for x in p] for p in parameters] if method == "thresholds" \
                else [float(x) for x in parameters]  # fmt: skip
        criteria.append(ScorecardCriterion(
            metric=metric, qualitative=q, weight=weight, normalisation=method,
            higher_is_better=bool(higher), parameters=parameters if method in
            ("thresholds", "range") else [], position=position,
        ))  # fmt: skip
    if not criteria and not errors:
        errors.append(_("A scorecard needs at least one criterion."))
    total = sum((c.weight for c in criteria), Decimal(0))
    if criteria and not errors and total != HUNDRED:
        errors.append(_("The weights must sum to 100; they sum to %(total)s.")
                      % {"total": f"{total.normalize():f}"})  # fmt: skip
    if errors:
        raise ValidationError({"criteria": errors})
    return criteria


@transaction.atomic
def scorecard_update(
    *, actor: User | None, scorecard: Scorecard, data: Mapping[str, Any],
    criteria: Iterable[Mapping[str, Any]] | None = None, lock_version: int | None = None,
    publish: bool = False,
) -> Scorecard:  # fmt: skip
    """Change a draft: its name, grade bands, number of proposals, notes and (when given) the
    whole list of criteria; with `publish`, publish it in the same transaction (saved and
    published, or neither). A published version cannot change: make a new draft."""
    _require_admin(actor)
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != Scorecard.Status.DRAFT:
        raise ApplicationError(
            _("Version %(version)s is published and cannot change. Edit a new draft instead.")
            % {"version": scorecard.version}, extra={"code": "published"},
        )  # fmt: skip
    check_version(instance=scorecard, expected=lock_version, field="lock_version")
    for field in ("name", "grade_a", "grade_b", "proposals", "notes"):
        if field in data:
            setattr(scorecard, field, data[field])
    scorecard.full_clean()
    new = _criteria_from(criteria) if criteria is not None else None
    scorecard.lock_version += 1
    scorecard.save()
    if new is not None:
        scorecard.criteria.all().delete()
        for c in new:
            c.scorecard = scorecard
        ScorecardCriterion.objects.bulk_create(new)
    if publish:
        return scorecard_publish(actor=actor, scorecard=scorecard)
    return scorecard


@transaction.atomic
def scorecard_publish(*, actor: User | None, scorecard: Scorecard) -> Scorecard:
    """Make a draft the active version; the version before it is retired (its scores stay)."""
    _require_admin(actor)
    scorecard = Scorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != Scorecard.Status.DRAFT:
        raise ApplicationError(_("Only a draft can be published."), extra={"code": "not_a_draft"})
    _criteria_from(
        {"key": c.key, "weight": c.weight, "normalisation": c.normalisation,
         "higher_is_better": c.higher_is_better, "parameters": c.parameters}
        for c in scorecard.criteria.select_related("qualitative")
    )  # fmt: skip
    Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).update(status=Scorecard.Status.RETIRED)
    scorecard.status = Scorecard.Status.ACTIVE
    scorecard.published_at = timezone.now()
    scorecard.lock_version += 1
    scorecard.save()
    return scorecard


@transaction.atomic
def qualitative_criterion_create(
    *, actor: User | None, key: str, name: str, name_zh: str, guidance: str = "",
    guidance_zh: str = "",
) -> QualitativeCriterion:  # fmt: skip
    """A new judgement the key account managers score (usable in the next draft)."""
    _require_admin(actor)
    criterion = QualitativeCriterion(key=key.strip(), name=name.strip(), name_zh=name_zh.strip(),
                                     guidance=guidance.strip(), guidance_zh=guidance_zh.strip())  # fmt: skip
    criterion.full_clean()
    criterion.save()
    return criterion


@transaction.atomic
def qualitative_scores_set(
    *, actor: User | None, account: Account, scores: Mapping[str, int | None],
    notes: Mapping[str, str] | None = None,
) -> list[QualitativeScore]:  # fmt: skip
    """The key account manager's 1–10 judgements of an account (`scores` by criterion key;
    None clears one). Who may change the account may score it."""
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    criteria = {q.key: q for q in QualitativeCriterion.objects.filter(key__in=list(scores))}
    errors = {}
    for key, value in scores.items():
        if key not in criteria:
            errors[key] = [_("There is no such qualitative criterion.")]
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                    or not 1 <= value <= 10):  # fmt: skip
            errors[key] = [_("Score %(criterion)s from 1 to 10.")
                           % {"criterion": criteria[key].label}]  # fmt: skip
    if errors:
        raise ValidationError(errors)
    saved = []
    for key, value in scores.items():
        if value is None:
            QualitativeScore.objects.filter(account=account, criterion=criteria[key]).delete()
            continue
        score, _created = QualitativeScore.objects.update_or_create(
            account=account, criterion=criteria[key],
            defaults={"score": value, "note": ((notes or {}).get(key) or "").strip()[:300],
                      "scored_by": actor, "scored_at": timezone.now()},
        )  # fmt: skip
        saved.append(score)
    from keycare.core.background import enqueue_on_commit

    from .tasks import refresh_current_scores_task

    enqueue_on_commit(refresh_current_scores_task)  # cleared ones too
    return saved


# --- computing the scores -------------------------------------------------------------------


def criterion_values(
    *, keys: set[str], start: dt.date, end: dt.date, qualitative: Mapping[str, int] | None = None,
    scope: str = MetricScope.OWN,
) -> tuple[list[int], dict[str, dict[int, float | None]]]:  # fmt: skip
    """The accounts scored — active, with at least one order in the period (an account with
    no business in the period is no candidate, and a crowd of zeros would distort the
    min–max and percentile points of everyone else) — and each criterion's raw value per
    account, for metric keys and for qualitative keys ("q:…" → criterion id in
    `qualitative`). A fixed number of queries, none with a list of ids: the period's metric
    rows, the qualitative scores of the criteria, the CLV fit when used. Scope "group":
    the groups (top-level accounts) with the figures of all their branches."""
    metrics = AccountMetric.objects.filter(
        period_start=start, period_end=end, scope=scope, account__status="active", orders__gt=0
    )
    if scope == MetricScope.GROUP:
        metrics = metrics.filter(account__parent__isnull=True)
    rows = list(metrics.values("account_id", *STORED))
    accounts = [r["account_id"] for r in rows]
    values: dict[str, dict[int, float | None]] = {}
    for key in keys & set(STORED):
        values[key] = {r["account_id"]: (float(r[key]) if r[key] is not None else None)
                       for r in rows}  # fmt: skip
    if "contribution" in keys:
        values["contribution"] = {
            r["account_id"]: float(r["gross_profit"] - r["cost_to_serve"]) for r in rows
        }
    if "margin" in keys:
        values["margin"] = {
            r["account_id"]: float(100 * r["gross_profit"] / r["revenue"]) if r["revenue"] > 0
            else None for r in rows
        }  # fmt: skip
    if keys & set(CLV_METRICS):
        from .selectors import clv_fitted

        try:
            fitted = clv_fitted()["accounts"]
        except ApplicationError:
            fitted = {}
        for i, key in enumerate(CLV_METRICS):
            if key in keys:
                values[key] = {pk: (fitted[pk][i] if pk in fitted else None) for pk in accounts}
    if qualitative:
        scored = set(accounts)
        judged: dict[str, dict[int, float]] = {key: {} for key in qualitative}
        by_id = {pk: key for key, pk in qualitative.items()}
        for account_id, criterion_id, score in QualitativeScore.objects.filter(
            criterion_id__in=list(by_id)
        ).values_list("account_id", "criterion_id", "score"):
            if account_id in scored:
                judged[by_id[criterion_id]][account_id] = float(score)
        for key, scores in judged.items():
            values[key] = {pk: scores.get(pk) for pk in accounts}
    return accounts, values


SCORE_COLUMNS = ("scorecard_id", "account_id", "scope", "period_start", "period_end", "score",
                 "grade", "rank", "breakdown", "computed_at")  # fmt: skip


def _stale(scorecard: Scorecard, start: dt.date, end: dt.date, scope: str = "own") -> bool:
    """Missing, or — for a period that reaches today — older than the metric rows they
    come from. A past period's scores stay as they were computed (reproducible: the figures
    and judgements of that time); `keycare insights score` recomputes them on purpose."""
    oldest = AccountScore.objects.filter(
        scorecard=scorecard, scope=scope, period_start=start, period_end=end
    ).aggregate(at=Min("computed_at"))["at"]
    if oldest is None:
        return True
    if end < timezone.localdate():
        return False
    newest = AccountMetric.objects.filter(period_start=start, period_end=end).aggregate(
        at=Max("computed_at")
    )["at"]
    return newest is not None and newest > oldest


@transaction.atomic
def scores_compute(
    *, scorecard: Scorecard, start: dt.date, end: dt.date, only_if_stale: bool = False,
    scope: str = MetricScope.OWN,
) -> int:  # fmt: skip
    """Score every active account with orders in the period on this version, replacing the
    version's stored scores of the period; the number of accounts scored. One writer per
    version at a time (a lock), which with `only_if_stale` re-checks after waiting, so two
    requests that both found the scores stale compute once."""
    from .lock_objects import scores_lock

    scores_lock(scorecard.pk)
    if only_if_stale and not _stale(scorecard, start, end, scope):
        return 0
    metrics_ensure(start=start, end=end)
    now = timezone.now()  # before reading: a refresh committed meanwhile is newer
    criteria = list(scorecard.criteria.select_related("qualitative"))
    accounts, values = criterion_values(
        keys={c.key for c in criteria}, start=start, end=end,
        qualitative={c.key: c.qualitative_id for c in criteria if c.qualitative_id}, scope=scope,
    )  # fmt: skip
    points = {
        c.key: calc.normalise(values[c.key], method=c.normalisation,
                              higher_is_better=c.higher_is_better, parameters=c.parameters)
        for c in criteria
    }  # fmt: skip
    totals, breakdowns = {}, {}
    for pk in accounts:
        parts, total = [], 0.0
        for c in criteria:
            p = points[c.key].get(pk)
            weighted = float(c.weight) * (p or 0.0) / 100
            total += weighted
            parts.append({"key": c.key, "weight": float(c.weight), "value": values[c.key].get(pk),
                          "points": None if p is None else round(p, 2),
                          "weighted": round(weighted, 2)})  # fmt: skip
        totals[pk], breakdowns[pk] = round(total, 2), parts
    ranked = sorted(accounts, key=lambda pk: (-totals[pk], pk))
    a, b = float(scorecard.grade_a), float(scorecard.grade_b)

    def rows():
        rank, previous = 0, None
        for position, pk in enumerate(ranked, start=1):
            if totals[pk] != previous:  # equal scores share a rank (1, 2, 2, 4)
                rank, previous = position, totals[pk]
            yield (scorecard.pk, pk, scope, start, end, Decimal(str(totals[pk])),
                   calc.grade(totals[pk], a=a, b=b), rank, breakdowns[pk], now)  # fmt: skip

    AccountScore.objects.filter(
        scorecard=scorecard, scope=scope, period_start=start, period_end=end
    ).delete()
    bulk_insert_values(AccountScore, SCORE_COLUMNS, rows(), total=len(ranked))
    return len(ranked)


def scores_ensure(
    *, scorecard: Scorecard, start: dt.date, end: dt.date, background: bool = False,
    scope: str = MetricScope.OWN,
) -> bool:  # fmt: skip
    """Make sure the version has scores for the period: computed now when there are none;
    when they are older than their figures (a period reaching today, see `_stale`), computed
    now or — with `background`, as the pages ask — by a task after this request, the page
    showing the stored scores meanwhile. Whether it computed now."""
    metrics_ensure(start=start, end=end)
    if not _stale(scorecard, start, end, scope):
        return False
    if (
        background
        and AccountScore.objects.filter(
            scorecard=scorecard, scope=scope, period_start=start, period_end=end
        ).exists()
    ):
        from keycare.core.background import enqueue_on_commit

        from .tasks import refresh_scores_task

        enqueue_on_commit(refresh_scores_task, scorecard.pk, start.isoformat(), end.isoformat(),
                          scope)  # fmt: skip
        return False
    scores_compute(scorecard=scorecard, start=start, end=end, only_if_stale=True, scope=scope)
    return True


def scores_refresh_current(*, scorecard: Scorecard | None = None) -> int:
    """Recompute the version's (default: the active one's) stored scores of every period that
    reaches today — after the judgements changed. The number of periods recomputed."""
    scorecard = scorecard or Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    if scorecard is None:
        return 0
    periods = (
        AccountScore.objects.filter(scorecard=scorecard, period_end__gte=timezone.localdate())
        .order_by().values_list("scope", "period_start", "period_end").distinct()
    )  # fmt: skip
    periods = list(periods)
    for scope, start, end in periods:
        scores_compute(scorecard=scorecard, start=start, end=end, scope=scope)
    return len(periods)


# --- key account designation ----------------------------------------------------------------


def _require_designator(actor: User | None) -> None:
    require_role(actor=actor, roles=(Role.ADMINISTRATOR, Role.EXECUTIVE),
                 message=_("Only executives and administrators designate key accounts."))  # fmt: skip


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the decision.")]})
    return reason[:300]


@transaction.atomic
def key_account_designate(
    *, actor: User | None, account: Account, reason: str,
    start: dt.date | None = None, end: dt.date | None = None,
) -> KeyAccount:  # fmt: skip
    """Confirm an account as a key account, with the reason; recorded. Whether it confirms
    the scorecard's proposal (its rank within the proposals of the version in use, for the
    period — default the trailing twelve months) or adds the account by hand is decided
    here from the stored scores, not by the caller; the score is kept with it."""
    from .metrics import trailing_twelve_months

    _require_designator(actor)
    reason = _reason(reason)
    account = account_qs_select_for_update().get(pk=account.pk)
    if KeyAccount.objects.filter(account=account).exists():
        raise ApplicationError(
            _("%(account)s is already a key account.") % {"account": account.name},
            extra={"code": "already_key_account"},
        )
    if start is None or end is None:
        start, end = trailing_twelve_months()
    scorecard = Scorecard.objects.filter(status=Scorecard.Status.ACTIVE).first()
    stored = (
        AccountScore.objects.filter(
            scorecard=scorecard, account=account, period_start=start, period_end=end
        ).order_by("rank").first()  # its own figures, or as a group with its branches
        if scorecard else None
    )  # fmt: skip
    proposed = stored is not None and stored.rank <= scorecard.proposals
    score = stored.score if stored else None
    key = KeyAccount.objects.create(account=account, reason=reason, by_hand=not proposed,
                                    scorecard=scorecard if stored else None, score=score,
                                    confirmed_by=actor)  # fmt: skip
    KeyAccountChange.objects.create(account=account, action=KeyAccountChange.Action.DESIGNATED,
                                    by_hand=not proposed, reason=reason, score=score,
                                    actor=actor)  # fmt: skip
    return key


@transaction.atomic
def key_account_remove(*, actor: User | None, account: Account, reason: str) -> None:
    """An account is no longer a key account (with the reason); recorded."""
    _require_designator(actor)
    reason = _reason(reason)
    account = account_qs_select_for_update().get(pk=account.pk)
    deleted, _rows = KeyAccount.objects.filter(account=account).delete()
    if not deleted:
        raise ApplicationError(
            _("%(account)s is not a key account.") % {"account": account.name},
            extra={"code": "not_key_account"},
        )
    KeyAccountChange.objects.create(account=account, action=KeyAccountChange.Action.REMOVED,
                                    by_hand=True, reason=reason, actor=actor)  # fmt: skip
