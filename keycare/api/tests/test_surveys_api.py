"""/api/v1/surveys/: staff only, scoped like the account; sending through the service."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service import surveys
from keycare.service.models import NpsSurvey

pytestmark = pytest.mark.django_db


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def world(kam, other_kam, engineer, portal_user, admin_user):
    group = AccountFactory(owner=kam, name="华鑫集团")
    mine = AccountFactory(owner=kam, name="华鑫苏州", parent=group)
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    other = AccountFactory(owner=other_kam, name="远东钢铁")
    ContactFactory(account=mine, user=portal_user, email="portal@huaxin.example")
    li = ContactFactory(account=mine, name="李工", email="li@huaxin.example")
    wang = ContactFactory(account=other, name="王工", email="wang@yuandong.example")
    answered, token = surveys.nps_survey_send(actor=kam, account=mine, contact=li)
    surveys.nps_survey_answer(token=token, score=9, comment="很好")
    open_survey, _token = surveys.nps_survey_send(actor=other_kam, account=other, contact=wang)
    return {"group": group, "mine": mine, "other": other, "li": li, "wang": wang,
            "answered": answered, "open": open_survey}  # fmt: skip


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin_user", {"answered", "open"}),
        ("service_manager", {"answered", "open"}),
        ("executive", {"answered", "open"}),
        ("kam", {"answered"}),
        ("other_kam", {"open"}),
        ("engineer", {"answered"}),  # on the team of mine
    ],
)
def test_list_is_scoped_per_role(request, world, who, sees):
    response = api(request.getfixturevalue(who)).get("/api/v1/surveys/")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {world[name].pk for name in sees}


def test_customers_and_anonymous_are_refused_everything(world, portal_user):
    client = api(portal_user)
    answered = world["answered"].pk
    for method, url, data in [
        ("get", "/api/v1/surveys/", None),
        ("get", f"/api/v1/surveys/{answered}/", None),
        ("get", f"/api/v1/surveys/summary/?account={world['mine'].pk}", None),
        ("post", "/api/v1/surveys/", {"account": world["mine"].pk, "contact": world["li"].pk}),
        ("post", "/api/v1/surveys/send-account/", {"account": world["mine"].pk}),
    ]:
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code in (403, 404), (url, response.status_code)
        assert set(response.json()) == {"message", "extra"}
        anonymous = getattr(api(), method)(url, data, format="json")
        # the session authenticator sends no challenge: 403 "not_authenticated", as elsewhere
        assert anonymous.status_code == 403
        assert anonymous.json()["extra"]["code"] == "not_authenticated"
    assert NpsSurvey.objects.count() == 2


def test_detail_never_shows_the_token_and_hides_other_accounts(world, kam):
    body = api(kam).get(f"/api/v1/surveys/{world['answered'].pk}/").json()
    assert set(body) == {
        "id", "account", "account_name", "contact", "contact_name", "email", "sent_at",
        "expires_at", "responded_at", "score", "category", "comment", "sent_by", "sent_by_name",
    }  # fmt: skip
    assert (body["score"], body["category"], body["comment"], body["contact_name"]) == (
        9, "promoter", "很好", "李工",
    )  # fmt: skip
    assert world["answered"].token_hash not in str(body)
    assert api(kam).get(f"/api/v1/surveys/{world['open'].pk}/").status_code == 404


def test_list_filters(world, admin_user):
    client = api(admin_user)

    def ids(query):
        response = client.get(f"/api/v1/surveys/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    answered, open_ = world["answered"].pk, world["open"].pk
    assert ids("answered=true") == {answered}
    assert ids("answered=false") == {open_}
    assert ids(f"account={world['other'].pk}") == {open_}
    assert ids(f"group={world['group'].pk}") == {answered}  # the group's branches
    assert ids(f"account={world['group'].pk}") == set()  # the group itself has none
    bad = client.get("/api/v1/surveys/?account=abc")
    assert bad.status_code == 400 and "account" in bad.json()["extra"]["fields"]


def test_send_one_survey(world, kam, django_capture_on_commit_callbacks):
    rui = ContactFactory(account=world["mine"], name="芮工", email="rui@huaxin.example")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(kam).post(
            "/api/v1/surveys/", {"account": world["mine"].pk, "contact": rui.pk}, format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["contact"], body["email"], body["score"], body["sent_by"]) == (
        rui.pk, "rui@huaxin.example", None, kam.pk,
    )  # fmt: skip
    assert "token" not in str(body) and [m.to for m in mail.outbox] == [["rui@huaxin.example"]]
    again = api(kam).post(
        "/api/v1/surveys/", {"account": world["mine"].pk, "contact": rui.pk}, format="json"
    )
    assert again.status_code == 400 and again.json()["extra"]["code"] == "recently_surveyed"


@pytest.mark.parametrize("who", ["engineer", "executive", "other_kam"])
def test_send_is_refused_and_nothing_is_created(request, world, who):
    rui = ContactFactory(account=world["mine"], email="rui@huaxin.example")
    response = api(request.getfixturevalue(who)).post(
        "/api/v1/surveys/", {"account": world["mine"].pk, "contact": rui.pk}, format="json"
    )
    # engineers and executives may not send at all; another KAM does not even see the account
    assert response.status_code == (400 if who == "other_kam" else 403)
    assert NpsSurvey.objects.count() == 2


def test_send_to_a_contact_without_email(world, kam):
    silent = ContactFactory(account=world["mine"], email="")
    response = api(kam).post(
        "/api/v1/surveys/", {"account": world["mine"].pk, "contact": silent.pk}, format="json"
    )
    assert response.status_code == 400 and response.json()["extra"]["code"] == "no_email"


def test_send_to_every_eligible_contact_of_an_account(world, kam, executive):
    ContactFactory(account=world["mine"], email="a@huaxin.example")
    ContactFactory(account=world["mine"], email="b@huaxin.example")
    ContactFactory(account=world["mine"], email="")
    url = "/api/v1/surveys/send-account/"
    assert api(executive).post(url, {"account": world["mine"].pk}, format="json").status_code == 403
    response = api(kam).post(url, {"account": world["mine"].pk}, format="json")
    # a, b and the portal contact; li was surveyed already
    assert (response.status_code, response.json()) == (200, {"sent": 3})
    assert api(kam).post(url, {"account": world["mine"].pk}, format="json").json() == {"sent": 0}
    assert api(kam).post(url, {"account": world["other"].pk}, format="json").status_code == 400


def test_summary(world, kam, admin_user, other_kam):
    url = "/api/v1/surveys/summary/"
    group = api(kam).get(f"{url}?account={world['group'].pk}")
    assert group.status_code == 200
    assert group.json() == {"nps": 100.0, "responses": 1, "promoters": 1, "passives": 0,
                            "detractors": 0, "sent": 1}  # fmt: skip
    everything = api(admin_user).get(url).json()
    assert (everything["sent"], everything["responses"]) == (2, 1)
    assert api(other_kam).get(f"{url}?account={world['group'].pk}").status_code == 404
    bad = api(kam).get(f"{url}?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.json()["extra"]["fields"]
    period = api(kam).get(f"{url}?since=2000-01-01&until=2000-12-31").json()
    assert (period["sent"], period["nps"]) == (0, None)


def test_schema_documents_the_survey_endpoints(kam):
    schema = api(kam).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/surveys/", "/api/v1/surveys/{id}/", "/api/v1/surveys/send-account/",
            "/api/v1/surveys/summary/"} <= set(paths)  # fmt: skip
    params = {p["name"] for p in paths["/api/v1/surveys/"]["get"]["parameters"]}
    assert {"account", "group", "answered", "page"} <= params
    summary = {p["name"] for p in paths["/api/v1/surveys/summary/"]["get"]["parameters"]}
    assert summary == {"account", "since", "until"}
    assert "token_hash" not in schema.content.decode()
