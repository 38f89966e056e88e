import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import AccountFactory, AccountTeamMemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for():
    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


def test_anonymous_gets_401_in_the_one_error_format(client_for):
    response = client_for().get("/api/v1/accounts/")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"message", "extra"}
    assert response.json()["extra"]["code"] == "not_authenticated"


def test_token_authentication(kam):
    AccountFactory(owner=kam, name="令牌客户")
    token = Token.objects.create(user=kam)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 200
    assert [a["name"] for a in response.json()["results"]] == ["令牌客户"]


def test_token_obtain_with_password(kam):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "kam1", "password": "pw-secret-123"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=kam).key
    bad = APIClient().post(
        "/api/v1/auth/token/", {"username": "kam1", "password": "wrong"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["extra"]["code"] == "invalid"


def test_list_is_scoped_and_paginated(client_for, kam, other_kam, admin_user):
    AccountFactory.create_batch(3, owner=kam)
    AccountFactory.create_batch(2, owner=other_kam)
    body = client_for(kam).get("/api/v1/accounts/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert client_for(admin_user).get("/api/v1/accounts/").json()["count"] == 5


def test_filters_are_shared_and_invalid_filters_are_errors(client_for, kam):
    AccountFactory(owner=kam, name="华鑫汽车", status="active")
    AccountFactory(owner=kam, name="远东钢铁", status="lost")
    ok = client_for(kam).get("/api/v1/accounts/?status=lost")
    assert [a["name"] for a in ok.json()["results"]] == ["远东钢铁"]
    assert client_for(kam).get("/api/v1/accounts/?q=华鑫").json()["count"] == 1
    bad = client_for(kam).get("/api/v1/accounts/?status=bogus")
    assert bad.status_code == 400
    assert bad.json()["message"] == "The request is not valid. See the field errors."
    assert "status" in bad.json()["extra"]["fields"]


def test_invisible_account_is_404(client_for, kam, other_kam):
    account = AccountFactory(owner=other_kam)
    response = client_for(kam).get(f"/api/v1/accounts/{account.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "extra"}


def test_create_validation_errors_under_extra_fields(client_for, kam):
    response = client_for(kam).post("/api/v1/accounts/", {"status": "bogus"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"name", "status"}
    assert Account.objects.count() == 0


def test_create_by_kam_and_refused_for_engineer(client_for, kam, engineer):
    denied = client_for(engineer).post("/api/v1/accounts/", {"name": "新客户"}, format="json")
    assert denied.status_code == 403
    assert Account.objects.count() == 0
    created = client_for(kam).post(
        "/api/v1/accounts/", {"name": "新客户", "province": "浙江省"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["owner"] == kam.pk
    assert created.json()["version"] == 1


def test_patch_with_stale_version_is_409_and_changes_nothing(client_for, kam):
    account = AccountFactory(owner=kam, name="原名")
    client = client_for(kam)
    first = client.patch(
        f"/api/v1/accounts/{account.pk}/", {"name": "甲", "version": 1}, format="json"
    )
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = client.patch(
        f"/api/v1/accounts/{account.pk}/", {"name": "乙", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["extra"]["code"] == "stale_version"
    account.refresh_from_db()
    assert account.name == "甲"


def test_patch_denied_for_team_member_without_change_right(client_for, engineer, other_kam):
    account = AccountFactory(owner=other_kam, name="原名")
    AccountTeamMemberFactory(account=account, user=engineer)
    response = client_for(engineer).patch(
        f"/api/v1/accounts/{account.pk}/", {"name": "改"}, format="json"
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "原名"


def test_parent_must_be_visible(client_for, kam, other_kam):
    hidden = AccountFactory(owner=other_kam)
    response = client_for(kam).post(
        "/api/v1/accounts/", {"name": "分公司", "parent": hidden.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()["extra"]["fields"]


def test_delete_admin_only(client_for, kam, admin_user):
    account = AccountFactory(owner=kam)
    assert client_for(kam).delete(f"/api/v1/accounts/{account.pk}/").status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()
    assert client_for(admin_user).delete(f"/api/v1/accounts/{account.pk}/").status_code == 204
    assert not Account.objects.filter(pk=account.pk).exists()


def test_portal_user_sees_only_their_account(client_for, portal_user):
    from keycare.accounts.tests.factories import ContactFactory

    mine = AccountFactory(name="我的公司")
    AccountFactory(name="别人的公司")
    ContactFactory(account=mine, user=portal_user)
    body = client_for(portal_user).get("/api/v1/accounts/").json()
    assert [a["name"] for a in body["results"]] == ["我的公司"]


def test_me(client_for, kam):
    body = client_for(kam).get("/api/v1/me/").json()
    assert body["username"] == "kam1"
    assert body["roles"] == ["key_account_manager"]


def test_schema_and_docs_are_served_locally(client_for, kam):
    schema = client_for(kam).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/accounts/" in paths
    params = {p["name"] for p in paths["/api/v1/accounts/"]["get"]["parameters"]}
    assert {"q", "status", "province", "page", "page_size"} <= params
    docs = client_for(kam).get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_list_query_count_is_fixed(kam, django_assert_num_queries):
    AccountFactory.create_batch(3, owner=kam)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=kam).key}")
    # token + user, roles, count, page, tags
    with django_assert_num_queries(5) as small:
        client.get("/api/v1/accounts/")
    AccountFactory.create_batch(20, owner=kam)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get("/api/v1/accounts/").json()["count"] == 23


def test_token_endpoint_is_locked_after_repeated_failures(kam, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = APIClient()
    for _ in range(3):
        client.post("/api/v1/auth/token/", {"username": "kam1", "password": "x"}, format="json")
    locked = client.post(
        "/api/v1/auth/token/", {"username": "kam1", "password": "pw-secret-123"}, format="json"
    )
    assert locked.status_code == 429
    assert locked.json()["extra"]["code"] == "locked_out"
    assert not Token.objects.filter(user=kam).exists()


def test_contact_memberships_in_other_accounts(client_for, kam, other_kam):
    from keycare.accounts.models import ContactAccount
    from keycare.accounts.tests.factories import ContactFactory

    group = AccountFactory(owner=kam, name="集团")
    branch = AccountFactory(owner=kam, name="分公司", parent=group)
    hidden = AccountFactory(owner=other_kam, name="别家")
    contact = ContactFactory(account=branch, name="赵总")
    client = client_for(kam)
    url = f"/api/v1/contacts/{contact.pk}/memberships/"
    added = client.post(url, {"account": group.pk, "buying_role": "decision_maker"}, format="json")
    assert added.status_code == 200
    assert added.json() == [
        {"account": group.pk, "account_name": "集团", "buying_role": "decision_maker", "title": ""}
    ]
    denied = client.post(url, {"account": hidden.pk, "buying_role": "user"}, format="json")
    assert denied.status_code == 400 and "account" in denied.json()["extra"]["fields"]
    # the contact now also shows among the group's people, with the role held there
    from keycare.accounts.selectors import account_contacts

    people = account_contacts(actor=kam, account=group)
    assert [(c.name, c.role_here) for c in people] == [("赵总", "decision_maker")]
    assert client.delete(f"{url}?account={group.pk}").status_code == 204
    assert not ContactAccount.objects.exists()
