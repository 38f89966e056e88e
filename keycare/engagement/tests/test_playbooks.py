"""Playbooks: administrators create, change (stale versions refused), replace the items of,
and remove playbooks, each write logged; others are refused with nothing changed; the
service measures come from the account type's service strategy; suggestions are made for
the cadences due within a week or overdue that nothing planned answers, with whom to meet
and their style guidance."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.core.exceptions import ConflictError, PermissionDeniedError
from keycare.engagement.models import EngagementLog, Playbook, PlaybookItem, StyleGuidance
from keycare.engagement.playbooks import (
    playbook_create,
    playbook_delete,
    playbook_item_add,
    playbook_item_remove,
    playbook_item_update,
    playbook_list,
    playbook_service_measures,
    playbook_suggestions,
    playbook_update,
)
from keycare.engagement.tests.factories import PlaybookFactory, PlaybookItemFactory
from keycare.engagement.tests.programme_helpers import days_ago, done, planned

pytestmark = pytest.mark.django_db

ITEM = {"kind": "meeting", "our_role": "key_account_manager", "their_role": "decision_maker",
        "every_days": 30, "title": "Meet the boss", "title_zh": "拜访老板"}  # fmt: skip


def _log(action):
    return list(EngagementLog.objects.filter(action=action).values_list("object_id", flat=True))


def test_an_administrator_creates_a_playbook_with_its_items(admin_user):
    playbook = playbook_create(
        actor=admin_user,
        data={"account_type": "strategic", "tier": "platinum", "name": "Strategic platinum",
              "name_zh": "战略铂金", "notes": "Quarterly business review\nJoint plan"},
        items=[ITEM, {**ITEM, "kind": "executive_visit", "our_role": "executive_sponsor",
                      "every_days": 90, "title": "Sponsor visit", "title_zh": "高层拜访"}],
    )  # fmt: skip
    assert playbook.lock_version == 1 and playbook.updated_by == admin_user
    assert [(i.kind, i.every_days, i.position) for i in playbook.items.all()] == [
        ("meeting", 30, 0), ("executive_visit", 90, 1),
    ]  # fmt: skip
    assert _log("playbook_created") == [playbook.pk]
    assert playbook.measure_list == ["Quarterly business review", "Joint plan"]


@pytest.mark.parametrize("role", ["kam", "executive", "service_manager", "engineer",
                                  "portal_user"])  # fmt: skip
def test_only_administrators_write_playbooks(request, role):
    actor = request.getfixturevalue(role)
    playbook = Playbook.objects.get(account_type="strategic", tier="")
    item = playbook.items.first()
    before = (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version)
    writes = [
        lambda: playbook_create(actor=actor, data={"name": "x", "name_zh": "x", "tier": "iron"}),
        lambda: playbook_update(actor=actor, playbook=playbook, data={"name": "y"},
                                lock_version=1),
        lambda: playbook_delete(actor=actor, playbook=playbook),
        lambda: playbook_item_add(actor=actor, playbook=playbook, data=ITEM),
        lambda: playbook_item_update(actor=actor, item=item, data={"every_days": 7}),
        lambda: playbook_item_remove(actor=actor, item=item),
    ]  # fmt: skip
    for write in writes:
        with pytest.raises(PermissionDeniedError):
            write()
    playbook.refresh_from_db()
    assert (Playbook.objects.count(), PlaybookItem.objects.count(), playbook.lock_version) == before
    assert not EngagementLog.objects.filter(object_type="playbook").exists()


def test_all_staff_read_playbooks_customers_none(kam, engineer, portal_user):
    assert playbook_list(actor=kam).count() == 4  # the seeded ones
    assert playbook_list(actor=engineer).count() == 4
    assert playbook_list(actor=portal_user).count() == 0
    assert [p.name for p in playbook_list(actor=kam, filters={"account_type": "intrinsic"})] == [
        "Intrinsic value accounts"
    ]
    with pytest.raises(ValidationError):
        playbook_list(actor=kam, filters={"tier": "diamond"})


def test_a_stale_edit_is_refused_and_nothing_changes(admin_user):
    playbook = PlaybookFactory(tier="iron", name="Iron")
    playbook_update(actor=admin_user, playbook=playbook, data={"name": "Iron v2"},
                    lock_version=1)  # fmt: skip
    with pytest.raises(ConflictError) as exc:
        playbook_update(actor=admin_user, playbook=playbook, data={"name": "Mine"},
                        lock_version=1)  # fmt: skip
    assert exc.value.extra == {"code": "stale_version", "current_version": 2}
    playbook.refresh_from_db()
    assert (playbook.name, playbook.lock_version) == ("Iron v2", 2)
    assert _log("playbook_updated") == [playbook.pk]
    log = EngagementLog.objects.get(action="playbook_updated")
    assert log.data["changes"] == {"name": ["Iron", "Iron v2"]} and log.actor == admin_user


def test_one_playbook_per_type_and_tier(admin_user):
    with pytest.raises(ValidationError) as exc:
        playbook_create(actor=admin_user, data={"account_type": "strategic", "tier": "",
                                                "name": "Again", "name_zh": "重复"})  # fmt: skip
    assert "There is already a playbook for this type and tier." in str(exc.value)
    assert Playbook.objects.filter(account_type="strategic").count() == 1


def test_bad_items_are_refused_field_by_field(admin_user):
    with pytest.raises(ValidationError) as exc:
        playbook_create(actor=admin_user, data={"tier": "lead", "name": "L", "name_zh": "L"},
                        items=[{**ITEM, "every_days": 0, "kind": "party"}])  # fmt: skip
    assert set(exc.value.message_dict) == {"every_days", "kind"}
    assert not Playbook.objects.filter(tier="lead").exists()


def test_items_are_replaced_added_and_removed(admin_user):
    playbook = PlaybookFactory(tier="iron", items=[ITEM, {**ITEM, "title": "Second"}])
    first, second = playbook.items.all()
    playbook = playbook_update(
        actor=admin_user, playbook=playbook, data={}, lock_version=1,
        items=[{"id": second.pk, **ITEM, "title": "Second, changed", "every_days": 45},
               {**ITEM, "kind": "call", "title": "New", "title_zh": "新"}],
    )  # fmt: skip
    assert [(i.pk == second.pk, i.title, i.every_days, i.position) for i in playbook.items.all()] == [
        (True, "Second, changed", 45, 0), (False, "New", 30, 1),
    ]  # fmt: skip
    assert not PlaybookItem.objects.filter(pk=first.pk).exists()
    assert playbook.lock_version == 2
    log = EngagementLog.objects.get(action="playbook_updated")
    assert log.data["items"]["removed"] == [first.pk] and log.data["items"]["kept"] == [second.pk]


def test_an_item_of_another_playbook_cannot_be_taken(admin_user):
    playbook = PlaybookFactory(tier="iron", items=[ITEM])
    foreign = Playbook.objects.get(account_type="strategic").items.first()
    with pytest.raises(ValidationError):
        playbook_update(actor=admin_user, playbook=playbook, data={}, lock_version=1,
                        items=[{"id": foreign.pk, **ITEM}])  # fmt: skip
    foreign.refresh_from_db()
    assert foreign.playbook.account_type == "strategic"
    assert playbook.items.count() == 1


def test_item_services_move_the_playbook_version_on(admin_user):
    playbook = PlaybookFactory(tier="iron")
    item = playbook_item_add(actor=admin_user, playbook=playbook, data=ITEM, lock_version=1)
    assert item.position == 0
    second = PlaybookItemFactory(playbook=playbook)
    assert second.position == 1
    playbook_item_update(actor=admin_user, item=item, data={"every_days": 14}, lock_version=3)
    with pytest.raises(ConflictError):
        playbook_item_remove(actor=admin_user, item=item, lock_version=3)
    playbook_item_remove(actor=admin_user, item=second, lock_version=4)
    playbook.refresh_from_db()
    assert playbook.lock_version == 5
    assert [(i.pk, i.every_days) for i in playbook.items.all()] == [(item.pk, 14)]
    assert [e.action for e in EngagementLog.objects.order_by("id")] == [
        "playbook_created", "playbook_item_added", "playbook_item_added",
        "playbook_item_updated", "playbook_item_removed",
    ]  # fmt: skip


def test_removing_a_playbook_keeps_the_activities_planned_from_it(admin_user, kam):
    playbook = PlaybookFactory(tier="iron", items=[ITEM])
    account = AccountFactory(owner=kam)
    activity = planned(account, owner=kam, playbook_item=playbook.items.first())
    playbook_delete(actor=admin_user, playbook=playbook, lock_version=1)
    activity.refresh_from_db()
    assert activity.playbook_item is None
    assert not Playbook.objects.filter(pk=playbook.pk).exists()
    assert _log("playbook_deleted") == [playbook.pk]


def test_service_measures_come_from_the_type_strategy(admin_user):
    strategic = Playbook.objects.get(account_type="strategic", tier="")
    strategic.notes, strategic.notes_zh = "Named executive sponsor", "指定高层联系人"
    measures = playbook_service_measures(strategic)
    assert measures["practices"] and measures["practices"] == measures["strategy"].practice_list
    assert measures["notes"] == ["Named executive sponsor"]
    with translation.override("zh-hans"):
        assert playbook_service_measures(strategic)["notes"] == ["指定高层联系人"]
    any_type = Playbook.objects.get(account_type="", tier="")
    assert playbook_service_measures(any_type)["practices"] == []


# --- suggestions ---------------------------------------------------------------------------


@pytest.fixture
def account(kam):
    """An intrinsic account: executive contact every 365 days, call a key person every 90."""
    account = AccountFactory(name="价格敏感客户", owner=kam, account_type="intrinsic")
    account.boss = ContactFactory(account=account, name="张总", buying_role="decision_maker",
                                  decision_style="leader", influence=5)  # fmt: skip
    account.buyer = ContactFactory(account=account, name="采购", buying_role="influencer",
                                   decision_style="checker", influence=3)  # fmt: skip
    return account


def test_suggestions_for_due_and_overdue_cadences(account, kam):
    today = timezone.localdate()
    # the call was 85 days ago: due in 5 days (within the week); the executive never came
    done(account, owner=kam, kind="call", contacts=[account.buyer], when=days_ago(85))
    suggestions = playbook_suggestions(actor=kam, accounts=[account], today=today)
    assert [(s.item.kind, s.status.due_on) for s in suggestions] == [
        ("executive_visit", today), ("call", today + dt.timedelta(days=5)),
    ]  # fmt: skip
    visit, call = suggestions
    assert [p.name for p in visit.people] == ["张总"]  # their decision makers
    leader = StyleGuidance.objects.get(style="leader")
    assert visit.people[0].guidance == leader
    assert visit.reason == "Executive contact once a year (every 365 days): never done."
    # any key person: those not met first (the boss), then the buyer
    assert [p.name for p in call.people] == ["张总", "采购"]
    assert (
        call.people[1].guidance.summary
        == "Bring evidence and detail, and acknowledge their rigour."
    )


def test_no_suggestion_when_an_activity_of_that_kind_is_planned(account, kam):
    today = timezone.localdate()
    planned(account, owner=kam, kind="executive_visit", contacts=[account.boss])
    kinds = [s.item.kind for s in playbook_suggestions(actor=kam, accounts=[account], today=today)]
    assert kinds == ["call"]
    marked = playbook_suggestions(actor=kam, accounts=[account], today=today, include_planned=True)
    assert [(s.item.kind, s.already_planned) for s in marked] == [
        ("executive_visit", True), ("call", False),
    ]  # fmt: skip


def test_no_suggestion_beyond_a_week(account, kam, executive):
    today = timezone.localdate()
    call = done(account, owner=kam, kind="call", contacts=[account.buyer], when=days_ago(82))
    # the executive met an assistant (no key person): the executive cadence is done, the
    # call is not (meeting a key person face to face would have done it too)
    aide = ContactFactory(account=account, name="秘书", buying_role="unknown")
    done(account, owner=kam, kind="executive_visit", contacts=[aide],
         participants=[executive], when=days_ago(10))  # fmt: skip
    assert playbook_suggestions(actor=kam, accounts=[account], today=today) == []  # due in 8
    type(call).objects.filter(pk=call.pk).update(done_at=days_ago(83))  # due in 7
    assert [
        s.item.kind for s in playbook_suggestions(actor=kam, accounts=[account], today=today)
    ] == ["call"]


def test_meeting_a_key_person_face_to_face_does_a_call_or_meeting_cadence(account, kam):
    from keycare.engagement.cadences import cadence_statuses

    today = timezone.localdate()
    done(account, owner=kam, kind="discovery", contacts=[account.buyer], when=days_ago(5))
    statuses = {s.item.kind: s for s in cadence_statuses(accounts=[account], today=today)}
    assert statuses["call"].last_done_at == days_ago(5)  # a needs discovery met them
    assert statuses["executive_visit"].never_done  # no executive took part
    done(account, owner=kam, kind="email", contacts=[account.boss], when=days_ago(1))
    statuses = {s.item.kind: s for s in cadence_statuses(accounts=[account], today=today)}
    assert statuses["call"].last_done_at == days_ago(5)  # an email is no call


def test_suggestions_take_a_fixed_number_of_queries(kam, django_assert_num_queries):
    today = timezone.localdate()

    def build(n):
        accounts = []
        for _ in range(n):
            a = AccountFactory(owner=kam, account_type="intrinsic")
            ContactFactory(account=a, buying_role="decision_maker")
            accounts.append(a)
        return accounts

    accounts = build(1)
    assert kam.roles  # read once per request, before
    # cadences 6, coverage 3 (no colleagues here), planned kinds 1, the guidance 1
    with django_assert_num_queries(11):
        assert len(playbook_suggestions(actor=kam, accounts=accounts, today=today)) == 2
    accounts += build(4)
    with django_assert_num_queries(11):
        assert len(playbook_suggestions(actor=kam, accounts=accounts, today=today)) == 10
