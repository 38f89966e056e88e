"""The account types API: the list with counts and filters, one account's type, assessing and
confirming (errors in the one format), the service strategies with their edit version, a
permission matrix per endpoint where denied requests change nothing, and the schema."""

import pytest
from rest_framework.test import APIClient

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.insights.account_types import account_type_assess
from keycare.insights.models import AccountTypeAssessment, ServiceStrategy

pytestmark = pytest.mark.django_db
ANSWERS = {"price_focus": 1, "self_service": 1, "values_advice": 3, "pays_for_service": 2,
           "joint_planning": 5, "changes_organisation": 4}  # fmt: skip


@pytest.fixture
def api():
    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def people(kam, other_kam, engineer, service_manager, executive, admin_user, portal_user):
    return {"anonymous": None, "kam": kam, "other_kam": other_kam, "engineer": engineer,
            "service_manager": service_manager, "executive": executive, "admin": admin_user,
            "portal": portal_user}  # fmt: skip


@pytest.fixture
def account(people):
    account = AccountFactory(name="华南汽车零部件有限公司", owner=people["kam"])
    AccountTeamMemberFactory(account=account, user=people["engineer"], role="service_engineer")
    ContactFactory(account=account, user=people["portal"])
    return account


def _state(account):
    account = Account.objects.get(pk=account.pk)
    return (account.account_type, account.version,
            list(AccountTypeAssessment.objects.values_list("pk", "confirmed_type", "reason")))  # fmt: skip


def test_assess_and_confirm_through_the_api(api, people, account):
    client = api(people["kam"])
    created = client.post(f"/api/v1/insights/types/{account.pk}/assess/", {"answers": ANSWERS},
                          format="json")  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    # questionnaire 0 / 3 / 7; no figures in the period, so no data points
    assert body["totals"] == {"intrinsic": 0, "extrinsic": 3, "strategic": 7}
    assert (body["suggested_type"], body["confirmed_type"]) == ("strategic", "")
    assert [c["rule"] for c in body["contributions"]] == [f"q:{k}" for k in ANSWERS]
    assert body["answers"][4] == {
        "key": "joint_planning", "type": "strategic", "answer": 5,
        "question": "They are willing to plan jointly with us: shared goals, an annual plan, "
                    "regular business reviews."}  # fmt: skip
    confirmed = client.post(f"/api/v1/insights/types/assessments/{body['id']}/confirm/",
                            {"account_type": "strategic"}, format="json")  # fmt: skip
    assert confirmed.status_code == 200
    assert (confirmed.json()["confirmed_type"], confirmed.json()["confirmed_by"]) == (
        "strategic", str(people["kam"]))  # fmt: skip
    assert Account.objects.get(pk=account.pk).account_type == "strategic"
    detail = client.get(f"/api/v1/insights/types/{account.pk}/").json()
    assert (detail["account_type"], detail["set_by_hand"], detail["pending"]) == (
        "strategic", False, None)  # fmt: skip
    assert detail["strategy"]["summary"].startswith("Partnership")
    assert detail["confirmation"]["id"] == body["id"]
    assert [f["key"] for f in detail["data"]["figures"]] == [
        "discount_depth", "service_intensity", "consultative_share"]  # fmt: skip
    listing = client.get("/api/v1/insights/types/", {"type": "strategic"}).json()
    assert [r["name"] for r in listing["rows"]] == ["华南汽车零部件有限公司"]
    assert listing["types"][2] == {"type": "strategic", "label": "Strategic value", "accounts": 1}


def test_bad_input_in_the_one_error_format(api, people, account):
    client = api(people["kam"])
    response = client.post(f"/api/v1/insights/types/{account.pk}/assess/",
                           {"answers": {**ANSWERS, "price_focus": 7, "extra": 1}},
                           format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {
        "message": "The request is not valid. See the field errors.",
        "extra": {"code": "invalid", "fields": {
            "extra": ["There is no such question."],
            "price_focus": ["Answer from 1 (not at all) to 5 (fully)."]}},
    }  # fmt: skip
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    before = _state(account)
    response = client.post(f"/api/v1/insights/types/assessments/{assessment.pk}/confirm/",
                           {"account_type": "intrinsic"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {
        "reason": ["Say why you choose another type than the suggested Strategic value."]}  # fmt: skip
    assert client.get("/api/v1/insights/types/", {"type": "x"}).json()["extra"]["fields"] == {
        "type": ["Choose intrinsic, extrinsic or strategic value, or none."]}  # fmt: skip
    assert _state(account) == before


#: anonymous: 403 "not_authenticated" (session authentication comes first, as elsewhere)
@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("anonymous", 403, 403), ("portal", 403, 403), ("engineer", 403, 403),
     ("service_manager", 200, 403), ("executive", 200, 403), ("other_kam", 404, 404),
     ("kam", 200, 201), ("admin", 200, 201)],
)  # fmt: skip
def test_permission_matrix_of_the_account_endpoints(api, people, account, who, read, write):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    before = _state(account)
    client = api(people[who])
    detail = client.get(f"/api/v1/insights/types/{account.pk}/")
    assert detail.status_code == read
    if who == "anonymous":
        assert detail.json()["extra"]["code"] == "not_authenticated"
    assess = client.post(f"/api/v1/insights/types/{account.pk}/assess/", {"answers": ANSWERS},
                         format="json")  # fmt: skip
    assert assess.status_code == write
    if write != 201:
        confirm = client.post(f"/api/v1/insights/types/assessments/{assessment.pk}/confirm/",
                              {"account_type": "strategic"}, format="json")  # fmt: skip
        assert confirm.status_code == write
        assert _state(account) == before
    listing = client.get("/api/v1/insights/types/")
    assert listing.status_code == (read if read != 404 else 200)
    if listing.status_code == 200:
        names = [r["name"] for r in listing.json()["rows"]]
        assert names == ([] if who == "other_kam" else ["华南汽车零部件有限公司"])


def test_strategies_through_the_api(api, people):
    strategy = ServiceStrategy.objects.get(account_type="intrinsic")
    listing = api(people["kam"]).get("/api/v1/insights/service-strategies/")
    assert listing.status_code == 200
    assert [s["account_type"] for s in listing.json()] == ["intrinsic", "extrinsic", "strategic"]
    assert listing.json()[0]["practice_list"][0] == (
        "Customer portal for tickets, documents and order status"
    )
    admin = api(people["admin"])
    url = "/api/v1/insights/service-strategies/intrinsic/"
    changed = admin.patch(url, {"summary": "Self-service first", "lock_version": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["summary"], changed.json()["lock_version"]) == ("Self-service first", 2)
    stale = admin.patch(url, {"summary": "Older edit", "lock_version": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json()["extra"] == {"code": "stale_version", "current_version": 2}
    missing = admin.patch(url, {"summary": "No version"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["extra"]["fields"] == {"lock_version": ["This field is required."]}
    blank = admin.patch(url, {"practices": " \n ", "lock_version": 2}, format="json")
    assert blank.json()["extra"]["fields"] == {"practices": ["This field cannot be blank."]}
    assert admin.patch("/api/v1/insights/service-strategies/gold/", {"lock_version": 1},
                       format="json").status_code == 404  # fmt: skip
    strategy.refresh_from_db()
    assert (strategy.summary, strategy.lock_version) == ("Self-service first", 2)


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [("anonymous", 403, 403), ("portal", 403, 403), ("engineer", 403, 403),
     ("service_manager", 200, 403), ("executive", 200, 403), ("kam", 200, 403),
     ("admin", 200, 200)],
)  # fmt: skip
def test_permission_matrix_of_the_strategies(api, people, who, read, write):
    client = api(people[who])
    assert client.get("/api/v1/insights/service-strategies/").status_code == read
    assert client.get("/api/v1/insights/service-strategies/extrinsic/").status_code == read
    response = client.patch("/api/v1/insights/service-strategies/extrinsic/",
                            {"summary": "Changed", "lock_version": 1}, format="json")  # fmt: skip
    assert response.status_code == write
    strategy = ServiceStrategy.objects.get(account_type="extrinsic")
    if write != 200:
        assert (strategy.summary[:11], strategy.lock_version) == ("Value-added", 1)


def test_the_schema_documents_the_endpoints(api, people):
    schema = api(people["kam"]).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/insights/types/", "/api/v1/insights/types/{id}/",
            "/api/v1/insights/types/{id}/assess/",
            "/api/v1/insights/types/assessments/{id}/confirm/",
            "/api/v1/insights/service-strategies/",
            "/api/v1/insights/service-strategies/{account_type}/"} <= set(paths)  # fmt: skip
    assert "patch" in paths["/api/v1/insights/service-strategies/{account_type}/"]
