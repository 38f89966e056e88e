"""Concession requests (优惠申请): the profit simulation before asking (测算利润空间), the
policy check, the approval chain, and every decision recorded.

A request within its policy is granted at once; beyond it, it waits for each step of its
chain (key account manager → service manager → executive, by size and account value).
Nobody decides their own request, and nobody decides two steps of one request. Decisions
lock the request row and check the version the approver saw, so of two concurrent
decisions exactly one wins. A granted concession (other than a discount, which arrives with
its order) adds to the account's cost to serve in the period of its effective date."""

import calendar
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.accounts.lock_objects import (
    account_qs_select_for_update,
    contact_qs_select_for_update,
)
from keycare.accounts.models import Account, Contact, Equipment
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.figures import account_figures_changed
from keycare.core.filtering import trailing_twelve_months
from keycare.core.scoping import user_can
from keycare.service.models import Ticket
from keycare.users.choices import Role
from keycare.users.models import User

from . import calculations as calc
from .choices import (
    LEVEL_ORDER,
    ApprovalLevel,
    ConcessionEventKind,
    ConcessionKind,
    ConcessionStatus,
    CostDriver,
    StepStatus,
)
from .models import Concession, ConcessionEvent, ConcessionPolicy, ConcessionStep
from .pnl import pnl_compute
from .policies import policy_for_account, policy_limits, profitability_settings_get
from .rates import rate_on

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_AMOUNT = Decimal("99999999999999.99")
#: The role that acts at each approval level.
LEVEL_ROLE = {
    ApprovalLevel.KEY_ACCOUNT_MANAGER: Role.KEY_ACCOUNT_MANAGER,
    ApprovalLevel.SERVICE_MANAGER: Role.SERVICE_MANAGER,
    ApprovalLevel.EXECUTIVE: Role.EXECUTIVE,
}
REQUEST_ROLES = (Role.KEY_ACCOUNT_MANAGER, Role.SERVICE_MANAGER, Role.EXECUTIVE, Role.ADMINISTRATOR)


def actor_level(actor: User) -> str | None:
    """The highest approval level the actor holds (administrators hold none: they oversee,
    they do not grant concessions)."""
    return calc.highest_level(
        str(level) for level, role in LEVEL_ROLE.items() if actor.has_role(role)
    )


def breach_text(code: str, limit: Any, value: Any) -> str:
    """A policy breach in the reader's language."""
    texts = {
        "max_discount_pct": _("Discount %(value)s%% is above the policy's maximum of %(limit)s%%."),
        "min_line_margin_pct": _("The line's gross margin would be %(value)s%%, below the floor of %(limit)s%%."),
        "min_period_margin_pct": _("The account's gross margin this period would be %(value)s%%, below the floor of %(limit)s%%."),
        "min_contribution_margin_pct": _("The account's margin after cost to serve would be %(value)s%%, below the floor of %(limit)s%%."),
        "max_free_service_hours": _("Free service hours this year would reach %(value)s, above the limit of %(limit)s."),
        "max_free_visits": _("Free visits this year would reach %(value)s, above the limit of %(limit)s."),
        "max_goodwill_parts_value": _("Goodwill parts this year would reach %(value)s, above the limit of %(limit)s."),
        "max_extended_warranty_months": _("%(value)s months of extended warranty is above the limit of %(limit)s."),
        "max_penalty_waiver_value": _("Penalties waived this year would reach %(value)s, above the limit of %(limit)s."),
        "gift_limit_per_contact": _("Gifts to this contact this year would reach %(value)s, above the limit of %(limit)s."),
        "no_revenue": _("The account has no revenue this period, so any concession is below the margin floor of %(limit)s%%."),
        "no_policy": _("No concession policy applies to this account, so every request needs the whole approval chain."),
    }  # fmt: skip
    return texts.get(code, code) % {"limit": _fmt(limit), "value": _fmt(value)}


def note_text(code: str, day: str | None = None) -> str:
    """How the P&L will count a concession, where the simulation cannot show it as it will
    be: in the reader's language."""
    texts = {
        "warranty_work": _("The value is the expected warranty work: the P&L counts that work "
                           "when it is done, as warranty work, not as a concession."),
        "discount_with_order": _("A discount reaches the P&L with its order, as lower revenue."),
        "work_counted": _("The work on this ticket is counted in its own costs already: the "
                          "P&L does not count the concession again."),
        "later_period": _("It takes effect on %(day)s: the P&L counts it in the period that "
                          "holds that day.") % {"day": day},
    }  # fmt: skip
    return texts.get(code, code)


def simulation_notes(request: "Request", day: dt.date, today: dt.date) -> list[dict]:
    notes = []
    if request.kind == ConcessionKind.EXTENDED_WARRANTY:
        notes.append({"code": "warranty_work"})
    elif request.kind == ConcessionKind.DISCOUNT:
        notes.append({"code": "discount_with_order"})
    ticket = request.fields.get("ticket")
    if (request.kind in (ConcessionKind.FREE_SERVICE, ConcessionKind.GOODWILL_PARTS)
            and ticket is not None and ticket.coverage != "billable"):  # fmt: skip
        notes.append({"code": "work_counted"})
    if day > today:
        notes.append({"code": "later_period", "day": day.isoformat()})
    return notes


def _fmt(value: Any) -> str:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{number.quantize(CENT):,}" if number != number.to_integral() else f"{number:,.0f}"


# --- input -------------------------------------------------------------------------------


def _decimal(data: Mapping[str, Any], key: str, errors: dict, *, required: bool = False,
             minimum: Decimal = ZERO, maximum: Decimal = MAX_AMOUNT) -> Decimal | None:  # fmt: skip
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors[key] = [_("This field is required.")]
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        errors[key] = [_("Enter a number.")]
        return None
    if not value.is_finite() or value < minimum or value > maximum:
        errors[key] = [
            _("Enter a number from %(min)s to %(max)s.")
            % {"min": _fmt(minimum), "max": _fmt(maximum)}
        ]
        return None
    return value.quantize(CENT)


def _integer(
    data: Mapping[str, Any], key: str, errors: dict, *, maximum: int = 10000
) -> int | None:
    raw = data.get(key)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors[key] = [_("Enter a whole number.")]
        return None
    if not 0 <= value <= maximum:
        errors[key] = [_("Enter a number from %(min)s to %(max)s.") % {"min": 0, "max": maximum}]
        return None
    return value


def _related(model, data: Mapping[str, Any], key: str, account: Account, errors: dict):
    """A contact, ticket or piece of equipment given by id (or as an object), of this account."""
    raw = data.get(key)
    if raw in (None, ""):
        return None
    if isinstance(raw, model):
        obj = raw
    else:
        try:
            obj = model.objects.filter(pk=int(str(raw))).first()
        except ValueError:
            obj = None
    if obj is None or obj.account_id != account.pk:
        errors[key] = [_("Choose one of this account's own.")]
        return None
    return obj


@dataclass
class Request:
    """A concession as asked, validated: its value and what is given."""

    kind: str
    amount: Decimal
    fields: dict[str, Any]

    def figures(self) -> dict[str, Any]:
        return {
            k: self.fields.get(k)
            for k in ("discount_pct", "list_amount", "cost_amount", "hours", "visits", "months")
        }


def concession_parse(
    *, account: Account, kind: str, data: Mapping[str, Any], day: dt.date
) -> Request:
    """Validate what is asked for a kind of concession and work out its value: a discount's
    from the list value and %, free service from the hours and visits at the rates of `day`,
    the others as entered. Errors are per field, in the user's language."""
    errors: dict[str, list[str]] = {}
    if kind not in ConcessionKind.values:
        raise ValidationError({"kind": [_("Choose a kind of concession from the list.")]})
    fields: dict[str, Any] = {}
    amount: Decimal | None = None
    if kind == ConcessionKind.DISCOUNT:
        fields["order_reference"] = str(data.get("order_reference") or "").strip()[:40]
        list_amount = _decimal(data, "list_amount", errors, required=True, minimum=CENT)
        pct = _decimal(
            data, "discount_pct", errors, required=True, minimum=CENT, maximum=Decimal("100")
        )
        cost = _decimal(
            data, "cost_amount", errors, required=True
        )  # the line-margin floor needs it
        fields.update(list_amount=list_amount, discount_pct=pct, cost_amount=cost)
        if list_amount is not None and pct is not None:
            amount = calc.discount_value(list_amount=list_amount, discount_pct=pct)
    elif kind == ConcessionKind.FREE_SERVICE:
        hours = _decimal(data, "hours", errors, maximum=Decimal("10000"))
        visits = _integer(data, "visits", errors)
        if not errors and not (hours or visits):
            errors["hours"] = [_("Give the free service hours, the free visits, or both.")]
        fields.update(hours=hours, visits=visits)
        if not errors:
            hour_rate = rate_on(CostDriver.ENGINEER_HOUR, day)
            if hour_rate is None:
                from keycare.core.rates import labour_rate

                hour_rate = labour_rate(day)
            visit_rate = rate_on(CostDriver.FIELD_VISIT, day) or ZERO
            amount = ((hours or ZERO) * hour_rate + Decimal(visits or 0) * visit_rate).quantize(
                CENT
            )
    elif kind == ConcessionKind.EXTENDED_WARRANTY:
        months = _integer(data, "months", errors, maximum=120)
        if months is None and "months" not in errors:
            errors["months"] = [_("This field is required.")]
        elif months == 0:
            errors["months"] = [
                _("Enter a number from %(min)s to %(max)s.") % {"min": 1, "max": 120}
            ]
        fields["months"] = months
        amount = _decimal(data, "amount", errors, required=True)
    else:
        amount = _decimal(data, "amount", errors, required=True, minimum=CENT)
    if kind == ConcessionKind.GIFT:
        fields["contact"] = _related(Contact, data, "contact", account, errors)
        if fields["contact"] is None and "contact" not in errors:
            errors["contact"] = [_("Choose who receives the gift.")]
    fields["ticket"] = _related(Ticket, data, "ticket", account, errors)
    fields["equipment"] = _related(Equipment, data, "equipment", account, errors)
    if (
        kind == ConcessionKind.EXTENDED_WARRANTY
        and fields["equipment"] is None
        and "equipment" not in errors
    ):
        errors["equipment"] = [_("Choose the equipment whose warranty is extended.")]
    if errors:
        raise ValidationError(errors)
    return Request(kind=kind, amount=amount or ZERO, fields=fields)


# --- the simulation ----------------------------------------------------------------------


YEAR_DAYS = 365
#: How far back and ahead a concession may take effect: a recent one recorded late, or one
#: agreed for the coming year (the yearly limits look a year either side of the date).
BACKDATE_DAYS, AHEAD_DAYS = 90, 365


#: Other gifts to a person that count against the GIFT concessions' yearly limit (the
#: engagement app's approved gifts): func(contact, first, last) → [(date, amount)] of the
#: gifts dated first..last. Registered with `gift_source`; profitability imports none of them.
GiftSource = Callable[[Contact, dt.date, dt.date], Iterable[tuple[dt.date, Decimal]]]
_GIFT_SOURCES: list[GiftSource] = []


def gift_source(func: GiftSource) -> GiftSource:
    """Register a source of other gifts to a person (called at app ready), so one yearly
    limit holds across GIFT concessions and those gifts."""
    if func not in _GIFT_SOURCES:
        _GIFT_SOURCES.append(func)
    return func


def other_gifts(contact: Contact, first: dt.date, last: dt.date) -> list[tuple[dt.date, Decimal]]:
    """The registered sources' gifts to the person dated first..last."""
    return [
        (d, Decimal(v or 0)) for source in _GIFT_SOURCES for d, v in source(contact, first, last)
    ]


def _worst_year(rows: list[tuple[dt.date, Decimal]], day: dt.date) -> Decimal:
    """The largest total of `rows` in any twelve months that contain `day` (a yearly limit
    holds in every year around the concession, not only the one ending today). The maximum
    is reached at a window starting a year before `day`, or where a later row comes in."""
    starts = {day - dt.timedelta(days=YEAR_DAYS - 1)}
    starts |= {d - dt.timedelta(days=YEAR_DAYS - 1) for d, _v in rows if day <= d}
    best = ZERO
    for start in starts:
        end = start + dt.timedelta(days=YEAR_DAYS - 1)
        best = max(best, sum((v for d, v in rows if start <= d <= end), ZERO))
    return best


def _granted_so_far(*, account: Account, request: Request, day: dt.date,
                    exclude: int | None = None) -> dict[str, Decimal]:  # fmt: skip
    """What was already granted that counts against the yearly limits of this request: the
    worst twelve months around its effective date, for the account (free hours and visits,
    goodwill, waivers), the equipment (extended warranty months) or the contact (gifts,
    whichever account gave them)."""
    around = Q(status=ConcessionStatus.GRANTED,
               effective_date__gte=day - dt.timedelta(days=YEAR_DAYS - 1),
               effective_date__lte=day + dt.timedelta(days=YEAR_DAYS - 1))  # fmt: skip
    fields = ("kind", "effective_date", "hours", "visits", "months", "amount")
    rows = list(
        Concession.objects.filter(around, account=account)
        .exclude(pk=exclude or 0)
        .values_list(*fields)
    )

    def series(kind: str, index: int) -> list[tuple[dt.date, Decimal]]:
        return [(r[1], Decimal(r[index] or 0)) for r in rows if r[0] == kind]

    result = {
        "hours": _worst_year(series(ConcessionKind.FREE_SERVICE, 2), day),
        "visits": _worst_year(series(ConcessionKind.FREE_SERVICE, 3), day),
        "goodwill": _worst_year(series(ConcessionKind.GOODWILL_PARTS, 5), day),
        "waiver": _worst_year(series(ConcessionKind.SLA_PENALTY_WAIVER, 5), day),
    }
    equipment = request.fields.get("equipment")
    if request.kind == ConcessionKind.EXTENDED_WARRANTY and equipment is not None:
        months = Concession.objects.filter(
            around, equipment=equipment, kind=ConcessionKind.EXTENDED_WARRANTY
        )
        result["months"] = _worst_year(
            [
                (d, Decimal(m or 0))
                for d, m in months.exclude(pk=exclude or 0).values_list("effective_date", "months")
            ],
            day,
        )
    contact = request.fields.get("contact")
    if contact is not None:
        gifts = Concession.objects.filter(around, contact=contact, kind=ConcessionKind.GIFT)
        rows = list(gifts.exclude(pk=exclude or 0).values_list("effective_date", "amount"))
        rows += other_gifts(contact, day - dt.timedelta(days=YEAR_DAYS - 1),
                            day + dt.timedelta(days=YEAR_DAYS - 1))  # fmt: skip
        result["gifts"] = _worst_year(rows, day)
    return result


def effective_date_check(day: dt.date | None, today: dt.date) -> dt.date:
    """The effective date asked for (default today), within its bounds."""
    day = day or today
    if not today - dt.timedelta(days=BACKDATE_DAYS) <= day <= today + dt.timedelta(days=AHEAD_DAYS):
        raise ValidationError({"effective_date": [
            _("Choose an effective date from %(first)s to %(last)s.") % {
                "first": (today - dt.timedelta(days=BACKDATE_DAYS)).isoformat(),
                "last": (today + dt.timedelta(days=AHEAD_DAYS)).isoformat()}
        ]})  # fmt: skip
    return day


def _colleague_available(account: Account, requester: User) -> bool:
    """Whether a key account manager other than the requester looks after the account."""
    from keycare.accounts.choices import AccountTeamRole
    from keycare.accounts.models import AccountTeamMember

    candidates = set(
        AccountTeamMember.objects.filter(account=account, role=AccountTeamRole.KEY_ACCOUNT_MANAGER)
        .exclude(user=requester).values_list("user_id", flat=True)
    )  # fmt: skip
    if account.owner_id and account.owner_id != requester.pk:
        candidates.add(account.owner_id)
    return User.objects.filter(
        pk__in=candidates, is_active=True, groups__name=Role.KEY_ACCOUNT_MANAGER
    ).exists()


def _figures(p: calc.Pnl) -> dict[str, str | None]:
    def s(value):  # to the cent, the same on every database
        return None if value is None else str(Decimal(value).quantize(CENT))

    return {
        "revenue": s(p.revenue), "discounts": s(p.discounts), "gross_profit": s(p.gross_profit),
        "gross_margin": s(p.gross_margin), "cost_to_serve": s(p.cost_to_serve),
        "contribution": s(p.contribution), "contribution_margin": s(p.contribution_margin),
    }  # fmt: skip


def simulation_compute(*, account: Account, request: Request, requester: User,
                       day: dt.date | None = None, exclude: int | None = None) -> dict:  # fmt: skip
    """The profit simulation (测算利润空间): the account's P&L of the twelve months up to
    today before and after the concession, the
    policy it falls under and the limits it would exceed (the yearly ones over the worst
    twelve months around `day`), and the approval chain it would need (none within policy;
    the whole chain when no policy applies)."""
    today = timezone.localdate()
    day = day or today
    start, end = trailing_twelve_months(today)  # "this period": the decision is taken now
    before = pnl_compute(start=start, end=end, accounts=[account.pk]).get(account.pk, calc.Pnl())
    after = calc.simulate(before=before, kind=request.kind, amount=request.amount)
    policy = policy_for_account(account)
    granted = _granted_so_far(account=account, request=request, day=day, exclude=exclude)
    breaches = calc.evaluate(kind=request.kind, amount=request.amount, limits=policy_limits(policy),
                             after=after, request=request.figures(), granted=granted,
                             has_policy=policy is not None)  # fmt: skip
    chain: list[str] = []
    if breaches:
        settings = profitability_settings_get()
        chain = calc.approval_chain(
            amount=request.amount, contribution_before=before.contribution,
            contribution_after=after.contribution,
            limits=calc.ChainLimits(settings.service_manager_above, settings.executive_above,
                                    settings.service_manager_share, settings.executive_share),
            requester_level=actor_level(requester),
            colleague_available=_colleague_available(account, requester),
            everyone=policy is None,
        )  # fmt: skip
    return {
        "period": [start.isoformat(), end.isoformat()],
        "amount": str(request.amount),
        "before": _figures(before),
        "after": _figures(after),
        "policy": {"id": policy.pk, "name": policy.name} if policy else None,
        "granted_so_far": {k: str(Decimal(v).quantize(CENT)) for k, v in granted.items()},
        "breaches": [
            b.as_dict() | {"message": breach_text(b.code, b.limit, b.value)} for b in breaches
        ],
        "within_policy": not breaches,
        "chain": chain,
        "notes": [
            n | {"message": note_text(n["code"], n.get("day"))}
            for n in simulation_notes(request, day, today)
        ],
    }


def request_scope_action(actor: User | None) -> str | None:
    """On which accounts the actor may ask for concessions, as a scope action: key account
    managers on those they may change; service managers, executives and administrators on
    any they see; nobody else (None)."""
    if actor is None or not actor.is_authenticated or not actor.has_role(*REQUEST_ROLES):
        return None
    if actor.has_role(Role.SERVICE_MANAGER, Role.EXECUTIVE, Role.ADMINISTRATOR):
        return "view"
    return "change"


def concession_may_request(actor: User | None, account: Account) -> bool:
    action = request_scope_action(actor)
    return action is not None and user_can(actor, action, account)


def _require_request(actor: User, account: Account) -> None:
    if not concession_may_request(actor, account):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


def concession_simulate(
    *, actor: User, account: Account, kind: str, data: Mapping[str, Any],
    effective_date: dt.date | None = None,
) -> dict:  # fmt: skip
    """What the requester sees before submitting (changes nothing)."""
    _require_request(actor, account)
    today = timezone.localdate()
    day = effective_date_check(effective_date, today)
    request = concession_parse(account=account, kind=kind, data=data, day=today)
    return simulation_compute(account=account, request=request, requester=actor, day=day)


def _event(concession: Concession, kind: str, actor: User | None, *, level: str = "",
           comment: str = "", **data: Any) -> ConcessionEvent:  # fmt: skip
    return ConcessionEvent.objects.create(
        concession=concession, kind=kind, actor=actor, level=level, comment=comment, data=data
    )


@transaction.atomic
def concession_submit(
    *, actor: User, account: Account, kind: str, data: Mapping[str, Any], reason: str,
    effective_date: dt.date | None = None,
) -> Concession:  # fmt: skip
    """Submit a request. The account row is locked first, so two requests at once are
    checked against each other's grants (no check-then-act on the yearly limits). Within
    policy it is granted at once; otherwise its approval chain is created."""
    _require_request(actor, account)
    account = account_qs_select_for_update().get(pk=account.pk)
    today = timezone.localdate()
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = [_("Say why the account should get this concession.")]
    try:
        effective_date = effective_date_check(effective_date, today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    request = None
    try:
        request = concession_parse(account=account, kind=kind, data=data, day=today)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if request.fields.get("contact") is not None:
        # the person's row, as the engagement gift service locks it: one gift at a time
        contact_qs_select_for_update().get(pk=request.fields["contact"].pk)
    simulation = simulation_compute(
        account=account, request=request, requester=actor, day=effective_date
    )
    policy_id = (simulation["policy"] or {}).get("id")
    concession = Concession.objects.create(
        number=f"TMP-{uuid.uuid4().hex[:16]}", account=account, kind=kind,
        requested_by=actor, effective_date=effective_date, reason=reason.strip(),
        amount=request.amount, policy=ConcessionPolicy.objects.filter(pk=policy_id).first(),
        within_policy=simulation["within_policy"], breaches=simulation["breaches"],
        simulation=simulation,
        **request.fields,
    )  # fmt: skip
    concession.number = f"CON-{today.year}-{concession.pk:05d}"
    concession.save(update_fields=["number"])
    _event(concession, ConcessionEventKind.SUBMITTED, actor, comment=concession.reason,
           amount=str(request.amount), within_policy=simulation["within_policy"])  # fmt: skip
    if simulation["within_policy"]:
        _grant(concession, actor, now=timezone.now(), within_policy=True)
    else:
        steps = ConcessionStep.objects.bulk_create(
            ConcessionStep(concession=concession, position=i, level=level)
            for i, level in enumerate(simulation["chain"])
        )
        _tell_approvers(steps[0])
    return concession


def _tell_approvers(step: ConcessionStep) -> None:
    from keycare.core.background import enqueue_on_commit

    from .tasks import notify_approvers_task

    if step.pk is None:  # bulk_create on a database that returns no ids
        step = ConcessionStep.objects.get(concession=step.concession_id, position=step.position)
    enqueue_on_commit(notify_approvers_task, step.pk)


def approver_emails(concession: Concession, level: str) -> list[str]:
    """Whom to tell that a step waits: for the key account manager's step, the account's
    owner and key account managers; for the others, everyone of that level; never the
    requester."""
    from keycare.accounts.choices import AccountTeamRole
    from keycare.accounts.models import AccountTeamMember

    if level == ApprovalLevel.KEY_ACCOUNT_MANAGER:
        users = list(User.objects.filter(
            Q(owned_accounts=concession.account_id)
            | Q(account_memberships__in=AccountTeamMember.objects.filter(
                account=concession.account_id, role=AccountTeamRole.KEY_ACCOUNT_MANAGER))
        ).distinct())  # fmt: skip
        users = [u for u in users if u.has_role(Role.KEY_ACCOUNT_MANAGER)]
    else:
        users = list(User.objects.filter(groups__name=LEVEL_ROLE[level], is_active=True))
    return sorted(
        {u.email for u in users if u.email and u.is_active and u.pk != concession.requested_by_id}
    )


def approvers_notify(*, step_id: int) -> bool:
    """Tell the approvers of a waiting step by email, once (idempotent; a delivery failure
    raises, so the task retries)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils.translation import override

    with transaction.atomic():
        step = ConcessionStep.objects.select_for_update(of=("self",)).select_related(
            "concession__account", "concession__requested_by").get(pk=step_id)  # fmt: skip
        if step.notified_at is not None or step.status != StepStatus.WAITING:
            return False
        concession = step.concession
        recipients = approver_emails(concession, step.level)
        with override(settings.LANGUAGE_CODE):
            subject = _(
                "[KeyCare] Concession %(number)s for %(account)s waits for your approval"
            ) % {"number": concession.number, "account": concession.account.name}
            body = "\n".join([
                _("%(kind)s, value %(amount)s, requested by %(requester)s.") % {
                    "kind": concession.get_kind_display(), "amount": _fmt(concession.amount),
                    "requester": concession.requested_by},
                *[breach_text(b["code"], b["limit"], b["value"]) for b in concession.breaches],
                settings.KEYCARE_BASE_URL.rstrip("/") + f"/concessions/{concession.pk}/",
            ])  # fmt: skip
        if recipients:
            send_mail(subject, body, None, recipients)
        step.notified_at = timezone.now()
        step.save(update_fields=["notified_at"])
    return True


def _tell_requester(concession: Concession) -> None:
    """After the last decision on a request that waited: tell the requester (on commit)."""
    from keycare.core.background import enqueue_on_commit

    from .tasks import notify_requester_task

    enqueue_on_commit(notify_requester_task, concession.pk)


def requester_notify(*, concession_id: int) -> bool:
    """Tell the requester by email how their request was decided, once (idempotent; a
    delivery failure raises, so the task retries)."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils.translation import override

    with transaction.atomic():
        concession = (
            Concession.objects.select_for_update(of=("self",))
            .select_related("account", "requested_by")
            .get(pk=concession_id)
        )
        if concession.requester_told_at is not None or concession.status not in (
            ConcessionStatus.GRANTED, ConcessionStatus.REJECTED,
        ):  # fmt: skip
            return False
        last = (
            concession.steps.exclude(decided_by=None)
            .order_by("-position")
            .select_related("decided_by")
            .first()
        )
        with override(concession.requested_by.language or settings.LANGUAGE_CODE):
            subject = _("[KeyCare] Concession %(number)s for %(account)s: %(status)s") % {
                "number": concession.number, "account": concession.account.name,
                "status": concession.get_status_display()}  # fmt: skip
            lines = [_("%(kind)s, value %(amount)s.") % {
                "kind": concession.get_kind_display(), "amount": _fmt(concession.amount)}]  # fmt: skip
            if last is not None:
                lines.append(_("Decided by %(who)s: %(comment)s") % {
                    "who": last.decided_by, "comment": last.comment or "—"})  # fmt: skip
            lines.append(settings.KEYCARE_BASE_URL.rstrip("/") + f"/concessions/{concession.pk}/")
        if concession.requested_by.email:
            send_mail(subject, "\n".join(lines), None, [concession.requested_by.email])
        concession.requester_told_at = timezone.now()
        concession.save(update_fields=["requester_told_at"])
    return True


def _grant(
    concession: Concession, actor: User | None, *, now: dt.datetime, within_policy: bool
) -> None:
    concession.status, concession.decided_at = ConcessionStatus.GRANTED, now
    concession.version += 1
    concession.save(update_fields=["status", "decided_at", "version"])
    extra = {}
    if concession.kind == ConcessionKind.EXTENDED_WARRANTY and concession.equipment_id:
        extra["warranty_end"] = _extend_warranty(concession).isoformat()
    _event(concession, ConcessionEventKind.GRANTED, actor, amount=str(concession.amount),
           within_policy=within_policy, **extra)  # fmt: skip
    if not within_policy:  # a request that waited: its requester hears the outcome
        _tell_requester(concession)
    account_figures_changed(account_ids=[concession.account_id])


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _extend_warranty(concession: Concession) -> dt.date:
    """A granted extended warranty moves the equipment's warranty end on by its months."""
    from keycare.accounts.services.equipment import equipment_update

    equipment = concession.equipment
    base = max(equipment.warranty_end or concession.effective_date, concession.effective_date)
    end = _add_months(base, concession.months or 0)
    equipment_update(actor=None, equipment=equipment, data={"warranty_end": end})
    return end


def _locked(concession: Concession) -> Concession:
    return (
        Concession.objects.select_for_update(of=("self",))
        .select_related("account", "requested_by")
        .get(pk=concession.pk)
    )


def waiting_step(concession: Concession) -> ConcessionStep | None:
    return concession.steps.filter(status=StepStatus.WAITING).order_by("position").first()


def may_decide(actor: User | None, concession: Concession, step: ConcessionStep | None) -> bool:
    """Whether `actor` may decide `step`: not their own request, not a second step of one
    request, a level at or above the step's, and a key account manager only for the
    accounts they manage."""
    if actor is None or step is None or concession.status != ConcessionStatus.PENDING:
        return False
    if concession.requested_by_id == actor.pk:
        return False
    level = actor_level(actor)
    if calc.level_rank(level) < LEVEL_ORDER.index(step.level):
        return False
    if level == ApprovalLevel.KEY_ACCOUNT_MANAGER and not user_can(
        actor, "change", concession.account
    ):
        return False
    return not concession.steps.filter(decided_by=actor).exists()


def _require_waiting(concession: Concession, expected_version: int | None) -> None:
    """The request still waits, and is the version the user saw (when they say which)."""
    if concession.status != ConcessionStatus.PENDING:
        raise ApplicationError(
            _("This request has already been decided (%(status)s).")
            % {"status": concession.get_status_display()},
            extra={"code": "already_decided", "status": concession.status},
        )
    if expected_version is not None and int(expected_version) != concession.version:
        raise ConflictError(
            _(
                "Someone else decided this request while you were looking at it. Reload and try again."
            ),
            extra={"code": "stale_version", "current_version": concession.version},
        )


def _decide_checks(
    actor: User, concession: Concession, expected_version: int | None
) -> ConcessionStep:
    if expected_version is None:  # a decision is about the step the approver saw
        raise ValidationError(
            {"version": [_("Reload the request: a decision needs the version you saw.")]}
        )
    _require_waiting(concession, expected_version)
    if concession.requested_by_id == actor.pk:
        raise PermissionDeniedError(
            _("You cannot decide your own request."), extra={"code": "own_request"}
        )
    step = waiting_step(concession)
    if not may_decide(actor, concession, step):
        raise PermissionDeniedError(
            _("This step needs another approver: %(level)s.")
            % {"level": ApprovalLevel(step.level).label},
            extra={"code": "not_your_step", "level": step.level},
        )
    return step


@transaction.atomic
def concession_approve(*, actor: User, concession: Concession, comment: str = "",
                       expected_version: int | None) -> Concession:  # fmt: skip
    """Approve the waiting step; the last approval grants the concession."""
    concession = _locked(concession)
    step = _decide_checks(actor, concession, expected_version)
    now = timezone.now()
    step.status, step.decided_by, step.decided_at, step.comment = (
        StepStatus.APPROVED,
        actor,
        now,
        comment.strip(),
    )
    step.save()
    _event(concession, ConcessionEventKind.APPROVED, actor, level=step.level, comment=comment.strip(),
           step=step.position)  # fmt: skip
    following = concession.steps.filter(status=StepStatus.WAITING).order_by("position").first()
    if following is not None:
        concession.current_step = following.position
        concession.version += 1
        concession.save(update_fields=["current_step", "version"])
        _tell_approvers(following)
    else:
        _grant(concession, actor, now=now, within_policy=False)
    return concession


@transaction.atomic
def concession_reject(*, actor: User, concession: Concession, comment: str,
                      expected_version: int | None) -> Concession:  # fmt: skip
    """Reject at the waiting step (a reason is required); the request ends there."""
    concession = _locked(concession)
    step = _decide_checks(actor, concession, expected_version)
    if not (comment or "").strip():
        raise ValidationError({"comment": [_("Say why the request is rejected.")]})
    now = timezone.now()
    step.status, step.decided_by, step.decided_at, step.comment = (
        StepStatus.REJECTED,
        actor,
        now,
        comment.strip(),
    )
    step.save()
    concession.steps.filter(status=StepStatus.WAITING).update(status=StepStatus.SKIPPED)
    concession.status, concession.decided_at = ConcessionStatus.REJECTED, now
    concession.version += 1
    concession.save(update_fields=["status", "decided_at", "version"])
    _event(concession, ConcessionEventKind.REJECTED, actor, level=step.level, comment=comment.strip(),
           step=step.position)  # fmt: skip
    _tell_requester(concession)
    return concession


@transaction.atomic
def concession_withdraw(*, actor: User, concession: Concession, comment: str = "",
                        expected_version: int | None = None) -> Concession:  # fmt: skip
    """The requester withdraws a request that is still waiting."""
    concession = _locked(concession)
    if concession.requested_by_id != actor.pk:
        raise PermissionDeniedError(
            _("Only the requester can withdraw a request."), extra={"code": "not_requester"}
        )
    _require_waiting(concession, expected_version)
    concession.steps.filter(status=StepStatus.WAITING).update(status=StepStatus.SKIPPED)
    concession.status, concession.decided_at = ConcessionStatus.WITHDRAWN, timezone.now()
    concession.version += 1
    concession.save(update_fields=["status", "decided_at", "version"])
    _event(concession, ConcessionEventKind.WITHDRAWN, actor, comment=comment.strip())
    return concession
