"""The insights settings: administrators change them (validated in full, a stale edit is
refused and nothing is saved), every other role is refused through the service, the page
and the API; and the analyses take their defaults from them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.core.exceptions import ConflictError, PermissionDeniedError
from keycare.insights.metrics import metrics_ensure
from keycare.insights.models import InsightsSettings
from keycare.insights.selectors import neglected_accounts, pareto_analysis, pyramid_analysis
from keycare.insights.settings import insights_settings_update
from keycare.insights.tiers import tiers_apply

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}
NON_ADMINS = ("engineer", "service_manager", "kam", "executive")


def _state() -> tuple:
    s = InsightsSettings.current()
    return (s.tier_source, s.cutoff_a, s.cutoff_b, s.platinum, s.gold, s.neglect_days,
            s.alert_top_1, s.alert_top_5, s.alert_hhi, s.lock_version)  # fmt: skip


def _form(**changes) -> dict:
    s = InsightsSettings.current()
    data = {"tier_source": s.tier_source, "cutoff_a": s.cutoff_a, "cutoff_b": s.cutoff_b,
            "platinum": s.platinum, "gold": s.gold, "neglect_days": s.neglect_days,
            "alert_top_1": s.alert_top_1, "alert_top_5": s.alert_top_5,
            "alert_hhi": s.alert_hhi, "lock_version": s.lock_version}  # fmt: skip
    return {**data, **changes}


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- the service ----------------------------------------------------------------------------


def test_the_seeded_defaults():
    assert _state() == ("pyramid", Decimal("80.00"), Decimal("95.00"), Decimal("10.00"),
                        Decimal("30.00"), 90, Decimal("20.00"), Decimal("50.00"), 1500, 1)  # fmt: skip


def test_an_administrator_changes_the_settings(admin_user):
    saved = insights_settings_update(
        actor=admin_user, data={"cutoff_a": Decimal("70"), "cutoff_b": Decimal("90"),
                                "neglect_days": 30, "alert_hhi": 2000}, lock_version=1,
    )  # fmt: skip
    assert (saved.cutoff_a, saved.cutoff_b, saved.neglect_days, saved.alert_hhi) == (
        70,
        90,
        30,
        2000,
    )
    assert saved.lock_version == 2
    assert _state()[1:3] == (Decimal("70.00"), Decimal("90.00"))


def test_a_stale_edit_saves_nothing(admin_user):
    insights_settings_update(actor=admin_user, data={"neglect_days": 60}, lock_version=1)
    before = _state()
    with pytest.raises(ConflictError) as error:
        insights_settings_update(actor=admin_user, data={"neglect_days": 10}, lock_version=1)
    assert error.value.extra == {"code": "stale_version", "current_version": 2}
    assert _state() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cutoff_a": Decimal("96"), "cutoff_b": Decimal("95")}, "cutoff_b"),
        ({"platinum": Decimal("40"), "gold": Decimal("30")}, "gold"),
        ({"platinum": Decimal("0")}, "gold"),
        ({"neglect_days": 0}, "neglect_days"),
        ({"alert_hhi": 10001}, "alert_hhi"),
        ({"alert_top_1": Decimal("101")}, "alert_top_1"),
        ({"tier_source": "guesswork"}, "tier_source"),
    ],
)
def test_invalid_settings_save_nothing(admin_user, data, field):
    before = _state()
    with pytest.raises(ValidationError) as error:
        insights_settings_update(actor=admin_user, data=data, lock_version=1)
    assert field in error.value.message_dict
    assert _state() == before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_administrators_change_the_settings(request, role):
    before = _state()
    with pytest.raises(PermissionDeniedError):
        insights_settings_update(actor=request.getfixturevalue(role),
                                 data={"neglect_days": 5}, lock_version=1)  # fmt: skip
    assert _state() == before


# --- the page -------------------------------------------------------------------------------


def test_the_page_for_an_administrator(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("web:insights_settings"))
    assert page.status_code == 200
    assert page.context["form"].initial["lock_version"] == 1
    assert 'data-testid="tab-settings"' in page.content.decode()
    saved = client.post(reverse("web:insights_settings"), _form(cutoff_a="75", neglect_days="45"))
    assert saved.status_code == 302
    assert _state()[1] == Decimal("75.00") and _state()[5] == 45 and _state()[-1] == 2
    # a form opened before that save is stale: the message, and nothing saved
    stale = client.post(reverse("web:insights_settings"), _form(neglect_days="7", lock_version=1))
    assert stale.status_code == 400
    assert "Someone else changed this record" in stale.content.decode()
    bad = client.post(reverse("web:insights_settings"), _form(cutoff_a="99", cutoff_b="90"))
    assert bad.status_code == 400
    assert "Cut-offs must satisfy" in bad.content.decode()
    assert _state()[5] == 45 and _state()[-1] == 2


def test_the_page_is_for_administrators_only(client, engineer, service_manager, kam, executive):
    url = reverse("web:insights_settings")
    assert client.get(url).status_code == 302  # anonymous: to the login
    assert client.post(url, _form(neglect_days="5")).status_code == 302
    before = _state()
    for user in (engineer, service_manager, kam, executive):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, _form(neglect_days="5")).status_code == 404
        assert (
            'data-testid="tab-settings"'
            not in client.get(reverse("web:insights_pareto")).content.decode()
        )
    assert _state() == before


# --- the API --------------------------------------------------------------------------------

URL = "/api/v1/insights/settings/"


def test_the_api_reads_for_those_who_see_the_insights(admin_user, executive, kam, service_manager,
                                                      engineer, portal_user):  # fmt: skip
    assert _api().get(URL).status_code in (401, 403)
    assert _api(engineer).get(URL).status_code == 403
    assert _api(portal_user).get(URL).status_code == 403
    for user in (admin_user, executive, kam, service_manager):
        body = _api(user).get(URL).json()
        assert body == {"tier_source": "pyramid", "cutoff_a": "80.00", "cutoff_b": "95.00",
                        "platinum": "10.00", "gold": "30.00", "neglect_days": 90,
                        "alert_top_1": "20.00", "alert_top_5": "50.00", "alert_hhi": 1500,
                        "lock_version": 1}  # fmt: skip


def test_the_api_changes_for_administrators(admin_user, executive, kam, service_manager, engineer):
    before = _state()
    assert _api().patch(URL, {"neglect_days": 5, "lock_version": 1}, format="json").status_code in (
        401,
        403,
    )
    for user in (executive, kam, service_manager, engineer):
        response = _api(user).patch(URL, {"neglect_days": 5, "lock_version": 1}, format="json")
        assert response.status_code == 403
    assert _state() == before
    ok = _api(admin_user).patch(URL, {"alert_top_1": "25", "lock_version": 1}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["alert_top_1"], ok.json()["lock_version"]) == ("25.00", 2)
    stale = _api(admin_user).patch(URL, {"alert_top_1": "35", "lock_version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["extra"]["code"] == "stale_version"
    bad = _api(admin_user).patch(URL, {"platinum": "50", "gold": "20", "lock_version": 2},
                                 format="json")  # fmt: skip
    assert bad.status_code == 400
    assert "gold" in bad.json()["extra"]["fields"]
    missing = _api(admin_user).patch(URL, {"alert_top_1": "35"}, format="json")
    assert missing.status_code == 400
    assert _state()[6] == Decimal("25.00") and _state()[-1] == 2


# --- the analyses take their defaults from the settings --------------------------------------


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
    metrics_ensure(start=START, end=END)
    return accounts


def test_the_analyses_use_the_settings_defaults(book, admin_user, executive):
    assert pareto_analysis(actor=executive, filters=PERIOD)["cutoffs"] == [80.0, 95.0]
    assert pyramid_analysis(actor=executive, filters=PERIOD)["splits"] == [10.0, 30.0]
    insights_settings_update(
        actor=admin_user, lock_version=1,
        data={"cutoff_a": Decimal("50"), "cutoff_b": Decimal("75"), "platinum": Decimal("40"),
              "gold": Decimal("60"), "neglect_days": 400},
    )  # fmt: skip
    pareto = pareto_analysis(actor=executive, filters=PERIOD)
    assert pareto["cutoffs"] == [50.0, 75.0]
    # revenue 90k of 235k = 38.3% → A; 50k → 59.6% crosses 50% so it stays in A
    assert [r["abc"] for r in pareto["revenue"]["rows"]] == ["A", "A", "B", "C", "C", "C"]
    pyramid = pyramid_analysis(actor=executive, filters=PERIOD)
    assert pyramid["splits"] == [40.0, 60.0]
    # five profitable: platinum ceil(2.0) = 2, gold up to ceil(3.0) = 3
    assert [a["tier"] for a in pyramid["accounts"]] == ["platinum", "platinum", "gold", "iron",
                                                          "iron", "lead"]  # fmt: skip
    # asked for explicitly, a value still wins over the default
    assert pareto_analysis(actor=executive, filters={**PERIOD, "cutoff_a": 60})["cutoffs"] == [
        60.0,
        75.0,
    ]


def test_the_neglect_default_is_the_settings_days(admin_user, executive):
    account = AccountFactory(name="百日未见")
    OrderFactory(account=account, order_date=timezone.localdate() - dt.timedelta(days=100),
                 lines=[{"product": ProductFactory(), "quantity": 1}])  # fmt: skip
    default = neglected_accounts(actor=executive)
    assert (default["days"], [a["name"] for a in default["accounts"]]) == (90, ["百日未见"])
    insights_settings_update(actor=admin_user, data={"neglect_days": 120}, lock_version=1)
    longer = neglected_accounts(actor=executive)
    assert (longer["days"], longer["accounts"]) == (120, [])
    # asked for explicitly, the days still win over the default
    assert len(neglected_accounts(actor=executive, filters={"days": 30})["accounts"]) == 1


def test_tiers_apply_takes_the_settings_splits(book, admin_user):
    insights_settings_update(actor=admin_user, data={"platinum": Decimal("40"), "gold": Decimal("60")},
                             lock_version=1)  # fmt: skip
    counts = tiers_apply(actor=admin_user, start=START, end=END)
    tiers = dict(Account.objects.values_list("name", "tier"))
    assert tiers == {"客户0": "platinum", "客户1": "platinum", "客户2": "gold", "客户3": "iron",
                     "客户4": "iron", "客户5": "lead"}  # fmt: skip
    assert counts == {"changed": 4, "kept": 2, "overridden": 0}
    # explicit splits still win
    tiers_apply(actor=admin_user, start=START, end=END, splits=(10.0, 30.0))
    assert Account.objects.get(name="客户1").tier == "gold"


def test_a_non_administrator_is_refused_before_the_input_is_read(executive):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(executive)
    assert api.patch("/api/v1/insights/settings/", {}, format="json").status_code == 403
    assert api.patch("/api/v1/insights/service-strategies/strategic/", {},
                     format="json").status_code == 403  # fmt: skip
