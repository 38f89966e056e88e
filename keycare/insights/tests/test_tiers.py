"""Tiers drive service: the pyramid's tier goes to the account with a recorded reason, the
new tier selects the SLA policy of new tickets, and a tier set by hand is left alone."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.core.exceptions import PermissionDeniedError
from keycare.insights.models import TierChange
from keycare.insights.tiers import tier_override_clear, tier_override_set, tiers_apply
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


@pytest.fixture
def book():
    accounts = []
    for i, (revenue, cost) in enumerate([(90_000, 30_000), (50_000, 30_000), (40_000, 30_000),
                                         (30_000, 25_000), (20_000, 18_000), (5_000, 6_000)]):  # fmt: skip
        account = AccountFactory(name=f"客户{i}", tier="iron")
        product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
        OrderFactory(account=account, order_date=dt.date(2026, 6, 1),
                     lines=[{"product": product, "quantity": 1}])  # fmt: skip
        accounts.append(account)
    return accounts


def test_pyramid_tiers_flow_into_the_sla_policy(book, admin_user):
    before = TicketFactory(account=book[0]).sla_policy
    counts = tiers_apply(actor=admin_user, start=START, end=END)
    tiers = dict(Account.objects.values_list("name", "tier"))
    # five profitable: platinum ceil(0.5) = 1, gold up to ceil(1.5) = 2; one sells below cost
    assert tiers == {"客户0": "platinum", "客户1": "gold", "客户2": "iron", "客户3": "iron",
                     "客户4": "iron", "客户5": "lead"}  # fmt: skip
    assert counts == {"changed": 3, "kept": 3, "overridden": 0}
    change = TierChange.objects.get(account=book[0])
    assert (change.from_tier, change.to_tier, change.source) == ("iron", "platinum", "pyramid")
    assert "profit after cost to serve 60000" in change.reason
    after = TicketFactory(account=Account.objects.get(pk=book[0].pk)).sla_policy
    assert (before.is_floor, after.tier) == (True, "platinum")  # iron had the floor policy
    # applying again changes nothing and records nothing
    assert tiers_apply(actor=admin_user, start=START, end=END)["changed"] == 0
    assert TierChange.objects.count() == 3


def test_a_tier_set_by_hand_stays(book, admin_user, kam):
    with pytest.raises(ValidationError):
        tier_override_set(actor=admin_user, account=book[5], tier="gold", reason=" ")
    with pytest.raises(PermissionDeniedError):
        tier_override_set(actor=kam, account=book[5], tier="gold", reason="战略客户")
    with pytest.raises(PermissionDeniedError):
        tiers_apply(actor=kam, start=START, end=END)
    tier_override_set(actor=admin_user, account=book[5], tier="gold", reason="战略合作，新产线")
    counts = tiers_apply(actor=admin_user, start=START, end=END)
    assert counts["overridden"] == 1
    assert Account.objects.get(pk=book[5].pk).tier == "gold"
    manual = TierChange.objects.get(account=book[5], source="manual")
    assert (manual.from_tier, manual.to_tier, manual.actor) == ("iron", "gold", admin_user)
    tier_override_clear(actor=admin_user, account=book[5])
    lifted = TierChange.objects.filter(account=book[5]).first()  # newest first
    assert (lifted.from_tier, lifted.to_tier, lifted.source, lifted.actor) == (
        "gold", "gold", "manual", admin_user)  # fmt: skip
    assert lifted.reason == "Set by hand no longer: the tier source decides again."
    tiers_apply(actor=admin_user, start=START, end=END)
    assert Account.objects.get(pk=book[5].pk).tier == "lead"


def test_the_command(book):
    out = io.StringIO()
    call_command("insights", "apply-tiers", "--period", "2026", stdout=out)
    assert "3 tiers changed, 3 unchanged, 0 set by hand." in out.getvalue()


def test_tiers_from_the_scorecard_grade(book, admin_user):
    from keycare.insights.models import InsightsSettings
    from keycare.insights.scorecard import scorecard_draft, scorecard_publish, scorecard_update

    draft = scorecard_draft(actor=admin_user)
    scorecard_update(actor=admin_user, scorecard=draft, data={"grade_a": 60, "grade_b": 30},
                     criteria=[{"key": "revenue", "weight": 100, "normalisation": "minmax"}])  # fmt: skip
    scorecard_publish(actor=admin_user, scorecard=draft)
    InsightsSettings.objects.filter(pk=InsightsSettings.current().pk).update(
        tier_source="scorecard"
    )
    counts = tiers_apply(actor=admin_user, start=START, end=END)
    # revenue 90k → 100, 50k → 52.9, 40k → 41.2, 30k → 29.4, 20k → 17.6, 5k → 0
    tiers = dict(Account.objects.values_list("name", "tier"))
    assert tiers == {"客户0": "platinum", "客户1": "gold", "客户2": "gold", "客户3": "iron",
                     "客户4": "iron", "客户5": "iron"}  # fmt: skip
    assert counts == {"changed": 3, "kept": 3, "overridden": 0}
    change = TierChange.objects.get(account=book[0])
    assert change.source == "scorecard"
    assert change.reason == "Value scorecard v2, 2026-01-01 to 2026-12-31: score 100.00, grade A"
    ticket = TicketFactory(account=Account.objects.get(pk=book[0].pk))
    assert ticket.sla_policy.tier == "platinum"


def test_a_recorded_reason_reads_in_the_readers_language(book, admin_user):
    from django.utils import translation

    tiers_apply(actor=admin_user, start=START, end=END)
    change = TierChange.objects.get(account=book[0])
    with translation.override("en"):
        assert change.reason_text == (
            "Customer pyramid 2026-01-01 to 2026-12-31: profit after cost to serve 60000.00"
        )
    with translation.override("zh-hans"):
        assert change.reason_text.startswith("客户金字塔 2026-01-01 至 2026-12-31")


def test_accounts_without_orders_are_never_platinum(book, admin_user):
    from keycare.insights import calculations as calc

    # pure: the dormant account is not ranked; it does not lose money, so it is iron
    tiers = calc.pyramid({"a": 100, "b": 50, "dormant": 0, "costly": -5}, ranked={"a", "b"})
    assert tiers == {"a": "platinum", "b": "iron", "dormant": "iron", "costly": "lead"}
    dormant = [AccountFactory(name=f"沉睡{i}", tier="") for i in range(20)]
    tiers_apply(actor=admin_user, start=START, end=END)
    assert set(
        Account.objects.filter(pk__in=[a.pk for a in dormant]).values_list("tier", flat=True)
    ) == {"iron"}
    assert Account.objects.get(pk=book[0].pk).tier == "platinum"


def test_tiers_come_from_a_period_that_has_begun(book, admin_user):
    from django.utils import timezone

    later = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError):
        tiers_apply(actor=admin_user, start=later, end=later + dt.timedelta(days=30))
    assert not TierChange.objects.exists()


def test_with_the_scorecard_accounts_that_stop_ordering_drop_to_iron(book, admin_user):
    from keycare.insights.models import InsightsSettings

    sleeper = AccountFactory(name="停购客户", tier="platinum")
    InsightsSettings.objects.filter(pk=InsightsSettings.current().pk).update(
        tier_source="scorecard"
    )
    tiers_apply(actor=admin_user, start=START, end=END)
    assert Account.objects.get(pk=sleeper.pk).tier == "iron"
    change = TierChange.objects.get(account=sleeper)
    assert (
        change.reason
        == "Value scorecard: no order from 2026-01-01 to 2026-12-31, so no score (iron)"
    )
