"""Playbook cadences: which playbook applies (the most specific active one), when each item
was last done (its kind, their role at the account — main account or membership — any key
person for a blank role; for an executive visit any activity an executive took part in),
due dates and days overdue at the boundary, who is responsible, and a fixed number of
queries for any number of accounts."""

import datetime as dt

import pytest
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.services import contact_membership_set
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.engagement.cadences import cadence_reason, cadence_statuses
from keycare.engagement.models import Playbook
from keycare.engagement.playbooks import active_playbooks, pick_playbook, playbook_for
from keycare.engagement.tests.factories import PlaybookFactory
from keycare.engagement.tests.programme_helpers import days_ago, done, planned
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _by_title(statuses):
    return {s.item.title: s for s in statuses}


@pytest.fixture
def strategic(kam):
    """A strategic account of the kam's: the seeded strategic playbook applies (executive
    visit every 90 days, meet a decision maker every 30, discovery with any key person every
    90, a site visit every 365, a business activity every 180)."""
    account = AccountFactory(name="战略客户", owner=kam, account_type="strategic", tier="gold")
    account.dm = ContactFactory(account=account, name="张总", buying_role="decision_maker")
    account.user = ContactFactory(account=account, name="操作工", buying_role="user")
    account.nobody = ContactFactory(account=account, name="前台")  # unknown role
    return account


def test_the_most_specific_active_playbook_applies(strategic):
    seeded = Playbook.objects.get(account_type="strategic", tier="")
    assert playbook_for(strategic) == seeded
    by_tier = PlaybookFactory(tier="gold", name="Gold")
    exact = PlaybookFactory(account_type="strategic", tier="gold", name="Strategic gold")
    playbooks = active_playbooks()
    assert pick_playbook(playbooks, account_type="strategic", tier="gold") == exact
    # (type, any tier) comes before (any type, tier)
    assert pick_playbook(playbooks, account_type="extrinsic", tier="gold") == Playbook.objects.get(
        account_type="extrinsic", tier=""
    )
    assert pick_playbook(playbooks, account_type="", tier="gold") == by_tier
    assert pick_playbook(playbooks, account_type="strategic", tier="iron") == seeded
    assert pick_playbook(playbooks, account_type="", tier="") == Playbook.objects.get(
        account_type="", tier=""
    )
    Playbook.objects.filter(pk=exact.pk).update(is_active=False)
    assert playbook_for(strategic) == seeded
    Playbook.objects.filter(account_type="", tier="").delete()
    assert pick_playbook(active_playbooks(), account_type="", tier="iron") is None


def test_due_today_is_not_overdue_a_day_later_is(strategic, kam):
    done(strategic, owner=kam, contacts=[strategic.dm], when=days_ago(30, hour=23))
    meet = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))["Meet a decision maker"]
    assert meet.last_done_at == days_ago(30, hour=23)
    assert (meet.due_on, meet.overdue_days, meet.is_overdue) == (TODAY(), 0, False)
    later = TODAY() + dt.timedelta(days=1)
    meet = _by_title(cadence_statuses(accounts=[strategic], today=later))["Meet a decision maker"]
    assert (meet.due_on, meet.overdue_days, meet.is_overdue) == (TODAY(), 1, True)
    assert cadence_reason(meet, later) == (
        f"Meet a decision maker (every 30 days): last done {days_ago(30).date()}, due "
        f"{TODAY()}, 1 day overdue."
    )


def test_never_done_is_due_today(strategic):
    statuses = cadence_statuses(accounts=[strategic], today=TODAY())
    assert [(s.item.kind, s.last_done_at, s.due_on, s.overdue_days) for s in statuses] == [
        ("executive_visit", None, TODAY(), 0), ("meeting", None, TODAY(), 0),
        ("discovery", None, TODAY(), 0), ("site_visit", None, TODAY(), 0),
        ("business_activity", None, TODAY(), 0),
    ]  # fmt: skip
    assert statuses[1].never_done
    assert cadence_reason(statuses[1], TODAY()) == (
        "Meet a decision maker (every 30 days): never done."
    )


def test_only_their_role_counts(strategic, kam):
    # a meeting with the user is no meeting with a decision maker, but a discovery with the
    # user counts for "any key person"; one with the person of unknown role does not
    done(strategic, owner=kam, contacts=[strategic.user], when=days_ago(2))
    done(strategic, owner=kam, kind="discovery", contacts=[strategic.nobody], when=days_ago(3))
    done(strategic, owner=kam, kind="discovery", contacts=[strategic.user], when=days_ago(40))
    statuses = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))
    assert statuses["Meet a decision maker"].last_done_at is None
    discovery = statuses["Needs and pains discovery with the key persons"]
    assert discovery.last_done_at == days_ago(40)
    assert discovery.due_on == days_ago(40).date() + dt.timedelta(days=90)


def test_the_role_at_the_account_counts_for_members_of_the_group(strategic, kam):
    group = AccountFactory(name="集团", owner=kam)
    chairman = ContactFactory(account=group, name="董事长", buying_role="user")
    contact_membership_set(actor=None, contact=chairman, account=strategic,
                           buying_role="decision_maker")  # fmt: skip
    done(strategic, owner=kam, contacts=[chairman], when=days_ago(10))
    # at the group (his main account) he is a user: a meeting there is no decision maker's
    done(group, owner=kam, contacts=[chairman], when=days_ago(1))
    meet = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))["Meet a decision maker"]
    assert meet.last_done_at == days_ago(10)
    assert meet.due_on == days_ago(10).date() + dt.timedelta(days=30)


def test_planned_cancelled_and_other_accounts_activities_do_not_count(strategic, kam):
    other = AccountFactory(owner=kam, account_type="strategic")
    planned(strategic, owner=kam, contacts=[strategic.dm])
    cancelled = done(strategic, owner=kam, contacts=[strategic.dm], when=days_ago(3))
    type(cancelled).objects.filter(pk=cancelled.pk).update(status="cancelled")
    done(other, owner=kam, contacts=[strategic.dm], when=days_ago(2))
    meet = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))["Meet a decision maker"]
    assert meet.last_done_at is None


def test_an_executive_taking_part_counts_as_an_executive_visit(strategic, kam, executive,
                                                               make_user):  # fmt: skip
    visit = "Executive sponsor visits a decision maker"
    # a call with the user, the executive taking part: counts (any kind, any contact)
    done(strategic, owner=kam, kind="call", contacts=[strategic.user], participants=[executive],
         when=days_ago(50))  # fmt: skip
    assert _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit].last_done_at == (
        days_ago(50)
    )
    # the sponsor (a key account manager in that team role) owning a meeting: counts
    sponsor = make_user(Role.KEY_ACCOUNT_MANAGER, username="sponsor-kam")
    AccountTeamMemberFactory(account=strategic, user=sponsor,
                             role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    # ... an email to nobody of theirs is no executive contact
    done(strategic, owner=sponsor, kind="email", when=days_ago(30))
    status = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit]
    assert status.last_done_at == days_ago(50)
    # ... with one of their people it is
    done(strategic, owner=sponsor, kind="email", contacts=[strategic.user], when=days_ago(20))
    status = _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit]
    assert status.last_done_at == days_ago(20)
    assert (status.due_on, status.overdue_days) == (days_ago(20).date() + dt.timedelta(days=90), 0)
    # the sponsor of another account taking part here is no executive contact
    elsewhere = AccountFactory(owner=kam)
    other_sponsor = make_user(Role.KEY_ACCOUNT_MANAGER, username="other-sponsor")
    AccountTeamMemberFactory(account=elsewhere, user=other_sponsor,
                             role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    done(strategic, owner=kam, kind="meeting", contacts=[strategic.dm],
         participants=[other_sponsor], when=days_ago(1))  # fmt: skip
    assert _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit].last_done_at == (
        days_ago(20)
    )
    # an "executive visit" with the decision maker that no executive went to does not count
    done(strategic, owner=kam, kind="executive_visit", contacts=[strategic.dm], when=days_ago(5))
    assert _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit].last_done_at == (
        days_ago(20)
    )
    # nor a planned one with the executive, nor a cancelled one
    planned(strategic, owner=executive, kind="executive_visit", contacts=[strategic.dm])
    cancelled = done(strategic, owner=executive, kind="executive_visit",
                     contacts=[strategic.dm], when=days_ago(4))  # fmt: skip
    type(cancelled).objects.filter(pk=cancelled.pk).update(status="cancelled")
    assert _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit].last_done_at == (
        days_ago(20)
    )
    # the executive going to it, done: counts
    done(strategic, owner=kam, kind="executive_visit", contacts=[strategic.dm],
         participants=[executive], when=days_ago(3))  # fmt: skip
    assert _by_title(cadence_statuses(accounts=[strategic], today=TODAY()))[visit].last_done_at == (
        days_ago(3)
    )


def test_who_is_responsible(strategic, kam, executive, make_user):
    second = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam-two")
    AccountTeamMemberFactory(account=strategic, user=second,
                             role=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip
    AccountTeamMemberFactory(account=strategic, user=executive,
                             role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    gone = make_user(Role.EXECUTIVE, username="retired", is_active=False)
    AccountTeamMemberFactory(account=strategic, user=gone, role=AccountTeamRole.EXECUTIVE_SPONSOR)
    statuses = cadence_statuses(accounts=[strategic], today=TODAY())
    assert statuses[0].responsible_user_ids == [executive.pk]
    assert statuses[1].responsible_user_ids == sorted([kam.pk, second.pk])


def test_an_extrinsic_account_follows_its_playbook(kam, engineer):
    account = AccountFactory(owner=kam, account_type="extrinsic")
    lead = ContactFactory(account=account, buying_role="technical_evaluator")
    AccountTeamMemberFactory(account=account, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    done(account, owner=engineer, contacts=[lead], when=days_ago(100))
    statuses = cadence_statuses(accounts=[account], today=TODAY())
    review = statuses[2]
    assert (review.item.every_days, review.item.our_role) == (90, "service_lead")
    assert (review.overdue_days, review.responsible_user_ids) == (10, [engineer.pk])


def test_no_accounts_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert cadence_statuses(accounts=[], today=TODAY()) == []


def test_a_fixed_number_of_queries_for_any_number_of_accounts(kam, executive,
                                                               django_assert_num_queries):  # fmt: skip
    def build(n):
        accounts = []
        for i in range(n):
            account = AccountFactory(owner=kam, account_type=("strategic", "intrinsic", "")[i % 3])
            dm = ContactFactory(account=account, buying_role="decision_maker")
            AccountTeamMemberFactory(account=account, user=executive,
                                     role=AccountTeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
            done(account, owner=kam, contacts=[dm], participants=[executive])
            accounts.append(account)
        return accounts

    accounts = build(1)
    # the playbooks, their items, last done by role (main account, memberships), the
    # executives' last activities, the account teams
    with django_assert_num_queries(6):
        assert len(cadence_statuses(accounts=accounts, today=TODAY())) == 5
    accounts += build(5)
    with django_assert_num_queries(6):
        statuses = cadence_statuses(accounts=accounts, today=TODAY())
    assert len(statuses) == 3 * 5 + 2 * 2 + 1 * 1  # strategic: 5 items, intrinsic 2, any 1
