"""Policy and threshold maintenance (administrators only, stale edits refused, duplicates
explained), rate withdrawal, the visit's rate from the rate history, and the daily tick."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.core.ticks import run_tick
from keycare.profitability.models import ConcessionPolicy, CostRate
from keycare.profitability.policies import (
    policy_create,
    policy_delete,
    policy_for,
    policy_update,
    profitability_settings_get,
    profitability_settings_update,
)
from keycare.profitability.rates import cost_rate_create, cost_rate_withdraw, rate_on, rates_current
from keycare.service.tests.factories import TicketFactory
from keycare.service.visits import visit_complete, visit_plan

D = Decimal


@pytest.mark.django_db
def test_the_most_specific_policy_applies():
    names = {(p.tier, p.account_type): p.name for p in ConcessionPolicy.objects.all()}
    assert names[("", "")] == "默认政策 Default policy"
    strategic = ConcessionPolicy.objects.create(
        name="战略金牌", tier="gold", account_type="strategic"
    )
    type_only = ConcessionPolicy.objects.create(name="战略", tier="", account_type="strategic")
    assert policy_for(tier="gold", account_type="strategic") == strategic
    assert policy_for(tier="gold", account_type="intrinsic").name == "黄金客户 Gold"
    assert policy_for(tier="iron", account_type="strategic") == type_only
    assert policy_for(tier="iron", account_type="").name == "默认政策 Default policy"
    type_only.is_active = False
    type_only.save()
    assert policy_for(tier="iron", account_type="strategic").name == "默认政策 Default policy"


@pytest.mark.django_db
def test_policy_writes_are_for_administrators_and_validated(admin_user, kam):
    with pytest.raises(PermissionDeniedError):
        policy_create(actor=kam, data={"name": "x", "tier": "iron"})
    with pytest.raises(ValidationError) as error:  # the default already exists
        policy_create(actor=admin_user, data={"name": "又一个默认", "tier": "", "account_type": ""})
    assert "already exists" in str(error.value)
    with pytest.raises(ValidationError) as error:
        policy_create(
            actor=admin_user, data={"name": "铁牌", "tier": "iron", "max_discount_pct": D("120")}
        )
    assert "max_discount_pct" in error.value.message_dict
    iron = policy_create(
        actor=admin_user, data={"name": "铁牌", "tier": "iron", "max_discount_pct": D("8")}
    )
    policy_update(actor=admin_user, policy=iron, data={"max_discount_pct": D("9")}, lock_version=1)
    with pytest.raises(ConflictError):
        policy_update(
            actor=admin_user, policy=iron, data={"max_discount_pct": D("10")}, lock_version=1
        )
    iron.refresh_from_db()
    assert (iron.max_discount_pct, iron.lock_version) == (D("9"), 2)
    with pytest.raises(PermissionDeniedError):
        policy_delete(actor=kam, policy=iron)
    policy_delete(actor=admin_user, policy=iron)
    assert not ConcessionPolicy.objects.filter(tier="iron").exists()


@pytest.mark.django_db
def test_thresholds_are_ordered_and_stale_edits_refused(admin_user, executive):
    row = profitability_settings_get()
    assert (row.service_manager_above, row.executive_above) == (D("5000"), D("20000"))
    with pytest.raises(PermissionDeniedError):
        profitability_settings_update(
            actor=executive, data={"executive_above": D(1)}, lock_version=1
        )
    with pytest.raises(ValidationError) as error:
        profitability_settings_update(
            actor=admin_user, data={"executive_above": D("100")}, lock_version=1
        )
    assert "executive_above" in error.value.message_dict
    profitability_settings_update(
        actor=admin_user, data={"executive_above": D("50000")}, lock_version=1
    )
    with pytest.raises(ConflictError):
        profitability_settings_update(
            actor=admin_user, data={"executive_above": D("60000")}, lock_version=1
        )
    assert profitability_settings_get().executive_above == D("50000")


@pytest.mark.django_db
def test_only_a_rate_not_yet_in_effect_can_be_withdrawn(admin_user, kam):
    today = timezone.localdate()
    current = cost_rate_create(actor=admin_user, driver="ticket", valid_from=today, rate=D("40"))
    future = cost_rate_create(
        actor=admin_user, driver="ticket", valid_from=today + dt.timedelta(days=30), rate=D("45")
    )
    with pytest.raises(ApplicationError):
        cost_rate_withdraw(actor=admin_user, rate=current)
    with pytest.raises(PermissionDeniedError):
        cost_rate_withdraw(actor=kam, rate=future)
    cost_rate_withdraw(actor=admin_user, rate=future)
    assert list(CostRate.objects.values_list("rate", flat=True)) == [D("40")]
    assert rates_current()["ticket"] == current and rates_current()["field_visit"] is None
    assert rate_on("ticket", today - dt.timedelta(days=1)) is None


@pytest.mark.django_db
def test_a_visit_is_costed_at_the_engineer_hour_rate_of_the_day_of_the_work(
    admin_user, engineer, settings
):
    settings.KEYCARE_LABOUR_RATE = 180
    ticket = TicketFactory(account=AccountFactory())
    day = timezone.localdate()
    planned = visit_plan(
        actor=None, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    assert planned.labour_rate == D("180.00")  # no rate kept yet: the setting
    cost_rate_create(actor=admin_user, driver="engineer_hour", valid_from=day - dt.timedelta(days=400),
                     pool_cost=D("240000"), capacity=D("8500"))  # fmt: skip
    visit = visit_complete(actor=None, visit=planned, work_done="保养", labour_hours=D("2"))
    assert visit.labour_rate == D("28.24") and visit.labour_cost == D("56.48")
    ticket.refresh_from_db()
    assert ticket.labour_cost == D("56.48")


@pytest.mark.django_db
def test_the_daily_alert_tick_checks_once_a_day():
    first = run_tick("profitability.alerts")
    second = run_tick("profitability.alerts")
    assert first.ok and first.detail == "0 alerts"
    assert second.ok and second.detail == "checked today"
