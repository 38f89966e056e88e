"""The engagement programme API: coverage (list with filters, detail with people and coach
paths), playbooks (staff read; administrators create, change with lock_version — stale is a
409 — replace items, delete), My week and the sponsor programme; who gets what per role,
denied writes change nothing, bad input is a 400, and pinned query counts."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.api.pagination import PageNumberPagination
from keycare.engagement.coverage_ticks import coverage_refresh
from keycare.engagement.models import AccountCoverage, EngagementLog, Playbook, PlaybookItem
from keycare.engagement.tests.factories import PlaybookFactory
from keycare.engagement.tests.programme_helpers import days_ago, done, make_key

PAGE_SIZE = PageNumberPagination.page_size
pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/coverage/", "/api/v1/playbooks/", "/api/v1/my-week/",
             "/api/v1/sponsored-accounts/", "/api/v1/sponsored-accounts/overdue/"]  # fmt: skip
ITEM = {"kind": "meeting", "our_role": "key_account_manager", "their_role": "decision_maker",
        "every_days": 30, "title": "Meet the boss", "title_zh": "拜访老板"}  # fmt: skip


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def acme(kam, executive):
    account = AccountFactory(name="华鑫汽车", owner=kam, account_type="strategic")
    make_key(account)
    AccountTeamMemberFactory(account=account, user=executive,
                             role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    boss = ContactFactory(account=account, name="张总", buying_role="decision_maker")
    cto = ContactFactory(account=account, name="王总工", buying_role="decision_maker",
                         decision_style="checker")  # fmt: skip
    coach = ContactFactory(account=account, name="李工", buying_role="coach", relationship=5)
    ContactFactory(account=account, name="孙工", reports_to=cto, introduced_by_contact=coach)
    done(account, owner=kam, contacts=[boss], participants=[executive], when=days_ago(5))
    account.people = {"boss": boss, "cto": cto, "coach": coach}
    coverage_refresh()  # the stored figures the reports read (the coverage tick)
    return account


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_is_401_and_customers_403(url, portal_user, acme):
    anonymous = api().get(url)
    assert anonymous.status_code in (401, 403)  # 403 first for session authentication
    assert anonymous.json()["extra"]["code"] == "not_authenticated"
    ContactFactory(account=acme, user=portal_user)
    response = api(portal_user).get(url)
    assert response.status_code == 403
    assert response.json()["extra"]["code"] == "permission_denied"
    assert api(portal_user).get(f"/api/v1/coverage/{acme.pk}/").status_code == 403


@pytest.mark.parametrize("role", ["admin_user", "executive", "kam", "service_manager", "engineer"])
def test_staff_read_every_endpoint(request, role, acme):
    client = api(request.getfixturevalue(role))
    for url in ENDPOINTS:
        assert client.get(url).status_code == 200, url


# --- coverage ------------------------------------------------------------------------------


def test_the_coverage_list(kam, other_kam, acme):
    make_key(AccountFactory(name="别人的客户", owner=other_kam))
    coverage_refresh()
    body = api(kam).get("/api/v1/coverage/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["account"], row["account_name"], row["owner"]) == (acme.pk, "华鑫汽车", kam.pk)
    figures = row["coverage"]
    # 20 + 15 + 15 + 5 + 15 × 2/6 = 60
    assert figures["score"] == 60 and figures["engaged"] == 1
    assert figures["flags"] == ["single_threaded", "uncovered_decision_makers"]
    assert figures["uncovered_decision_makers"] == [acme.people["cto"].pk]
    assert figures["relationship_by_role"]["coach"] == "5.0"
    assert figures["relationship_by_role"]["user"] is None
    assert (figures["decision_maker_known"], figures["decision_makers_met"],
            figures["has_coach"], figures["roles_covered"], figures["window_days"]) == (
        True, 1, True, 2, 90)  # fmt: skip
    computed = AccountCoverage.objects.get(account=acme).computed_at
    assert dt.datetime.fromisoformat(figures["computed_at"]) == computed
    assert (
        api(other_kam).get("/api/v1/coverage/").json()["results"][0]["account_name"] == "别人的客户"
    )


def test_coverage_filters_and_bad_input(kam, acme):
    client = api(kam)
    assert client.get("/api/v1/coverage/", {"flag": "no_coach"}).json()["count"] == 0
    assert client.get("/api/v1/coverage/", {"below": "61"}).json()["count"] == 1
    assert client.get("/api/v1/coverage/", {"below": "60"}).json()["count"] == 0
    response = client.get("/api/v1/coverage/", {"flag": "bogus", "below": "x"})
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"flag", "below"}


def test_one_accounts_coverage_with_coach_paths(kam, executive, other_kam, acme):
    body = api(kam).get(f"/api/v1/coverage/{acme.pk}/").json()
    people = {p["name"]: p for p in body["coverage"]["people"]}
    assert [u["id"] for u in people["张总"]["met_by"]] == [kam.pk, executive.pk]
    assert people["王总工"]["last_met_at"] is None and not people["王总工"]["met_in_window"]
    (entry,) = body["coverage"]["coach_paths"]
    assert entry["decision_maker"] == acme.people["cto"].pk
    assert [n["name"] for n in entry["path"]["nodes"]] == ["李工", "孙工", "王总工"]
    assert entry["path"]["first_to_ask"] == {"kind": "contact", "id": acme.people["coach"].pk,
                                             "name": "李工"}  # fmt: skip
    assert entry["path"]["direct"] is False
    assert api(other_kam).get(f"/api/v1/coverage/{acme.pk}/").status_code == 404
    assert api(kam).get("/api/v1/coverage/999999/").status_code == 404


def test_coverage_list_takes_a_fixed_number_of_queries(kam, acme, django_assert_num_queries):
    client = api(kam)
    assert kam.roles  # read once (the authenticated user object is reused here)
    # the count, the page (the stored figures joined): nothing computed
    with django_assert_num_queries(2):
        client.get("/api/v1/coverage/")
    for _ in range(60):
        make_key(AccountFactory(owner=kam))
    coverage_refresh()
    with django_assert_num_queries(2):
        body = client.get("/api/v1/coverage/").json()
    assert body["count"] == 61 and len(body["results"]) == PAGE_SIZE


def test_the_overdue_report_takes_a_fixed_number_of_queries(executive, kam, acme,
                                                            django_assert_num_queries):  # fmt: skip
    client = api(executive)
    assert executive.roles
    make_key(AccountFactory(owner=kam))  # no sponsor
    coverage_refresh()
    # the count, the page (the stored cadence joined), the sponsors
    with django_assert_num_queries(3):
        assert client.get("/api/v1/sponsored-accounts/overdue/").json()["count"] == 1
    for _ in range(60):
        make_key(AccountFactory(owner=kam))
    coverage_refresh()
    with django_assert_num_queries(3):
        body = client.get("/api/v1/sponsored-accounts/overdue/").json()
    assert body["count"] == 61 and len(body["results"]) == PAGE_SIZE


# --- playbooks -----------------------------------------------------------------------------


def test_staff_read_the_playbooks(engineer):
    body = api(engineer).get("/api/v1/playbooks/").json()
    assert body["count"] == 4
    strategic = next(p for p in body["results"] if p["account_type"] == "strategic")
    assert [i["kind"] for i in strategic["items"]] == [
        "executive_visit", "meeting", "discovery", "site_visit", "business_activity",
    ]  # fmt: skip
    assert strategic["service_measures"]["practices"]
    assert (
        api(engineer).get("/api/v1/playbooks/", {"account_type": "intrinsic"}).json()["count"] == 1
    )
    assert api(engineer).get("/api/v1/playbooks/", {"tier": "diamond"}).status_code == 400


def test_an_administrator_creates_changes_and_removes_a_playbook(admin_user):
    client = api(admin_user)
    response = client.post("/api/v1/playbooks/", {
        "account_type": "extrinsic", "tier": "gold", "name": "Extrinsic gold", "name_zh": "外在金卡",
        "notes": "Dedicated engineer", "items": [ITEM, {**ITEM, "kind": "call", "their_role": ""}],
    }, format="json")  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert body["lock_version"] == 1 and [i["kind"] for i in body["items"]] == ["meeting", "call"]
    assert body["items"][1]["their_role"] == ""
    assert body["service_measures"]["notes"] == ["Dedicated engineer"]
    pk, (first, second) = body["id"], body["items"]
    response = client.patch(f"/api/v1/playbooks/{pk}/", {
        "lock_version": 1, "name": "Extrinsic gold v2",
        "items": [{"id": second["id"], **ITEM, "kind": "call", "every_days": 14}],
    }, format="json")  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["lock_version"]) == ("Extrinsic gold v2", 2)
    assert [(i["id"], i["every_days"]) for i in body["items"]] == [(second["id"], 14)]
    assert not PlaybookItem.objects.filter(pk=first["id"]).exists()
    assert client.delete(f"/api/v1/playbooks/{pk}/?lock_version=1").status_code == 409
    assert client.delete(f"/api/v1/playbooks/{pk}/?lock_version=2").status_code == 204
    assert not Playbook.objects.filter(pk=pk).exists()
    assert [e.action for e in EngagementLog.objects.order_by("id")] == [
        "playbook_created", "playbook_updated", "playbook_deleted",
    ]  # fmt: skip


def test_a_stale_change_is_a_409_and_nothing_changes(admin_user):
    playbook = PlaybookFactory(tier="iron", name="Iron", items=[ITEM])
    api(admin_user).patch(f"/api/v1/playbooks/{playbook.pk}/", {"lock_version": 1, "name": "A"},
                          format="json")  # fmt: skip
    response = api(admin_user).patch(f"/api/v1/playbooks/{playbook.pk}/",
                                     {"lock_version": 1, "name": "B", "items": []}, format="json")  # fmt: skip
    assert response.status_code == 409
    assert response.json()["extra"] == {"code": "stale_version", "current_version": 2}
    playbook.refresh_from_db()
    assert (playbook.name, playbook.items.count()) == ("A", 1)


@pytest.mark.parametrize("role", ["kam", "executive", "service_manager", "engineer"])
def test_only_administrators_write_playbooks(request, role):
    client = api(request.getfixturevalue(role))
    playbook = Playbook.objects.get(account_type="strategic", tier="")
    before = (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version)
    assert client.post("/api/v1/playbooks/", {"name": "x", "name_zh": "x", "tier": "iron"},
                       format="json").status_code == 403  # fmt: skip
    assert client.patch(f"/api/v1/playbooks/{playbook.pk}/", {"lock_version": 1, "name": "x"},
                        format="json").status_code == 403  # fmt: skip
    assert client.delete(f"/api/v1/playbooks/{playbook.pk}/").status_code == 403
    playbook.refresh_from_db()
    assert (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version) == before
    assert not EngagementLog.objects.exists()


def test_bad_playbook_input_is_a_400(admin_user):
    client = api(admin_user)
    response = client.post("/api/v1/playbooks/", {
        "name": "x", "name_zh": "x", "tier": "lead",
        "items": [{**ITEM, "every_days": 0, "kind": "party"}]}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]["items"]["0"]) == {"every_days", "kind"}
    response = client.post("/api/v1/playbooks/", {"name": "Again", "name_zh": "再",
                                                  "account_type": "strategic"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["tier"] == [
        "There is already a playbook for this type and tier."
    ]
    foreign = PlaybookItem.objects.filter(playbook__account_type="intrinsic").first()
    playbook = PlaybookFactory(tier="iron")
    response = client.patch(f"/api/v1/playbooks/{playbook.pk}/", {
        "lock_version": 1, "items": [{"id": foreign.pk, **ITEM}]}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert client.delete(f"/api/v1/playbooks/{playbook.pk}/?lock_version=x").status_code == 400
    assert Playbook.objects.filter(tier="lead").count() == 0


def test_playbook_list_takes_a_fixed_number_of_queries(kam, django_assert_num_queries):
    client = api(kam)
    assert kam.roles
    # count, page, items, the strategies
    with django_assert_num_queries(4):
        client.get("/api/v1/playbooks/")
    for tier in ("gold", "iron", "lead"):
        PlaybookFactory(tier=tier, items=[ITEM])
    with django_assert_num_queries(4):
        assert client.get("/api/v1/playbooks/").json()["count"] == 7


# --- My week and the sponsor programme ----------------------------------------------------


def test_my_week(kam, acme):
    body = api(kam).get("/api/v1/my-week/").json()
    # the executive met the boss 5 days ago (an executive contact), the kam too (a meeting
    # with a decision maker, due in 25 days): the other three are due (never done)
    assert [c["kind"] for c in body["cadences"]] == ["discovery", "site_visit", "business_activity"]
    discovery = body["cadences"][0]
    assert discovery["account"] == acme.pk and discovery["overdue_days"] == 0
    assert not discovery["already_planned"]
    assert discovery["reason"] == (
        "Needs and pains discovery with the key persons (every 90 days): never done."
    )
    # any key person: those not met first
    assert [p["name"] for p in discovery["people"]] == ["李工", "王总工", "张总"]
    assert discovery["people"][1]["guidance"]["summary"] == (
        "Bring evidence and detail, and acknowledge their rigour."
    )
    (uncovered,) = body["uncovered"]
    assert uncovered["name"] == "王总工" and uncovered["path"]["first_to_ask"]["name"] == "李工"
    assert uncovered["guidance"]["style"] == "checker"
    assert body["window_days"] == 90 and body["planned"] == [] and body["reminders"] == []


def test_my_week_takes_a_fixed_number_of_queries(kam, acme, django_assert_num_queries):
    from django.utils import timezone

    from keycare.engagement.calculations import week_of
    from keycare.engagement.tests.programme_helpers import at, planned

    planned(acme, owner=kam, contacts=[acme.people["boss"]],
            when=at(week_of(timezone.localdate())[1], 18))  # fmt: skip
    client = api(kam)
    assert kam.roles
    with django_assert_num_queries(18):
        client.get("/api/v1/my-week/")
    for _ in range(3):
        account = make_key(AccountFactory(owner=kam, account_type="strategic")).account
        done(account, owner=kam, contacts=[ContactFactory(account=account, buying_role="coach")])
    with django_assert_num_queries(18):
        # three more strategic accounts: their meeting with a decision maker is due too
        assert len(client.get("/api/v1/my-week/").json()["cadences"]) == 3 + 3 * 5


def test_sponsored_accounts_and_the_overdue_report(executive, kam, acme):
    (row,) = api(executive).get("/api/v1/sponsored-accounts/").json()
    assert row["account"] == acme.pk and row["coverage_score"] == 60
    assert row["executive_visit"]["every_days"] == 90
    # the boss was met with the executive 5 days ago: an executive contact
    assert row["executive_visit"]["overdue_days"] == 0 and not row["executive_visit"]["missed"]
    assert row["service_health"] == {"resolved": 0, "sla_compliance": None, "open": 0,
                                     "breached": 0, "escalated": 0, "ratings": 0, "csat": None}  # fmt: skip
    assert api(kam).get("/api/v1/sponsored-accounts/").json() == []
    make_key(AccountFactory(name="无人负责", owner=kam))
    body = api(kam).get("/api/v1/sponsored-accounts/overdue/").json()
    assert [(r["account_name"], r["flags"]) for r in body["results"]] == [
        ("无人负责", ["no_sponsor"])
    ]
    assert api(kam).get("/api/v1/sponsored-accounts/overdue/", {"sponsor": "x"}).status_code == 400


def test_deleting_a_playbook_needs_the_version_read(admin_user):
    client = api(admin_user)
    playbook = PlaybookFactory(tier="iron")
    response = client.delete(f"/api/v1/playbooks/{playbook.pk}/")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["lock_version"] == [
        "The edit version is missing: reload the page and make the change again."
    ]
    assert client.delete(f"/api/v1/playbooks/{playbook.pk}/?lock_version=0").status_code == 409
    assert Playbook.objects.filter(pk=playbook.pk).exists()
    assert client.delete(f"/api/v1/playbooks/{playbook.pk}/?lock_version=1").status_code == 204


def test_the_schema_help_texts_are_translated(admin_user):
    from django.utils import translation

    from keycare.api.engagement_activities import ActivityCreateSerializer
    from keycare.api.engagement_programme import CoverageFiguresSerializer

    text = CoverageFiguresSerializer().fields["engaged"].help_text
    assert str(text) == "their people met in the window"
    owner = ActivityCreateSerializer().fields["owner"].help_text
    contacts = ActivityCreateSerializer().fields["contacts"].help_text
    with translation.override("zh-hans"):
        # lazy: read in the reader's language (the translations come with the catalogue)
        assert str(text) == translation.gettext("their people met in the window")
        assert str(owner) == translation.gettext("default: you")
        assert str(contacts) == translation.gettext("their people met (contacts of the account)")
    assert type(text).__name__ == "__proxy__" and type(owner).__name__ == "__proxy__"
