"""Gifts and their yearly limit per person: the boundaries (exactly at the limit approved,
one cent over waits), where the limit comes from (the policy, else the setting, else none),
the worst twelve months around the gift (a gift a year and a day away is not counted, one
planned ahead is), GIFT concessions counted with the gifts, the reminders to the approvers,
who decides (not a key account manager, not the recorder unless an administrator), the
register's scoping, totals and bad input."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.engagement.models import EngagementLog, EngagementSettings, Gift, Reminder
from keycare.engagement.selectors.gifts import (
    gift_approvals,
    gift_list,
    gift_register_rows,
    gift_totals,
)
from keycare.engagement.services.gifts import (
    gift_approve,
    gift_cancel,
    gift_check,
    gift_record,
    gift_reject,
)
from keycare.profitability.models import Concession, ConcessionPolicy
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """Today is 10 March 2026 for the date bounds."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: DAY)


@pytest.fixture
def shop(kam):
    """An account of the key account manager's, no tier: the default policy (1,000 a
    person a year)."""
    return AccountFactory(name="华鑫汽车", owner=kam)


@pytest.fixture
def person(shop):
    return ContactFactory(account=shop, name="王总")


def give(actor, contact, value, day=DAY, **extra):
    return gift_record(actor=actor, contact=contact, value=value, occasion="春节",
                       description="茶叶", given_on=day, **extra)  # fmt: skip


def grant_gift(contact, amount, day, status="granted"):
    return Concession.objects.create(
        number=f"T-{Concession.objects.count() + 1}", account=contact.account, kind="gift",
        status=status, requested_by=contact.account.owner, effective_date=day, reason="测试",
        amount=D(amount), contact=contact,
    )  # fmt: skip


def default_policy(**values):
    ConcessionPolicy.objects.filter(tier="", account_type="").update(**values)


# --- the limit -----------------------------------------------------------------------------


def test_exactly_at_the_limit_is_approved_one_cent_over_waits(kam, person, executive, admin_user):
    first = give(kam, person, "600.00")
    assert (first.status, first.limit, first.year_total) == ("approved", D("1000.00"), D("600.00"))
    assert first.decided_at is not None and first.decided_by is None
    at_limit = give(kam, person, "400.00")
    assert (at_limit.status, at_limit.year_total) == ("approved", D("1000.00"))
    over = give(kam, person, "0.01")
    assert (over.status, over.limit, over.year_total) == ("pending", D("1000.00"), D("1000.01"))
    reminders = Reminder.objects.filter(key=f"gift:{over.pk}").order_by("user__username")
    assert [(r.user.username, r.kind) for r in reminders] == [
        ("admin1", "gift_approval"), ("exec1", "gift_approval")]  # fmt: skip
    assert reminders[0].params["year_total"] == "1000.01"
    assert reminders[0].link == f"/engagement/gifts/{over.pk}/"
    assert not Reminder.objects.filter(key__in=[f"gift:{first.pk}", f"gift:{at_limit.pk}"]).exists()
    assert list(EngagementLog.objects.filter(object_type="gift", object_id=over.pk)
                .values_list("action", "data__status")) == [("gift_recorded", "pending")]  # fmt: skip


def test_the_limit_comes_from_the_policy_else_the_setting_else_none(kam, person):
    platinum = AccountFactory(name="白金客户", owner=kam, tier="platinum")
    vip = ContactFactory(account=platinum)
    EngagementSettings.objects.filter(pk=1).update(gift_limit_per_contact=D("300"))
    check = gift_check(contact=vip, value=D("2000"), given_on=DAY)
    assert (check.limit, check.source, check.over) == (D("2000"), "policy", False)
    assert check.policy_name == "白金客户 Platinum"
    assert give(kam, vip, "2000.01").status == "pending"
    # the default policy sets no gift limit: the setting applies
    default_policy(gift_limit_per_contact=None)
    check = gift_check(contact=person, value=D("300"), given_on=DAY)
    assert (check.limit, check.source, check.over) == (D("300"), "setting", False)
    assert give(kam, person, "300.00").status == "approved"
    assert give(kam, person, "0.01").status == "pending"
    # neither: no limit
    EngagementSettings.objects.filter(pk=1).update(gift_limit_per_contact=None)
    unlimited = give(kam, person, "99999.00")
    assert (unlimited.status, unlimited.limit, unlimited.year_total) == (
        "approved", None, D("100299.00"))  # fmt: skip
    assert gift_check(contact=person, value=D("1"), given_on=DAY).left is None


def test_only_the_twelve_months_around_the_gift_count(kam, person):
    give(kam, person, "900.00", day=DAY - dt.timedelta(days=365))  # a year and a day before
    assert give(kam, person, "900.00").status == "approved"
    other = ContactFactory(account=person.account)
    give(kam, other, "900.00", day=DAY - dt.timedelta(days=364))  # within the same 365 days
    assert give(kam, other, "100.01").status == "pending"
    planned = ContactFactory(account=person.account)
    give(kam, planned, "600.00", day=DAY + dt.timedelta(days=200))  # a gift planned ahead
    waits = give(kam, planned, "400.01")
    assert (waits.status, waits.year_total) == ("pending", D("1000.01"))
    # the worst window: 500 in May 2025 and 500 in January 2027 are 20 months apart, each
    # within a year of March 2026, never in one year together
    apart = ContactFactory(account=person.account)
    give(kam, apart, "500.00", day=dt.date(2025, 5, 1))
    give(kam, apart, "500.00", day=dt.date(2027, 1, 1))
    assert give(kam, apart, "500.00").status == "approved"
    assert give(kam, apart, "0.01").status == "pending"


def test_granted_gift_concessions_count_waiting_and_rejected_gifts_do_not(kam, person, executive):
    grant_gift(person, "700", DAY - dt.timedelta(days=100))
    grant_gift(person, "5000", DAY, status="rejected")
    assert gift_check(contact=person, value=D("300"), given_on=DAY).given == D("700.00")
    waiting = give(kam, person, "300.01")
    assert waiting.status == "pending"
    rejected = give(kam, person, "500.00")
    gift_reject(actor=executive, gift=rejected, note="超标", expected_version=rejected.version)
    # neither the waiting nor the rejected gift counts yet
    assert give(kam, person, "300.00").status == "approved"
    gift_approve(actor=executive, gift=waiting, expected_version=waiting.version)
    assert gift_check(contact=person, value=D("0"), given_on=DAY).given == D("1300.01")


# --- decisions -----------------------------------------------------------------------------


def _over(actor, person):
    return give(actor, person, "1000.01")


def test_who_decides(kam, person, executive, admin_user, make_user):
    gift = _over(kam, person)
    with pytest.raises(PermissionDeniedError):
        gift_approve(actor=kam, gift=gift, expected_version=gift.version)
    service_manager = make_user(Role.SERVICE_MANAGER, username="sm9")
    with pytest.raises(PermissionDeniedError):
        gift_reject(actor=service_manager, gift=gift, note="不行", expected_version=gift.version)
    gift.refresh_from_db()
    assert (gift.status, gift.version, gift.decided_by) == ("pending", 1, None)
    approved = gift_approve(actor=executive, gift=gift, expected_version=1, note="客户重要")
    assert (approved.status, approved.decided_by, approved.version) == ("approved", executive, 2)
    assert approved.decision_note == "客户重要"
    assert set(
        Reminder.objects.filter(key=f"gift:{gift.pk}").values_list("read_at", flat=True)
    ) != {None}
    assert not Reminder.objects.filter(key=f"gift:{gift.pk}", read_at__isnull=True).exists()
    # an executive's own gift: another approver decides; an administrator may decide his own
    own = _over(executive, ContactFactory(account=person.account))
    assert set(
        Reminder.objects.filter(key=f"gift:{own.pk}").values_list("user__username", flat=True)
    ) == {"admin1"}
    with pytest.raises(PermissionDeniedError) as denied:
        gift_approve(actor=executive, gift=own, expected_version=own.version)
    assert denied.value.extra["code"] == "own_gift"
    admin_own = _over(admin_user, ContactFactory(account=person.account))
    assert gift_approve(actor=admin_user, gift=admin_own, expected_version=1).status == "approved"


def test_decisions_need_the_version_seen_and_a_reason_to_reject(kam, person, executive):
    gift = _over(kam, person)
    with pytest.raises(ValidationError) as missing:
        gift_approve(actor=executive, gift=gift, expected_version=None)
    assert "version" in missing.value.message_dict
    with pytest.raises(ConflictError):
        gift_approve(actor=executive, gift=gift, expected_version=7)
    with pytest.raises(ValidationError) as no_reason:
        gift_reject(actor=executive, gift=gift, note="  ", expected_version=1)
    assert no_reason.value.message_dict == {"note": ["Say why the gift is rejected."]}
    gift.refresh_from_db()
    assert (gift.status, gift.version) == ("pending", 1)
    gift_reject(actor=executive, gift=gift, note="超出合规限额", expected_version=1)
    with pytest.raises(ApplicationError) as decided:
        gift_approve(actor=executive, gift=gift, expected_version=2)
    assert decided.value.extra["code"] == "already_decided"


def test_the_recorder_cancels_while_it_waits(kam, other_kam, person, executive):
    gift = _over(kam, person)
    with pytest.raises(PermissionDeniedError):
        gift_cancel(actor=executive, gift=gift)
    cancelled = gift_cancel(actor=kam, gift=gift, expected_version=1, note="改送别的")
    assert (cancelled.status, cancelled.version) == ("cancelled", 2)
    assert not Reminder.objects.filter(key=f"gift:{gift.pk}", read_at__isnull=True).exists()
    with pytest.raises(ApplicationError):
        gift_cancel(actor=kam, gift=gift)
    within = give(kam, person, "10.00")
    with pytest.raises(ApplicationError):
        gift_cancel(actor=kam, gift=within)


# --- recording: permissions and bad input ---------------------------------------------------


def test_who_records(kam, other_kam, person, executive, engineer, portal_user, make_user):
    for actor in (
        other_kam,
        engineer,
        portal_user,
        make_user(Role.SERVICE_MANAGER, username="sm8"),
    ):
        with pytest.raises(PermissionDeniedError):
            give(actor, person, "10.00")
    assert Gift.objects.count() == 0
    assert give(executive, person, "10.00").requested_by == executive


def test_bad_input_changes_nothing(kam, person):
    for value, message in (("0", "Enter a value from 0.01 to 9,999,999,999.99."),
                           ("-5", "Enter a value from 0.01 to 9,999,999,999.99."),
                           ("abc", "Enter a number."), (None, "This field is required.")):  # fmt: skip
        with pytest.raises(ValidationError) as bad:
            give(kam, person, value)
        assert bad.value.message_dict["value"] == [message]
    with pytest.raises(ValidationError) as bad:
        gift_record(actor=kam, contact=person, value="10", occasion=" ", description="",
                    given_on=DAY + dt.timedelta(days=400))  # fmt: skip
    assert bad.value.message_dict == {
        "occasion": ["Say what the occasion is."], "description": ["Say what the gift is."],
        "given_on": ["Choose a date from 2025-03-09 to 2027-03-11."]}  # fmt: skip
    person.is_active = False
    person.save()
    with pytest.raises(ValidationError) as left:
        give(kam, person, "10")
    assert left.value.message_dict == {"contact": ["王总 has left the company."]}
    assert Gift.objects.count() == 0 and not EngagementLog.objects.exists()


def test_a_gift_at_an_event_is_for_the_account_invited_for(kam, person, admin_user):
    from keycare.accounts.models import ContactAccount
    from keycare.engagement.services.events import Invitee, event_invite
    from keycare.engagement.tests.factories import BusinessEventFactory

    group = AccountFactory(name="集团总部", owner=kam)
    ContactAccount.objects.create(contact=person, account=group)
    event = BusinessEventFactory(organiser=admin_user)
    with pytest.raises(ValidationError) as not_invited:
        give(kam, person, "10", event=event)
    assert not_invited.value.message_dict == {"event": ["王总 is not invited to this event."]}
    event_invite(actor=admin_user, event=event, invitees=[Invitee(person, group)])
    gift = give(kam, person, "10", event=event)
    assert (gift.account, gift.event) == (group, event)


# --- the register ----------------------------------------------------------------------------


def test_the_register_is_scoped_filtered_and_totalled(
    kam, other_kam, person, executive, engineer, portal_user
):
    theirs = ContactFactory(account=AccountFactory(name="远东钢铁", owner=other_kam), name="李工")
    a = give(kam, person, "600.00")
    b = give(kam, person, "400.01")  # waits
    c = give(kam, person, "100.00", day=dt.date(2025, 6, 1))
    d = give(other_kam, theirs, "50.00")
    assert set(gift_list(actor=kam)) == {a, b, c}
    assert set(gift_list(actor=executive)) == {a, b, c, d}
    assert list(gift_list(actor=engineer)) == [] and list(gift_list(actor=portal_user)) == []
    assert list(gift_list(actor=executive, filters={"over_limit": "true"})) == [b]
    assert set(gift_list(actor=executive, filters={"year": "2026", "status": "approved"})) == {a, d}
    assert list(gift_list(actor=executive, filters={"recorded_by": str(other_kam.pk)})) == [d]
    assert list(gift_list(actor=executive, filters={"contact": str(theirs.pk)})) == [d]
    assert list(gift_list(actor=executive, filters={"q": "李工"})) == [d]
    for bad in ({"year": "20x6"}, {"status": "lost"}, {"account": "0"}):
        with pytest.raises(ValidationError):
            gift_list(actor=executive, filters=bad)
    totals = gift_totals(actor=kam)
    assert [(t["year"], t["contact"], t["gifts"], t["approved"], t["pending"], t["limit"], t["over"])
            for t in totals] == [(2026, "王总", 2, D("600.00"), D("400.01"), D("1000.00"), True),
                                 (2025, "王总", 1, D("100.00"), D("0.00"), D("1000.00"), False)]  # fmt: skip
    assert {(t["contact"], t["approved"]) for t in gift_totals(actor=executive, filters={"year": "2026"})} == {
        ("李工", D("50.00")), ("王总", D("600.00"))}  # fmt: skip
    assert list(gift_approvals(actor=executive)) == [b]
    assert list(gift_approvals(actor=kam)) == []
    [row] = list(gift_register_rows(gift_list(actor=executive, filters={"over_limit": "true"})))
    assert row[:10] == [DAY, "王总", "华鑫汽车", "茶叶", "春节", D("400.01"), "Awaiting approval",
                        D("1000.00"), D("1000.01"), "Yes"]  # fmt: skip


def test_the_approvers_are_emailed_once_about_a_gift_over_the_limit(
    kam, person, executive, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    executive.email, admin_user.email = "exec@example.com", "admin@example.com"
    executive.save(update_fields=["email"])
    admin_user.save(update_fields=["email"])
    give(kam, person, "1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        over = give(kam, person, "50.00")
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@example.com", "exec@example.com"]
    assert all(r.sent_at is not None for r in Reminder.objects.filter(key=f"gift:{over.pk}"))
    from keycare.engagement.reminders import reminders_retry

    with django_capture_on_commit_callbacks(execute=True):
        reminders_retry()
    assert len(mailoutbox) == 2


# --- one limit both ways, the account a gift is booked to, the register's flag -------------


def _record_locks(monkeypatch):
    """Record which contact rows the gift service and the concession service lock."""
    from keycare.accounts import lock_objects
    from keycare.engagement.services import gifts as gift_module
    from keycare.profitability import concessions as concession_module

    locked = []

    def recording():
        qs = lock_objects.contact_qs_select_for_update()
        real_get = qs.get

        def get(*args, **kwargs):
            row = real_get(*args, **kwargs)
            locked.append(row.pk)
            return row

        qs.get = get
        return qs

    for module in (gift_module, concession_module):
        monkeypatch.setattr(module, "contact_qs_select_for_update", recording)
    return locked


def test_one_gift_limit_both_ways_and_the_same_contact_row_locked(kam, person, shop, monkeypatch):
    from keycare.profitability.concessions import concession_submit

    locked = _record_locks(monkeypatch)
    give(kam, person, "800.00")  # an engagement gift, approved
    assert locked == [person.pk]
    # a GIFT concession to the same person now sees it: 800 + 300 is over the 1,000 limit
    concession = concession_submit(actor=kam, account=shop, kind="gift", reason="春节礼品",
                                   data={"amount": "300", "contact": person.pk})  # fmt: skip
    assert locked == [person.pk, person.pk]
    assert concession.simulation["granted_so_far"]["gifts"] == "800.00"
    assert (concession.within_policy, concession.status) == (False, "pending")
    gift_breach = [b for b in concession.breaches if b["code"] == "gift_limit_per_contact"]
    assert [(b["limit"], b["value"]) for b in gift_breach] == [("1000.00", "1100.00")]
    # exactly at the limit is within it
    at_limit = concession_submit(actor=kam, account=shop, kind="gift", reason="中秋礼品",
                                 data={"amount": "200", "contact": person.pk})  # fmt: skip
    assert "gift_limit_per_contact" not in [b["code"] for b in at_limit.breaches]
    # the other way: a granted GIFT concession counts for the engagement gift
    grant_gift(person, "200", DAY)
    over = give(kam, person, "0.01")
    assert (over.status, over.year_total) == ("pending", D("1000.01"))
    assert locked == [person.pk] * 4
    # waiting and cancelled engagement gifts do not count for the concession
    gift_cancel(actor=kam, gift=over, expected_version=1)
    again = concession_submit(actor=kam, account=shop, kind="gift", reason="x",
                              data={"amount": "1", "contact": person.pk})  # fmt: skip
    assert again.simulation["granted_so_far"]["gifts"] == "1000.00"


def test_a_gift_is_booked_to_an_account_the_person_belongs_to_with_its_limit(
    kam, other_kam, person, shop
):
    from keycare.accounts.models import ContactAccount

    group = AccountFactory(name="集团总部", owner=kam, tier="gold")  # the gold policy: 1,500
    ContactAccount.objects.create(contact=person, account=group)
    check = gift_check(contact=person, value=D("1200"), given_on=DAY, account=group, actor=kam)
    assert (check.limit, check.over) == (D("1500"), False)
    gift = give(kam, person, "1200.00", account=group)
    assert (gift.account, gift.status, gift.limit) == (group, "approved", D("1500.00"))
    # the main account's limit (1,000) applies without it
    main = give(kam, person, "1.00")
    assert (main.account, main.status, main.limit) == (shop, "pending", D("1000.00"))
    stranger = AccountFactory(name="无关公司", owner=kam)
    theirs = AccountFactory(name="远东钢铁", owner=other_kam)
    ContactAccount.objects.create(contact=person, account=theirs)
    with pytest.raises(ValidationError) as not_his:
        give(kam, person, "1.00", account=stranger)
    assert not_his.value.message_dict == {"account": ["王总 does not belong to 无关公司."]}
    with pytest.raises(ValidationError):
        gift_check(contact=person, value=D("1"), given_on=DAY, account=stranger, actor=kam)
    with pytest.raises(PermissionDeniedError):  # he may not record for the other's account
        give(kam, person, "1.00", account=theirs)
    with pytest.raises(PermissionDeniedError):
        gift_check(contact=person, value=D("1"), given_on=DAY, account=theirs, actor=kam)
    assert Gift.objects.count() == 2


def test_the_register_flag_is_the_gifts_own_not_a_calendar_year_reckoning(kam, person):
    """A gift that waited across the turn of the year: the calendar-year approved totals are
    within the limit, but the gift was over it when recorded — the flag says so."""
    give(kam, person, "600.00", day=dt.date(2025, 12, 20))
    waits = give(kam, person, "600.00", day=dt.date(2026, 1, 5))
    assert (waits.status, waits.year_total, waits.limit) == ("pending", D("1200.00"), D("1000.00"))
    totals = gift_totals(actor=kam)
    assert [(t["year"], t["approved"], t["pending"], t["limit"], t["over_limit"], t["over"])
            for t in totals] == [(2026, D("0.00"), D("600.00"), D("1000.00"), 1, True),
                                 (2025, D("600.00"), D("0.00"), D("1000.00"), 0, False)]  # fmt: skip
    assert list(gift_list(actor=kam, filters={"over_limit": "true"})) == [waits]
    gift_cancel(actor=kam, gift=waits, expected_version=1)  # a cancelled gift is not flagged
    assert [t["over"] for t in gift_totals(actor=kam)] == [False, False]
    assert list(gift_list(actor=kam, filters={"over_limit": "true"})) == []
