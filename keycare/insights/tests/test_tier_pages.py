"""The tier history page and API (scoped like the metrics), applying the tiers now, and
setting or lifting a tier by hand on the account 360 page and through the API; denied
requests change nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.insights.models import TierChange, TierOverride
from keycare.insights.tier_selectors import tier_change_list
from keycare.insights.tiers import tier_override_set, tiers_apply

pytestmark = pytest.mark.django_db
START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
APPLY = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


@pytest.fixture
def book(kam):
    accounts = []
    for i, (revenue, cost) in enumerate([(90_000, 30_000), (50_000, 30_000), (40_000, 30_000),
                                         (30_000, 25_000), (20_000, 18_000), (5_000, 6_000)]):  # fmt: skip
        account = AccountFactory(name=f"客户{i}", tier="iron", owner=kam if i == 0 else None)
        product = ProductFactory(list_price=Decimal(revenue), standard_cost=Decimal(cost))
        OrderFactory(account=account, order_date=dt.date(2026, 6, 1),
                     lines=[{"product": product, "quantity": 1}])  # fmt: skip
        accounts.append(account)
    return accounts


@pytest.fixture
def history(book, admin_user):
    """客户0 iron → platinum, 客户1 iron → gold (up), 客户5 iron → lead (down), from the
    pyramid; then 客户2 set to gold by hand (up). The pyramid's changes are dated a month
    ago."""
    tiers_apply(actor=admin_user, start=START, end=END)
    TierChange.objects.update(at=timezone.now() - dt.timedelta(days=30))
    tier_override_set(actor=admin_user, account=book[2], tier="gold", reason="战略合作，新产线")
    return book


def _snapshot() -> tuple:
    return (
        TierChange.objects.count(), TierOverride.objects.count(),
        tuple(Account.objects.order_by("pk").values_list("tier", flat=True)),
    )  # fmt: skip


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _names(page) -> list[str]:
    return [c.account.name for c in page.context["page"].object_list]


# --- the selector ----------------------------------------------------------------------------


def test_directions_and_filters(history, executive):
    rows = {c.account.name: c.direction for c in tier_change_list(actor=executive)}
    assert rows == {"客户0": "up", "客户1": "up", "客户5": "down", "客户2": "up"}
    down = tier_change_list(actor=executive, filters={"direction": "down"})
    assert [c.account.name for c in down] == ["客户5"]
    manual = tier_change_list(actor=executive, filters={"source": "manual"})
    assert [(c.account.name, c.from_tier, c.to_tier) for c in manual] == [("客户2", "iron", "gold")]
    today = timezone.localdate().isoformat()
    recent = tier_change_list(actor=executive, filters={"changed_from": today})
    assert [c.account.name for c in recent] == ["客户2"]
    older = tier_change_list(actor=executive, filters={
        "changed_to": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})  # fmt: skip
    assert sorted(c.account.name for c in older) == ["客户0", "客户1", "客户5"]


def test_scoped_like_the_metrics(history, kam, other_kam, service_manager, engineer, portal_user):
    assert [c.account.name for c in tier_change_list(actor=kam)] == ["客户0"]
    assert list(tier_change_list(actor=other_kam)) == []
    assert tier_change_list(actor=service_manager).count() == 4
    assert list(tier_change_list(actor=engineer)) == []
    assert list(tier_change_list(actor=portal_user)) == []


# --- the tier history page ----------------------------------------------------------------


def test_the_tier_page_per_role(client, history, admin_user, executive, service_manager, kam,
                                engineer):  # fmt: skip
    url = reverse("web:insights_tiers")
    assert client.get(url).status_code == 302  # anonymous: to the login
    client.force_login(engineer)
    assert client.get(url).status_code == 404
    for user in (admin_user, executive, service_manager):
        client.force_login(user)
        page = client.get(url)
        assert page.status_code == 200
        assert sorted(_names(page)) == ["客户0", "客户1", "客户2", "客户5"]
        html = page.content.decode()
        assert ('data-testid="tiers-apply"' in html) == (user == admin_user)
        assert f'href="{reverse("web:account_detail", args=[history[5].pk])}"' in html
    client.force_login(kam)
    page = client.get(url)
    assert _names(page) == ["客户0"]
    assert 'data-testid="tiers-apply"' not in page.content.decode()


def test_the_tier_page_filters(client, history, executive):
    client.force_login(executive)
    url = reverse("web:insights_tiers")
    assert _names(client.get(url, {"direction": "down"})) == ["客户5"]
    assert _names(client.get(url, {"source": "manual"})) == ["客户2"]
    assert sorted(_names(client.get(url, {"direction": "up", "source": "pyramid"}))) == [
        "客户0",
        "客户1",
    ]
    today = timezone.localdate().isoformat()
    assert _names(client.get(url, {"changed_from": today, "changed_to": today})) == ["客户2"]
    bad = client.get(url, {"changed_from": "yesterday", "direction": "sideways"})
    assert bad.status_code == 200
    assert _names(bad) == []
    assert {e.split(":")[0] for e in bad.context["filter_errors"]} == {"changed_from", "direction"}
    fragment = client.get(url, {"direction": "down"}, HTTP_HX_REQUEST="true")
    assert 'id="list-table"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_apply_tiers_now(client, book, admin_user, executive, service_manager, kam, engineer):
    url = reverse("web:insights_tiers_apply")
    before = _snapshot()
    assert client.post(url, APPLY).status_code == 302 and _snapshot() == before  # to the login
    for user in (engineer, kam, service_manager, executive):
        client.force_login(user)
        assert client.post(url, APPLY).status_code == 404
        assert client.get(url).status_code in (404, 405)
    assert _snapshot() == before
    client.force_login(admin_user)
    response = client.post(url, APPLY, follow=True)
    assert "3 tiers changed, 3 unchanged, 0 set by hand." in response.content.decode()
    assert TierChange.objects.count() == 3
    assert Account.objects.get(pk=book[0].pk).tier == "platinum"
    bad = client.post(url, {"period_from": "2026-12-31", "period_to": "2026-01-01"}, follow=True)
    assert "The period ends before it starts." in bad.content.decode()
    assert TierChange.objects.count() == 3


# --- the account 360 page -----------------------------------------------------------------


def test_the_account_page_shows_the_tier(client, history, admin_user, kam, engineer):
    url = reverse("web:account_detail", args=[history[0].pk])
    client.force_login(kam)
    html = client.get(url).content.decode()
    assert 'data-testid="account-tier"' in html
    assert html.count('data-testid="account-tier-change"') == 1
    assert "profit after cost to serve 60000" in html
    assert 'data-testid="tier-override-set"' not in html  # the forms are for administrators
    assert html.index('data-testid="account-tier"') < html.index("Key persons")
    client.force_login(admin_user)
    by_hand = client.get(reverse("web:account_detail", args=[history[2].pk])).content.decode()
    assert 'data-testid="tier-by-hand"' in by_hand and "战略合作，新产线" in by_hand
    assert 'data-testid="tier-override-set"' in by_hand
    assert 'data-testid="tier-override-clear"' in by_hand
    assert 'data-testid="tier-override-clear"' not in client.get(url).content.decode()
    # an engineer sees the account but not its commercial tier history
    from keycare.accounts.tests.factories import AccountTeamMemberFactory

    AccountTeamMemberFactory(account=history[0], user=engineer)
    client.force_login(engineer)
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="account-tier"' not in page.content.decode()


def test_the_tier_section_has_a_fixed_number_of_queries(client, history, admin_user,
                                                        django_assert_num_queries):  # fmt: skip
    url = reverse("web:account_detail", args=[history[2].pk])
    client.force_login(admin_user)
    client.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(8):
        tier_override_set(actor=admin_user, account=history[2], tier=("gold", "iron")[i % 2],
                          reason=f"第{i}次")  # fmt: skip
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('data-testid="account-tier-change"') == 5


def test_the_override_forms(client, book, admin_user, executive, service_manager, kam, engineer):
    account = book[5]
    url = reverse("web:account_tier_override", args=[account.pk])
    data = {"action": "set", "tier": "gold", "reason": "战略客户"}
    before = _snapshot()
    assert client.post(url, data).status_code == 302 and _snapshot() == before  # to the login
    for user in (engineer, kam, service_manager, executive):
        client.force_login(user)
        assert client.post(url, data).status_code == 404
        assert client.post(url, {"action": "clear"}).status_code == 404
    assert _snapshot() == before
    client.force_login(admin_user)
    no_reason = client.post(url, {"action": "set", "tier": "gold", "reason": ""}, follow=True)
    assert "Choose a tier and say why it is set by hand." in no_reason.content.decode()
    assert _snapshot() == before
    done = client.post(url, data)
    assert done.status_code == 302
    assert done["Location"] == reverse("web:account_detail", args=[account.pk]) + "#account-tier"
    assert Account.objects.get(pk=account.pk).tier == "gold"
    override = TierOverride.objects.get(account=account)
    assert (override.tier, override.reason, override.actor) == ("gold", "战略客户", admin_user)
    change = TierChange.objects.get(account=account)
    assert (change.from_tier, change.to_tier, change.source) == ("iron", "gold", "manual")
    assert tiers_apply(actor=admin_user, start=START, end=END)["overridden"] == 1
    client.post(url, {"action": "clear"})
    assert not TierOverride.objects.filter(account=account).exists()
    tiers_apply(actor=admin_user, start=START, end=END)
    assert Account.objects.get(pk=account.pk).tier == "lead"


# --- the API --------------------------------------------------------------------------------


def test_the_tier_changes_api(history, admin_user, service_manager, executive, kam, other_kam,
                              engineer, portal_user):  # fmt: skip
    url = "/api/v1/insights/tier-changes/"
    assert _api().get(url).status_code in (401, 403)
    assert _api(engineer).get(url).status_code == 403
    assert _api(portal_user).get(url).status_code == 403
    for user in (admin_user, service_manager, executive):
        assert _api(user).get(url).json()["count"] == 4
    mine = _api(kam).get(url).json()
    assert [r["account_name"] for r in mine["results"]] == ["客户0"]
    row = mine["results"][0]
    assert {k: row[k] for k in ("from_tier", "to_tier", "direction", "source", "actor")} == {
        "from_tier": "iron", "to_tier": "platinum", "direction": "up", "source": "pyramid",
        "actor": "admin1"}  # fmt: skip
    assert _api(other_kam).get(url).json()["count"] == 0
    down = _api(executive).get(url, {"direction": "down"}).json()
    assert [r["account_name"] for r in down["results"]] == ["客户5"]
    assert _api(executive).get(url, {"direction": "sideways"}).status_code == 400


def test_the_apply_api(book, admin_user, executive, kam, engineer):
    url = "/api/v1/insights/tiers/apply/"
    before = _snapshot()
    assert _api().post(url, APPLY, format="json").status_code in (401, 403)
    for user in (engineer, kam, executive):
        assert _api(user).post(url, APPLY, format="json").status_code == 403
    assert _snapshot() == before
    ok = _api(admin_user).post(url, APPLY, format="json")
    assert (ok.status_code, ok.json()) == (200, {"changed": 3, "kept": 3, "overridden": 0})
    bad = _api(admin_user).post(url, {"period_from": "2026-13-01"}, format="json")
    assert bad.status_code == 400


def test_the_override_api(book, admin_user, executive, kam, engineer, portal_user):
    url = f"/api/v1/accounts/{book[0].pk}/tier-override/"
    data = {"tier": "gold", "reason": "战略客户"}
    before = _snapshot()
    assert _api().post(url, data, format="json").status_code in (401, 403)
    for user in (engineer, portal_user, kam, executive):
        assert _api(user).post(url, data, format="json").status_code in (403, 404)
        assert _api(user).delete(url).status_code in (403, 404)
    assert _snapshot() == before
    bad = _api(admin_user).post(url, {"tier": "diamond", "reason": "x"}, format="json")
    assert bad.status_code == 400 and _snapshot() == before
    done = _api(admin_user).post(url, data, format="json")
    assert done.status_code == 201
    assert {k: done.json()[k] for k in ("from_tier", "to_tier", "source", "direction")} == {
        "from_tier": "iron", "to_tier": "gold", "source": "manual", "direction": "up"}  # fmt: skip
    assert TierOverride.objects.filter(account=book[0]).exists()
    assert _api(admin_user).delete(url).status_code == 204
    assert not TierOverride.objects.filter(account=book[0]).exists()
    missing = _api(admin_user).post("/api/v1/accounts/999999/tier-override/", data, format="json")
    assert missing.status_code == 404


def test_bad_tier_inputs_are_clear_errors(admin_user):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.post("/api/v1/insights/tiers/apply/", [1, 2], format="json").status_code == 400
    assert api.get("/api/v1/insights/tier-changes/", {"account": "9" * 30}).status_code == 400
    assert api.get("/api/v1/insights/tier-changes/", {"account": "1.5"}).status_code == 400
