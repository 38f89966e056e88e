"""The VIP club: a member's level from the account's tier or set by hand (with its reason),
no level for a lead or an account of no tier unless set by hand, the levels edited by
administrators only (stale edits refused), members of the accounts one may change, ended
memberships kept, and the list with its effective level worked out in SQL."""

import pytest
from django.core.exceptions import ValidationError

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.engagement.models import EngagementLog, VipLevel, VipMember
from keycare.engagement.selectors.vip import (
    vip_eligible_contact_ids,
    vip_level_member_counts,
    vip_member_list,
)
from keycare.engagement.services.vip import (
    effective_level,
    vip_level_create,
    vip_level_delete,
    vip_level_update,
    vip_member_add,
    vip_member_remove,
    vip_member_update,
)

pytestmark = pytest.mark.django_db


def level(code):
    return VipLevel.objects.get(code=code)


@pytest.fixture
def accounts(kam):
    return {tier: AccountFactory(name=f"{tier or 'none'}客户", owner=kam, tier=tier)
            for tier in ("platinum", "gold", "iron", "lead", "")}  # fmt: skip


def test_the_level_comes_from_the_tier_or_is_set_by_hand(kam, accounts):
    members = {
        tier: vip_member_add(actor=kam, contact=ContactFactory(account=accounts[tier], name=f"{tier}先生"))
        for tier in ("platinum", "gold", "iron")
    }  # fmt: skip
    assert {t: effective_level(m).code for t, m in members.items()} == {
        "platinum": "diamond", "gold": "gold", "iron": "silver"}  # fmt: skip
    for tier, label in (("lead", "Lead"), ("", "no tier")):
        contact = ContactFactory(account=accounts[tier])
        with pytest.raises(ValidationError) as refused:
            vip_member_add(actor=kam, contact=contact)
        name = accounts[tier].name
        assert refused.value.message_dict == {"level_override": [
            f"{name} gives no VIP level by its tier ({label}): choose the level by hand and say why."]}  # fmt: skip
        with pytest.raises(ValidationError) as no_reason:
            vip_member_add(actor=kam, contact=contact, level_override=level("silver"))
        assert no_reason.value.message_dict == {
            "override_reason": ["Say why the level is set by hand."]
        }
    assert VipMember.objects.count() == 3
    by_hand = vip_member_add(actor=kam, contact=ContactFactory(account=accounts["lead"], name="潜力"),
                             level_override=level("gold"), override_reason="集团决策人")  # fmt: skip
    assert effective_level(by_hand).code == "gold"
    promoted = vip_member_add(actor=kam, contact=ContactFactory(account=accounts["iron"], name="提拔"),
                              level_override=level("diamond"), override_reason="战略合作")  # fmt: skip
    rows = {m.contact.name: (m.effective_level_id, m.effective_rank, m.effective_name,
                             m.effective_name_zh) for m in vip_member_list(actor=kam)}  # fmt: skip
    assert rows == {
        "platinum先生": (level("diamond").pk, 1, "Diamond", "钻石会员"),
        "gold先生": (level("gold").pk, 2, "Gold", "金卡会员"),
        "iron先生": (level("silver").pk, 3, "Silver", "银卡会员"),
        "潜力": (level("gold").pk, 2, "Gold", "金卡会员"),
        "提拔": (level("diamond").pk, 1, "Diamond", "钻石会员"),
    }
    gold_list = vip_member_list(actor=kam, filters={"level": str(level("gold").pk)})
    assert sorted(m.contact.name for m in gold_list) == ["gold先生", "潜力"]
    assert [m.contact.name for m in vip_member_list(actor=kam, filters={"overridden": "true"})
            .order_by("contact__name")] == sorted(["潜力", "提拔"])  # fmt: skip
    assert vip_level_member_counts(actor=kam) == {level("diamond").pk: 2, level("gold").pk: 2,
                                                  level("silver").pk: 1}  # fmt: skip
    assert vip_eligible_contact_ids(
        contact_ids=[m.contact_id for m in VipMember.objects.all()], level=level("gold")
    ) == {members["platinum"].contact_id, members["gold"].contact_id, by_hand.contact_id,
          promoted.contact_id}  # fmt: skip
    assert list(EngagementLog.objects.filter(object_id=by_hand.pk, object_type="vipmember")
                .values_list("action", "data")) == [
        ("vip_member_added", {"level": "gold", "reason": "集团决策人"})]  # fmt: skip


def test_members_follow_a_changed_tier_mapping(admin_user, kam, accounts):
    member = vip_member_add(actor=kam, contact=ContactFactory(account=accounts["iron"]))
    silver = level("silver")
    vip_level_update(actor=admin_user, level=silver, data={"tier": ""}, lock_version=1)
    gold = level("gold")
    vip_level_update(actor=admin_user, level=gold, data={"tier": "iron"}, lock_version=1)
    assert vip_member_list(actor=kam).get(pk=member.pk).effective_name == "Gold"
    # with no level for its tier an active member needs a level set by hand to be changed
    vip_level_update(actor=admin_user, level=gold, data={"tier": ""}, lock_version=2)
    assert vip_member_list(actor=kam).get(pk=member.pk).effective_level_id is None
    with pytest.raises(ValidationError):
        vip_member_update(
            actor=kam, member=member, data={"notes": "喜欢高尔夫"}, expected_version=1
        )


def test_levels_are_edited_by_administrators_with_their_version(admin_user, executive, kam):
    gold = level("gold")
    for actor in (executive, kam):
        with pytest.raises(PermissionDeniedError):
            vip_level_update(actor=actor, level=gold, data={"name": "Golden"}, lock_version=1)
    changed = vip_level_update(actor=admin_user, level=gold,
                               data={"name": "Golden", "benefits_zh": "优先服务热线\n专属客户经理"},
                               lock_version=1)  # fmt: skip
    assert (changed.name, changed.lock_version) == ("Golden", 2)
    assert changed.benefit_list == ["Priority hotline", "Two training places a year",
                                    "Invitations to club events"]  # fmt: skip
    with pytest.raises(ConflictError):
        vip_level_update(actor=admin_user, level=gold, data={"name": "Old"}, lock_version=1)
    with pytest.raises(ValidationError) as lead:
        vip_level_update(actor=admin_user, level=gold, data={"tier": "lead"}, lock_version=2)
    assert lead.value.message_dict == {
        "tier": ["A lead is not a customer yet: its tier gives no VIP level."]
    }
    with pytest.raises(ValidationError) as taken:
        vip_level_update(actor=admin_user, level=gold, data={"rank": 1}, lock_version=2)
    assert "rank" in taken.value.message_dict
    gold.refresh_from_db()
    assert (gold.name, gold.rank, gold.tier, gold.lock_version) == ("Golden", 2, "gold", 2)
    bronze = vip_level_create(actor=admin_user, data={"code": "bronze", "name": "Bronze",
                                                      "name_zh": "铜卡会员", "rank": 4})  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        vip_level_create(actor=executive, data={"code": "tin", "name": "Tin", "name_zh": "锡",
                                                "rank": 5})  # fmt: skip
    vip_level_delete(actor=admin_user, level=bronze)
    assert not VipLevel.objects.filter(code="bronze").exists()


def test_members_are_added_by_those_who_may_change_the_account(
    kam, other_kam, executive, engineer, portal_user, admin_user, accounts
):
    contact = ContactFactory(account=accounts["gold"], name="赵总")
    for actor in (other_kam, executive, engineer, portal_user):
        with pytest.raises(PermissionDeniedError):
            vip_member_add(actor=actor, contact=contact)
    assert not VipMember.objects.exists()
    member = vip_member_add(actor=kam, contact=contact, notes="喜欢茶")
    with pytest.raises(ValidationError) as twice:
        vip_member_add(actor=admin_user, contact=contact)
    assert twice.value.message_dict == {"contact": ["赵总 is already a member of the VIP club."]}
    with pytest.raises(PermissionDeniedError):
        vip_member_update(actor=other_kam, member=member, data={"notes": "x"}, expected_version=1)
    with pytest.raises(ConflictError):
        vip_member_update(actor=kam, member=member, data={"notes": "x"}, expected_version=9)
    updated = vip_member_update(actor=kam, member=member, expected_version=1,
                                data={"level_override": level("diamond"), "override_reason": "董事"})  # fmt: skip
    assert (updated.version, effective_level(updated).code) == (2, "diamond")
    # another of the contact's accounts, but not one the key account manager looks after
    from keycare.accounts.models import ContactAccount

    elsewhere = AccountFactory(name="别家集团", owner=other_kam, tier="gold")
    ContactAccount.objects.create(contact=contact, account=elsewhere)
    with pytest.raises(PermissionDeniedError):
        vip_member_update(actor=kam, member=member, data={"account": elsewhere}, expected_version=2)
    with pytest.raises(ValidationError) as not_theirs:
        vip_member_update(actor=kam, member=member, expected_version=2,
                          data={"account": accounts["iron"]})  # fmt: skip
    assert not_theirs.value.message_dict == {"account": ["Choose one of this person's accounts."]}
    ended = vip_member_remove(actor=kam, member=member, expected_version=2)
    assert (ended.is_active, ended.version) == (False, 3)
    with pytest.raises(ApplicationError):
        vip_member_remove(actor=kam, member=member)
    with pytest.raises(ValidationError) as again:
        vip_member_add(actor=kam, contact=contact)
    assert again.value.message_dict == {"contact": [
        "赵总 was a member before: edit that membership to make it active again."]}  # fmt: skip
    assert list(EngagementLog.objects.filter(object_type="vipmember").values_list("action", flat=True)
                .order_by("id")) == ["vip_member_added", "vip_member_updated", "vip_member_removed"]  # fmt: skip


def test_the_list_is_scoped_and_its_query_count_fixed(
    kam, other_kam, executive, engineer, portal_user, accounts, django_assert_num_queries
):
    mine = vip_member_add(actor=kam, contact=ContactFactory(account=accounts["gold"]))
    theirs_account = AccountFactory(name="别家", owner=other_kam, tier="platinum")
    theirs = vip_member_add(actor=other_kam, contact=ContactFactory(account=theirs_account))
    assert list(vip_member_list(actor=kam)) == [mine]
    assert set(vip_member_list(actor=executive)) == {mine, theirs}
    assert list(vip_member_list(actor=portal_user)) == []
    assert list(vip_member_list(actor=engineer)) == []
    with django_assert_num_queries(1):
        assert len(list(vip_member_list(actor=executive))) == 2
    for n in range(3):
        vip_member_add(actor=kam, contact=ContactFactory(account=accounts["iron"], name=f"成员{n}"))
    with django_assert_num_queries(1):
        rows = list(vip_member_list(actor=executive))
        assert [r.effective_name for r in rows if r.account_id == accounts["iron"].pk] == [
            "Silver"
        ] * 3
