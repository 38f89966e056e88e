"""The activity, pain and reference customer API: every role on every endpoint (denied
writes change nothing), a key account manager sees only his accounts' rows, stale
versions are a 409, errors in the one format, the reference over-use warning in the
answer, links of another account refused, and pinned query counts on the lists."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.models import Activity, EngagementLog, Pain, ReferenceCustomer
from keycare.engagement.tests.factories import (
    ActivityFactory,
    PainFactory,
    ReferenceCustomerFactory,
)
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

ACTIVITIES, PAINS, REFERENCES = (
    "/api/v1/activities/",
    "/api/v1/pains/",
    "/api/v1/reference-customers/",
)


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def at(days: int, hour: int = 10) -> str:
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))).isoformat()


@pytest.fixture
def shop(kam, engineer):
    account = AccountFactory(name="华鑫汽车有限公司", owner=kam)
    AccountTeamMemberFactory(account=account, user=engineer)
    return account


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁有限公司", owner=other_kam)


@pytest.fixture
def wang(shop):
    return ContactFactory(account=shop, name="王总", decision_style="checker")


@pytest.fixture
def meeting(shop, kam, wang):
    return ActivityFactory(account=shop, owner=kam, subject="季度回顾", contacts=[wang])


def snapshot():
    return (list(Activity.objects.order_by("pk").values_list("pk", "version", "status", "subject")),
            list(Pain.objects.order_by("pk").values_list("pk", "version", "title")),
            list(ReferenceCustomer.objects.order_by("pk").values_list("pk", "lock_version")),
            EngagementLog.objects.count())  # fmt: skip


# --- activities ------------------------------------------------------------------------------


def test_create_and_read(kam, shop, wang, engineer):
    response = api(kam).post(ACTIVITIES, {
        "account": shop.pk, "kind": "meeting", "subject": "续约谈判", "planned_at": at(2),
        "contacts": [wang.pk], "participants": [engineer.pk], "cost": "88.00",
    }, format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["owner"], body["version"], body["warnings"]) == (
        "planned", kam.pk, 1, [])  # fmt: skip
    assert body["contacts"] == [{
        "id": wang.pk, "name": "王总", "title": "设备部部长", "buying_role": "unknown",
        "decision_style": "checker",
        "style_guidance": "Bring evidence and detail, and acknowledge their rigour.",
    }]  # fmt: skip
    assert body["participants"] == [{"id": engineer.pk, "name": str(engineer)}]
    detail = api(kam).get(f"{ACTIVITIES}{body['id']}/").json()
    assert (detail["subject"], detail["attachments"], detail["cost"]) == ("续约谈判", [], "88.00")


def test_invalid_input_is_400_with_the_fields_and_nothing_is_written(kam, shop, elsewhere):
    stranger = ContactFactory(account=elsewhere)
    response = api(kam).post(ACTIVITIES, {
        "account": shop.pk, "kind": "introduction", "subject": "介绍", "contacts": [stranger.pk],
    }, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {
        "planned_at": ["Say when it is planned for, or give the date it was done on."],
        "contacts": ["Choose people of this account."],
        "target_contact": ["An introduction names the person it is to reach."],
    }
    other = api(kam).post(ACTIVITIES, {"account": elsewhere.pk, "kind": "meeting", "subject": "x",
                                       "planned_at": at(1)}, format="json")  # fmt: skip
    assert other.status_code == 400 and "account" in other.json()["extra"]["fields"]
    assert not Activity.objects.exists()


def test_a_key_account_manager_sees_only_his_accounts(
    kam, other_kam, executive, meeting, elsewhere
):
    theirs = ActivityFactory(account=elsewhere, owner=other_kam)
    assert [a["id"] for a in api(kam).get(ACTIVITIES).json()["results"]] == [meeting.pk]
    assert api(kam).get(f"{ACTIVITIES}{theirs.pk}/").status_code == 404
    assert api(kam).patch(f"{ACTIVITIES}{theirs.pk}/", {"subject": "x", "version": 1},
                          format="json").status_code == 404  # fmt: skip
    assert api(kam).post(f"{ACTIVITIES}{theirs.pk}/cancel/", {"reason": "x", "version": 1},
                         format="json").status_code == 404  # fmt: skip
    assert {a["id"] for a in api(executive).get(ACTIVITIES).json()["results"]} == {
        meeting.pk,
        theirs.pk,
    }
    theirs.refresh_from_db()
    assert (theirs.version, theirs.status) == (1, "planned")


def test_every_role_on_every_activity_endpoint(
    client, kam, other_kam, engineer, service_manager, executive, admin_user, portal_user, meeting,
    shop,
):  # fmt: skip
    detail = f"{ACTIVITIES}{meeting.pk}/"
    new = {"account": shop.pk, "kind": "call", "subject": "电话", "planned_at": at(1)}
    before = snapshot()
    # anonymous: 401 (or 403 for the session scheme), in the one format
    for method, url in (("get", ACTIVITIES), ("get", detail), ("post", ACTIVITIES),
                        ("patch", detail), ("post", f"{detail}complete/")):  # fmt: skip
        response = getattr(APIClient(), method)(url, {}, format="json")
        assert response.status_code in (401, 403) and set(response.json()) == {"message", "extra"}
    # a customer contact: nothing
    portal = api(portal_user)
    assert portal.get(ACTIVITIES).status_code == 403
    assert portal.get(detail).status_code == 403
    assert portal.post(ACTIVITIES, new, format="json").status_code == 403
    assert portal.patch(detail, {"subject": "x", "version": 1}, format="json").status_code == 403
    # another account's key account manager: not even seen
    assert api(other_kam).get(ACTIVITIES).json()["count"] == 0
    assert api(other_kam).get(detail).status_code == 404
    assert api(other_kam).post(ACTIVITIES, new, format="json").status_code == 400  # not his account
    # those who see it but may not change it (not the owner, may not change the account)
    for user in (engineer, service_manager, executive):
        client = api(user)
        assert client.get(detail).status_code == 200, user
        assert (
            client.patch(detail, {"subject": "x", "version": 1}, format="json").status_code == 403
        )
        for path, body in (("complete/", {"done_at": at(0, 0), "outcome": "好", "version": 1}),
                           ("cancel/", {"reason": "不去了", "version": 1}),
                           ("next-step-done/", {"version": 1})):  # fmt: skip
            assert client.post(f"{detail}{path}", body, format="json").status_code == 403, (
                user,
                path,
            )
    assert snapshot() == before
    # adding is for the staff who see the account
    for user in (engineer, service_manager, executive, admin_user, kam):
        response = api(user).post(ACTIVITIES, new, format="json")
        assert response.status_code == 201, (user, response.json())
        assert response.json()["owner"] == user.pk
    # the owner and the administrator change it
    assert api(kam).patch(detail, {"subject": "甲", "version": 1}, format="json").status_code == 200
    assert api(admin_user).patch(detail, {"subject": "乙", "version": 2},
                                 format="json").json()["version"] == 3  # fmt: skip


def test_stale_versions_are_a_409_and_change_nothing(kam, meeting):
    detail = f"{ACTIVITIES}{meeting.pk}/"
    assert api(kam).patch(detail, {"subject": "甲", "version": 1}, format="json").status_code == 200
    stale = api(kam).patch(detail, {"subject": "乙", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["extra"]["code"] == "stale_version"
    for path, body in (("complete/", {"done_at": at(0, 0), "outcome": "好", "version": 1}),
                       ("cancel/", {"reason": "不去了", "version": 1})):  # fmt: skip
        assert api(kam).post(f"{detail}{path}", body, format="json").status_code == 409
    missing = api(kam).patch(detail, {"subject": "丙"}, format="json")
    assert missing.status_code == 400 and list(missing.json()["extra"]["fields"]) == ["version"]
    meeting.refresh_from_db()
    assert (meeting.subject, meeting.version, meeting.status) == ("甲", 2, "planned")


def test_complete_cancel_and_next_step(kam, shop):
    activity = ActivityFactory(
        account=shop, owner=kam, planned_at=timezone.now() - dt.timedelta(hours=2)
    )
    detail = f"{ACTIVITIES}{activity.pk}/"
    empty = api(kam).post(f"{detail}complete/", {"done_at": at(0, 0), "outcome": "", "version": 1},
                          format="json")  # fmt: skip
    assert empty.status_code == 400 and empty.json()["extra"]["fields"] == {
        "outcome": ["Say what came of it."]
    }
    done = api(kam).post(f"{detail}complete/", {
        "done_at": at(0, 0), "outcome": "同意", "next_step": "报价", "next_step_due": "2026-01-01",
        "version": 1}, format="json")  # fmt: skip
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["next_step_overdue"], done.json()["version"]) == (
        "done", True, 2)  # fmt: skip
    assert api(kam).get(f"{ACTIVITIES}?overdue=true").json()["count"] == 1
    step = api(kam).post(f"{detail}next-step-done/", {"version": 2}, format="json")
    assert step.status_code == 200 and step.json()["next_step_done_at"] is not None
    again = api(kam).post(f"{detail}next-step-done/", {"version": 3}, format="json")
    assert again.status_code == 400 and again.json()["extra"]["code"] == "no_open_next_step"
    cancel = api(kam).post(f"{detail}cancel/", {"reason": "x", "version": 3}, format="json")
    assert cancel.status_code == 400 and cancel.json()["extra"]["code"] == "wrong_status"


def test_the_over_use_warning_is_in_the_answer(kam, shop):
    reference = ReferenceCustomerFactory(
        account=AccountFactory(name="标杆客户"), max_visits_per_year=1
    )
    visit = {"account": shop.pk, "kind": "site_visit", "subject": "参观", "destination": "reference",
             "reference_account": reference.account_id}  # fmt: skip
    first = api(kam).post(ACTIVITIES, {**visit, "planned_at": at(3)}, format="json")
    assert first.status_code == 201 and first.json()["warnings"] == []
    second = api(kam).post(ACTIVITIES, {**visit, "planned_at": at(4)}, format="json")
    assert second.status_code == 201
    assert [w["code"] for w in second.json()["warnings"]] == ["reference_over_used"]


def test_filters_are_shared_and_invalid_ones_are_400(kam, shop, wang, meeting):
    ActivityFactory(account=shop, owner=kam, kind="call", subject="电话")
    assert [a["subject"] for a in api(kam).get(f"{ACTIVITIES}?kind=call").json()["results"]] == [
        "电话"
    ]
    assert api(kam).get(f"{ACTIVITIES}?contact={wang.pk}").json()["count"] == 1
    bad = api(kam).get(f"{ACTIVITIES}?kind=party&owner=abc")
    assert bad.status_code == 400 and set(bad.json()["extra"]["fields"]) == {"kind", "owner"}


def test_activity_list_query_count_is_fixed(kam, shop, wang, engineer, django_assert_num_queries):
    ActivityFactory(account=shop, owner=kam, contacts=[wang], participants=[engineer])
    client = token_client(kam)
    # token + user, roles, count, page, contacts, participants, the style guidance
    with django_assert_num_queries(7) as small:
        assert client.get(ACTIVITIES).json()["count"] == 1
    for _n in range(6):
        ActivityFactory(account=shop, owner=kam, contacts=[wang, ContactFactory(account=shop)],
                        participants=[engineer])  # fmt: skip
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(ACTIVITIES).json()["count"] == 7


# --- pains -----------------------------------------------------------------------------------


def test_pains_every_role(kam, other_kam, engineer, service_manager, executive, admin_user,
                          portal_user, shop):  # fmt: skip
    pain = PainFactory(account=shop, title="停机太多")
    detail = f"{PAINS}{pain.pk}/"
    new = {"account": shop.pk, "title": "备件太慢", "impact": 4}
    before = snapshot()
    assert APIClient().get(PAINS).status_code in (401, 403)
    assert api(portal_user).get(PAINS).status_code == 403
    assert api(portal_user).post(PAINS, new, format="json").status_code == 403
    assert api(other_kam).get(detail).status_code == 404
    for user in (engineer, service_manager, executive):  # they see it, may not change it
        assert api(user).get(detail).status_code == 200
        assert (
            api(user).patch(detail, {"title": "x", "version": 1}, format="json").status_code == 403
        )
        assert api(user).post(PAINS, new, format="json").status_code == 403
    assert api(kam).delete(detail).status_code == 403
    assert snapshot() == before
    created = api(kam).post(PAINS, new, format="json")
    assert created.status_code == 201 and created.json()["owner"] == kam.pk
    changed = api(kam).patch(detail, {"status": "solved", "version": 1}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["resolved_on"], changed.json()["version"]) == (
        timezone.localdate().isoformat(), 2)  # fmt: skip
    stale = api(kam).patch(detail, {"title": "x", "version": 1}, format="json")
    assert stale.status_code == 409
    assert api(admin_user).delete(detail).status_code == 204
    assert not Pain.objects.filter(pk=pain.pk).exists()


def test_pains_refuse_another_accounts_links(kam, other_kam, shop, elsewhere, meeting):
    pain = PainFactory(account=shop)
    theirs = TicketFactory(account=elsewhere)
    mine = TicketFactory(account=shop)
    refused = api(kam).patch(f"{PAINS}{pain.pk}/", {"tickets": [theirs.pk], "version": 1},
                             format="json")  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["extra"]["fields"] == {"tickets": ["Choose tickets of this account."]}
    linked = api(kam).patch(f"{PAINS}{pain.pk}/", {"tickets": [mine.pk], "activities": [meeting.pk],
                                                   "version": 1}, format="json")  # fmt: skip
    assert linked.status_code == 200
    assert (linked.json()["tickets"], linked.json()["activities"]) == ([mine.pk], [meeting.pk])


def test_pain_list_query_count_is_fixed(kam, shop, django_assert_num_queries):
    PainFactory(account=shop)
    client = token_client(kam)
    # token + user, roles, count, page, activities, tickets, concessions
    with django_assert_num_queries(7) as small:
        client.get(PAINS)
    for _n in range(5):
        pain = PainFactory(account=shop, tickets=[TicketFactory(account=shop)])
        assert pain.tickets.count() == 1
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(PAINS).json()["count"] == 6


# --- reference customers ---------------------------------------------------------------------


def test_reference_customers(kam, other_kam, engineer, admin_user, portal_user, shop, elsewhere):
    li = ContactFactory(account=shop, name="李总")
    before = snapshot()
    assert api(portal_user).get(REFERENCES).status_code == 403
    assert api(engineer).post(REFERENCES, {"account": shop.pk, "consent": True},
                              format="json").status_code == 403  # fmt: skip
    assert api(other_kam).post(REFERENCES, {"account": shop.pk, "consent": True},
                               format="json").status_code == 400  # an account he does not see  # fmt: skip
    assert snapshot() == before
    created = api(kam).post(REFERENCES, {"account": shop.pk, "consent": True, "consent_by": li.pk,
                                         "max_visits_per_year": 2}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["consent_by_name"], body["visits_this_year"], body["visit_limit"],
            body["over_used"], body["lock_version"]) == ("李总", 0, 2, False, 1)  # fmt: skip
    again = api(kam).post(REFERENCES, {"account": shop.pk}, format="json")
    assert again.status_code == 400
    detail = f"{REFERENCES}{body['id']}/"
    assert api(engineer).get(detail).status_code == 200  # all staff read them
    assert api(other_kam).patch(detail, {"available": False, "lock_version": 1},
                                format="json").status_code == 403  # fmt: skip
    changed = api(kam).patch(detail, {"available": False, "lock_version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["lock_version"] == 2
    assert api(kam).patch(detail, {"available": True, "lock_version": 1},
                          format="json").status_code == 409  # fmt: skip
    assert api(admin_user).get(f"{REFERENCES}?available=false").json()["count"] == 1


def test_the_schema_documents_the_endpoints(kam):
    schema = api(kam).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/activities/", "/api/v1/activities/{id}/complete/",
            "/api/v1/activities/{id}/next-step-done/", "/api/v1/pains/",
            "/api/v1/reference-customers/"} <= set(paths)  # fmt: skip
    params = {p["name"] for p in paths["/api/v1/activities/"]["get"]["parameters"]}
    assert {"q", "kind", "status", "owner", "participant", "contact", "overdue"} <= params


def test_the_cost_is_for_those_who_may_see_costs(kam, engineer, shop, wang):
    visit = ActivityFactory(account=shop, owner=engineer, subject="巡检", contacts=[wang])
    Activity.objects.filter(pk=visit.pk).update(cost="88.00")
    assert api(kam).get(f"/api/v1/activities/{visit.pk}/").json()["cost"] == "88.00"
    # a service engineer sees his activity, not its cost
    detail = api(engineer).get(f"/api/v1/activities/{visit.pk}/").json()
    assert detail["subject"] == "巡检" and "cost" not in detail
    listed = api(engineer).get("/api/v1/activities/").json()["results"]
    assert [row["id"] for row in listed] == [visit.pk] and "cost" not in listed[0]
    # ... nor sets it: refused, nothing changed
    response = api(engineer).patch(
        f"/api/v1/activities/{visit.pk}/", {"cost": "1.00", "version": 1}, format="json"
    )
    assert response.status_code == 400 and set(response.json()["extra"]["fields"]) == {"cost"}
    new = {"account": shop.pk, "kind": "call", "subject": "电话", "done_at": at(-1)}
    response = api(engineer).post("/api/v1/activities/", {**new, "cost": "5"}, format="json")
    assert response.status_code == 400 and set(response.json()["extra"]["fields"]) == {"cost"}
    visit.refresh_from_db()
    assert (str(visit.cost), visit.version) == ("88.00", 1)
    assert Activity.objects.count() == 1
    # without a cost, the engineer logs an activity (its answer without the cost)
    response = api(engineer).post("/api/v1/activities/", new, format="json")
    assert response.status_code == 201 and "cost" not in response.json()
