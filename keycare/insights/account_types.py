"""Account types (大客户分类, Rackham & DeVincentis) and their service strategies.

Three types: intrinsic value (内在价值型: buys the product, price-sensitive, wants it cheap and
easy), extrinsic value (外在价值型: values advice and added service around the product) and
strategic value (战略价值型: wants a partnership that changes both organisations).

A type is *suggested* from two sources, each turned into points per type, every point
traceable to the rule that gave it (stored in the assessment's ``points["rules"]``):

* **The questionnaire** — six statements the account team rates 1 (not at all) to 5
  (fully), two per type (``QUESTIONS``). Each answer gives ``answer − 1`` points (0–4) to the
  type its statement describes, so the questionnaire gives each type 0–8 points.
* **The data** of the trailing twelve months (``DATA_RULES``), from the account's own metrics
  and tickets (``data_signals``):

  - discount depth = discounts / (revenue + discounts), in % of the list value:
    ≥ 15 → intrinsic +3; 8–15 → intrinsic +1; < 3 → extrinsic +1 and strategic +1;
  - service intensity = cost to serve / revenue, in %:
    ≥ 8 → extrinsic +2; 3–8 → extrinsic +1; < 1 → intrinsic +1;
  - share of consultative work = consultation tickets / all tickets, in % (only from
    ``MIN_TICKETS`` tickets on): ≥ 40 → extrinsic +2 and strategic +1; 20–40 → extrinsic +1;
    < 10 → intrinsic +1.

  A figure that cannot be computed (no revenue, too few tickets) gives no points. The data
  can give intrinsic and extrinsic up to 5 points but strategic only 2: a willingness to
  plan jointly and change one's own organisation shows in conversations, not in orders.

The type with the most points is suggested; on a tie the less service-intensive type wins
(intrinsic before extrinsic before strategic), since a richer strategy costs more and should
rest on clearer evidence. A person (the account's key account manager or an administrator)
confirms the type — possibly another one, then with a reason — which writes
``Account.account_type``. Every assessment is kept; the latest confirmed one explains the
account's type.

Each type has a service strategy (``ServiceStrategy``: summary and practices in both
languages) that administrators edit, shown on the account 360 page and read by the
engagement playbooks."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.choices import AccountType
from keycare.accounts.lock_objects import account_qs_select_for_update
from keycare.accounts.models import Account
from keycare.accounts.services.accounts import account_update
from keycare.core.exceptions import ApplicationError
from keycare.core.services import apply_changes, check_version, require_permission, require_role
from keycare.users.choices import Role
from keycare.users.models import User

from .metrics import metrics_ensure, trailing_twelve_months
from .models import AccountMetric, AccountTypeAssessment, MetricScope, ServiceStrategy

INTRINSIC, EXTRINSIC, STRATEGIC = (
    AccountType.INTRINSIC,
    AccountType.EXTRINSIC,
    AccountType.STRATEGIC,
)
#: The order of the types everywhere, and the tie-break: the first of the tied types wins.
TYPE_ORDER = (INTRINSIC, EXTRINSIC, STRATEGIC)


# --- the questionnaire ----------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    account_type: str
    text: Promise


QUESTIONS = (
    Question("price_focus", INTRINSIC, gettext_lazy(
        "Price decides their purchases; they push hard for discounts.")),
    Question("self_service", INTRINSIC, gettext_lazy(
        "They know what they need and want quick, simple ordering rather than advice.")),
    Question("values_advice", EXTRINSIC, gettext_lazy(
        "They ask for and value our advice on applications, processes and solutions.")),
    Question("pays_for_service", EXTRINSIC, gettext_lazy(
        "They pay for added service such as application support, training and "
        "preventive maintenance.")),
    Question("joint_planning", STRATEGIC, gettext_lazy(
        "They are willing to plan jointly with us: shared goals, an annual plan, "
        "regular business reviews.")),
    Question("changes_organisation", STRATEGIC, gettext_lazy(
        "They would change their own organisation or processes to work with us "
        "(dedicated teams, shared systems, open information).")),
)  # fmt: skip
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
SCALE = (1, 2, 3, 4, 5)
SCALE_LABELS = {
    1: gettext_lazy("1 – not at all"), 2: "2", 3: gettext_lazy("3 – partly"), 4: "4",
    5: gettext_lazy("5 – fully"),
}  # fmt: skip


def questionnaire_clean(answers: Mapping[str, Any] | None) -> dict[str, int]:
    """The answers as {question key: 1–5}, every question answered; anything else is a
    ValidationError naming the question (an unknown key, a missing answer, not 1–5)."""
    answers = dict(answers or {})
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in QUESTION_KEYS:
            errors[str(key)] = [_("There is no such question.")]
    clean = {}
    for key in QUESTION_KEYS:
        value = answers.get(key)
        if value is None or value == "":
            errors[key] = [_("Answer this question.")]
        elif isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
            errors[key] = [_("Answer from 1 (not at all) to 5 (fully).")]
        else:
            clean[key] = value
    if errors:
        raise ValidationError(errors)
    return clean


# --- the data rules -------------------------------------------------------------------------

#: Ticket types that are advice rather than repair (keycare.service.choices.TicketType).
CONSULTATIVE_TICKET_TYPES = ("consultation",)
#: Below this many tickets in the period the share of consultative work says nothing.
MIN_TICKETS = 3
SIGNALS = ("discount_depth", "service_intensity", "consultative_share")


@dataclass(frozen=True)
class DataRule:
    """Points for the types when `signal` (a percentage) lies in [low, high)."""

    key: str
    signal: str
    low: float | None
    high: float | None
    points: Mapping[str, int]

    def applies(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


DATA_RULES = (
    DataRule("discount_deep", "discount_depth", 15, None, {INTRINSIC: 3}),
    DataRule("discount_moderate", "discount_depth", 8, 15, {INTRINSIC: 1}),
    DataRule("discount_low", "discount_depth", None, 3, {EXTRINSIC: 1, STRATEGIC: 1}),
    DataRule("service_high", "service_intensity", 8, None, {EXTRINSIC: 2}),
    DataRule("service_moderate", "service_intensity", 3, 8, {EXTRINSIC: 1}),
    DataRule("service_low", "service_intensity", None, 1, {INTRINSIC: 1}),
    DataRule("consultative_high", "consultative_share", 40, None, {EXTRINSIC: 2, STRATEGIC: 1}),
    DataRule("consultative_some", "consultative_share", 20, 40, {EXTRINSIC: 1}),
    DataRule("consultative_none", "consultative_share", None, 10, {INTRINSIC: 1}),
)
RULE_LABELS = {
    "discount_deep": gettext_lazy(
        "Discounts are at least %(low)s%% of the list value: buys on price"),
    "discount_moderate": gettext_lazy("Discounts are %(low)s–%(high)s%% of the list value"),
    "discount_low": gettext_lazy(
        "Discounts are under %(high)s%% of the list value: pays for more than the price"),
    "service_high": gettext_lazy(
        "Cost to serve is at least %(low)s%% of revenue: uses much service"),
    "service_moderate": gettext_lazy("Cost to serve is %(low)s–%(high)s%% of revenue"),
    "service_low": gettext_lazy(
        "Cost to serve is under %(high)s%% of revenue: hardly uses service"),
    "consultative_high": gettext_lazy(
        "At least %(low)s%% of the tickets are consultations: asks for advice"),
    "consultative_some": gettext_lazy("%(low)s–%(high)s%% of the tickets are consultations"),
    "consultative_none": gettext_lazy(
        "Under %(high)s%% of the tickets are consultations: repairs rather than advice"),
}  # fmt: skip
SIGNAL_LABELS = {
    "discount_depth": gettext_lazy("Discount depth (share of the list value)"),
    "service_intensity": gettext_lazy("Service intensity (cost to serve as a share of revenue)"),
    "consultative_share": gettext_lazy("Consultative work (share of the tickets)"),
}


def _percent(part: Decimal | int, whole: Decimal | int) -> float | None:
    return round(100 * float(part) / float(whole), 2) if whole and whole > 0 else None


def derive_signals(
    *, revenue: Decimal, discounts: Decimal, cost_to_serve: Decimal, tickets: int,
    consultative_tickets: int,
) -> dict[str, Any]:  # fmt: skip
    """The figures and the three percentages the rules read (None where they cannot be
    computed: no list value, no revenue, fewer than MIN_TICKETS tickets)."""
    return {
        "revenue": float(revenue), "discounts": float(discounts),
        "cost_to_serve": float(cost_to_serve), "tickets": tickets,
        "consultative_tickets": consultative_tickets,
        "discount_depth": _percent(discounts, revenue + discounts),
        "service_intensity": _percent(cost_to_serve, revenue),
        "consultative_share": _percent(consultative_tickets, tickets)
        if tickets >= MIN_TICKETS else None,
    }  # fmt: skip


def data_signals(*, account: Account, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The account's own figures for the period (its metrics row, computed beforehand with
    metrics_ensure, and its tickets by type): two queries."""
    from keycare.service.models import Ticket

    metric = (
        AccountMetric.objects.filter(
            account=account, scope=MetricScope.OWN, period_start=start, period_end=end
        )
        .values("revenue", "discounts", "cost_to_serve")
        .first()
    ) or {"revenue": Decimal(0), "discounts": Decimal(0), "cost_to_serve": Decimal(0)}
    counts = Ticket.objects.filter(
        account=account, opened_at__date__gte=start, opened_at__date__lte=end
    ).aggregate(
        total=Count("id"), consultative=Count("id", filter=Q(ticket_type__in=CONSULTATIVE_TICKET_TYPES))
    )  # fmt: skip
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        **derive_signals(revenue=metric["revenue"], discounts=metric["discounts"],
                         cost_to_serve=metric["cost_to_serve"], tickets=counts["total"],
                         consultative_tickets=counts["consultative"]),
    }  # fmt: skip


# --- scoring (pure) -------------------------------------------------------------------------


def data_points(signals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contributions of the data rules: one row per rule and type that applied."""
    rows = []
    for rule in DATA_RULES:
        value = signals.get(rule.signal)
        if not rule.applies(value):
            continue
        for account_type in TYPE_ORDER:
            if account_type in rule.points:
                rows.append({"rule": rule.key, "type": account_type,
                             "points": rule.points[account_type], "value": value})  # fmt: skip
    return rows


def account_type_score(answers: Mapping[str, int], signals: Mapping[str, Any]) -> dict[str, Any]:
    """Points per type from clean answers and the data signals, with every contribution
    (questionnaire: one row per question, even at 0 points; data: one row per rule and type
    that applied) and the suggested type."""
    rules = [
        {"rule": f"q:{q.key}", "type": q.account_type, "points": answers[q.key] - 1,
         "value": answers[q.key]}
        for q in QUESTIONS
    ]  # fmt: skip
    rules += data_points(signals)
    totals = dict.fromkeys(TYPE_ORDER, 0)
    for row in rules:
        totals[row["type"]] += row["points"]
    best = max(totals.values())
    suggested = next(t for t in TYPE_ORDER if totals[t] == best)
    return {"totals": totals, "rules": rules, "suggested": suggested}


def _threshold(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


def rule_label(key: str) -> str:
    """What a stored rule key means, in the current language."""
    if key.startswith("q:"):
        question = next((q for q in QUESTIONS if q.key == key[2:]), None)
        return str(question.text) if question else key
    rule = next((r for r in DATA_RULES if r.key == key), None)
    if rule is None:
        return key
    return str(RULE_LABELS[key]) % {"low": _threshold(rule.low), "high": _threshold(rule.high)}


def points_explained(points: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored contributions with their labels and the types' names, for pages and the
    API."""
    labels = dict(AccountType.choices)
    return [
        {**row, "label": rule_label(row["rule"]), "type_label": str(labels.get(row["type"], "")),
         "source": "questionnaire" if row["rule"].startswith("q:") else "data"}
        for row in points.get("rules", [])
    ]  # fmt: skip


# --- services -------------------------------------------------------------------------------


@transaction.atomic
def account_type_assess(
    *, actor: User | None, account: Account, answers: Mapping[str, Any],
    today: dt.date | None = None,
) -> AccountTypeAssessment:  # fmt: skip
    """Record an assessment of the account: the questionnaire answers, the data signals of
    the trailing twelve months up to `today` and the points they give, and the suggested
    type. It does not change the account's type (a person confirms it). Who may change the
    account (its key account manager, administrators) may assess it."""
    if actor is not None:
        require_permission(actor=actor, action="change", obj=account)
    clean = questionnaire_clean(answers)
    # one writer per account at a time: assessments and confirmations stay in order
    account = account_qs_select_for_update().get(pk=account.pk)
    start, end = trailing_twelve_months(today)
    metrics_ensure(start=start, end=end)
    signals = data_signals(account=account, start=start, end=end)
    scored = account_type_score(clean, signals)
    assessment = AccountTypeAssessment(
        account=account, answers=clean, signals=signals,
        points={"totals": scored["totals"], "rules": scored["rules"]},
        suggested_type=scored["suggested"], assessed_by=actor, assessed_at=timezone.now(),
    )  # fmt: skip
    assessment.full_clean(exclude=["assessed_by"])  # None when the system assesses
    assessment.save()
    return assessment


@transaction.atomic
def account_type_confirm(
    *, actor: User | None, assessment: AccountTypeAssessment, account_type: str, reason: str
) -> AccountTypeAssessment:
    """A person confirms the account's type from its latest assessment: the suggested type
    or another one (then the reason is required). Writes Account.account_type; the
    assessment keeps who confirmed which type, when and why."""
    account = account_qs_select_for_update().get(pk=assessment.account_id)
    assessment = AccountTypeAssessment.objects.select_for_update().get(pk=assessment.pk)
    if actor is not None:
        require_permission(actor=actor, action="change", obj=assessment)
    reason = (reason or "").strip()
    errors = {}
    if account_type not in AccountType.values:
        errors["account_type"] = [_("Choose intrinsic, extrinsic or strategic value.")]
    elif account_type != assessment.suggested_type and not reason:
        errors["reason"] = [_("Say why you choose another type than the suggested %(type)s.")
                            % {"type": assessment.get_suggested_type_display()}]  # fmt: skip
    if len(reason) > 300:
        errors["reason"] = [_("The reason has at most 300 characters.")]
    if errors:
        raise ValidationError(errors)
    if assessment.confirmed_type:
        raise ApplicationError(
            _("This assessment was already confirmed as %(type)s. Assess the account again "
              "to change its type.") % {"type": assessment.get_confirmed_type_display()},
            extra={"code": "already_confirmed"},
        )  # fmt: skip
    newer = AccountTypeAssessment.objects.filter(account=account).filter(
        Q(assessed_at__gt=assessment.assessed_at)
        | Q(assessed_at=assessment.assessed_at, pk__gt=assessment.pk)
    )
    if newer.exists():
        raise ApplicationError(
            _("A newer assessment of this account exists; confirm that one."),
            extra={"code": "superseded"},
        )
    assessment.confirmed_type = account_type
    assessment.reason = reason
    assessment.confirmed_by = actor
    assessment.confirmed_at = timezone.now()
    assessment.save(update_fields=["confirmed_type", "reason", "confirmed_by", "confirmed_at"])
    # the permission was checked above through the same rule (change the account)
    account_update(actor=None, account=account, data={"account_type": account_type})
    return assessment


STRATEGY_FIELDS = {"summary", "summary_zh", "practices", "practices_zh"}


def _practices(text: Any) -> str:
    """One practice per line: lines trimmed, empty ones dropped."""
    return "\n".join(line.strip() for line in str(text or "").splitlines() if line.strip())


@transaction.atomic
def service_strategy_update(
    *, actor: User | None, strategy: ServiceStrategy, data: Mapping[str, Any],
    lock_version: int | None,
) -> ServiceStrategy:  # fmt: skip
    """Administrators change a type's service strategy (summary and practices, English and
    Chinese). An edit based on a stale `lock_version` is rejected and nothing is saved."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,),
                 message=_("Only administrators change the service strategies."))  # fmt: skip
    strategy = ServiceStrategy.objects.select_for_update().get(pk=strategy.pk)
    check_version(instance=strategy, expected=lock_version, field="lock_version")
    unknown = set(data) - STRATEGY_FIELDS
    if unknown:
        raise ValueError(f"Unknown service strategy fields: {sorted(unknown)}")
    clean = {
        key: _practices(value) if key.startswith("practices") else str(value or "").strip()
        for key, value in data.items()
    }
    changed = apply_changes(instance=strategy, data=clean, allowed=STRATEGY_FIELDS)
    if not changed:
        return strategy
    strategy.full_clean()
    strategy.lock_version += 1
    strategy.updated_by = actor
    strategy.updated_at = timezone.now()
    strategy.save()
    return strategy
