"""Business events: planning with its checks, who may plan and change them, invitations in
a batch all or nothing (the account each person is invited for, a member event's levels,
the key account manager's own accounts), answers against the places, attendance once the
event has started (and counted as engagement), holding and cancelling, and the log of it
all."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.models import ContactAccount
from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.engagement.models import BusinessEvent, EngagementLog, EventInvitation, VipLevel
from keycare.engagement.selectors.events import (
    event_cost_summary,
    event_invitable_contacts,
    event_invitation_list,
    event_list,
)
from keycare.engagement.services.events import (
    Attendance,
    Invitee,
    event_attendance_record,
    event_cancel,
    event_create,
    event_hold,
    event_invite,
    event_update,
    invitation_respond,
)
from keycare.engagement.services.vip import vip_member_add, vip_member_remove
from keycare.engagement.tests.factories import BusinessEventFactory
from keycare.engagement.touches import last_touches

pytestmark = pytest.mark.django_db
D = Decimal


def later(days=7, hour=9):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def plan(actor, **data):
    values = {"name": "年度客户大会", "kind": "customer_meeting", "starts_at": later(),
              "ends_at": later(hour=17), **data}  # fmt: skip
    return event_create(actor=actor, data=values)


@pytest.fixture
def shop(kam):
    return AccountFactory(name="华鑫汽车", owner=kam, tier="gold")


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁", owner=other_kam, tier="iron")


# --- planning ------------------------------------------------------------------------------


def test_planning_checks_what_is_given(kam, portal_user):
    with pytest.raises(ValidationError) as bad:
        plan(
            kam, name=" ", ends_at=later(days=6), budget=D("-1"), capacity=0, organiser=portal_user
        )
    assert bad.value.message_dict == {
        "name": ["Give the event a name."], "ends_at": ["An event cannot end before it starts."],
        "budget": ["Enter an amount of 0 or more."],
        "capacity": ["Give at least one place, or leave it empty for no limit."],
        "organiser": ["The organiser is one of our own active staff."],
    }  # fmt: skip
    with pytest.raises(ValidationError) as vip:
        plan(kam, kind="vip_club")
    assert vip.value.message_dict == {
        "vip_level": ["A VIP club event is for members of a level: choose it."]
    }
    with pytest.raises(ValidationError) as not_vip:
        plan(kam, vip_level=VipLevel.objects.get(code="gold"))
    assert not_vip.value.message_dict == {
        "vip_level": ["Only a VIP club event is for members of a level."]
    }
    assert not BusinessEvent.objects.exists() and not EngagementLog.objects.exists()
    event = plan(kam, capacity=50, budget=D("20000"))
    assert (event.organiser, event.created_by, event.status, event.cost) == (
        kam,
        kam,
        "planned",
        D("0"),
    )
    assert EngagementLog.objects.get().action == "event_created"


def test_who_plans_and_changes_events(
    kam, other_kam, executive, engineer, portal_user, service_manager
):
    for actor in (engineer, portal_user):
        with pytest.raises(PermissionDeniedError):
            plan(actor)
    event = plan(kam)
    assert plan(service_manager).organiser == service_manager
    with pytest.raises(PermissionDeniedError):
        event_update(actor=other_kam, event=event, data={"name": "改名"}, expected_version=1)
    with pytest.raises(PermissionDeniedError):
        event_cancel(actor=service_manager, event=event, expected_version=1)
    event.refresh_from_db()
    assert (event.name, event.version) == ("年度客户大会", 1)
    changed = event_update(
        actor=executive, event=event, data={"name": "客户答谢会"}, expected_version=1
    )
    assert (changed.name, changed.version) == ("客户答谢会", 2)
    with pytest.raises(ConflictError):
        event_update(actor=kam, event=event, data={"location": "苏州"}, expected_version=1)
    # all staff see every event; the portal none
    assert event_list(actor=engineer).count() == 2
    assert event_list(actor=portal_user).count() == 0


# --- invitations -----------------------------------------------------------------------------


def test_a_batch_is_invited_all_or_nothing(kam, shop, elsewhere, admin_user):
    event = plan(kam)
    a, b = ContactFactory(account=shop, name="王总"), ContactFactory(account=shop, name="李工")
    [first] = event_invite(actor=kam, event=event, invitees=[Invitee(a)])
    assert (first.account, first.status, first.invited_by) == (shop, "invited", kam)
    gone = ContactFactory(account=shop, name="张三")
    gone.is_active = False
    gone.save()
    foreign = ContactFactory(account=elsewhere, name="赵六")
    with pytest.raises(ValidationError) as refused:
        event_invite(actor=kam, event=event,
                     invitees=[Invitee(b), Invitee(a), Invitee(gone), Invitee(b)])  # fmt: skip
    assert refused.value.message_dict == {"invitations": [
        "Chosen twice: 李工.", "Already invited: 王总.", "Has left the company: 张三."]}  # fmt: skip
    # the organiser invites anyone they see; a key account manager who does not organise the
    # event, only the people of the accounts they look after
    other_event = plan(admin_user)
    with pytest.raises(ValidationError) as not_yours:
        event_invite(actor=kam, event=other_event, invitees=[Invitee(b), Invitee(foreign)])
    assert not_yours.value.message_dict["invitations"] == [
        "Not found among the people you see: 1 of those chosen."]  # fmt: skip
    assert EventInvitation.objects.count() == 1
    both = event_invite(
        actor=admin_user, event=other_event, invitees=[Invitee(b), Invitee(foreign)]
    )
    assert [(i.contact.name, i.account.name) for i in both] == [
        ("李工", "华鑫汽车"),
        ("赵六", "远东钢铁"),
    ]
    # a key account manager sees only the invitations of his accounts
    assert [i.contact.name for i in event_invitation_list(actor=kam, event=other_event)] == ["李工"]


def test_the_account_is_the_main_one_unless_another_of_theirs_is_chosen(
    kam, shop, elsewhere, admin_user
):
    group = AccountFactory(name="华鑫集团", owner=kam)
    person = ContactFactory(account=shop, name="王总")
    ContactAccount.objects.create(contact=person, account=group)
    event = plan(admin_user)
    with pytest.raises(ValidationError) as wrong:
        event_invite(actor=admin_user, event=event, invitees=[Invitee(person, elsewhere)])
    assert wrong.value.message_dict == {
        "invitations": ["The account chosen is not one of theirs: 王总."]
    }
    [invitation] = event_invite(actor=admin_user, event=event, invitees=[Invitee(person, group)])
    assert invitation.account == group


def test_a_member_event_is_for_members_of_its_level_or_higher(kam, admin_user):
    gold, diamond_account = (
        VipLevel.objects.get(code="gold"),
        AccountFactory(owner=kam, tier="platinum"),
    )
    gold_account, silver_account = (
        AccountFactory(owner=kam, tier="gold"),
        AccountFactory(owner=kam, tier="iron"),
    )
    diamond = ContactFactory(account=diamond_account, name="钻石")
    golden = ContactFactory(account=gold_account, name="金卡")
    silver = ContactFactory(account=silver_account, name="银卡")
    lifted = ContactFactory(account=silver_account, name="特批")
    outsider = ContactFactory(account=gold_account, name="非会员")
    former = ContactFactory(account=gold_account, name="已退出")
    for contact in (diamond, golden, silver, former):
        vip_member_add(actor=kam, contact=contact)
    vip_member_add(actor=kam, contact=lifted, level_override=gold, override_reason="集团采购总监")
    vip_member_remove(actor=kam, member=former.vip_membership)
    event = plan(admin_user, kind="vip_club", vip_level=gold, name="金卡会员高尔夫日")
    everyone = [Invitee(c) for c in (diamond, golden, silver, lifted, outsider, former)]
    with pytest.raises(ValidationError) as refused:
        event_invite(actor=admin_user, event=event, invitees=everyone)
    assert refused.value.message_dict == {"invitations": [
        "Not active VIP club members of level Gold or higher: 已退出, 银卡, 非会员."]}  # fmt: skip
    assert not EventInvitation.objects.exists()
    invitable = event_invitable_contacts(actor=admin_user, event=event)
    assert sorted(c.name for c in invitable) == sorted(["钻石", "金卡", "特批"])
    done = event_invite(actor=admin_user, event=event, invitees=[Invitee(c) for c in invitable])
    assert sorted(i.contact.name for i in done) == sorted(["钻石", "金卡", "特批"])
    assert list(event_invitable_contacts(actor=admin_user, event=event)) == []
    # the level cannot change once people are invited
    with pytest.raises(ValidationError):
        event_update(actor=admin_user, event=event, expected_version=1,
                     data={"vip_level": VipLevel.objects.get(code="silver")})  # fmt: skip


def test_registrations_are_held_to_the_places(kam, shop):
    event = plan(kam, capacity=2)
    people = [ContactFactory(account=shop, name=n) for n in ("甲", "乙", "丙")]
    one, two, three = event_invite(actor=kam, event=event, invitees=[Invitee(p) for p in people])
    invitation_respond(actor=kam, invitation=one, status="registered")
    invitation_respond(actor=kam, invitation=two, status="registered", expected_version=1)
    with pytest.raises(ApplicationError) as full:
        invitation_respond(actor=kam, invitation=three, status="registered")
    assert (full.value.extra["code"], full.value.message) == (
        "event_full", "The event is full: all 2 places are taken.")  # fmt: skip
    with pytest.raises(ValidationError):  # not below the registrations
        event_update(actor=kam, event=event, data={"capacity": 1}, expected_version=1)
    # answering again for a registered person does not need another place
    invitation_respond(actor=kam, invitation=two, status="registered", notes="带一位同事")
    with pytest.raises(ConflictError):
        invitation_respond(actor=kam, invitation=one, status="declined", expected_version=5)
    invitation_respond(actor=kam, invitation=one, status="declined")
    invitation_respond(actor=kam, invitation=three, status="registered")
    assert sorted(EventInvitation.objects.values_list("contact__name", "status")) == sorted(
        [("甲", "declined"), ("乙", "registered"), ("丙", "registered")])  # fmt: skip
    with pytest.raises(ValidationError):
        invitation_respond(actor=kam, invitation=one, status="attended")
    assert list(event_list(actor=kam).filter(pk=event.pk).values_list(
        "invited_count", "registered_count", "declined_count")) == [(3, 2, 1)]  # fmt: skip


def test_an_other_kam_cannot_answer_for_my_people(kam, other_kam, shop):
    event = plan(kam)
    [invitation] = event_invite(
        actor=kam, event=event, invitees=[Invitee(ContactFactory(account=shop))]
    )
    with pytest.raises(PermissionDeniedError):
        invitation_respond(actor=other_kam, invitation=invitation, status="declined")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.version) == ("invited", 1)


# --- attendance, holding, cancelling -----------------------------------------------------------


def test_attendance_once_started_then_held_and_counted_as_engagement(kam, shop, executive):
    start = timezone.now() - dt.timedelta(hours=2)
    event = plan(kam, starts_at=start, ends_at=start + dt.timedelta(hours=4), budget=D("900"))
    future = plan(kam)
    people = [ContactFactory(account=shop, name=n) for n in ("甲", "乙", "丙")]
    one, two, three = event_invite(actor=kam, event=event, invitees=[Invitee(p) for p in people])
    [later_one] = event_invite(actor=kam, event=future, invitees=[Invitee(people[0])])
    with pytest.raises(ApplicationError) as early:
        event_attendance_record(
            actor=kam, event=future, records=[Attendance(later_one.pk, "attended")]
        )
    assert early.value.extra["code"] == "not_started"
    with pytest.raises(ValidationError):  # an invitation of another event: nothing recorded
        event_attendance_record(actor=kam, event=event, records=[
            Attendance(one.pk, "attended"), Attendance(later_one.pk, "attended")])  # fmt: skip
    with pytest.raises(ConflictError):
        event_attendance_record(actor=kam, event=event, records=[
            Attendance(one.pk, "attended"), Attendance(two.pk, "attended", version=4)])  # fmt: skip
    assert set(EventInvitation.objects.values_list("status", flat=True)) == {"invited"}
    changed = event_attendance_record(actor=kam, event=event, records=[
        Attendance(one.pk, "attended"), Attendance(two.pk, "attended", version=1),
        Attendance(three.pk, "no_show")])  # fmt: skip
    assert len(changed) == 3
    with pytest.raises(ApplicationError):  # attendance is recorded: no answer any more
        invitation_respond(actor=kam, invitation=three, status="registered")
    with pytest.raises(ValidationError) as no_cost:
        event_hold(actor=kam, event=event, cost="", expected_version=1)
    assert no_cost.value.message_dict == {"cost": ["This field is required."]}
    with pytest.raises(ValidationError) as not_yet:
        event_hold(actor=kam, event=future, cost="1", expected_version=1)
    assert not_yet.value.message_dict == {"starts_at": ["The event has not started yet."]}
    held = event_hold(actor=kam, event=event, cost="1000", expected_version=1)
    assert (held.status, held.cost, held.version) == ("held", D("1000.00"), 2)
    touches = last_touches([p.pk for p in people])
    assert touches[people[0].pk].at == start and touches[people[1].pk].at == start
    assert touches[people[2].pk].at is None
    summary = event_cost_summary(actor=executive, event=held)
    assert (summary["attended"], summary["per_attendee"], summary["over_budget"], summary["budget_left"]) == (
        2, D("500.00"), True, D("-100.00"))  # fmt: skip
    assert [(r["account"].name, r["attended"], r["share"]) for r in summary["accounts"]] == [
        ("华鑫汽车", 2, D("1000.00"))]  # fmt: skip
    with pytest.raises(ApplicationError):
        event_hold(actor=kam, event=held, cost="1", expected_version=2)
    with pytest.raises(ApplicationError):
        event_cancel(actor=kam, event=held, expected_version=2)
    actions = list(EngagementLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["event_created", "event_created", "invitation_created", "invitation_created",
                       "invitation_created", "invitation_created", "invitation_attended",
                       "invitation_attended", "invitation_no_show", "event_held"]  # fmt: skip


def test_a_cancelled_event_takes_no_more_changes(kam, shop):
    event = plan(kam)
    cancelled = event_cancel(actor=kam, event=event, expected_version=1, reason="台风")
    assert (cancelled.status, cancelled.version) == ("cancelled", 2)
    assert EngagementLog.objects.get(action="event_cancelled").data == {"reason": "台风"}
    with pytest.raises(ApplicationError):
        event_update(actor=kam, event=event, data={"name": "再议"}, expected_version=2)
    with pytest.raises(ApplicationError):
        event_invite(actor=kam, event=event, invitees=[Invitee(ContactFactory(account=shop))])
    assert not EventInvitation.objects.exists()


def test_the_event_summary_shows_only_the_accounts_one_sees(
    kam, other_kam, shop, elsewhere, admin_user
):
    start = timezone.now() - dt.timedelta(days=1)
    event = BusinessEventFactory(
        organiser=admin_user, starts_at=start, ends_at=start + dt.timedelta(hours=3)
    )
    people = [
        ContactFactory(account=shop),
        ContactFactory(account=elsewhere),
        ContactFactory(account=elsewhere),
    ]
    invitations = event_invite(actor=admin_user, event=event, invitees=[Invitee(p) for p in people])
    event_attendance_record(actor=admin_user, event=event,
                            records=[Attendance(i.pk, "attended") for i in invitations])  # fmt: skip
    held = event_hold(actor=admin_user, event=event, cost="100", expected_version=1)
    summary = event_cost_summary(actor=kam, event=held)
    assert [(r["account"].name, r["share"]) for r in summary["accounts"]] == [
        ("华鑫汽车", D("33.33"))
    ]
    assert summary["others"] == {"accounts": 1, "attended": 2, "share": D("66.67")}
    assert summary["per_attendee"] == D("33.33")
