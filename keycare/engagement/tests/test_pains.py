"""The needs and pains log: logging one, its checks, status changes with the day it was
resolved, version conflicts, links to activities, tickets and concessions of the same
account only (another account's are refused), who may, and the scoped list."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import ConflictError, PermissionDeniedError
from keycare.engagement.models import EngagementLog, Pain
from keycare.engagement.selectors.pains import pain_get, pain_list
from keycare.engagement.services.pains import (
    pain_create,
    pain_delete,
    pain_link,
    pain_status_change,
    pain_unlink,
    pain_update,
)
from keycare.engagement.tests.factories import ActivityFactory, PainFactory
from keycare.profitability.concessions import concession_submit
from keycare.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(kam):
    return AccountFactory(name="华鑫汽车有限公司", owner=kam)


@pytest.fixture
def elsewhere(other_kam):
    return AccountFactory(name="远东钢铁有限公司", owner=other_kam)


def concession(actor, account):
    return concession_submit(actor=actor, account=account, kind="goodwill_parts",
                             data={"amount": "500"}, reason="停机补偿")  # fmt: skip


def actions(pain):
    return list(EngagementLog.objects.filter(object_type="pain", object_id=pain.pk)
                .order_by("id").values_list("action", flat=True))  # fmt: skip


def test_log_a_pain(kam, shop):
    wang = ContactFactory(account=shop, name="王总")
    pain = pain_create(actor=kam, account=shop, title="停机太多", raised_by=wang.pk, impact=5,
                       impact_value="120000", solution="预防性维护合同")  # fmt: skip
    assert (pain.status, pain.owner, pain.raised_by, pain.impact, pain.impact_value) == (
        "open", kam, wang, 5, Decimal("120000.00"))  # fmt: skip
    assert (pain.raised_on, pain.resolved_on, pain.version) == (timezone.localdate(), None, 1)
    assert actions(pain) == ["pain_raised"]


def test_invalid_input_changes_nothing(kam, shop):
    stranger = ContactFactory(account=AccountFactory(), name="外人")
    with pytest.raises(ValidationError) as exc:
        pain_create(actor=kam, account=shop, title="", raised_by=stranger, impact=9,
                    impact_value="-5", raised_on=dt.date(2999, 1, 1))  # fmt: skip
    assert exc.value.message_dict == {
        "title": ["Say what hurts."],
        "raised_by": ["Choose a person of this account."],
        "impact": ["Choose an impact from 1 to 5."],
        "impact_value": ["Enter an amount from 0 to 9,999,999,999.99."],
        "raised_on": ["Choose a date from 1990 to today."],
    }
    assert not Pain.objects.exists() and not EngagementLog.objects.exists()


def test_status_changes_set_and_clear_the_resolved_day(kam, shop):
    pain = PainFactory(account=shop, owner=kam, raised_on=dt.date(2026, 10, 1))
    solved = pain_status_change(actor=kam, pain=pain, status="solved", version=1)
    assert (solved.status, solved.resolved_on, solved.version) == (
        "solved",
        timezone.localdate(),
        2,
    )
    reopened = pain_status_change(actor=kam, pain=pain, status="open", version=2)
    assert (reopened.status, reopened.resolved_on, reopened.version) == ("open", None, 3)
    dropped = pain_status_change(actor=kam, pain=pain, status="dropped", version=3,
                                 resolved_on=dt.date(2026, 11, 1))  # fmt: skip
    assert dropped.resolved_on == dt.date(2026, 11, 1)
    assert actions(pain) == ["pain_raised", "pain_status_changed", "pain_status_changed",
                             "pain_status_changed"]  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        pain_status_change(actor=kam, pain=pain, status="bogus", version=4)
    assert list(exc.value.message_dict) == ["status"]


def test_a_stale_edit_is_a_conflict(kam, shop):
    pain = PainFactory(account=shop)
    pain_update(actor=kam, pain=pain, data={"title": "甲"}, version=1)
    with pytest.raises(ConflictError):
        pain_update(actor=kam, pain=pain, data={"title": "乙"}, version=1)
    pain.refresh_from_db()
    assert (pain.title, pain.version) == ("甲", 2)


def test_who_may(kam, other_kam, engineer, executive, admin_user, portal_user, shop):
    AccountTeamMemberFactory(account=shop, user=engineer)
    for user in (other_kam, engineer, executive, portal_user):
        with pytest.raises(PermissionDeniedError):
            pain_create(actor=user, account=shop, title="x")
    pain = pain_create(actor=kam, account=shop, title="停机")
    assert [p.pk for p in pain_list(actor=engineer)] == [pain.pk]  # he sees it
    assert list(pain_list(actor=other_kam)) == [] and list(pain_list(actor=portal_user)) == []
    with pytest.raises(PermissionDeniedError):
        pain_update(actor=engineer, pain=pain, data={"title": "改"}, version=1)
    with pytest.raises(PermissionDeniedError):
        pain_delete(actor=kam, pain=pain)
    pain_delete(actor=admin_user, pain=pain)
    assert not Pain.objects.exists()
    assert EngagementLog.objects.filter(action="pain_deleted").count() == 1


def test_links_must_be_of_the_same_account(kam, other_kam, shop, elsewhere):
    pain = PainFactory(account=shop)
    mine = (ActivityFactory(account=shop, owner=kam), TicketFactory(account=shop),
            concession(kam, shop))  # fmt: skip
    theirs = (ActivityFactory(account=elsewhere, owner=other_kam), TicketFactory(account=elsewhere),
              concession(other_kam, elsewhere))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        pain_link(actor=kam, pain=pain, activities=[theirs[0]], tickets=[theirs[1].pk],
                  concessions=[theirs[2].pk], version=1)  # fmt: skip
    assert exc.value.message_dict == {
        "activities": ["Choose activities of this account."],
        "tickets": ["Choose tickets of this account."],
        "concessions": ["Choose concessions of this account."],
    }
    with pytest.raises(ValidationError):  # even for someone who sees both accounts
        pain_update(actor=None, pain=pain, data={"tickets": [mine[1].pk, theirs[1].pk]}, version=1)
    pain.refresh_from_db()
    assert (pain.version, list(pain.tickets.all())) == (1, [])
    linked = pain_link(actor=kam, pain=pain, activities=[mine[0]], tickets=[mine[1].pk],
                       concessions=[mine[2].pk], version=1)  # fmt: skip
    assert linked.version == 2
    fresh = pain_get(actor=kam, pk=pain.pk)
    assert ([a.pk for a in fresh.activities.all()], [t.pk for t in fresh.tickets.all()],
            [c.pk for c in fresh.concessions.all()]) == ([mine[0].pk], [mine[1].pk], [mine[2].pk])  # fmt: skip
    unlinked = pain_unlink(actor=kam, pain=pain, tickets=[mine[1].pk], version=2)
    assert (unlinked.version, list(unlinked.tickets.all())) == (3, [])
    assert actions(pain)[-2:] == ["pain_linked", "pain_unlinked"]
    with pytest.raises(ConflictError):
        pain_link(actor=kam, pain=pain, tickets=[mine[1].pk], version=2)


def test_setting_the_links_replaces_them(kam, shop):
    pain = PainFactory(account=shop)
    first, second = TicketFactory(account=shop), TicketFactory(account=shop)
    pain_update(actor=kam, pain=pain, data={"tickets": [first.pk]}, version=1)
    changed = pain_update(actor=kam, pain=pain, data={"tickets": [second.pk]}, version=2)
    assert (changed.version, list(changed.tickets.values_list("pk", flat=True))) == (3, [second.pk])
    assert EngagementLog.objects.filter(action="pain_changed").order_by("id").last().data == {
        "changes": {"tickets": [second.pk]}
    }


def test_the_list_filters(kam, shop):
    a = PainFactory(account=shop, title="停机太多", impact=5)
    b = PainFactory(account=shop, title="备件太慢", impact=2)
    pain_status_change(actor=kam, pain=b, status="solved", version=1)
    assert list(pain_list(actor=kam, filters={"open": "true"})) == [a]
    assert list(pain_list(actor=kam, filters={"impact_min": "4"})) == [a]
    assert list(pain_list(actor=kam, filters={"q": "备件"})) == [b]
    assert list(pain_list(actor=kam, filters={"status": ["solved"]})) == [b]
    with pytest.raises(ValidationError) as exc:
        pain_list(actor=kam, filters={"status": "bogus", "impact_min": "9"})
    assert set(exc.value.message_dict) == {"status", "impact_min"}
