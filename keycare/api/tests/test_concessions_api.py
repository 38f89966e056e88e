"""The concession API: simulate, submit within policy (granted at once) and beyond it
(pending with its chain), decisions by the right approvers until granted, self-approval and
wrong levels refused, stale versions, rejections need a reason, withdrawal by the requester
only, the boxes, who sees what, invalid input, and pinned query counts."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.profitability.models import Concession, ConcessionEvent, ConcessionStep
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db

D = Decimal
URL = "/api/v1/concessions/"


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def sell(account, *, revenue, gross_profit):
    product = ProductFactory(list_price=D(revenue), standard_cost=D(revenue) - D(gross_profit))
    return OrderFactory(account=account, order_date=timezone.localdate(),
                        lines=[{"product": product, "quantity": D(1)}])  # fmt: skip


@pytest.fixture
def team_kam(make_user):
    """A second key account manager on the kam's account team: decides its first step."""
    return make_user(Role.KEY_ACCOUNT_MANAGER, username="kam3")


@pytest.fixture
def healthy(kam, team_kam, engineer):
    """Revenue 1,000,000 at a 50 % gross margin (no cost to serve): the margin floors never
    bind, the default policy applies (goodwill parts up to 10,000 a year)."""
    account = AccountFactory(name="健康客户", owner=kam)
    AccountTeamMemberFactory(
        account=account, user=team_kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    AccountTeamMemberFactory(account=account, user=engineer, role=AccountTeamRole.SERVICE_ENGINEER)
    sell(account, revenue="1000000", gross_profit="500000")
    return account


@pytest.fixture
def elsewhere(other_kam):
    account = AccountFactory(name="别家客户", owner=other_kam)
    sell(account, revenue="1000000", gross_profit="500000")
    return account


def goodwill(account, amount, **extra):
    return {"account": account.pk, "kind": "goodwill_parts", "amount": amount,
            "reason": "主轴故障停机两天，客户强烈不满", **extra}  # fmt: skip


def submit(user, data):
    response = api(user).post(URL, data, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def seen(pk, **body):
    """A decision's body at the version just read."""
    return {"version": Concession.objects.get(pk=pk).version, **body}


def state(pk):
    c = Concession.objects.get(pk=pk)
    return c.status, c.version, c.current_step, list(c.steps.values_list("status", flat=True))


# --- simulate and submit ---------------------------------------------------------------------


def test_simulate_changes_nothing(kam, healthy):
    within = api(kam).post(f"{URL}simulate/", goodwill(healthy, "500"), format="json")
    assert within.status_code == 200, within.json()
    body = within.json()
    assert (body["within_policy"], body["chain"], body["breaches"]) == (True, [], [])
    assert body["policy"]["name"] == "默认政策 Default policy"
    assert (body["amount"], body["before"]["revenue"], body["after"]["cost_to_serve"]) == (
        "500.00", "1000000.00", "500.00",
    )  # fmt: skip
    beyond = api(kam).post(f"{URL}simulate/", goodwill(healthy, "15000"), format="json").json()
    assert beyond["within_policy"] is False
    assert beyond["chain"] == ["key_account_manager", "service_manager"]
    assert [(b["code"], b["limit"], b["value"]) for b in beyond["breaches"]] == [
        ("max_goodwill_parts_value", "10000.00", "15000.00")
    ]
    assert "above the limit" in beyond["breaches"][0]["message"]
    assert not Concession.objects.exists() and not ConcessionEvent.objects.exists()


def test_within_policy_is_granted_at_once(kam, healthy):
    body = submit(kam, goodwill(healthy, "500"))
    assert (body["status"], body["within_policy"], body["amount"], body["steps"]) == (
        "granted", True, "500.00", [],
    )  # fmt: skip
    assert body["number"].startswith(f"CON-{timezone.localdate().year}-")
    assert [e["kind"] for e in body["events"]] == ["submitted", "granted"]
    assert body["simulation"]["within_policy"] is True
    assert body["actions"] == {"approve": False, "reject": False, "withdraw": False}


def test_beyond_policy_waits_for_each_step_until_granted(kam, team_kam, service_manager, healthy):
    body = submit(kam, goodwill(healthy, "15000"))
    pk = body["id"]
    assert (body["status"], body["within_policy"], body["version"]) == ("pending", False, 1)
    assert [(s["position"], s["level"], s["status"]) for s in body["steps"]] == [
        (0, "key_account_manager", "waiting"), (1, "service_manager", "waiting"),
    ]  # fmt: skip
    assert [b["code"] for b in body["breaches"]] == ["max_goodwill_parts_value"]
    assert body["actions"] == {"approve": False, "reject": False, "withdraw": True}
    assert api(team_kam).get(f"{URL}{pk}/").json()["actions"]["approve"] is True

    own = api(kam).post(f"{URL}{pk}/approve/", seen(pk), format="json")
    assert own.status_code == 403 and own.json()["extra"]["code"] == "own_request"
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])

    first = api(team_kam).post(
        f"{URL}{pk}/approve/", {"comment": "同意", "version": 1}, format="json"
    )
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["current_step"], first.json()["version"]) == (
        "pending", 1, 2,
    )  # fmt: skip
    assert first.json()["steps"][0]["decided_by"] == team_kam.pk

    again = api(team_kam).post(f"{URL}{pk}/approve/", seen(pk), format="json")
    assert again.status_code == 403 and again.json()["extra"]["code"] == "not_your_step"
    stale = api(service_manager).post(f"{URL}{pk}/approve/", {"version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["extra"]["code"] == "stale_version"
    assert state(pk) == ("pending", 2, 1, ["approved", "waiting"])

    granted = api(service_manager).post(f"{URL}{pk}/approve/", {"version": 2}, format="json")
    assert granted.status_code == 200
    assert granted.json()["status"] == "granted"
    assert [e["kind"] for e in granted.json()["events"]] == [
        "submitted",
        "approved",
        "approved",
        "granted",
    ]
    done = api(service_manager).post(f"{URL}{pk}/approve/", seen(pk), format="json")
    assert done.status_code == 400 and done.json()["extra"]["code"] == "already_decided"


def test_a_large_request_needs_an_executive(
    kam, team_kam, service_manager, executive, make_user, healthy
):
    pk = submit(kam, goodwill(healthy, "25000"))["id"]
    assert [s["level"] for s in api(kam).get(f"{URL}{pk}/").json()["steps"]] == [
        "key_account_manager", "service_manager", "executive",
    ]  # fmt: skip
    assert api(team_kam).post(f"{URL}{pk}/approve/", seen(pk), format="json").status_code == 200
    assert (
        api(service_manager).post(f"{URL}{pk}/approve/", seen(pk), format="json").status_code == 200
    )
    another_manager = make_user(Role.SERVICE_MANAGER, username="svcmgr2")
    wrong_level = api(another_manager).post(f"{URL}{pk}/approve/", seen(pk), format="json")
    assert wrong_level.status_code == 403
    assert wrong_level.json()["extra"] == {"code": "not_your_step", "level": "executive"}
    assert state(pk) == ("pending", 3, 2, ["approved", "approved", "waiting"])
    assert (
        api(executive).post(f"{URL}{pk}/approve/", seen(pk), format="json").json()["status"]
        == "granted"
    )


def test_reject_needs_a_reason(kam, service_manager, healthy):
    pk = submit(kam, goodwill(healthy, "15000"))["id"]
    silent = api(service_manager).post(f"{URL}{pk}/reject/", seen(pk, comment="  "), format="json")
    assert silent.status_code == 400 and list(silent.json()["extra"]["fields"]) == ["comment"]
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])
    rejected = api(service_manager).post(
        f"{URL}{pk}/reject/", seen(pk, comment="超出年度预算"), format="json"
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert [s["status"] for s in rejected.json()["steps"]] == ["rejected", "skipped"]
    assert rejected.json()["events"][-1]["comment"] == "超出年度预算"


def test_only_the_requester_withdraws(kam, service_manager, executive, healthy):
    pk = submit(kam, goodwill(healthy, "15000"))["id"]
    for other in (service_manager, executive):
        denied = api(other).post(f"{URL}{pk}/withdraw/", {}, format="json")
        assert denied.status_code == 403 and denied.json()["extra"]["code"] == "not_requester"
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])
    stale = api(kam).post(f"{URL}{pk}/withdraw/", {"version": 7}, format="json")
    assert stale.status_code == 409
    withdrawn = api(kam).post(f"{URL}{pk}/withdraw/", {"comment": "客户已接受方案"}, format="json")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api(kam).post(f"{URL}{pk}/withdraw/", {}, format="json").status_code == 400


# --- lists and visibility ------------------------------------------------------------------


def ids(user, query=""):
    response = api(user).get(f"{URL}{query}")
    assert response.status_code == 200, response.json()
    return {c["id"] for c in response.json()["results"]}


def test_boxes_hold_the_right_requests(kam, team_kam, other_kam, service_manager, executive,
                                      admin_user, healthy, elsewhere):  # fmt: skip
    a = submit(kam, goodwill(healthy, "15000"))["id"]  # beyond: KAM, then service manager
    b = submit(kam, goodwill(healthy, "500"))["id"]  # granted at once
    c = submit(other_kam, goodwill(elsewhere, "15000"))["id"]
    assert ids(kam, "?box=mine") == ids(kam) == {a, b}
    assert ids(kam, "?box=inbox") == set()  # not their own
    assert ids(team_kam, "?box=inbox") == {a}
    assert ids(team_kam, "?box=mine") == set()
    assert ids(other_kam) == {c} and ids(other_kam, "?box=inbox") == set()
    assert ids(service_manager, "?box=inbox") == {a, c}
    assert ids(executive) == ids(admin_user) == {a, b, c}
    assert ids(admin_user, "?box=inbox") == set()  # administrators oversee, they do not grant
    assert ids(executive, "?status=pending") == {a, c}
    assert ids(executive, f"?account={healthy.pk}&within_policy=true") == {b}
    assert ids(executive, "?q=别家") == {c}
    api(team_kam).post(f"{URL}{a}/approve/", seen(a), format="json")
    assert ids(team_kam, "?box=inbox") == set() and ids(service_manager, "?box=inbox") == {a, c}
    for query in ("?box=outbox", "?status=bogus", "?account=x", "?period_from=yesterday",
                  "?ordering=colour", "?account=99999999999999999999", "?account=1.5",
                  "?requested_by=99999999999999999999", "?requested_by=0"):  # fmt: skip
        response = api(executive).get(f"{URL}{query}")
        assert response.status_code == 400, query
        assert response.json()["extra"]["code"] == "invalid"


def test_a_request_the_user_does_not_see_is_404_and_unchanged(kam, other_kam, healthy):
    pk = submit(kam, goodwill(healthy, "15000"))["id"]
    client = api(other_kam)
    assert client.get(f"{URL}{pk}/").status_code == 404
    for verb in ("approve", "reject", "withdraw"):
        response = client.post(f"{URL}{pk}/{verb}/", {"comment": "x"}, format="json")
        assert response.status_code == 404, verb
    assert client.get(f"{URL}999999/").status_code == 404
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])


@pytest.mark.parametrize("role", [None, "engineer", "portal_user"])
def test_engineers_portal_users_and_anonymous_take_no_part(request, kam, healthy, role):
    pk = submit(kam, goodwill(healthy, "15000"))["id"]
    user = request.getfixturevalue(role) if role else None
    if role == "portal_user":
        ContactFactory(account=healthy, user=user)
    client = api(user)
    expected = (401, 403) if role is None else (403,)
    calls = [
        client.get(URL), client.get(f"{URL}{pk}/"),
        client.post(URL, goodwill(healthy, "100"), format="json"),
        client.post(f"{URL}simulate/", goodwill(healthy, "100"), format="json"),
        client.post(f"{URL}{pk}/approve/", {}, format="json"),
        client.post(f"{URL}{pk}/reject/", {"comment": "不行"}, format="json"),
        client.post(f"{URL}{pk}/withdraw/", {}, format="json"),
    ]  # fmt: skip
    assert [r.status_code in expected for r in calls] == [True] * len(calls)
    assert all(set(r.json()) == {"message", "extra"} for r in calls)
    assert Concession.objects.count() == 1
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])


# --- invalid input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "holiday"}, "kind"),
        ({"amount": "a lot"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"reason": ""}, "reason"),
        ({"effective_date": "2026-02-30"}, "effective_date"),
        ({"effective_date": "2030-01-01"}, "effective_date"),
        ({"account": 999999}, "account"),
        ({"account": "abc"}, "account"),
        ({"ticket": 999999}, "ticket"),
        ({"kind": "discount", "list_amount": "10000"}, "discount_pct"),
        ({"kind": "discount", "list_amount": "10000", "discount_pct": "101"}, "discount_pct"),
        ({"kind": "discount", "list_amount": "10000", "discount_pct": "10"}, "cost_amount"),
        ({"kind": "extended_warranty", "months": 12}, "equipment"),
        ({"kind": "free_service"}, "hours"),
        ({"kind": "free_service", "visits": "two"}, "visits"),
        ({"kind": "extended_warranty"}, "months"),
        ({"kind": "gift", "amount": "300"}, "contact"),
    ],
)
def test_bad_request_is_a_400_and_creates_nothing(kam, healthy, change, field):
    data = {**goodwill(healthy, "500"), **change}
    for url in (URL, f"{URL}simulate/"):
        response = api(kam).post(url, data, format="json")
        if url.endswith("simulate/") and field == "reason":
            continue  # a simulation needs no reason (its effective date is checked)
        assert response.status_code == 400, (url, response.json())
        assert field in response.json()["extra"]["fields"], response.json()
    assert not Concession.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "1e30"}, "amount"),
        ({"amount": "9" * 31}, "amount"),
        ({"kind": "discount", "list_amount": "1" * 31, "discount_pct": "10", "cost_amount": "1"},
         "list_amount"),
        ({"kind": "discount", "list_amount": "1000", "discount_pct": "100.01", "cost_amount": "1"},
         "discount_pct"),
        ({"kind": "discount", "list_amount": "1000", "discount_pct": "1e30", "cost_amount": "1"},
         "discount_pct"),
        ({"kind": "discount", "list_amount": "1000", "discount_pct": "10", "cost_amount": "1e20"},
         "cost_amount"),
        ({"kind": "free_service", "hours": "1e30"}, "hours"),
        ({"kind": "free_service", "hours": "10000.01"}, "hours"),
        ({"kind": "free_service", "hours": "-1"}, "hours"),
        ({"kind": "free_service", "visits": 10**20}, "visits"),
        ({"kind": "extended_warranty", "months": 121, "amount": "100"}, "months"),
        ({"account": 10**20}, "account"),
        ({"ticket": 10**20}, "ticket"),
        ({"kind": "gift", "contact": 10**20}, "contact"),
        ({"equipment": -1}, "equipment"),
    ],
)  # fmt: skip
def test_numbers_out_of_range_are_a_400_not_a_500(kam, healthy, change, field):
    data = {**goodwill(healthy, "500"), **change}
    for url in (URL, f"{URL}simulate/"):
        response = api(kam).post(url, data, format="json")
        assert response.status_code == 400, (url, change, response.json())
        assert field in response.json()["extra"]["fields"], response.json()
    assert not Concession.objects.exists()


def test_an_account_of_another_team_is_not_a_choice(kam, elsewhere):
    response = api(kam).post(URL, goodwill(elsewhere, "500"), format="json")
    assert response.status_code == 400 and list(response.json()["extra"]["fields"]) == ["account"]
    assert not Concession.objects.exists()


def test_a_gift_to_another_accounts_contact_is_refused(kam, healthy, elsewhere):
    stranger = ContactFactory(account=elsewhere)
    data = {**goodwill(healthy, "300"), "kind": "gift", "contact": stranger.pk}
    response = api(kam).post(URL, data, format="json")
    assert response.status_code == 400 and list(response.json()["extra"]["fields"]) == ["contact"]
    mine = ContactFactory(account=healthy, name="王总")
    granted = submit(kam, {**data, "contact": mine.pk})
    assert (granted["status"], granted["contact"], granted["contact_name"]) == (
        "granted",
        mine.pk,
        "王总",
    )


def test_a_discount_request(kam, healthy):
    body = submit(kam, {"account": healthy.pk, "kind": "discount", "order_reference": "Q-2026-88",
                        "list_amount": "200000", "discount_pct": "18", "cost_amount": "150000",
                        "reason": "年度框架协议"})  # fmt: skip
    assert (body["amount"], body["discount_pct"], body["order_reference"]) == (
        "36000.00",
        "18.00",
        "Q-2026-88",
    )
    assert body["status"] == "pending"
    assert {b["code"] for b in body["breaches"]} == {"max_discount_pct", "min_line_margin_pct"}


def test_breaches_are_said_in_the_readers_language(kam, team_kam, healthy):
    from django.utils import translation

    from keycare.profitability.concessions import breach_text

    pk = submit(kam, goodwill(healthy, "15000"))["id"]  # asked in English
    with translation.override("zh-hans"):
        chinese = breach_text("max_goodwill_parts_value", "10000.00", "15000.00")
    english = breach_text("max_goodwill_parts_value", "10000.00", "15000.00")
    assert chinese != english and "10,000" in chinese
    assert Concession.objects.get(pk=pk).breaches[0]["message"] == english  # as stored
    by_header = api(team_kam).get(f"{URL}{pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    by_cookie = api(team_kam)
    by_cookie.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for body in (by_header, by_cookie.get(f"{URL}{pk}/").json()):
        assert [b["message"] for b in body["breaches"]] == [chinese]
        assert [b["message"] for b in body["simulation"]["breaches"]] == [chinese]
    listed = api(team_kam).get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert [b["message"] for b in listed[0]["breaches"]] == [chinese]
    simulated = api(kam).post(f"{URL}simulate/", goodwill(healthy, "15000"), format="json",
                              HTTP_ACCEPT_LANGUAGE="zh-hans").json()  # fmt: skip
    assert [b["message"] for b in simulated["breaches"]] == [chinese]
    assert [b["message"] for b in api(kam).get(f"{URL}{pk}/").json()["breaches"]] == [english]


def test_approve_and_reject_need_the_version_withdraw_does_not(kam, team_kam, healthy):
    pk = submit(kam, goodwill(healthy, "15000"))["id"]
    for verb, body in (("approve", {}), ("approve", {"version": None}),
                       ("reject", {"comment": "超预算"}), ("approve", {"version": "one"})):  # fmt: skip
        response = api(team_kam).post(f"{URL}{pk}/{verb}/", body, format="json")
        assert response.status_code == 400, (verb, body)
        assert list(response.json()["extra"]["fields"]) == ["version"], (verb, body)
    long = api(team_kam).post(f"{URL}{pk}/approve/", seen(pk, comment="好" * 2001), format="json")
    assert long.status_code == 400 and list(long.json()["extra"]["fields"]) == ["comment"]
    assert state(pk) == ("pending", 1, 0, ["waiting", "waiting"])
    assert api(kam).post(f"{URL}{pk}/withdraw/", {}, format="json").json()["status"] == "withdrawn"
    schema = api(kam).get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    assert schema["DecisionRequest"]["required"] == ["version"]
    assert schema["DecisionRequest"]["properties"]["comment"]["maxLength"] == 2000
    assert "required" not in schema["WithdrawRequest"]


# --- query counts ----------------------------------------------------------------------------


def _requests(requester, account, n):
    return [submit(requester, goodwill(account, "15000"))["id"] for _ in range(n)]


def test_list_query_count_is_fixed(kam, team_kam, healthy, django_assert_num_queries):
    client = token_client(kam)
    _requests(kam, healthy, 1)
    # token + user, roles, count, page, steps with who decided
    with django_assert_num_queries(5):
        assert client.get(URL).json()["count"] == 1
    more = _requests(kam, healthy, 4)
    api(team_kam).post(f"{URL}{more[0]}/approve/", seen(more[0]), format="json")
    with django_assert_num_queries(5):
        assert client.get(URL).json()["count"] == 5
    inbox = token_client(team_kam)
    with django_assert_num_queries(5):
        assert inbox.get(f"{URL}?box=inbox").json()["count"] == 4


def test_detail_query_count_is_fixed(kam, team_kam, healthy, django_assert_num_queries):
    [first] = _requests(kam, healthy, 1)
    client = token_client(team_kam)
    # token + user, roles, the request, steps, events, and for the actions: may the key
    # account manager change the account, has the user decided a step
    with django_assert_num_queries(7):
        assert client.get(f"{URL}{first}/").json()["actions"]["approve"] is True
    more = _requests(kam, healthy, 4)
    with django_assert_num_queries(7):
        assert client.get(f"{URL}{first}/").json()["actions"]["approve"] is True
    with django_assert_num_queries(7):
        assert client.get(f"{URL}{more[-1]}/").json()["actions"]["approve"] is True
    # once the first step is decided, the service manager's step is beyond the key account
    # manager's level: no further check is needed
    api(team_kam).post(f"{URL}{more[-1]}/approve/", seen(more[-1], comment="同意"), format="json")
    with django_assert_num_queries(5):
        body = client.get(f"{URL}{more[-1]}/").json()
    assert body["actions"]["approve"] is False and len(body["events"]) == 2
    assert ConcessionStep.objects.count() == 10
