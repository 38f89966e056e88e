"""The engagement costs in the account P&L (keycare.profitability.pnl): gifts approved on
their date, held events shared among those who came — to the cent, adding up to the event's
cost on SQLite (which divides whole amounts as integers) and PostgreSQL alike — and the
activities done; what is not held, not approved or outside the period counts nowhere."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.engagement.choices import ActivityStatus
from keycare.engagement.costs import engagement_costs, event_shares, split_cents
from keycare.engagement.models import Activity, EventInvitation
from keycare.engagement.services.events import (
    Attendance,
    Invitee,
    event_attendance_record,
    event_hold,
    event_invite,
)
from keycare.engagement.services.gifts import gift_approve, gift_reject
from keycare.engagement.tests.factories import ActivityFactory, BusinessEventFactory, GiftFactory
from keycare.profitability.pnl import account_pnl, pnl_compute

pytestmark = pytest.mark.django_db
D = Decimal
YEAR = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


def at(day: str, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime.fromisoformat(day).replace(hour=hour))


def held(admin, *, cost, came, did_not_come=(), day="2026-05-20", declined=()):
    """An event on `day`, everyone in `came` attended (each a contact, or (contact,
    account)), then marked held with `cost`."""
    event = BusinessEventFactory(organiser=admin, starts_at=at(day), ends_at=at(day, 17))

    def invitee(x):
        return Invitee(*x) if isinstance(x, tuple) else Invitee(x)

    everyone = [*came, *did_not_come, *declined]
    invitations = event_invite(actor=admin, event=event, invitees=[invitee(x) for x in everyone])
    status = ["attended"] * len(came) + ["no_show"] * len(did_not_come)
    records = [Attendance(i.pk, s) for i, s in zip(invitations, status, strict=False)]
    event_attendance_record(actor=admin, event=event, records=records)
    for invitation in invitations[len(came) + len(did_not_come) :]:
        EventInvitation.objects.filter(pk=invitation.pk).update(status="declined")
    event.refresh_from_db()
    return event_hold(actor=admin, event=event, cost=cost, expected_version=event.version)


@pytest.fixture
def three(admin_user):
    a = AccountFactory(name="甲公司")
    b = AccountFactory(name="乙公司")
    c = AccountFactory(name="丙公司")
    return a, b, c


def test_split_cents_adds_up_and_gives_the_odd_cents_to_the_largest_remainders():
    assert split_cents(D("1000.00"), {1: 2, 2: 1}) == {1: D("666.67"), 2: D("333.33")}
    assert split_cents(D("100.00"), {7: 1, 3: 1, 5: 1}) == {3: D("33.34"), 5: D("33.33"),
                                                            7: D("33.33")}  # fmt: skip
    assert split_cents(D("0.02"), {1: 1, 2: 1, 3: 1}) == {1: D("0.01"), 2: D("0.01"), 3: D("0")}
    assert split_cents(D("10"), {}) == {}
    shares = split_cents(D("999.99"), {1: 3, 2: 4, 3: 6})
    assert sum(shares.values()) == D("999.99")
    assert shares == {1: D("230.77"), 2: D("307.69"), 3: D("461.53")}


def test_an_events_cost_is_shared_by_who_came_to_their_accounts(admin_user, executive, three):
    a, b, c = three
    a1, a2 = ContactFactory(account=a), ContactFactory(account=a)
    b1 = ContactFactory(account=b)
    c1, c2 = ContactFactory(account=c), ContactFactory(account=c)
    # c's people were invited but one did not come and one declined: c bears nothing
    held(admin_user, cost="1000.00", came=[a1, a2, b1], did_not_come=[c1], declined=[c2])
    rows = pnl_compute(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert rows[a.pk].drivers["engagement"] == D("666.67")
    assert rows[b.pk].drivers["engagement"] == D("333.33")
    assert c.pk not in rows
    assert rows[a.pk].cost_to_serve == D("666.67")
    own = account_pnl(actor=executive, account=b, filters=YEAR)["own"]
    assert own["drivers"]["engagement"] == D("333.33")
    assert own["cost_to_serve"] == D("333.33")
    assert own["contribution"] == D("-333.33")


def test_the_odd_cent_is_not_lost_and_does_not_depend_on_the_accounts_asked(admin_user, three):
    a, b, c = three
    people = [ContactFactory(account=x) for x in (a, b, c)]
    held(admin_user, cost="100.00", came=people)
    start, end = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    everyone = engagement_costs(start, end, None)
    assert everyone == {a.pk: D("33.34"), b.pk: D("33.33"), c.pk: D("33.33")}
    assert sum(everyone.values()) == D("100.00")
    # one account at a time (a list, a queryset) gets the same share as in the whole split
    for account in (a, b, c):
        assert engagement_costs(start, end, [account.pk]) == {account.pk: everyone[account.pk]}
        qs = type(account).objects.filter(pk=account.pk)
        assert pnl_compute(start=start, end=end, accounts=qs)[account.pk].drivers[
            "engagement"] == everyone[account.pk]  # fmt: skip


def test_a_person_counts_for_the_account_they_were_invited_for(admin_user, three):
    from keycare.accounts.models import ContactAccount

    group, branch, _c = three
    person = ContactFactory(account=branch)
    ContactAccount.objects.create(contact=person, account=group)
    other = ContactFactory(account=branch)
    held(admin_user, cost="300.00", came=[(person, group), other])
    assert event_shares(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31)) == {
        group.pk: D("150.00"),
        branch.pk: D("150.00"),
    }


def test_whole_amounts_divide_to_the_cent(admin_user, three):
    """1000 ÷ 3 on SQLite's integer storage would be 333: the split is exact."""
    a, b, c = three
    held(admin_user, cost="1000", came=[ContactFactory(account=x) for x in (a, b, c)])
    costs = engagement_costs(dt.date(2026, 1, 1), dt.date(2026, 12, 31), None)
    assert costs == {a.pk: D("333.34"), b.pk: D("333.33"), c.pk: D("333.33")}


def test_only_held_events_in_the_period_count(admin_user, three):
    a, b, _c = three
    held(admin_user, cost="500.00", came=[ContactFactory(account=a)], day="2025-12-31")
    held(admin_user, cost="0", came=[ContactFactory(account=a)])
    nobody = held(admin_user, cost="800.00", came=[], did_not_come=[ContactFactory(account=b)])
    planned = BusinessEventFactory(organiser=admin_user, starts_at=at("2026-06-01"),
                                   ends_at=at("2026-06-01", 17))  # fmt: skip
    [invitation] = event_invite(actor=admin_user, event=planned,
                                invitees=[Invitee(ContactFactory(account=a))])  # fmt: skip
    event_attendance_record(actor=admin_user, event=planned,
                            records=[Attendance(invitation.pk, "attended")])  # fmt: skip
    assert engagement_costs(dt.date(2026, 1, 1), dt.date(2026, 12, 31), None) == {}
    assert engagement_costs(dt.date(2025, 1, 1), dt.date(2025, 12, 31), None) == {a.pk: D("500.00")}
    assert nobody.cost == D("800.00")  # a company cost: on no account


def test_approved_gifts_count_on_their_date_and_activities_when_done(admin_user, executive, kam):
    account = AccountFactory(name="礼品客户", owner=kam)
    person = ContactFactory(account=account)
    today = timezone.localdate()
    GiftFactory(contact=person, value="800.00", given_on=today, actor=kam)
    GiftFactory(contact=person, value="300.00", given_on=today - dt.timedelta(days=366), actor=kam)
    # the default policy's limit is 1,000 a person: these two wait
    waiting = GiftFactory(contact=person, value="250.00", given_on=today, actor=kam)
    rejected = GiftFactory(contact=person, value="400.00", given_on=today, actor=kam)
    assert (waiting.status, rejected.status) == ("pending", "pending")
    gift_reject(actor=executive, gift=rejected, note="超标", expected_version=rejected.version)
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=30)
    assert engagement_costs(start, end, None) == {account.pk: D("800.00")}
    gift_approve(actor=executive, gift=waiting, expected_version=waiting.version)
    activity = ActivityFactory(account=account, owner=kam)
    Activity.objects.filter(pk=activity.pk).update(
        status=ActivityStatus.DONE, done_at=timezone.now(), cost=D("120.50")
    )
    assert engagement_costs(start, end, None) == {account.pk: D("1170.50")}
    period = {"period_from": start.isoformat(), "period_to": end.isoformat()}
    own = account_pnl(actor=executive, account=account, filters=period)["own"]
    assert own["drivers"]["engagement"] == D("1170.50")
    assert own["cost_to_serve"] == D("1170.50")


def test_gifts_and_event_shares_add_up_in_one_account(admin_user, executive, kam):
    account = AccountFactory(name="综合客户", owner=kam)
    person, colleague = ContactFactory(account=account), ContactFactory(account=account)
    other = ContactFactory(account=AccountFactory(name="别家"))
    day = timezone.localdate() - dt.timedelta(days=2)
    event = held(admin_user, cost="2000.00", came=[person, colleague, other], day=day.isoformat())
    GiftFactory(contact=person, value="199.99", given_on=day, event=event, actor=kam)
    period = {"period_from": (day - dt.timedelta(days=1)).isoformat(),
              "period_to": day.isoformat()}  # fmt: skip
    own = account_pnl(actor=executive, account=account, filters=period)["own"]
    # 2000 × 2/3 = 1333.333… → 1333.33 (the other account has the larger remainder: 666.67)
    assert own["drivers"]["engagement"] == D("1533.32")
    assert own["cost_to_serve"] == D("1533.32")
