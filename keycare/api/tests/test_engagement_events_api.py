"""The events, gifts and VIP club API: who may do what on every endpoint (denied writes
change nothing), events with their batch invitations, answers, attendance, holding and
cancelling, gifts within and over the limit with their approvals, the VIP club with its
effective level, stale versions (409), bad input (400) and pinned query counts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.engagement.models import BusinessEvent, EventInvitation, Gift, VipLevel, VipMember
from keycare.engagement.services.events import (
    Attendance,
    Invitee,
    event_attendance_record,
    event_create,
    event_hold,
    event_invite,
)
from keycare.engagement.tests.factories import BusinessEventFactory, GiftFactory, VipMemberFactory

pytestmark = pytest.mark.django_db
D = Decimal
EVENTS, GIFTS, MEMBERS, LEVELS = (
    "/api/v1/events/",
    "/api/v1/gifts/",
    "/api/v1/vip-members/",
    "/api/v1/vip-levels/",
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


def soon(days=7, hour=9):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0))).isoformat()


def event_body(**extra):
    return {"name": "年度客户大会", "kind": "customer_meeting", "starts_at": soon(),
            "ends_at": soon(hour=17), **extra}  # fmt: skip


@pytest.fixture
def shop(kam, engineer):
    from keycare.accounts.choices import AccountTeamRole
    from keycare.accounts.tests.factories import AccountTeamMemberFactory

    account = AccountFactory(name="华鑫汽车", owner=kam, tier="gold")
    AccountTeamMemberFactory(account=account, user=engineer, role=AccountTeamRole.SERVICE_ENGINEER)
    return account


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁", owner=other_kam, tier="iron")


@pytest.fixture
def wang(shop):
    return ContactFactory(account=shop, name="王总")


# --- who may do what -------------------------------------------------------------------------


def test_anonymous_and_customer_contacts_are_refused_everywhere(
    portal_user, shop, wang, admin_user
):
    event = BusinessEventFactory(organiser=admin_user)
    gift = GiftFactory(contact=wang, actor=admin_user)
    member = VipMemberFactory(contact=wang, actor=admin_user)
    urls = [EVENTS, f"{EVENTS}{event.pk}/", f"{EVENTS}{event.pk}/invitations/", GIFTS,
            f"{GIFTS}{gift.pk}/", f"{GIFTS}totals/", MEMBERS, f"{MEMBERS}{member.pk}/", LEVELS]  # fmt: skip
    for url in urls:
        anonymous = api().get(url)
        assert anonymous.status_code in (401, 403), url
        assert anonymous.json()["extra"]["code"] == "not_authenticated"
        assert api(portal_user).get(url).status_code == 403, url
    for url, body in ((EVENTS, event_body()), (GIFTS, {"contact": wang.pk}),
                      (MEMBERS, {"contact": wang.pk}), (f"{EVENTS}{event.pk}/cancel/", {"version": 1}),
                      (f"{GIFTS}{gift.pk}/approve/", {"version": 1})):  # fmt: skip
        assert api(portal_user).post(url, body, format="json").status_code == 403, url
    assert BusinessEvent.objects.count() == 1 and Gift.objects.count() == 1
    event.refresh_from_db()
    assert event.status == "planned"


def test_staff_roles_on_each_list(kam, other_kam, engineer, service_manager, executive, admin_user,
                                  shop, elsewhere, wang):  # fmt: skip
    theirs = ContactFactory(account=elsewhere, name="赵六")
    GiftFactory(contact=wang, actor=kam)
    GiftFactory(contact=theirs, actor=other_kam)
    VipMemberFactory(contact=wang, actor=kam)
    VipMemberFactory(contact=theirs, actor=other_kam)
    BusinessEventFactory(organiser=admin_user)
    expected = {  # (events, gifts, members)
        kam: (1, 1, 1), other_kam: (1, 1, 1), engineer: (1, 0, 1), service_manager: (1, 2, 2),
        executive: (1, 2, 2), admin_user: (1, 2, 2),
    }  # fmt: skip
    for user, counts in expected.items():
        client = api(user)
        got = tuple(client.get(url).json()["count"] for url in (EVENTS, GIFTS, MEMBERS))
        assert got == counts, user
        assert len(client.get(LEVELS).json()) == 3
    assert [g["contact_name"] for g in api(kam).get(GIFTS).json()["results"]] == ["王总"]
    assert [m["contact_name"] for m in api(kam).get(MEMBERS).json()["results"]] == ["王总"]


# --- events ------------------------------------------------------------------------------------


def test_events_are_planned_and_changed_by_those_allowed(kam, other_kam, engineer, executive):
    denied = api(engineer).post(EVENTS, event_body(), format="json")
    assert denied.status_code == 403 and not BusinessEvent.objects.exists()
    bad = api(kam).post(EVENTS, event_body(ends_at=soon(days=6), budget="-1"), format="json")
    assert bad.status_code == 400
    assert set(bad.json()["extra"]["fields"]) == {"budget"}  # the serializer: not negative
    bad = api(kam).post(EVENTS, event_body(ends_at=soon(days=6)), format="json")
    assert bad.json()["extra"]["fields"] == {"ends_at": ["An event cannot end before it starts."]}
    created = api(kam).post(EVENTS, event_body(capacity=2, budget="5000"), format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["organiser"], body["status"], body["version"], body["capacity"]) == (
        kam.pk,
        "planned",
        1,
        2,
    )
    assert body["cost_summary"]["budget"] == "5000.00"
    url = f"{EVENTS}{body['id']}/"
    refused = api(other_kam).patch(url, {"name": "改名", "version": 1}, format="json")
    assert refused.status_code == 403
    assert api(engineer).post(f"{url}cancel/", {"version": 1}, format="json").status_code == 403
    assert BusinessEvent.objects.get().name == "年度客户大会"
    changed = api(executive).patch(url, {"name": "客户答谢会", "version": 1}, format="json")
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    stale = api(kam).patch(url, {"location": "苏州", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["extra"]["code"] == "stale_version"
    assert BusinessEvent.objects.get().location == ""
    assert api(kam).delete(url).status_code == 405


def test_invite_respond_attend_and_hold(
    kam, other_kam, admin_user, executive, shop, elsewhere, wang
):
    li = ContactFactory(account=shop, name="李工")
    zhao = ContactFactory(account=elsewhere, name="赵六")
    event = api(kam).post(EVENTS, event_body(capacity=1), format="json").json()
    url = f"{EVENTS}{event['id']}/"
    # all or nothing: a person of another key account manager's account refuses the batch
    batch = api(kam).post(f"{url}invite/", {"invitations": [{"contact": wang.pk}, {"contact": zhao.pk}]},
                          format="json")  # fmt: skip
    assert batch.status_code == 400
    assert batch.json()["extra"]["fields"] == {
        "invitations": ["Not found among the people you see: 1 of those chosen."]
    }
    assert "赵六" not in batch.content.decode()  # no name of someone he does not see
    assert not EventInvitation.objects.exists()
    unknown = api(kam).post(f"{url}invite/", {"invitations": [{"contact": 999999}]}, format="json")
    assert unknown.json()["extra"]["fields"] == batch.json()["extra"]["fields"]  # the same answer
    assert not EventInvitation.objects.exists()
    done = api(kam).post(f"{url}invite/", {"invitations": [{"contact": wang.pk}, {"contact": li.pk}]},
                         format="json")  # fmt: skip
    assert done.status_code == 201
    assert sorted((i["contact_name"], i["account_name"], i["status"]) for i in done.json()) == sorted([
        ("李工", "华鑫汽车", "invited"), ("王总", "华鑫汽车", "invited")])  # fmt: skip
    wang_inv, li_inv = (EventInvitation.objects.get(contact=c) for c in (wang, li))
    # the other key account manager neither sees nor answers for them
    assert api(other_kam).get(f"{url}invitations/").json()["count"] == 0
    refused = api(other_kam).post(f"{url}respond/", {"invitation": wang_inv.pk, "status": "registered",
                                                     "version": 1}, format="json")  # fmt: skip
    assert refused.status_code == 404
    ok = api(kam).post(f"{url}respond/", {"invitation": wang_inv.pk, "status": "registered", "version": 1},
                       format="json")  # fmt: skip
    assert (ok.status_code, ok.json()["status"], ok.json()["version"]) == (200, "registered", 2)
    full = api(kam).post(
        f"{url}respond/",
        {"invitation": li_inv.pk, "status": "registered", "version": 1},
        format="json",
    )
    assert full.status_code == 400 and full.json()["extra"]["code"] == "event_full"
    stale = api(kam).post(f"{url}respond/", {"invitation": wang_inv.pk, "status": "declined", "version": 1},
                          format="json")  # fmt: skip
    assert stale.status_code == 409
    early = api(kam).post(f"{url}attendance/", {"records": [{"invitation": wang_inv.pk, "status": "attended",
                                                              "version": 2}]}, format="json")  # fmt: skip
    assert early.status_code == 400 and early.json()["extra"]["code"] == "not_started"
    not_yet = api(kam).post(f"{url}hold/", {"cost": "800", "version": 1}, format="json")
    assert not_yet.status_code == 400
    # the event took place yesterday
    start = timezone.now() - dt.timedelta(days=1)
    BusinessEvent.objects.filter(pk=event["id"]).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=3)
    )
    came = api(kam).post(f"{url}attendance/", {"records": [
        {"invitation": wang_inv.pk, "status": "attended", "version": 2},
        {"invitation": li_inv.pk, "status": "no_show", "version": 1}]}, format="json")  # fmt: skip
    assert sorted((i["contact_name"], i["status"]) for i in came.json()) == sorted(
        [("李工", "no_show"), ("王总", "attended")]
    )
    held = api(kam).post(f"{url}hold/", {"cost": "800.00", "version": 1}, format="json")
    assert held.status_code == 200
    summary = held.json()["cost_summary"]
    assert (held.json()["status"], held.json()["cost_per_attendee"], summary["per_attendee"]) == (
        "held", "800.00", "800.00")  # fmt: skip
    assert summary["accounts"] == [{"account": shop.pk, "account_name": "华鑫汽车", "attended": 1,
                                    "share": "800.00"}]  # fmt: skip
    assert api(kam).post(f"{url}cancel/", {"version": 2}, format="json").status_code == 400


def test_a_member_event_takes_members_of_its_level_or_higher(
    admin_user, kam, shop, elsewhere, wang
):
    silver_person = ContactFactory(account=elsewhere, name="银卡")
    VipMemberFactory(contact=wang, actor=kam)  # gold
    VipMemberFactory(contact=silver_person)  # silver (iron tier)
    gold = VipLevel.objects.get(code="gold")
    event = (
        api(admin_user)
        .post(EVENTS, event_body(kind="vip_club", vip_level=gold.pk), format="json")
        .json()
    )
    refused = api(admin_user).post(f"{EVENTS}{event['id']}/invite/",
                                   {"invitations": [{"contact": wang.pk}, {"contact": silver_person.pk}]},
                                   format="json")  # fmt: skip
    assert refused.json()["extra"]["fields"]["invitations"] == [
        "Not active VIP club members of level Gold or higher: 银卡."]  # fmt: skip
    assert api(admin_user).get(EVENTS, {"vip": "true"}).json()["count"] == 1
    assert api(admin_user).get(EVENTS, {"vip": "false"}).json()["count"] == 0
    assert api(admin_user).get(EVENTS, {"status": "lost"}).status_code == 400


# --- gifts -------------------------------------------------------------------------------------


def gift_body(contact, value, **extra):
    return {"contact": contact.pk, "value": value, "occasion": "中秋", "description": "月饼礼盒",
            "given_on": timezone.localdate().isoformat(), **extra}  # fmt: skip


def test_gifts_within_and_over_the_limit_and_their_decisions(kam, other_kam, executive, admin_user,
                                                             service_manager, engineer, wang):  # fmt: skip
    check = api(kam).post(f"{GIFTS}check/", {"contact": wang.pk, "value": "1000",
                                             "given_on": timezone.localdate().isoformat()}, format="json")  # fmt: skip
    assert check.json() == {"limit": "1500.00", "source": "policy", "policy_name": "黄金客户 Gold",
                            "given": "0.00", "year_total": "1000.00", "left": "1500.00", "over": False}  # fmt: skip
    for user in (service_manager, engineer, other_kam):
        assert api(user).post(GIFTS, gift_body(wang, "10"), format="json").status_code in (
            400,
            403,
        ), user
    assert not Gift.objects.exists()
    first = api(kam).post(GIFTS, gift_body(wang, "1500.00"), format="json")
    assert first.status_code == 201
    assert (first.json()["status"], first.json()["over_limit"]) == ("approved", False)
    over = api(kam).post(GIFTS, gift_body(wang, "0.01"), format="json").json()
    assert (over["status"], over["limit"], over["year_total"], over["over_limit"]) == (
        "pending", "1500.00", "1500.01", True)  # fmt: skip
    assert over["actions"] == {"approve": False, "reject": False, "cancel": True}
    url = f"{GIFTS}{over['id']}/"
    assert api(executive).get(url).json()["actions"] == {
        "approve": True,
        "reject": True,
        "cancel": False,
    }
    assert api(kam).post(f"{url}approve/", {"version": 1}, format="json").status_code == 403
    assert api(other_kam).post(f"{url}approve/", {"version": 1}, format="json").status_code == 404
    assert api(executive).post(f"{url}approve/", {}, format="json").status_code == 400
    assert api(executive).post(f"{url}approve/", {"version": 7}, format="json").status_code == 409
    no_reason = api(executive).post(f"{url}reject/", {"version": 1}, format="json")
    assert no_reason.json()["extra"]["fields"] == {"note": ["Say why the gift is rejected."]}
    assert Gift.objects.get(pk=over["id"]).status == "pending"
    approved = api(executive).post(
        f"{url}approve/", {"version": 1, "note": "客户重要"}, format="json"
    )
    assert (approved.json()["status"], approved.json()["decided_by_name"], approved.json()["version"]) == (
        "approved", str(executive), 2)  # fmt: skip
    own = api(executive).post(GIFTS, gift_body(wang, "5"), format="json").json()
    assert own["status"] == "pending"
    assert api(executive).post(f"{GIFTS}{own['id']}/approve/", {"version": 1}, format="json").json()[
        "extra"]["code"] == "own_gift"  # fmt: skip
    no_version = api(executive).post(f"{GIFTS}{own['id']}/cancel/", {}, format="json")
    assert (no_version.status_code, no_version.json()["extra"]["fields"]) == (400, {"version": [
        "Send the version you read (`version`): without it, someone else's change could be "
        "overwritten."]})  # fmt: skip
    assert api(executive).post(f"{GIFTS}{own['id']}/cancel/", {"version": 0},
                               format="json").status_code == 409  # fmt: skip
    assert Gift.objects.get(pk=own["id"]).status == "pending"
    assert (
        api(executive).post(f"{GIFTS}{own['id']}/cancel/", {"version": 1}, format="json").json()[
            "status"]
        == "cancelled"
    )  # fmt: skip
    totals = api(kam).get(f"{GIFTS}totals/", {"year": timezone.localdate().year}).json()
    assert totals == [{"year": timezone.localdate().year, "contact_id": wang.pk, "contact": "王总",
                       "account": "华鑫汽车", "gifts": 2, "approved": "1500.01", "pending": "0.00",
                       "limit": "1500.00", "over_limit": 1, "over": True}]  # fmt: skip
    # over the limit as recorded: the one approved (the executive's own was cancelled)
    assert api(kam).get(GIFTS, {"over_limit": "true"}).json()["count"] == 1
    assert api(kam).get(GIFTS, {"year": "abc"}).status_code == 400


# --- the VIP club ------------------------------------------------------------------------------


def test_vip_members_with_their_effective_level(kam, other_kam, executive, admin_user, shop):
    lead = AccountFactory(name="潜力客户", owner=kam, tier="lead")
    prospect = ContactFactory(account=lead, name="潜力")
    refused = api(kam).post(MEMBERS, {"contact": prospect.pk}, format="json")
    assert refused.status_code == 400
    assert refused.json()["extra"]["fields"] == {"level_override": [
        "潜力客户 gives no VIP level by its tier (Lead): choose the level by hand and say why."]}  # fmt: skip
    assert api(executive).post(MEMBERS, {"contact": prospect.pk}, format="json").status_code == 403
    silver = VipLevel.objects.get(code="silver")
    made = api(kam).post(MEMBERS, {"contact": prospect.pk, "level_override": silver.pk,
                                   "override_reason": "集团采购负责人"}, format="json")  # fmt: skip
    assert made.status_code == 201
    body = made.json()
    assert body["effective_level"] == {
        "id": silver.pk,
        "rank": 3,
        "name": "Silver",
        "name_zh": "银卡会员",
    }
    url = f"{MEMBERS}{body['id']}/"
    assert api(other_kam).get(url).status_code == 404
    assert api(other_kam).patch(url, {"notes": "x"}, format="json").status_code == 404
    assert api(executive).patch(url, {"notes": "x", "version": 1}, format="json").status_code == 403
    gold = VipLevel.objects.get(code="gold")
    changed = api(kam).patch(url, {"level_override": gold.pk, "override_reason": "升级", "version": 1},
                             format="json")  # fmt: skip
    assert (changed.json()["effective_level"]["name"], changed.json()["version"]) == ("Gold", 2)
    assert api(kam).patch(url, {"notes": "y", "version": 1}, format="json").status_code == 409
    by_tier = api(kam).post(
        MEMBERS, {"contact": ContactFactory(account=shop, name="金卡").pk}, format="json"
    )
    assert (
        by_tier.json()["effective_level"]["name"] == "Gold"
        and by_tier.json()["level_override"] is None
    )
    assert api(kam).delete(f"{url}?version=1").status_code == 409
    assert api(kam).delete(f"{url}?version=2").status_code == 204
    assert VipMember.objects.get(pk=body["id"]).is_active is False
    assert api(kam).get(MEMBERS, {"is_active": "true"}).json()["count"] == 1
    assert api(kam).get(MEMBERS, {"level": "x"}).status_code == 400


def test_vip_levels_are_edited_by_administrators(kam, executive, admin_user):
    gold = VipLevel.objects.get(code="gold")
    url = f"{LEVELS}{gold.pk}/"
    for user in (kam, executive):
        assert (
            api(user).patch(url, {"name": "Golden", "lock_version": 1}, format="json").status_code
            == 403
        )
    assert api(kam).post(LEVELS, {"code": "tin", "name": "Tin", "name_zh": "锡", "rank": 9},
                         format="json").status_code == 403  # fmt: skip
    ok = api(admin_user).patch(url, {"name": "Golden", "benefits_zh": "优先热线", "lock_version": 1},
                               format="json")  # fmt: skip
    assert (ok.status_code, ok.json()["name"], ok.json()["lock_version"]) == (200, "Golden", 2)
    assert (
        api(admin_user).patch(url, {"name": "Old", "lock_version": 1}, format="json").status_code
        == 409
    )
    gold.refresh_from_db()
    assert gold.name == "Golden"


# --- query counts ----------------------------------------------------------------------------


def test_list_and_detail_query_counts_are_fixed(kam, admin_user, shop, django_assert_num_queries):
    client = token_client(kam)
    start = timezone.now() - dt.timedelta(days=1)

    def add_rows(n):
        for i in range(n):
            person = ContactFactory(account=shop, name=f"客人{Gift.objects.count()}-{i}")
            GiftFactory(contact=person, actor=kam, value="10")
            VipMemberFactory(contact=person, actor=kam)
            event = BusinessEventFactory(organiser=admin_user, starts_at=start,
                                         ends_at=start + dt.timedelta(hours=2))  # fmt: skip
            [inv] = event_invite(actor=admin_user, event=event, invitees=[Invitee(person)])
            event_attendance_record(
                actor=admin_user, event=event, records=[Attendance(inv.pk, "attended")]
            )

    add_rows(1)
    event_id = BusinessEvent.objects.first().pk
    # token + user, roles, count, page (with the counts / effective level in SQL)
    counts = {}
    for url in (EVENTS, GIFTS, MEMBERS, f"{EVENTS}{event_id}/invitations/"):
        with django_assert_num_queries(4 if url != f"{EVENTS}{event_id}/invitations/" else 5) as q:
            assert client.get(url).status_code == 200
        counts[url] = len(q.captured_queries)
    # detail: token + user, roles, the event, the attendance by account, the accounts seen
    with django_assert_num_queries(5):
        client.get(f"{EVENTS}{event_id}/")
    add_rows(4)
    # and the first event grows: six more people from three more accounts of his, and two
    # of an account he does not see, invited and come
    event = BusinessEvent.objects.get(pk=event_id)
    accounts = [AccountFactory(name=f"客户{n}", owner=kam) for n in range(3)]
    people = [ContactFactory(account=a, name=f"来宾{a.pk}-{i}") for a in accounts for i in range(2)]
    hidden = AccountFactory(name="别家")
    people += [ContactFactory(account=hidden, name=f"别家{i}") for i in range(2)]
    invitations = event_invite(actor=admin_user, event=event, invitees=[Invitee(p) for p in people])
    event_attendance_record(actor=admin_user, event=event,
                            records=[Attendance(i.pk, "attended", 1) for i in invitations])  # fmt: skip
    for url, n in counts.items():
        with django_assert_num_queries(n):
            body = client.get(url).json()
        assert body["count"] == (5 if url in (GIFTS, MEMBERS) or url == EVENTS else 7)
    with django_assert_num_queries(5):
        detail = client.get(f"{EVENTS}{event_id}/").json()
    assert (detail["invited_count"], len(detail["cost_summary"]["accounts"])) == (9, 4)
    assert (
        detail["cost_summary"]["others"]["accounts"],
        detail["cost_summary"]["others"]["attended"],
    ) == (1, 2)


def test_the_schema_has_the_endpoints(kam):
    paths = api(kam).get("/api/v1/schema/?format=json").json()["paths"]
    for path in ("/api/v1/events/", "/api/v1/events/{id}/invite/", "/api/v1/events/{id}/respond/",
                 "/api/v1/events/{id}/attendance/", "/api/v1/events/{id}/hold/",
                 "/api/v1/events/{id}/cancel/", "/api/v1/events/{id}/invitations/",
                 "/api/v1/gifts/", "/api/v1/gifts/{id}/approve/", "/api/v1/gifts/{id}/reject/",
                 "/api/v1/gifts/{id}/cancel/", "/api/v1/gifts/check/", "/api/v1/gifts/totals/",
                 "/api/v1/vip-members/", "/api/v1/vip-members/{id}/", "/api/v1/vip-levels/"):  # fmt: skip
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/gifts/"]["get"]["parameters"]}
    assert {"year", "account", "contact", "status", "over_limit", "recorded_by"} <= params


def test_every_write_endpoint_refuses_the_roles_it_should(
    kam, other_kam, engineer, service_manager, executive, admin_user, shop, wang
):
    event = BusinessEventFactory(organiser=kam)
    [invitation] = event_invite(actor=kam, event=event, invitees=[Invitee(wang)])
    gift = GiftFactory(contact=wang, actor=kam, value="1500.01")  # waits: over the gold limit
    member = VipMemberFactory(contact=wang, actor=kam)
    gold = VipLevel.objects.get(code="gold")
    e, g, m = f"{EVENTS}{event.pk}/", f"{GIFTS}{gift.pk}/", f"{MEMBERS}{member.pk}/"
    attempts = [
        # (user, method, url, body, expected status)
        (engineer, "post", EVENTS, event_body(), 403),
        (engineer, "patch", e, {"name": "x", "version": 1}, 403),
        (service_manager, "patch", e, {"name": "x", "version": 1}, 403),
        (other_kam, "patch", e, {"name": "x", "version": 1}, 403),
        (engineer, "post", f"{e}invite/", {"invitations": [{"contact": wang.pk}]}, 403),
        (service_manager, "post", f"{e}invite/", {"invitations": [{"contact": wang.pk}]}, 403),
        (
            other_kam,
            "post",
            f"{e}respond/",
            {"invitation": invitation.pk, "status": "registered", "version": 1},
            404,
        ),
        (
            engineer,
            "post",
            f"{e}respond/",
            {"invitation": invitation.pk, "status": "registered", "version": 1},
            403,
        ),
        (other_kam, "post", f"{e}hold/", {"cost": "1", "version": 1}, 403),
        (service_manager, "post", f"{e}cancel/", {"version": 1}, 403),
        (engineer, "post", GIFTS, gift_body(wang, "1"), 403),
        (service_manager, "post", GIFTS, gift_body(wang, "1"), 403),
        (kam, "post", f"{g}approve/", {"version": 1}, 403),
        (service_manager, "post", f"{g}approve/", {"version": 1}, 403),
        (engineer, "post", f"{g}reject/", {"version": 1, "note": "x"}, 404),
        (executive, "post", f"{g}cancel/", {"version": 1}, 403),
        (executive, "post", MEMBERS, {"contact": wang.pk}, 403),
        (service_manager, "post", MEMBERS, {"contact": wang.pk}, 403),
        (executive, "patch", m, {"notes": "x", "version": 1}, 403),
        (other_kam, "delete", f"{m}?version=1", None, 404),
        (executive, "delete", f"{m}?version=1", None, 403),
        (kam, "patch", f"{LEVELS}{gold.pk}/", {"name": "x", "lock_version": 1}, 403),
        (
            executive,
            "post",
            LEVELS,
            {"code": "tin", "name": "Tin", "name_zh": "锡", "rank": 9},
            403,
        ),
        (kam, "delete", f"{LEVELS}{gold.pk}/", None, 403),
    ]
    for user, method, url, body, expected in attempts:
        response = getattr(api(user), method)(url, body, format="json")
        assert response.status_code == expected, (user, method, url, response.content)
    for row in (event, invitation, gift, member, gold):
        before = row.version if hasattr(row, "version") else row.lock_version
        row.refresh_from_db()
        assert (row.version if hasattr(row, "version") else row.lock_version) == before
    assert (BusinessEvent.objects.count(), Gift.objects.count(), VipMember.objects.count()) == (
        1,
        1,
        1,
    )
    assert (event.name, event.status, gift.status, member.is_active, gold.name) == (
        event.name, "planned", "pending", True, "Gold")  # fmt: skip
    assert EventInvitation.objects.get().status == "invited"
    assert VipLevel.objects.count() == 3


# --- versions required, costs hidden, a gift for another account of the person --------------

VERSION_MISSING = ("Send the version you read (`%s`): without it, someone else's change could "
                   "be overwritten.")  # fmt: skip


def test_every_edit_needs_the_version_read(kam, admin_user, shop, wang):
    """Without the version: a 400 saying so; a stale one: a 409; nothing changes either way."""
    event = BusinessEventFactory(organiser=kam, name="年度客户大会")
    [invitation] = event_invite(actor=kam, event=event, invitees=[Invitee(wang)])
    member = VipMemberFactory(contact=wang, actor=kam)
    gold = VipLevel.objects.get(code="gold")
    gift = GiftFactory(contact=wang, actor=kam, value="1500.01")  # waits: over the gold 1,500
    e = f"{EVENTS}{event.pk}/"
    cases = [
        (kam, "patch", e, {"name": "改名"}, "version"),
        (
            kam,
            "post",
            f"{e}respond/",
            {"invitation": invitation.pk, "status": "declined"},
            "version",
        ),
        (kam, "post", f"{GIFTS}{gift.pk}/cancel/", {}, "version"),
        (admin_user, "patch", f"{LEVELS}{gold.pk}/", {"name": "Golden"}, "lock_version"),
        (kam, "patch", f"{MEMBERS}{member.pk}/", {"notes": "重要"}, "version"),
        (kam, "delete", f"{MEMBERS}{member.pk}/", None, "version"),
    ]
    for user, method, url, body, field in cases:
        missing = getattr(api(user), method)(url, body, format="json")
        assert (missing.status_code, missing.json()["extra"]["fields"]) == (
            400, {field: [VERSION_MISSING % field]}), (method, url)  # fmt: skip
        stale_url = f"{url}?version=0" if method == "delete" else url
        stale = getattr(api(user), method)(stale_url, {**(body or {}), field: 0}, format="json")
        assert (stale.status_code, stale.json()["extra"]["code"]) == (409, "stale_version"), url
    # attendance, once the event has started: each record says its version
    start = timezone.now() - dt.timedelta(hours=3)
    BusinessEvent.objects.filter(pk=event.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    missing = api(kam).post(f"{e}attendance/", {"records": [
        {"invitation": invitation.pk, "status": "attended"}]}, format="json")  # fmt: skip
    assert missing.status_code == 400
    assert missing.json()["extra"]["fields"] == {
        "records": {"0": {"version": [VERSION_MISSING % "version"]}}
    }
    stale = api(kam).post(f"{e}attendance/", {"records": [
        {"invitation": invitation.pk, "status": "attended", "version": 0}]}, format="json")  # fmt: skip
    assert stale.status_code == 409
    for row in (event, invitation, member, gold, gift):
        row.refresh_from_db()
    assert (event.name, event.version, invitation.status, invitation.version) == (
        "年度客户大会", 1, "invited", 1)  # fmt: skip
    assert (member.notes, member.is_active, member.version) == ("", True, 1)
    assert (gold.name, gold.lock_version, gift.status, gift.version) == ("Gold", 1, "pending", 1)


def test_service_engineers_see_events_without_money(kam, engineer, admin_user, shop, wang):
    from keycare.accounts.scopes import may_see_costs

    assert (may_see_costs(engineer), may_see_costs(kam)) == (False, True)
    start = timezone.now() - dt.timedelta(days=1)
    event = BusinessEventFactory(organiser=admin_user, starts_at=start, budget="900",
                                 ends_at=start + dt.timedelta(hours=3))  # fmt: skip
    [invitation] = event_invite(actor=admin_user, event=event, invitees=[Invitee(wang)])
    event_attendance_record(actor=admin_user, event=event,
                            records=[Attendance(invitation.pk, "attended", 1)])  # fmt: skip
    event_hold(actor=admin_user, event=event, cost="800", expected_version=1)
    money = {"budget", "cost", "cost_per_attendee", "cost_summary"}
    seen = api(kam).get(f"{EVENTS}{event.pk}/").json()
    assert (seen["cost"], seen["budget"], seen["cost_per_attendee"]) == (
        "800.00",
        "900.00",
        "800.00",
    )
    assert seen["cost_summary"]["accounts"][0]["share"] == "800.00"
    detail = api(engineer).get(f"{EVENTS}{event.pk}/")
    assert detail.status_code == 200 and detail.json()["attended_count"] == 1
    assert money & set(detail.json()) == set()
    [row] = api(engineer).get(EVENTS).json()["results"]
    assert row["id"] == event.pk and money & set(row) == set()
    assert api(engineer).get(EVENTS, {"ordering": "-cost"}).status_code == 400  # the order tells
    assert api(kam).get(EVENTS, {"ordering": "-cost"}).status_code == 200
    # nor may they set them (an engineer organising an event)
    own = event_create(actor=admin_user, data={"name": "技术交流会", "kind": "seminar",
                                               "starts_at": dt.datetime.fromisoformat(soon()),
                                               "ends_at": dt.datetime.fromisoformat(soon(hour=17)),
                                               "organiser": engineer})  # fmt: skip
    refused = api(engineer).patch(
        f"{EVENTS}{own.pk}/", {"budget": "1", "version": 1}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["extra"]["code"] == "costs_hidden"
    renamed = api(engineer).patch(
        f"{EVENTS}{own.pk}/", {"name": "技术交流", "version": 1}, format="json"
    )
    assert renamed.status_code == 200 and money & set(renamed.json()) == set()
    own.refresh_from_db()
    assert (own.name, own.budget) == ("技术交流", None)


def test_a_gift_for_another_account_the_person_belongs_to(kam, other_kam, shop, wang, elsewhere):
    from keycare.accounts.models import ContactAccount

    group = AccountFactory(name="集团总部", owner=kam)  # no tier: the default policy, 1,000
    ContactAccount.objects.create(contact=wang, account=group)
    ContactAccount.objects.create(contact=wang, account=elsewhere)  # other_kam's account
    check = api(kam).post(f"{GIFTS}check/", {"contact": wang.pk, "value": "1200",
                                             "given_on": timezone.localdate().isoformat(),
                                             "account": group.pk}, format="json")  # fmt: skip
    assert (check.status_code, check.json()["limit"], check.json()["over"]) == (
        200,
        "1000.00",
        True,
    )
    main = api(kam).post(f"{GIFTS}check/", {"contact": wang.pk, "value": "1200",
                                            "given_on": timezone.localdate().isoformat()},
                         format="json").json()  # fmt: skip
    assert (main["limit"], main["over"]) == ("1500.00", False)  # the gold account's policy
    made = api(kam).post(GIFTS, gift_body(wang, "1200", account=group.pk), format="json")
    assert made.status_code == 201
    assert (made.json()["account"], made.json()["account_name"], made.json()["status"],
            made.json()["limit"]) == (group.pk, "集团总部", "pending", "1000.00")  # fmt: skip
    stranger = AccountFactory(name="无关公司", owner=kam)
    bad = api(kam).post(GIFTS, gift_body(wang, "1", account=stranger.pk), format="json")
    assert (bad.status_code, bad.json()["extra"]["fields"]) == (
        400, {"account": ["王总 does not belong to 无关公司."]})  # fmt: skip
    bad_check = api(kam).post(f"{GIFTS}check/", {"contact": wang.pk, "value": "1",
                                                 "given_on": timezone.localdate().isoformat(),
                                                 "account": stranger.pk}, format="json")  # fmt: skip
    assert bad_check.status_code == 400
    # an account he does not see is no valid choice; one he sees but may not record for: 403
    assert (
        api(kam).post(GIFTS, gift_body(wang, "1", account=elsewhere.pk), format="json").status_code
        == 400
    )
    assert Gift.objects.count() == 1
