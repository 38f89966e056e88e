"""Reads of the account types (大客户分类), scoped to the acting user: the types page (the
accounts with their type, latest suggestion and whether it is confirmed, counts per type),
one account's type with its strategy (the account 360 page), its assessments, the data
signals before an assessment, and the service strategies.

The types and their assessments are seen where the metrics are (those who may see orders,
for the accounts they see): the signals are commercial figures. Entry points compute the
trailing twelve months' metrics (metrics_ensure) before asking for the signals."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountType
from keycare.accounts.models import Account
from keycare.core.scoping import restrict, user_can_any
from keycare.users.models import User

from .account_types import (
    QUESTIONS,
    SIGNAL_LABELS,
    SIGNALS,
    TYPE_ORDER,
    data_points,
    data_signals,
    points_explained,
)
from .metrics import trailing_twelve_months
from .models import AccountTypeAssessment, ServiceStrategy

#: `type` filter values: one of the types, or "none" (no type yet).
TYPE_FILTERS = (*TYPE_ORDER, "none")


def account_types_visible(actor: User) -> bool:
    """Whether the actor sees account types at all (model level, no query)."""
    return user_can_any(actor, "view", AccountTypeAssessment)


def _choices(filters: Mapping[str, Any] | None) -> tuple[str | None, bool]:
    raw_type = str((filters or {}).get("type") or "")
    raw_pending = str((filters or {}).get("pending") or "").lower()
    errors = {}
    if raw_type and raw_type not in TYPE_FILTERS:
        errors["type"] = [_("Choose intrinsic, extrinsic or strategic value, or none.")]
    if raw_pending not in ("", "true", "false", "1", "0"):
        errors["pending"] = [_("Pending is true or false.")]
    if errors:
        raise ValidationError(errors)
    return raw_type or None, raw_pending in ("true", "1")


def _visible_accounts(actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Account]:
    """The accounts whose type the actor sees: those they see, when they see types at all
    (the assessment rule follows the account for those who may see orders), narrowed to
    the region and industry in `filters` (the insights filters)."""
    from .selectors import insights_account_filters

    if not account_types_visible(actor):
        return Account.objects.none()
    chosen = insights_account_filters(filters)
    return restrict(Account.objects.filter(**chosen), actor, "view")


def typed_account_list(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[Account]:
    """The accounts the actor sees the types of, each annotated with its latest assessment
    (`assessment_id`, `suggested_type`, `assessment_confirmed`: its confirmed type or "",
    `assessed_at`) and its latest confirmation (`confirmed_at`, `confirmed_by_id`);
    `type` narrows to one current type (or "none"), `pending=true` to accounts whose
    latest assessment awaits confirmation. One query, whatever the number of accounts."""
    chosen, pending = _choices(filters)
    latest = AccountTypeAssessment.objects.filter(account=OuterRef("pk")).order_by(
        "-assessed_at", "-id"
    )
    confirmed = latest.exclude(confirmed_type="")
    qs = _visible_accounts(actor, filters).annotate(
        assessment_id=Subquery(latest.values("pk")[:1]),
        suggested_type=Subquery(latest.values("suggested_type")[:1]),
        assessment_confirmed=Subquery(latest.values("confirmed_type")[:1]),
        assessed_at=Subquery(latest.values("assessed_at")[:1]),
        confirmed_at=Subquery(confirmed.values("confirmed_at")[:1]),
        confirmed_by_id=Subquery(confirmed.values("confirmed_by")[:1]),
    )
    if chosen == "none":
        qs = qs.filter(account_type="")
    elif chosen:
        qs = qs.filter(account_type=chosen)
    if pending:
        qs = qs.filter(assessment_id__isnull=False, assessment_confirmed="")
    return qs.select_related("owner").order_by("name", "id")


def _type_labels() -> dict[str, str]:
    return {value: str(label) for value, label in AccountType.choices}


def account_type_overview(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The types page: the number of visible accounts per current type (and without one),
    how many latest assessments await confirmation, and the accounts (narrowed by `type`
    and `pending`) with their type and latest suggestion. Four queries: the counts, the
    pending count, the accounts, the users who confirmed."""
    chosen, pending = _choices(filters)
    labels = _type_labels()
    visible = _visible_accounts(actor, filters)
    counts = dict(
        visible.order_by()
        .values_list("account_type")
        .annotate(n=Count("pk"))
        .values_list("account_type", "n")
    )
    region = {k: v for k, v in (filters or {}).items() if k in ("province", "industry")}
    awaiting = typed_account_list(actor=actor, filters={**region, "pending": "true"}).count()
    accounts = list(typed_account_list(actor=actor, filters=filters))
    confirmers = User.objects.in_bulk({a.confirmed_by_id for a in accounts} - {None})
    return {
        "types": [{"type": t, "label": labels[t], "accounts": counts.get(t, 0)}
                  for t in TYPE_ORDER],
        "untyped": counts.get("", 0),
        "pending": awaiting,
        "accounts": sum(counts.values()),
        "type": chosen,
        "pending_only": pending,
        "rows": [
            {"account": a.pk, "name": a.name, "tier": a.tier, "owner": str(a.owner or ""),
             "account_type": a.account_type, "type_label": labels.get(a.account_type, ""),
             "assessment": a.assessment_id, "suggested_type": a.suggested_type or "",
             "suggested_label": labels.get(a.suggested_type or "", ""),
             "pending": a.assessment_id is not None and not a.assessment_confirmed,
             "assessed_at": a.assessed_at.isoformat() if a.assessed_at else None,
             "confirmed_at": a.confirmed_at.isoformat() if a.confirmed_at else None,
             "confirmed_by": str(confirmers.get(a.confirmed_by_id) or "")
             if a.confirmed_by_id else ""}
            for a in accounts
        ],
    }  # fmt: skip


def account_type_assessments(*, actor: User, account: Account) -> QuerySet[AccountTypeAssessment]:
    """The account's assessments the actor may see, newest first."""
    return restrict(
        AccountTypeAssessment.objects.filter(account=account), actor, "view"
    ).select_related("assessed_by", "confirmed_by")


def account_type_assessment_get(*, actor: User, pk: int) -> AccountTypeAssessment:
    """Raises AccountTypeAssessment.DoesNotExist when missing or not visible to the actor."""
    return (
        restrict(AccountTypeAssessment.objects.all(), actor, "view")
        .select_related("account", "assessed_by", "confirmed_by")
        .get(pk=pk)
    )


def account_type_get(*, actor: User, account: Account) -> dict | None:
    """An account's type for its 360 page: the type, the assessment that confirmed it (who,
    when, why), a newer assessment awaiting confirmation, and the type's service strategy;
    None when the actor does not see types. Two queries (the strategy only when typed)."""
    if not account_types_visible(actor):
        return None
    qs = account_type_assessments(actor=actor, account=account)
    latest = qs.order_by("-assessed_at", "-id").values("pk")[:1]
    confirmed = qs.exclude(confirmed_type="").order_by("-assessed_at", "-id").values("pk")[:1]
    rows = list(qs.filter(Q(pk=Subquery(latest)) | Q(pk=Subquery(confirmed))))
    rows.sort(key=lambda a: (a.assessed_at, a.pk), reverse=True)
    newest = rows[0] if rows else None
    confirmation = next((a for a in rows if a.confirmed_type), None)
    strategy = None
    if account.account_type:
        strategy = (
            restrict(ServiceStrategy.objects.all(), actor, "view")
            .filter(account_type=account.account_type)
            .first()
        )
    return {
        "account_type": account.account_type,
        "label": _type_labels().get(account.account_type, ""),
        "confirmation": confirmation,
        # the type was set another way (the account form, an import) after the confirmation
        "set_by_hand": bool(account.account_type)
        and (confirmation is None or confirmation.confirmed_type != account.account_type),
        "pending": newest if newest is not None and not newest.confirmed_type else None,
        "strategy": strategy,
    }


def account_type_signals(
    *, actor: User, account: Account, today: dt.date | None = None
) -> dict | None:
    """The data signals of the trailing twelve months (computed beforehand with
    metrics_ensure) and the points the data rules give, before the questionnaire; None when
    the actor does not see types."""
    if not account_types_visible(actor):
        return None
    start, end = trailing_twelve_months(today)
    signals = data_signals(account=account, start=start, end=end)
    return {
        "signals": signals,
        "figures": [{"key": k, "label": str(SIGNAL_LABELS[k]), "value": signals[k]}
                    for k in SIGNALS],
        "rules": points_explained({"rules": data_points(signals)}),
    }  # fmt: skip


def assessment_data(assessment: AccountTypeAssessment) -> dict:
    """An assessment as pages and the API show it: answers with their questions, signals,
    points per type and every contribution explained."""
    labels = _type_labels()
    totals = assessment.points.get("totals", {})
    return {
        "id": assessment.pk,
        "account": assessment.account_id,
        "answers": [{"key": q.key, "question": str(q.text), "type": q.account_type,
                     "answer": assessment.answers.get(q.key)} for q in QUESTIONS],
        "signals": assessment.signals,
        "totals": {t: totals.get(t, 0) for t in TYPE_ORDER},
        "types": [{"type": t, "label": labels[t], "points": totals.get(t, 0),
                   "suggested": t == assessment.suggested_type} for t in TYPE_ORDER],
        "contributions": points_explained(assessment.points),
        "suggested_type": assessment.suggested_type,
        "suggested_label": labels.get(assessment.suggested_type, ""),
        "confirmed_type": assessment.confirmed_type,
        "confirmed_label": labels.get(assessment.confirmed_type, ""),
        "reason": assessment.reason,
        "assessed_by": str(assessment.assessed_by or ""),
        "assessed_at": assessment.assessed_at.isoformat(),
        "confirmed_by": str(assessment.confirmed_by or ""),
        "confirmed_at": assessment.confirmed_at.isoformat() if assessment.confirmed_at else None,
    }  # fmt: skip


def service_strategy_list(*, actor: User) -> list[ServiceStrategy]:
    """The three strategies the actor may see (all or none), in the types' order."""
    rows = restrict(ServiceStrategy.objects.all(), actor, "view").select_related("updated_by")
    return sorted(rows, key=lambda s: TYPE_ORDER.index(s.account_type))


def service_strategy_get(*, actor: User, account_type: str) -> ServiceStrategy:
    """Raises ServiceStrategy.DoesNotExist when there is none or the actor may not see it."""
    return restrict(ServiceStrategy.objects.all(), actor, "view").get(account_type=account_type)


def strategy_data(strategy: ServiceStrategy) -> dict:
    return {
        "account_type": strategy.account_type,
        "label": _type_labels().get(strategy.account_type, ""),
        "summary": strategy.summary, "summary_zh": strategy.summary_zh,
        "practices": strategy.practices, "practices_zh": strategy.practices_zh,
        "summary_text": strategy.summary_text, "practice_list": strategy.practice_list,
        "updated_by": str(strategy.updated_by or ""),
        "updated_at": strategy.updated_at.isoformat(),
        "lock_version": strategy.lock_version,
    }  # fmt: skip
