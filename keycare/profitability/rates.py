"""Activity-based cost rates (作业成本): administrators add a rate from a day on, computed from
a resource pool's cost and its practical capacity or entered directly. Rates are never edited:
a past period is always costed with the rates that were in effect then. A rate that has not
taken effect yet may be withdrawn."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DecimalField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError
from keycare.core.figures import account_figures_changed
from keycare.core.scoping import restrict
from keycare.core.services import require_role
from keycare.users.choices import Role
from keycare.users.models import User

from .choices import CostDriver
from .models import CostRate

CENT = Decimal("0.01")
RATE = DecimalField(max_digits=12, decimal_places=2)


def rate_from_pool(*, pool_cost: Decimal, capacity: Decimal) -> Decimal:
    """The rate of a resource pool: its cost ÷ its practical capacity, to the cent
    (240,000 ÷ 8,500 hours → 28.24 per hour)."""
    return (Decimal(pool_cost) / Decimal(capacity)).quantize(CENT, rounding=ROUND_HALF_UP)


def rate_on(driver: str, day: dt.date) -> Decimal | None:
    """The rate of `driver` in effect on `day` (None before its first rate)."""
    row = (
        CostRate.objects.filter(driver=driver, valid_from__lte=day)
        .order_by("-valid_from")
        .values_list("rate", flat=True)
        .first()
    )
    return row


def rates_current() -> dict[str, CostRate | None]:
    """Each driver's rate in effect today (one query)."""
    today = timezone.localdate()
    current: dict[str, CostRate | None] = dict.fromkeys(CostDriver.values)
    for rate in CostRate.objects.filter(valid_from__lte=today).order_by("driver", "valid_from"):
        current[rate.driver] = rate
    return current


def day_start(day: dt.date) -> dt.datetime:
    """The first moment of `day` in the site's time zone (datetime bounds use the index and,
    on SQLite, avoid a per-row date conversion)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def rate_case(driver: str, datetime_field: str, rates: list[CostRate] | None = None) -> Case:
    """A SQL expression giving, for each row, the rate of `driver` in effect on the day of the
    row's `datetime_field` (0 before the first rate): one WHEN per rate period, so a whole
    period's activities are costed in one grouped query, with the rates of their own days."""
    if rates is None:
        rates = list(CostRate.objects.filter(driver=driver).order_by("valid_from"))
    rates = sorted((r for r in rates if r.driver == driver), key=lambda r: r.valid_from)
    whens = []
    for i, rate in enumerate(rates):
        q = Q(**{f"{datetime_field}__gte": day_start(rate.valid_from)})
        if i + 1 < len(rates):
            q &= Q(**{f"{datetime_field}__lt": day_start(rates[i + 1].valid_from)})
        whens.append(When(q, then=Value(rate.rate, output_field=RATE)))
    return Case(*whens, default=Value(Decimal("0"), output_field=RATE), output_field=RATE)


def cost_rate_list(*, actor: User, driver: str | None = None) -> QuerySet[CostRate]:
    qs = restrict(CostRate.objects.select_related("created_by"), actor, "view")
    if driver:
        if driver not in CostDriver.values:
            raise ValidationError({"driver": [_("Choose a cost driver from the list.")]})
        qs = qs.filter(driver=driver)
    return qs.order_by("driver", "-valid_from", "-id")


@transaction.atomic
def cost_rate_create(
    *,
    actor: User | None,
    driver: str,
    valid_from: dt.date,
    rate: Decimal | None = None,
    pool_cost: Decimal | None = None,
    capacity: Decimal | None = None,
    note: str = "",
) -> CostRate:
    """Add a rate from `valid_from` on: give either the rate, or the pool's cost and its
    practical capacity (the rate is then their quotient). A driver's first rate may start on
    any day; a change starts after the latest rate and after today, so a period already
    costed is never re-costed."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    errors: dict[str, list[str]] = {}
    if driver not in CostDriver.values:
        errors["driver"] = [_("Choose a cost driver from the list.")]
    if (pool_cost is None) != (capacity is None):
        errors["capacity"] = [_("Give both the pool's cost and its capacity, or neither.")]
    elif pool_cost is not None:
        if capacity <= 0:
            errors["capacity"] = [_("The capacity must be more than zero.")]
        elif pool_cost < 0:
            errors["pool_cost"] = [_("The cost cannot be negative.")]
        else:
            computed = rate_from_pool(pool_cost=pool_cost, capacity=capacity)
            if rate is not None and rate != computed:
                errors["rate"] = [
                    _("The rate must be the pool's cost ÷ its capacity (%(rate)s), or left empty.")
                    % {"rate": computed}
                ]
            rate = computed
    if rate is None and "capacity" not in errors and "pool_cost" not in errors:
        errors["rate"] = [_("Give the rate, or the pool's cost and its capacity.")]
    elif rate is not None and rate < 0:
        errors["rate"] = [_("The rate cannot be negative.")]
    latest_day = dt.date(timezone.localdate().year + 1, 12, 31)
    if valid_from > latest_day:
        errors["valid_from"] = [_("A rate starts by the end of next year at the latest (%(day)s).")
                                % {"day": latest_day.isoformat()}]  # fmt: skip
    if errors:
        raise ValidationError(errors)
    # one rate change at a time (the settings row is the lock), so two new rates cannot
    # both pass the checks below against the same latest rate
    from .models import ProfitabilitySettings

    ProfitabilitySettings.current()
    ProfitabilitySettings.objects.select_for_update().get(pk=1)
    latest = CostRate.objects.filter(driver=driver).order_by("-valid_from").first()
    if latest is not None and valid_from <= latest.valid_from:
        raise ValidationError({"valid_from": [
            _("A new rate starts after the latest one (from %(day)s); past periods keep their rates.")
            % {"day": latest.valid_from.isoformat()}
        ]})  # fmt: skip
    if latest is not None and valid_from <= timezone.localdate():
        # the first rate of a driver may start in the past (setting up); a later one would
        # re-cost periods already reported
        raise ValidationError({"valid_from": [
            _("A change of rate starts tomorrow at the earliest; past periods keep their rates.")
        ]})  # fmt: skip
    row = CostRate(
        driver=driver, valid_from=valid_from, rate=rate, pool_cost=pool_cost, capacity=capacity,
        note=note.strip(), created_by=actor,
    )  # fmt: skip
    row.full_clean()
    row.save()
    _rates_changed(valid_from)
    return row


@transaction.atomic
def cost_rate_withdraw(*, actor: User | None, rate: CostRate) -> None:
    """Withdraw a rate that has not taken effect yet (one in effect stays, for the record)."""
    require_role(actor=actor, roles=(Role.ADMINISTRATOR,))
    rate = CostRate.objects.select_for_update().get(pk=rate.pk)
    if rate.valid_from <= timezone.localdate():
        raise ApplicationError(
            _("This rate is in effect; add a new rate instead of changing it."),
            extra={"code": "rate_in_effect"},
        )
    rate.delete()


def _rates_changed(since: dt.date) -> None:
    """The cost to serve of accounts with service work from `since` on changed."""
    from keycare.service.models import Ticket

    if since > timezone.localdate():
        return  # a future rate costs nothing yet
    account_figures_changed(
        account_ids=Ticket.objects.filter(opened_at__gte=day_start(since))
        .order_by()
        .values_list("account_id", flat=True)
        .distinct()
    )
