"""The business events, gift register and VIP club pages: who may open and post what (denied
writes change nothing), an event from planning to held with its invitations, answers,
attendance and cost per attendee and per account, the gift register with its filters,
totals and CSV / Excel exports, recording a gift with its limit shown before saving and
its approval, the VIP club with its levels, members and effective levels, stale edits, and
pinned query counts."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.models import BusinessEvent, EventInvitation, Gift, VipLevel, VipMember
from keycare.engagement.services.events import (
    Attendance,
    Invitee,
    event_attendance_record,
    event_invite,
)
from keycare.engagement.tests.factories import BusinessEventFactory, GiftFactory, VipMemberFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def shop(kam, engineer):
    account = AccountFactory(name="华鑫汽车", owner=kam, tier="gold")
    AccountTeamMemberFactory(account=account, user=engineer, role=AccountTeamRole.SERVICE_ENGINEER)
    return account


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁", owner=other_kam, tier="iron")


@pytest.fixture
def wang(shop):
    return ContactFactory(account=shop, name="王总")


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def soon(days=7, hour=9):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def event_post(organiser, **extra):
    return {"name": "年度客户大会", "kind": "customer_meeting", "starts_at": local(soon()),
            "ends_at": local(soon(hour=17)), "organiser": organiser.pk, **extra}  # fmt: skip


def started_event(admin, people, cost=None, **kwargs):
    """An event that started yesterday, with everyone in `people` invited and come."""
    start = timezone.now() - dt.timedelta(days=1)
    event = BusinessEventFactory(organiser=admin, starts_at=start, ends_at=start + dt.timedelta(hours=3),
                                 **kwargs)  # fmt: skip
    if people:
        invitations = event_invite(actor=admin, event=event, invitees=[Invitee(p) for p in people])
        event_attendance_record(actor=admin, event=event,
                                records=[Attendance(i.pk, "attended") for i in invitations])  # fmt: skip
    return event


# --- permissions -----------------------------------------------------------------------------


def test_who_opens_which_page(login, client, kam, other_kam, engineer, service_manager, executive,
                              admin_user, portal_user, shop, wang):  # fmt: skip
    event = BusinessEventFactory(organiser=kam)
    gift = GiftFactory(contact=wang, actor=kam)
    member = VipMemberFactory(contact=wang, actor=kam)
    gold = VipLevel.objects.get(code="gold")
    pages = {
        "event_list": reverse("web:event_list"), "event_detail": reverse("web:event_detail", args=[event.pk]),
        "event_create": reverse("web:event_create"), "event_edit": reverse("web:event_edit", args=[event.pk]),
        "gift_list": reverse("web:gift_list"), "gift_detail": reverse("web:gift_detail", args=[gift.pk]),
        "gift_create": reverse("web:gift_create"), "gift_approvals": reverse("web:gift_approvals"),
        "vip_club": reverse("web:vip_club"), "vip_member_create": reverse("web:vip_member_create"),
        "vip_member_edit": reverse("web:vip_member_edit", args=[member.pk]),
        "vip_level_edit": reverse("web:vip_level_edit", args=[gold.pk]),
    }  # fmt: skip
    expected = {
        kam: {"gift_approvals": 403, "vip_level_edit": 403},
        # no account of his own: nothing to record a gift for
        other_kam: {"event_edit": 403, "gift_detail": 404, "gift_create": 403, "gift_approvals": 403,
                    "vip_member_edit": 404, "vip_level_edit": 403},
        engineer: {"event_create": 403, "event_edit": 403, "gift_detail": 404, "gift_create": 403,
                   "gift_approvals": 403, "vip_member_create": 403, "vip_member_edit": 403,
                   "vip_level_edit": 403},
        service_manager: {"event_edit": 403, "gift_create": 403, "gift_approvals": 403,
                          "vip_member_create": 403, "vip_member_edit": 403, "vip_level_edit": 403},
        executive: {"vip_member_create": 403, "vip_member_edit": 403, "vip_level_edit": 403},
        admin_user: {},
    }  # fmt: skip
    for user, refusals in expected.items():
        c = login(user)
        for name, url in pages.items():
            assert c.get(url).status_code == refusals.get(name, 200), (user, name)
    c = login(portal_user)
    for name, url in pages.items():
        assert c.get(url).status_code == 403, name
    client.logout()
    for url in pages.values():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_denied_writes_change_nothing(login, client, kam, other_kam, engineer, portal_user,
                                      executive, shop, wang, elsewhere):  # fmt: skip
    event = BusinessEventFactory(organiser=kam)
    gift = GiftFactory(contact=wang, actor=kam, value="1500.01")  # over the gold policy's 1,500
    member = VipMemberFactory(contact=wang, actor=kam)
    for user in (engineer, portal_user):
        assert login(user).post(reverse("web:event_create"), event_post(user)).status_code == 403
    assert login(other_kam).post(reverse("web:event_edit", args=[event.pk]),
                                 {**event_post(other_kam), "version": 1}).status_code == 403  # fmt: skip
    assert (
        login(other_kam)
        .post(reverse("web:event_cancel", args=[event.pk]), {"version": 1})
        .status_code
        == 403
    )
    assert login(kam).post(reverse("web:gift_decide", args=[gift.pk]),
                           {"action": "approve", "version": 1}).status_code == 403  # fmt: skip
    assert login(other_kam).post(reverse("web:gift_decide", args=[gift.pk]),
                                 {"action": "approve", "version": 1}).status_code == 404  # fmt: skip
    theirs_url = f"{reverse('web:gift_create')}?account={shop.pk}"
    assert login(other_kam).post(theirs_url, {"contact": wang.pk, "value": "1"}).status_code == 404
    assert login(executive).post(reverse("web:vip_member_remove", args=[member.pk]),
                                 {"version": 1}).status_code == 403  # fmt: skip
    assert (
        login(portal_user).post(reverse("web:vip_member_remove", args=[member.pk])).status_code
        == 403
    )
    client.logout()
    assert (
        client.post(
            reverse("web:gift_decide", args=[gift.pk]), {"action": "approve", "version": 1}
        ).status_code
        == 302
    )
    event.refresh_from_db()
    gift.refresh_from_db()
    member.refresh_from_db()
    assert (BusinessEvent.objects.count(), event.name, event.status, event.version) == (
        1,
        event.name,
        "planned",
        1,
    )
    assert (gift.status, gift.version, Gift.objects.count()) == ("pending", 1, 1)
    assert (member.is_active, member.version) == (True, 1)


# --- events ----------------------------------------------------------------------------------


def test_an_event_from_planning_to_held(login, kam, executive, admin_user, shop, wang, elsewhere):
    li = ContactFactory(account=shop, name="李工")
    client = login(kam)
    bad = client.post(reverse("web:event_create"), event_post(kam, ends_at=local(soon(days=6))))
    assert (
        bad.status_code == 400 and "An event cannot end before it starts." in bad.content.decode()
    )
    saved = client.post(reverse("web:event_create"), event_post(kam, capacity="1", budget="900"))
    event = BusinessEvent.objects.get()
    assert saved.status_code == 302 and saved["Location"] == reverse(
        "web:event_detail", args=[event.pk]
    )
    page = client.get(saved["Location"])
    invitable = [c.name for c in page.context["invite_form"].fields["contacts"].queryset]
    assert sorted(invitable) == sorted(["王总", "李工"])  # not the other account's people
    # a choice not offered refuses the whole batch
    theirs = ContactFactory(account=elsewhere, name="赵六")
    refused = client.post(
        reverse("web:event_invite", args=[event.pk]), {"contacts": [wang.pk, theirs.pk]}
    )
    assert refused.status_code == 400 and not EventInvitation.objects.exists()
    done = client.post(reverse("web:event_invite", args=[event.pk]), {"contacts": [wang.pk, li.pk]})
    assert done.status_code == 302 and EventInvitation.objects.count() == 2
    wang_inv, li_inv = (EventInvitation.objects.get(contact=c) for c in (wang, li))
    respond = reverse("web:event_respond", args=[event.pk])
    assert (
        client.post(
            respond, {"invitation": wang_inv.pk, "status": "registered", "version": 1}
        ).status_code
        == 302
    )
    full = client.post(respond, {"invitation": li_inv.pk, "status": "registered", "version": 1})
    assert full.status_code == 400
    assert "The event is full: all 1 places are taken." in full.content.decode()
    early = client.post(
        reverse("web:event_attendance", args=[event.pk]),
        {f"status_{wang_inv.pk}": "attended", f"version_{wang_inv.pk}": 2},
    )
    assert early.status_code == 400
    assert "Attendance is recorded once the event has started" in early.content.decode()
    stale = client.post(
        reverse("web:event_edit", args=[event.pk]), {**event_post(kam), "version": 0}
    )
    assert stale.status_code == 409
    assert "Someone else changed this record while you were editing it." in stale.content.decode()
    start = timezone.now() - dt.timedelta(hours=3)
    BusinessEvent.objects.filter(pk=event.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    came = client.post(
        reverse("web:event_attendance", args=[event.pk]),
        {
            f"status_{wang_inv.pk}": "attended",
            f"version_{wang_inv.pk}": "2",
            f"status_{li_inv.pk}": "no_show",
            f"version_{li_inv.pk}": "1",
        },
    )
    assert came.status_code == 302
    assert dict(EventInvitation.objects.values_list("contact__name", "status")) == {
        "王总": "attended",
        "李工": "no_show",
    }
    held = client.post(reverse("web:event_hold", args=[event.pk]), {"cost": "1200", "version": 1})
    assert held.status_code == 302
    page = login(executive).get(reverse("web:event_detail", args=[event.pk]))
    body = page.content.decode()
    assert page.context["summary"]["per_attendee"] == D("1200.00")
    assert page.context["summary"]["budget_left"] == D("-300.00")
    assert '<dd class="col-6 text-end" data-testid="per-attendee">1,200.00</dd>' in body
    assert [(r["account"].name, r["share"]) for r in page.context["summary"]["accounts"]] == [
        ("华鑫汽车", D("1200.00"))
    ]
    assert "Held: each account's share is in its cost to serve." in body


def test_the_event_list_filters_and_fragments(login, kam, admin_user):
    BusinessEventFactory(organiser=admin_user, name="高尔夫邀请赛", kind="sports")
    BusinessEventFactory(organiser=admin_user, name="技术研讨会", kind="seminar")
    client = login(kam)
    page = client.get(reverse("web:event_list"), {"kind": "sports"})
    assert [e.name for e in page.context["page"].object_list] == ["高尔夫邀请赛"]
    found = client.get(reverse("web:event_list"), {"q": "研讨"})
    assert [e.name for e in found.context["page"].object_list] == ["技术研讨会"]
    bad = client.get(reverse("web:event_list"), {"status": "lost"})
    assert bad.status_code == 400 and "Select a valid choice." in bad.content.decode()
    fragment = client.get(reverse("web:event_list"), HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div class="card" id="event-table">')


# --- gifts -----------------------------------------------------------------------------------


def test_recording_a_gift_shows_the_limit_before_saving(
    login, kam, executive, shop, wang, other_kam, elsewhere
):
    GiftFactory(contact=wang, actor=kam, value="1000.00")  # the gold policy: 1,500 a year
    client = login(kam)
    choose = client.get(reverse("web:gift_create"))
    assert [a.name for a in choose.context["accounts"]] == ["华鑫汽车"]
    url = f"{reverse('web:gift_create')}?account={shop.pk}"
    today = timezone.localdate().isoformat()
    data = {
        "contact": wang.pk,
        "description": "茶叶",
        "occasion": "春节",
        "value": "500.01",
        "given_on": today,
    }
    check = client.post(url, {**data, "action": "check"})
    assert check.status_code == 200 and Gift.objects.count() == 1
    c = check.context["check"]
    assert (c.limit, c.source, c.given, c.year_total, c.over) == (
        D("1500"),
        "policy",
        D("1000.00"),
        D("1500.01"),
        True,
    )
    body = check.content.decode()
    assert '<dd class="col-5 text-end" data-testid="check-total">1,500.01</dd>' in body
    assert "Over the limit: the gift will wait for an executive's approval." in body
    fragment = client.post(url, {**data, "action": "check"}, HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div id="gift-form">')
    recorded = client.post(url, {**data, "action": "record"})
    gift = Gift.objects.get(value=D("500.01"))
    assert recorded.status_code == 302 and recorded["Location"] == reverse(
        "web:gift_detail", args=[gift.pk]
    )
    assert (gift.status, gift.year_total, gift.limit) == ("pending", D("1500.01"), D("1500.00"))
    bad = client.post(url, {**data, "value": "0", "action": "record"})
    assert (
        bad.status_code == 400
        and "Enter a value from 0.01 to 9,999,999,999.99." in bad.content.decode()
    )
    assert Gift.objects.count() == 2
    assert client.get(f"{reverse('web:gift_create')}?account={elsewhere.pk}").status_code == 404


def test_deciding_a_gift(login, kam, executive, admin_user, shop, wang):
    gift = GiftFactory(contact=wang, actor=kam, value="1600.00")
    decide = reverse("web:gift_decide", args=[gift.pk])
    queue = login(executive).get(reverse("web:gift_approvals"))
    assert [g.pk for g in queue.context["page"].object_list] == [gift.pk]
    detail = login(executive).get(reverse("web:gift_detail", args=[gift.pk]))
    assert detail.context["may_decide"] is True and detail.context["check"].year_total == D(
        "1600.00"
    )
    no_note = login(executive).post(decide, {"action": "reject", "version": 1})
    assert (
        no_note.status_code == 400 and "Say why the gift is rejected." in no_note.content.decode()
    )
    stale = login(executive).post(decide, {"action": "approve", "version": 0})
    assert stale.status_code == 409
    gift.refresh_from_db()
    assert (gift.status, gift.version) == ("pending", 1)
    approved = login(executive).post(
        decide, {"action": "approve", "version": 1, "next": "approvals"}
    )
    assert approved.status_code == 302 and approved["Location"] == reverse("web:gift_approvals")
    gift.refresh_from_db()
    assert (gift.status, gift.decided_by) == ("approved", executive)
    # an executive's own gift is not in his queue
    own = GiftFactory(contact=wang, actor=executive, value="5")
    assert own.status == "pending"
    assert (
        list(login(executive).get(reverse("web:gift_approvals")).context["page"].object_list) == []
    )
    assert [
        g.pk
        for g in login(admin_user).get(reverse("web:gift_approvals")).context["page"].object_list
    ] == [own.pk]


def test_the_register_filters_totals_and_exports(
    login, kam, other_kam, executive, shop, wang, elsewhere
):
    theirs = ContactFactory(account=elsewhere, name="赵六")
    GiftFactory(contact=wang, actor=kam, value="1500.00")
    GiftFactory(contact=wang, actor=kam, value="0.01")  # waits: over the gold policy's 1,500
    GiftFactory(contact=theirs, actor=other_kam, value="88.00")
    mine = login(kam).get(reverse("web:gift_list"))
    assert sorted(g.value for g in mine.context["page"].object_list) == [D("0.01"), D("1500.00")]
    assert [(t["contact"], t["approved"], t["pending"], t["limit"]) for t in mine.context["totals"]] == [
        ("王总", D("1500.00"), D("0.01"), D("1500.00"))]  # fmt: skip
    client = login(executive)
    over = client.get(reverse("web:gift_list"), {"over_limit": "true"})
    assert [g.value for g in over.context["page"].object_list] == [D("0.01")]
    assert over.context["approval_count"] == 1
    bad = client.get(reverse("web:gift_list"), {"year": "abc"})
    assert bad.status_code == 400 and "Enter a number." in bad.content.decode()
    assert client.get(reverse("web:gift_list"), {"year": "abc", "export": "csv"}).status_code == 400
    assert client.get(reverse("web:gift_list"), {"export": "pdf"}).status_code == 404
    exported = client.get(reverse("web:gift_list"), {"export": "csv", "status": "approved"})
    assert exported["Content-Type"] == "text/csv; charset=utf-8"
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:6] == ["Given on", "Recipient", "Account", "Gift", "Occasion", "Value"]
    assert sorted((r[1], r[5], r[6]) for r in rows[1:]) == [
        ("王总", "1500.00", "Approved"),
        ("赵六", "88.00", "Approved"),
    ]
    xlsx = client.get(reverse("web:gift_list"), {"export": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    gifts, totals = book.worksheets
    values = list(gifts.iter_rows(values_only=True))
    assert values[1][:3] == ("Given on", "Recipient", "Account") and len(values) == 5
    assert sorted((r[1], r[5]) for r in values[2:]) == [
        ("王总", 0.01),
        ("王总", 1500),
        ("赵六", 88),
    ]
    total_rows = sorted(totals.iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[4], r[5]) for r in total_rows] == [("王总", 1500, 0.01), ("赵六", 88, 0)]


# --- the VIP club ------------------------------------------------------------------------------


def test_the_vip_club_page_and_its_members(login, kam, admin_user, executive, shop, wang):
    lead = AccountFactory(name="潜力客户", owner=kam, tier="lead")
    prospect = ContactFactory(account=lead, name="潜力")
    VipMemberFactory(contact=wang, actor=kam)
    client = login(kam)
    refused = client.post(reverse("web:vip_member_create"), {"contact": prospect.pk})
    assert refused.status_code == 400
    assert (
        "潜力客户 gives no VIP level by its tier (Lead): choose the level by hand and say why."
        in refused.content.decode()
    )
    assert VipMember.objects.count() == 1
    silver = VipLevel.objects.get(code="silver")
    added = client.post(reverse("web:vip_member_create"),
                        {"contact": prospect.pk, "level_override": silver.pk, "override_reason": "集团采购"})  # fmt: skip
    assert added.status_code == 302
    page = client.get(reverse("web:vip_club"))
    rows = {
        m.contact.name: (m.effective_name, m.level_override_id is not None)
        for m in page.context["page"].object_list
    }
    assert rows == {"王总": ("Gold", False), "潜力": ("Silver", True)}
    assert {lv.code: lv.member_count for lv in page.context["levels"]} == {
        "diamond": 0,
        "gold": 1,
        "silver": 1,
    }
    body = page.content.decode()
    assert "Priority hotline" in body and "set by hand" in body
    only_gold = client.get(reverse("web:vip_club"), {"level": VipLevel.objects.get(code="gold").pk})
    assert [m.contact.name for m in only_gold.context["page"].object_list] == ["王总"]
    member = VipMember.objects.get(contact=prospect)
    edit = reverse("web:vip_member_edit", args=[member.pk])
    stale = client.post(
        edit, {"level_override": silver.pk, "override_reason": "x", "is_active": "on", "version": 0}
    )
    assert stale.status_code == 409
    assert (
        client.post(edit, {"level_override": "", "is_active": "on", "version": 1}).status_code
        == 400
    )  # a lead
    removed = client.post(reverse("web:vip_member_remove", args=[member.pk]), {"version": 1})
    assert removed.status_code == 302
    member.refresh_from_db()
    assert member.is_active is False
    # administrators edit the levels, at the version read
    gold = VipLevel.objects.get(code="gold")
    form = {"code": "gold", "name": "Golden", "name_zh": "金卡会员", "rank": 2, "tier": "gold",
            "benefits": "Priority hotline", "benefits_zh": "优先热线", "lock_version": 1}  # fmt: skip
    assert (
        login(executive).post(reverse("web:vip_level_edit", args=[gold.pk]), form).status_code
        == 403
    )
    assert (
        login(admin_user).post(reverse("web:vip_level_edit", args=[gold.pk]), form).status_code
        == 302
    )
    assert (
        login(admin_user).post(reverse("web:vip_level_edit", args=[gold.pk]), form).status_code
        == 409
    )
    gold.refresh_from_db()
    assert (gold.name, gold.benefits_zh, gold.lock_version) == ("Golden", "优先热线", 2)
    events = login(kam).get(reverse("web:vip_club")).context["events"]
    assert events == []


# --- query counts ----------------------------------------------------------------------------


def test_page_query_counts_are_fixed(login, kam, admin_user, shop, django_assert_num_queries):
    """Session and user, roles, the page's reads; whatever the number of rows."""
    client = login(kam)
    gold = VipLevel.objects.get(code="gold")

    def grow(n, event=None):
        people = []
        for i in range(n):
            person = ContactFactory(account=shop, name=f"客人{Gift.objects.count()}-{i}")
            GiftFactory(contact=person, actor=kam, value="10")
            VipMemberFactory(contact=person, actor=kam)
            people.append(person)
        if event is None:
            return started_event(admin_user, people, kind="vip_club", vip_level=gold)
        invitations = event_invite(
            actor=admin_user, event=event, invitees=[Invitee(p) for p in people]
        )
        event_attendance_record(actor=admin_user, event=event,
                                records=[Attendance(i.pk, "attended") for i in invitations])  # fmt: skip
        return event

    event = grow(1)
    gift = Gift.objects.get()
    pinned = {
        # session, user, roles; count, page
        reverse("web:event_list"): 5,
        # the event (with its counts), its invitations seen, those the user may change, may
        # he change the event, who came per account, the accounts seen, the gifts at it, the
        # people he may invite
        reverse("web:event_detail", args=[event.pk]): 11,
        # the totals (one grouped query), count, may he record, page
        reverse("web:gift_list"): 7,
        # the gift, its log
        reverse("web:gift_detail", args=[gift.pk]): 5,
        # the levels, the members per level, count, the member events, page
        reverse("web:vip_club"): 8,
    }
    for url, n in pinned.items():
        with django_assert_num_queries(n):
            assert client.get(url).status_code == 200, url
    grow(4, event)  # four more people at the event, with gifts and memberships
    grow(2)  # another event
    for url, n in pinned.items():
        with django_assert_num_queries(n):
            assert client.get(url).status_code == 200, url
    page = client.get(reverse("web:event_detail", args=[event.pk]))
    assert len(page.context["invitations"]) == 5
    assert len(client.get(reverse("web:gift_list")).context["page"].object_list) == 7


# --- versions, costs, another account of the person, local dates --------------------------


def test_the_answer_attendance_and_removal_forms_need_the_version(
    login, kam, admin_user, shop, wang
):
    event = BusinessEventFactory(organiser=kam)
    [invitation] = event_invite(actor=kam, event=event, invitees=[Invitee(wang)])
    member = VipMemberFactory(contact=wang, actor=kam)
    client = login(kam)
    respond = reverse("web:event_respond", args=[event.pk])
    missing = client.post(respond, {"invitation": invitation.pk, "status": "declined"})
    assert missing.status_code == 400
    assert ("The form does not say which version you edited: reload the page and make the change "
            "again.") in missing.content.decode()  # fmt: skip
    stale = client.post(respond, {"invitation": invitation.pk, "status": "declined", "version": 0})
    assert stale.status_code == 409
    start = timezone.now() - dt.timedelta(hours=3)
    BusinessEvent.objects.filter(pk=event.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    attendance = reverse("web:event_attendance", args=[event.pk])
    missing = client.post(attendance, {f"status_{invitation.pk}": "attended"})
    assert missing.status_code == 400
    assert "The form does not say which version you edited" in missing.content.decode()
    stale = client.post(
        attendance, {f"status_{invitation.pk}": "attended", f"version_{invitation.pk}": 0}
    )
    assert stale.status_code == 409
    invitation.refresh_from_db()
    assert (invitation.status, invitation.version) == ("invited", 1)
    removed = client.post(reverse("web:vip_member_remove", args=[member.pk]), {})
    assert removed.status_code == 302
    member.refresh_from_db()
    assert (member.is_active, member.version) == (True, 1)
    done = client.post(
        attendance, {f"status_{invitation.pk}": "attended", f"version_{invitation.pk}": 1}
    )
    assert done.status_code == 302
    assert EventInvitation.objects.get().status == "attended"


def test_service_engineers_see_events_without_money(login, kam, engineer, admin_user, shop, wang):
    from keycare.engagement.services.events import event_create, event_hold

    event = started_event(admin_user, [wang], budget="900")
    event_hold(actor=admin_user, event=event, cost="800", expected_version=1)
    seen = login(kam).get(reverse("web:event_detail", args=[event.pk]))
    assert 'data-testid="event-cost"' in seen.content.decode()
    assert seen.context["summary"]["cost"] == D("800")
    listing = login(kam).get(reverse("web:event_list")).content.decode()
    assert 'data-testid="event-cost">800.00</td>' in listing
    client = login(engineer)
    page = client.get(reverse("web:event_detail", args=[event.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and page.context["summary"] is None
    assert 'data-testid="event-cost"' not in body and "800.00" not in body and "900.00" not in body
    listing = client.get(reverse("web:event_list"))
    assert listing.status_code == 200 and 'data-testid="event-row"' in listing.content.decode()
    assert "800.00" not in listing.content.decode() and "Budget" not in listing.content.decode()
    # an event he organises: its form has no budget or cost, and saving keeps them
    own = event_create(actor=admin_user, data={"name": "技术交流会", "kind": "seminar",
                                               "starts_at": soon(), "ends_at": soon(hour=17),
                                               "organiser": engineer, "budget": D("300")})  # fmt: skip
    form = client.get(reverse("web:event_edit", args=[own.pk])).context["form"]
    assert {"budget", "cost"} & set(form.fields) == set()
    saved = client.post(reverse("web:event_edit", args=[own.pk]),
                        {**event_post(engineer, name="技术交流"), "version": 1})  # fmt: skip
    assert saved.status_code == 302
    own.refresh_from_db()
    assert (own.name, own.budget, own.cost) == ("技术交流", D("300.00"), D("0.00"))
    assert "hold_form" not in client.get(reverse("web:event_detail", args=[own.pk])).context


def test_a_gift_for_another_account_the_person_belongs_to(login, kam, other_kam, shop, wang):
    from keycare.accounts.models import ContactAccount

    group = AccountFactory(name="集团总部", owner=kam)  # no tier: the default policy, 1,000
    ContactAccount.objects.create(contact=wang, account=group)
    client = login(kam)
    url = f"{reverse('web:gift_create')}?account={group.pk}"
    data = {"contact": wang.pk, "description": "茶叶", "occasion": "春节", "value": "1200",
            "given_on": timezone.localdate().isoformat()}  # fmt: skip
    check = client.post(url, {**data, "action": "check"})
    assert check.status_code == 200
    assert (check.context["check"].limit, check.context["check"].over) == (D("1000"), True)
    recorded = client.post(url, {**data, "action": "record"})
    assert recorded.status_code == 302
    gift = Gift.objects.get()
    assert (gift.account, gift.status, gift.limit) == (group, "pending", D("1000.00"))
    # on his main (gold) account's page the gold limit applies
    main = client.post(f"{reverse('web:gift_create')}?account={shop.pk}", {**data, "value": "1",
                                                                          "action": "record"})  # fmt: skip
    assert main.status_code == 302
    assert Gift.objects.get(value=D("1")).account == shop


def test_gift_form_events_are_labelled_with_the_local_day(login, kam, admin_user, shop, wang):
    """07:00 in Shanghai is 23:00 the day before in UTC: the label says the local day."""
    from zoneinfo import ZoneInfo

    day = timezone.localdate() + dt.timedelta(days=10)
    starts = dt.datetime.combine(day, dt.time(7, 0), tzinfo=ZoneInfo("Asia/Shanghai"))
    event = BusinessEventFactory(organiser=admin_user, name="早餐会", starts_at=starts,
                                 ends_at=starts + dt.timedelta(hours=2))  # fmt: skip
    page = login(kam).get(f"{reverse('web:gift_create')}?account={shop.pk}")
    field = page.context["form"].fields["event"]
    stored = BusinessEvent.objects.get(pk=event.pk)  # read back: in UTC, 23:00 the day before
    assert stored.starts_at.utcoffset() == dt.timedelta(0) and stored.starts_at.day != day.day
    assert field.label_from_instance(stored) == f"早餐会 ({day:%Y-%m-%d})"
    assert f"早餐会 ({day:%Y-%m-%d})" in page.content.decode()
