"""Profitability reports: concessions by account, kind, approver and month; accounts whose
concessions exceed their policy; accounts whose margin fell below the policy floor; and
imported order lines whose discount breaks the policy without a granted concession."""

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Trim, TruncMonth, Upper
from django.utils.translation import gettext as _

from keycare.accounts.choices import AccountTier, AccountType, OrderLineType
from keycare.accounts.models import Account, OrderLine
from keycare.users.models import User

from .calculations import ZERO, percent
from .choices import ConcessionKind, ConcessionStatus, StepStatus
from .concessions import breach_text
from .models import Concession, ConcessionPolicy, ConcessionStep
from .pnl import pnl_compute, pnl_period, require_pnl, visible_accounts
from .policies import policy_for

REPORT_GROUPINGS = ("account", "kind", "approver", "month", "requested_by")
#: Cumulative limits over a period: (policy field, concession kind, summed field).
CUMULATIVE = (
    ("max_free_service_hours", "hours"),
    ("max_free_visits", "visits"),
    ("max_goodwill_parts_value", "goodwill"),
    ("max_penalty_waiver_value", "waiver"),
)


def _person_fields(prefix: str) -> list[str]:
    return [f"{prefix}__{f}" for f in ("display_name", "last_name", "first_name", "username")]


def _person(row: Mapping[str, Any], prefix: str) -> str:
    """A user's name as User.__str__ gives it, from a values() row."""
    full = " ".join(filter(None, [row[f"{prefix}__first_name"], row[f"{prefix}__last_name"]]))
    return row[f"{prefix}__display_name"] or full or row[f"{prefix}__username"]


def _granted(actor: User, filters: Mapping[str, Any] | None) -> tuple[QuerySet, dt.date, dt.date]:
    require_pnl(actor)
    start, end = pnl_period(filters)
    # what was granted is part of the P&L: whoever sees an account's P&L sees its grants
    qs = Concession.objects.filter(
        account__in=visible_accounts(actor=actor).values("pk"),
        status=ConcessionStatus.GRANTED,
        effective_date__gte=start,
        effective_date__lte=end,
    )
    return qs, start, end


def concessions_report(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """Granted concessions of the period, grouped by account, kind, approver (who gave the
    final approval; "within policy" for those granted at once), month or requester."""
    by = str((filters or {}).get("by") or "account")
    if by not in REPORT_GROUPINGS:
        raise ValidationError({"by": [_("Choose how to group the report from the list.")]})
    qs, start, end = _granted(actor, filters)
    if by == "approver":
        steps = ConcessionStep.objects.filter(
            concession__in=qs.values("pk"), status=StepStatus.APPROVED
        )
        last = ConcessionStep.objects.filter(
            concession=OuterRef("concession"), status=StepStatus.APPROVED,
            position__gt=OuterRef("position"),
        )  # fmt: skip
        rows = [
            {"key": r["decided_by"], "label": _person(r, "decided_by"), "count": r["n"], "amount": r["s"] or ZERO}
            for r in steps.exclude(Exists(last)).values("decided_by", *_person_fields("decided_by")).annotate(n=Count("concession"), s=Sum("concession__amount")).order_by("-s")
        ]  # fmt: skip
        auto = qs.filter(within_policy=True).aggregate(n=Count("id"), s=Sum("amount"))
        if auto["n"]:
            rows.append({"key": None, "label": _("Within policy (granted at once)"),
                         "count": auto["n"], "amount": auto["s"] or ZERO})  # fmt: skip
    else:
        field = {
            "account": "account",
            "kind": "kind",
            "month": "month",
            "requested_by": "requested_by",
        }[by]
        grouped = qs.annotate(month=TruncMonth("effective_date")) if by == "month" else qs
        values = [field]
        if by == "account":
            values.append("account__name")
        if by == "requested_by":
            values += _person_fields("requested_by")
        rows = []
        for r in (
            grouped.values(*values)
            .annotate(n=Count("id"), s=Sum("amount"))
            .order_by(field if by == "month" else "-s")
        ):
            key = r[field]
            if by == "account":
                label = r["account__name"]
            elif by == "kind":
                label = str(ConcessionKind(key).label)
            elif by == "month":
                label = key.strftime("%Y-%m") if key else ""
                key = label
            else:
                label = _person(r, "requested_by")
            rows.append({"key": key, "label": label, "count": r["n"], "amount": r["s"] or ZERO})
    total = qs.aggregate(n=Count("id"), s=Sum("amount"))
    return {"start": start, "end": end, "by": by, "rows": rows,
            "total": {"count": total["n"], "amount": total["s"] or ZERO}}  # fmt: skip


HALF = Decimal("0.5")
#: Half a cent, in the units of amount × 100 the comparisons use.
HALF_CENT = Value(Decimal("0.5"), output_field=DecimalField(max_digits=3, decimal_places=1))


def _pct(value) -> Value:
    return Value(Decimal(value), output_field=DecimalField(max_digits=7, decimal_places=2))


def _policies() -> list[ConcessionPolicy]:
    return list(ConcessionPolicy.objects.filter(is_active=True))


def over_policy_rows(granted: QuerySet) -> tuple[list[dict], list[dict]]:
    """Accounts whose `granted` concessions add up to more than their policy allows (free
    hours and visits, goodwill parts, penalties waived), and contacts whose gifts exceed the
    per-contact limit: two grouped queries."""
    policies = _policies()
    rows = []
    for r in granted.values("account_id", "account__name", "account__tier", "account__account_type").annotate(
        hours=Sum("hours", filter=Q(kind=ConcessionKind.FREE_SERVICE)),
        visits=Sum("visits", filter=Q(kind=ConcessionKind.FREE_SERVICE)),
        goodwill=Sum("amount", filter=Q(kind=ConcessionKind.GOODWILL_PARTS)),
        waiver=Sum("amount", filter=Q(kind=ConcessionKind.SLA_PENALTY_WAIVER)),
        total=Sum("amount"),
    ).order_by():  # fmt: skip
        policy = policy_for(tier=r["account__tier"] or "", account_type=r["account__account_type"] or "",
                            policies=policies)  # fmt: skip
        if policy is None:
            continue
        exceeded = []
        for limit_field, key in CUMULATIVE:
            limit, value = getattr(policy, limit_field), r[key]
            if limit is not None and value is not None and Decimal(value) > Decimal(limit):
                exceeded.append({"code": limit_field, "limit": limit, "value": value,
                                 "message": breach_text(limit_field, limit, value)})  # fmt: skip
        if exceeded:
            rows.append({"account_id": r["account_id"], "name": r["account__name"], "policy": policy.name,
                         "total": r["total"] or ZERO, "exceeded": exceeded})  # fmt: skip
    gifts = []
    for r in granted.filter(kind=ConcessionKind.GIFT, contact__isnull=False).values(
        "contact_id", "contact__name", "account_id", "account__name", "account__tier", "account__account_type",
    ).annotate(s=Sum("amount")).order_by("-s"):  # fmt: skip
        policy = policy_for(tier=r["account__tier"] or "", account_type=r["account__account_type"] or "",
                            policies=policies)  # fmt: skip
        limit = policy.gift_limit_per_contact if policy else None
        if limit is not None and r["s"] > limit:
            gifts.append({"contact_id": r["contact_id"], "contact": r["contact__name"],
                          "account_id": r["account_id"], "name": r["account__name"],
                          "limit": limit, "value": r["s"],
                          "message": breach_text("gift_limit_per_contact", limit, r["s"])})  # fmt: skip
    rows.sort(key=lambda r: (-r["total"], r["account_id"]))
    return rows, gifts


def over_policy_accounts(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    """The accounts and contacts the actor sees whose concessions of the period exceed
    their policy."""
    qs, start, end = _granted(actor, filters)
    if (end - start).days > 366:  # the limits are yearly
        raise ValidationError(
            {"period_from": [_("Choose a period of at most a year: the policy limits are yearly.")]}
        )
    rows, gifts = over_policy_rows(qs)
    return {"start": start, "end": end, "rows": rows, "gifts": gifts}


def margin_floor_breaches(*, start: dt.date, end: dt.date, accounts: QuerySet) -> list[dict]:
    """Accounts (of `accounts`) with revenue whose gross margin or margin after cost to serve
    in the period is below their policy's floor."""
    policies = _policies()
    info = {a["pk"]: a for a in accounts.values("pk", "name", "tier", "account_type", "owner_id")}
    rows = []
    for pk, p in pnl_compute(start=start, end=end, accounts=accounts).items():
        a = info.get(pk)
        if a is None or p.revenue <= 0:
            continue
        policy = policy_for(
            tier=a["tier"] or "", account_type=a["account_type"] or "", policies=policies
        )
        if policy is None:
            continue
        below = []
        for code, floor, part in (
            ("min_period_margin_pct", policy.min_period_margin_pct, p.gross_profit),
            ("min_contribution_margin_pct", policy.min_contribution_margin_pct, p.contribution),
        ):
            # compared unrounded (part / revenue < floor), shown rounded down
            if floor is not None and part * 100 < floor * p.revenue:
                value = (100 * part / p.revenue).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
                below.append({"code": code, "limit": floor, "value": value,
                              "message": breach_text(code, floor, value)})  # fmt: skip
        if below:
            rows.append({"account_id": pk, "name": a["name"], "owner_id": a["owner_id"],
                         "policy": policy.name, "revenue": p.revenue, "gross_margin": p.gross_margin,
                         "contribution": p.contribution, "contribution_margin": p.contribution_margin,
                         "below": below})  # fmt: skip
    rows.sort(key=lambda r: (r["contribution_margin"], r["account_id"]))
    return rows


def below_floor_accounts(*, actor: User, filters: Mapping[str, Any] | None = None) -> dict:
    start, end = pnl_period(filters)
    return {"start": start, "end": end,
            "rows": margin_floor_breaches(start=start, end=end, accounts=visible_accounts(actor=actor, filters=filters))}  # fmt: skip


FLAGGED_LIMIT = 500


def flagged_order_lines(
    *, actor: User, filters: Mapping[str, Any] | None = None, account: Account | None = None
) -> dict:
    """Product and service lines of the period whose discount is above the policy's maximum
    or whose gross margin is below the line floor, on orders without a granted discount
    concession for that order number (flagged, not blocked: the ERP holds the orders).
    One query: the policy of each tier × type is expanded into the WHERE clause."""
    start, end, policies, lines = _flagged_lines(actor=actor, filters=filters, account=account)
    limit = FLAGGED_LIMIT
    found = list(lines[: limit + 1])
    rows = []
    for line in found[:limit]:
        account_ = line.order.account
        policy = policy_for(tier=account_.tier or "", account_type=account_.account_type or "",
                            policies=policies)  # fmt: skip
        rows.append({
            "line": line, "order": line.order, "account": account_,
            "discount_pct": percent(line.discount_amount, line.list_amount),
            "margin_pct": percent(line.net_amount - line.cost_amount, line.net_amount) if line.net_amount else None,
            "policy": policy.name if policy else None,
            "why": _line_reasons(line, policy),
        })  # fmt: skip
    return {"start": start, "end": end, "rows": rows, "more": len(found) > limit}


def flagged_order_line_count(*, actor: User, account: Account) -> tuple[int, bool]:
    """How many of the account's order lines `flagged_order_lines` lists (at most its limit)
    and whether there are more: what the account 360 page shows. One COUNT over the limited
    set, so the page reads no line rows and works out no reasons it does not show."""
    lines = _flagged_lines(actor=actor, account=account)[3]
    found = lines.order_by().values("pk")[: FLAGGED_LIMIT + 1].count()
    return min(found, FLAGGED_LIMIT), found > FLAGGED_LIMIT


def _flagged_lines(
    *, actor: User, filters: Mapping[str, Any] | None = None, account: Account | None = None
) -> tuple[dt.date, dt.date, list[ConcessionPolicy], Any]:
    """The period, the policies and the queryset of the flagged lines (see above)."""
    start, end = pnl_period(filters)
    accounts = visible_accounts(actor=actor, filters=filters)
    if account is not None:
        accounts = accounts.filter(pk=account.pk)
    policies = _policies()
    conditions = Q(pk__in=[])
    tiers, types = [*AccountTier.values, ""], [*AccountType.values, ""]
    if account is not None:
        # only its own tier × type can match: a WHERE clause of one policy, not all of them
        tiers, types = [account.tier or ""], [account.account_type or ""]
    for tier in tiers:
        for account_type in types:
            policy = policy_for(tier=tier, account_type=account_type, policies=policies)
            if policy is None:
                continue
            broken = Q(pk__in=[])
            # discount / list > max and (net − cost) / net < floor, both without dividing
            # (SQLite divides the integers Django casts the percentages to), by more than
            # half a cent (SQLite computes in floating point: a line exactly at the limit
            # must not be flagged for a rounding error)
            if policy.max_discount_pct is not None:
                broken |= Q(
                    discount_100__gt=F("list_amount") * _pct(policy.max_discount_pct) + HALF_CENT
                )
            if policy.min_line_margin_pct is not None:
                broken |= Q(
                    net_amount__gt=0,
                    margin_100__lt=F("net_amount") * _pct(policy.min_line_margin_pct) - HALF_CENT,
                )
            conditions |= (
                Q(order__account__tier=tier, order__account__account_type=account_type) & broken
            )
    excused = (
        Concession.objects.filter(
            account=OuterRef("order__account"), kind=ConcessionKind.DISCOUNT,
            status=ConcessionStatus.GRANTED,
        )
        .annotate(reference_key=Upper(Trim("order_reference")),
                  cap=ExpressionWrapper(F("discount_pct") * OuterRef("list_amount"),
                                        output_field=DecimalField(max_digits=30, decimal_places=4)))
        .filter(reference_key=OuterRef("order_key"))
        # it excuses the lines up to the discount it granted, not any discount on the order
        .filter(cap__gte=OuterRef("discount_100"))
    )  # fmt: skip
    lines = (
        OrderLine.objects.filter(
            order__order_date__gte=start, order__order_date__lte=end,
            order__account__in=accounts.values("pk"),
            line_type__in=(OrderLineType.PRODUCT, OrderLineType.SERVICE), list_amount__gt=0,
        )
        .annotate(
            margin_100=(F("net_amount") - F("cost_amount")) * 100,
            discount_100=F("discount_amount") * 100,
            order_key=Upper(Trim("order__number")),
        )
        .filter(conditions)
        .exclude(Exists(excused))
        .select_related("order__account", "product")
        .order_by("-order__order_date", "order_id", "line_number")
    )  # fmt: skip
    return start, end, policies, lines


def _line_reasons(line: OrderLine, policy: ConcessionPolicy | None) -> list[str]:
    """Which of the policy's line limits a flagged line breaks, in the reader's language."""
    reasons = []
    if policy is None:
        return reasons
    if (
        policy.max_discount_pct is not None
        and line.discount_amount * 100 > line.list_amount * policy.max_discount_pct + HALF
    ):
        reasons.append(
            _("Discount %(value)s%% above the maximum of %(limit)s%%.")
            % {
                "value": percent(line.discount_amount, line.list_amount),
                "limit": policy.max_discount_pct,
            }
        )
    margin = line.net_amount - line.cost_amount
    if (
        policy.min_line_margin_pct is not None
        and line.net_amount > 0
        and margin * 100 < line.net_amount * policy.min_line_margin_pct - HALF
    ):
        reasons.append(
            _("Gross margin %(value)s%% below the floor of %(limit)s%%.")
            % {"value": percent(margin, line.net_amount), "limit": policy.min_line_margin_pct}
        )
    return reasons  # fmt: skip
