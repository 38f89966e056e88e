"""The edges a review found: yearly limits around the effective date, warranty months per
machine, no policy, a chain nobody could decide, concessions counted once, flagged lines at
the exact limits, rounding, group views of a branch manager, alerts sent once per channel."""

import datetime as dt
import random
from decimal import Decimal as D

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    EquipmentFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.profitability.alerts import alert_send, profit_alerts_check
from keycare.profitability.concessions import concession_simulate, concession_submit
from keycare.profitability.models import Concession, ConcessionPolicy, ProfitAlert
from keycare.profitability.pnl import pnl_compute, pnl_report
from keycare.profitability.policies import policy_delete, policy_update
from keycare.profitability.rates import cost_rate_create
from keycare.profitability.reports import (
    below_floor_accounts,
    flagged_order_lines,
    over_policy_accounts,
)
from keycare.profitability.selectors import concession_list
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory
from keycare.users.choices import Role

TODAY = timezone.localdate()


def sell(account, revenue="1000000", gp="500000", day=None):
    product = ProductFactory(list_price=D(revenue), standard_cost=D(revenue) - D(gp))
    return OrderFactory(
        account=account, order_date=day or TODAY, lines=[{"product": product, "quantity": D(1)}]
    )


@pytest.fixture
def healthy(kam, make_user):
    account = AccountFactory(name="健康客户", owner=kam)
    colleague = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam_colleague")
    AccountTeamMemberFactory(
        account=account, user=colleague, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    sell(account)
    return account


def submit(kam, account, kind, data, **kwargs):
    return concession_submit(
        actor=kam, account=account, kind=kind, reason="测试", data=data, **kwargs
    )


@pytest.mark.django_db
def test_yearly_limits_hold_in_every_year_around_the_effective_date(kam, healthy):
    """Goodwill ≤ 10,000 a year: 10,000 dated 60 days ago is within; one more dated next
    month, or today, is over (in a year with it); one dated 366 days after the first is in a
    year of its own."""
    first = submit(
        kam,
        healthy,
        "goodwill_parts",
        {"amount": "10000"},
        effective_date=TODAY - dt.timedelta(days=60),
    )
    assert first.status == "granted"
    later = submit(
        kam,
        healthy,
        "goodwill_parts",
        {"amount": "1"},
        effective_date=TODAY + dt.timedelta(days=30),
    )
    now = submit(kam, healthy, "goodwill_parts", {"amount": "1"})
    assert later.status == now.status == "pending"
    assert later.breaches[0]["code"] == "max_goodwill_parts_value"
    far = submit(
        kam,
        healthy,
        "goodwill_parts",
        {"amount": "10000"},
        effective_date=TODAY + dt.timedelta(days=306),
    )
    assert far.status == "granted", far.breaches
    # and the next year's grant now counts against a request between them
    between = concession_simulate(actor=kam, account=healthy, kind="goodwill_parts", data={"amount": "1"},
                                  effective_date=TODAY + dt.timedelta(days=200))  # fmt: skip
    assert not between["within_policy"] and between["granted_so_far"]["goodwill"] == "10000.00"


@pytest.mark.django_db
def test_effective_dates_are_bounded(kam, healthy):
    for day in (TODAY - dt.timedelta(days=91), TODAY + dt.timedelta(days=366)):
        with pytest.raises(ValidationError) as error:
            submit(kam, healthy, "goodwill_parts", {"amount": "1"}, effective_date=day)
        assert "effective_date" in error.value.message_dict
    assert not Concession.objects.exists()


@pytest.mark.django_db
def test_extended_warranty_months_add_up_per_machine(kam, healthy):
    machine = EquipmentFactory(account=healthy, warranty_end=TODAY)
    granted = submit(
        kam, healthy, "extended_warranty", {"months": "12", "amount": "0", "equipment": machine.pk}
    )
    again = submit(
        kam, healthy, "extended_warranty", {"months": "1", "amount": "0", "equipment": machine.pk}
    )
    other = submit(kam, healthy, "extended_warranty",
                   {"months": "12", "amount": "0", "equipment": EquipmentFactory(account=healthy).pk})  # fmt: skip
    assert (granted.status, again.status, other.status) == ("granted", "pending", "granted")
    machine.refresh_from_db()
    assert machine.warranty_end.year == TODAY.year + 1  # only the granted twelve months
    with pytest.raises(ValidationError) as error:
        submit(kam, healthy, "extended_warranty", {"months": "1", "amount": "0"})
    assert "equipment" in error.value.message_dict


@pytest.mark.django_db
def test_without_a_policy_the_whole_chain_decides_and_the_default_stays(kam, healthy, admin_user):
    default = ConcessionPolicy.objects.get(tier="", account_type="")
    with pytest.raises(ValidationError):
        policy_delete(actor=admin_user, policy=default)
    with pytest.raises(ValidationError):
        policy_update(
            actor=admin_user,
            policy=default,
            data={"is_active": False},
            lock_version=default.lock_version,
        )
    ConcessionPolicy.objects.all().delete()  # as if an installation had none
    c = submit(kam, healthy, "goodwill_parts", {"amount": "1"})
    assert c.status == "pending" and c.breaches[0]["code"] == "no_policy"
    assert [s.level for s in c.steps.order_by("position")] == [
        "key_account_manager",
        "service_manager",
        "executive",
    ]


@pytest.mark.django_db
def test_a_request_of_the_only_key_account_manager_goes_to_a_service_manager(
    kam, service_manager, django_capture_on_commit_callbacks
):
    alone = AccountFactory(owner=kam)
    sell(alone)
    contact = ContactFactory(account=alone)
    with django_capture_on_commit_callbacks(execute=True):
        c = submit(kam, alone, "gift", {"amount": "1001", "contact": contact.pk})
    assert [s.level for s in c.steps.all()] == ["service_manager"]
    assert [m.to for m in mail.outbox] == [[service_manager.email]]
    assert list(concession_list(actor=service_manager, box="inbox")) == [c]


@pytest.mark.django_db
def test_a_concession_for_work_already_counted_is_not_counted_again(
    admin_user, kam, healthy, engineer
):
    from keycare.service.visits import visit_complete, visit_plan

    cost_rate_create(
        actor=admin_user, driver="engineer_hour", valid_from=dt.date(2025, 1, 1), rate=D("100")
    )
    unbilled = TicketFactory(account=healthy)
    visit = visit_plan(
        actor=None, ticket=unbilled, planned_start=timezone.now(), engineers=[engineer]
    )
    visit_complete(actor=None, visit=visit, work_done="维修", labour_hours=D("10"))
    billable = TicketFactory(account=healthy)
    Ticket.objects.filter(pk=billable.pk).update(coverage="billable", labour_cost=D("700"))
    submit(
        kam, healthy, "free_service", {"hours": "10", "ticket": unbilled.pk}
    )  # its labour is counted
    submit(
        kam, healthy, "free_service", {"hours": "7", "ticket": billable.pk}
    )  # would have been billed
    submit(
        kam,
        healthy,
        "extended_warranty",
        {"months": "6", "amount": "900", "equipment": EquipmentFactory(account=healthy).pk},
    )
    p = pnl_compute(start=TODAY, end=TODAY, accounts=[healthy.pk])[healthy.pk]
    assert p.drivers["service_labour"] == D("1000")  # the unbilled ticket's 10 h × 100
    assert p.drivers["concessions"] == D(
        "700"
    )  # the billable ticket's free 7 h; warranty work comes as it happens


@pytest.mark.django_db
def test_a_rebate_is_not_also_a_discount():
    account = AccountFactory()
    product = ProductFactory(list_price=D("10000"), standard_cost=D("6000"))
    OrderFactory(account=account, order_date=TODAY, lines=[
        {"product": product, "quantity": D(1)},
        {"line_type": "rebate", "description": "返利", "quantity": D(1), "list_price": D(0),
         "net_price": D("500"), "unit_cost": D(0)},
    ])  # fmt: skip
    p = pnl_compute(start=TODAY, end=TODAY, accounts=[account.pk])[account.pk]
    assert (p.list_value, p.discounts, p.rebates, p.revenue) == (
        D("10000"),
        D("0"),
        D("500"),
        D("9500"),
    )


@pytest.mark.django_db
def test_lines_exactly_at_the_limits_are_not_flagged_on_any_database(kam, executive):
    """400 random lines sold exactly 15 % off with exactly a 15 % margin (the default
    policy's limits): none is flagged; a cent more off, or a cent more cost, is."""
    rnd = random.Random(7)
    account = AccountFactory(owner=kam)
    lines = []
    for _i in range(400):
        list_price = (D(rnd.randint(1, 5_000_000)) * D("0.20")).quantize(D("0.01"))
        net = (list_price * D("0.85")).quantize(D("0.01"))
        cost = (net * D("0.85")).quantize(D("0.01"))
        if (net - cost) * 100 != net * 15 or (list_price - net) * 100 != list_price * 15:
            continue
        lines.append({"product": ProductFactory(list_price=list_price, standard_cost=cost),
                      "quantity": D(1), "net_price": net})  # fmt: skip
    assert len(lines) > 10
    OrderFactory(account=account, order_date=TODAY, lines=lines)
    assert flagged_order_lines(actor=executive)["rows"] == []
    edge = lines[0]
    OrderFactory(account=account, number="SO-CENT-OFF", order_date=TODAY,
                 lines=[{**edge, "net_price": edge["net_price"] - D("0.01")}])  # fmt: skip
    costly = ProductFactory(
        list_price=edge["product"].list_price,
        standard_cost=edge["product"].standard_cost + D("0.01"),
    )
    OrderFactory(account=account, number="SO-CENT-COST", order_date=TODAY,
                 lines=[{"product": costly, "quantity": D(1), "net_price": edge["net_price"]}])  # fmt: skip
    assert sorted(r["order"].number for r in flagged_order_lines(actor=executive)["rows"]) == [
        "SO-CENT-COST",
        "SO-CENT-OFF",
    ]


@pytest.mark.django_db
def test_a_granted_discount_excuses_only_up_to_its_own_discount(kam, executive):
    account = AccountFactory(owner=kam)
    product = ProductFactory(list_price=D("10000"), standard_cost=D("5000"))
    OrderFactory(account=account, number="SO-1", order_date=TODAY,
                 lines=[{"product": product, "quantity": D(1), "net_price": D("8400")},  # 16 %
                        {"product": product, "quantity": D(1), "net_price": D("3000")}])  # 70 %  # fmt: skip
    Concession.objects.create(number="X", account=account, kind="discount", status="granted", requested_by=kam,
                              effective_date=TODAY, reason="x", amount=D("1600"), list_amount=D("10000"),
                              discount_pct=D("16"), order_reference="SO-1")  # fmt: skip
    assert [r["line"].net_amount for r in flagged_order_lines(actor=executive)["rows"]] == [
        D("3000")
    ]


@pytest.mark.django_db
def test_a_discount_needs_its_cost_for_the_line_margin_floor(kam, healthy):
    with pytest.raises(ValidationError) as error:
        concession_simulate(
            actor=kam,
            account=healthy,
            kind="discount",
            data={"list_amount": "10000", "discount_pct": "15"},
        )
    assert "cost_amount" in error.value.message_dict
    thin = concession_simulate(actor=kam, account=healthy, kind="discount",
                               data={"list_amount": "10000", "discount_pct": "15", "cost_amount": "9000"})  # fmt: skip
    assert [b["code"] for b in thin["breaches"]] == ["min_line_margin_pct"]


@pytest.mark.django_db
def test_the_group_view_of_a_branch_manager_starts_at_what_they_see(kam, other_kam):
    root = AccountFactory(owner=other_kam)
    branch = AccountFactory(parent=root, owner=kam, name="华东分厂")
    sell(branch, revenue="1000", gp="500")
    by_group = pnl_report(actor=kam, filters={"group_by": "group"})
    assert [r["label"] for r in by_group["rows"]] == ["华东分厂"]
    assert by_group["total"]["contribution"] == D("500")


@pytest.mark.django_db
def test_the_floor_report_compares_unrounded_like_the_simulation(kam, executive):
    account = AccountFactory(owner=kam, name="差一点")
    sell(account, revenue="10000", gp="1999.50")  # 19.995 % < the 20 % floor
    rows = below_floor_accounts(actor=executive)["rows"]
    assert [r["name"] for r in rows] == ["差一点"] and rows[0]["below"][0]["value"] == D("19.99")
    assert "19.99%" in rows[0]["below"][0]["message"]


@pytest.mark.django_db
def test_the_over_policy_report_is_for_a_year_at_most(executive):
    with pytest.raises(ValidationError):
        over_policy_accounts(
            actor=executive, filters={"period_from": "2023-01-01", "period_to": "2026-12-31"}
        )


@pytest.mark.django_db
def test_an_alert_retried_after_a_webhook_failure_does_not_mail_twice(kam, monkeypatch):
    from keycare.service.models import Webhook

    calls = []

    def flaky(url, payload):
        calls.append(url)
        if len(calls) == 1:
            raise OSError("timeout")

    monkeypatch.setattr("keycare.service.escalation.post_json", flaky)
    Webhook.objects.create(name="群", url="https://example.invalid/robot", format="wecom")
    sell(AccountFactory(name="薄利客户", owner=kam), revenue="10000", gp="1000")
    profit_alerts_check()
    alert = ProfitAlert.objects.get()
    with pytest.raises(OSError):
        alert_send(alert_id=alert.pk)
    assert alert_send(alert_id=alert.pk) is True  # the task's retry
    assert len(mail.outbox) == 1 and len(calls) == 2
    alert.refresh_from_db()
    assert alert.sent_at is not None and set(alert.delivered) == {
        "email",
        f"webhook:{Webhook.objects.get().pk}",
    }


@pytest.mark.django_db
def test_the_simulation_says_where_the_p_and_l_counts_it_otherwise(kam, healthy):
    machine = EquipmentFactory(account=healthy)
    warranty = concession_simulate(actor=kam, account=healthy, kind="extended_warranty",
                                   data={"months": "3", "amount": "900", "equipment": machine.pk},
                                   effective_date=TODAY + dt.timedelta(days=10))  # fmt: skip
    assert [n["code"] for n in warranty["notes"]] == ["warranty_work", "later_period"]
    assert (TODAY + dt.timedelta(days=10)).isoformat() in warranty["notes"][1]["message"]
    assert concession_simulate(actor=kam, account=healthy, kind="gift",
                               data={"amount": "10", "contact": ContactFactory(account=healthy).pk})["notes"] == []  # fmt: skip


@pytest.mark.django_db
def test_a_policy_that_decided_requests_is_kept_and_rates_start_by_next_year(
    kam, healthy, admin_user
):
    from keycare.profitability.policies import policy_create

    iron = policy_create(
        actor=admin_user, data={"name": "铁牌", "tier": "", "account_type": "intrinsic"}
    )
    healthy.account_type = "intrinsic"
    healthy.save(update_fields=["account_type"])
    granted = submit(kam, healthy, "goodwill_parts", {"amount": "1"})
    assert granted.policy == iron
    with pytest.raises(ValidationError) as error:
        policy_delete(actor=admin_user, policy=iron)
    assert "is_active" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        cost_rate_create(
            actor=admin_user, driver="ticket", valid_from=dt.date(9999, 12, 31), rate=D("1")
        )
    assert "valid_from" in error.value.message_dict
