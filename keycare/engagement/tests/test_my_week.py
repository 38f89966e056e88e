""" "My week": this week's planned activities (Monday to Sunday), overdue next steps, cadences
due or overdue with their suggestions, uncovered decision makers with who can introduce us,
and unread reminders — across the accounts the user owns or is on the team of (never a lost
one), ordered by account value, cadences and decision makers at key accounts only (what the
reminders remind of) — with a fixed number of queries; customer contacts are refused."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.filtering import trailing_twelve_months
from keycare.engagement.calculations import week_of
from keycare.engagement.models import Reminder
from keycare.engagement.selectors.my_week import my_accounts, my_week
from keycare.engagement.tests.programme_helpers import at, days_ago, done, planned
from keycare.insights.models import AccountMetric, KeyAccount

pytestmark = pytest.mark.django_db


def _value(account, gross_profit, *, start=None, end=None):
    if start is None:
        start, end = trailing_twelve_months()
    AccountMetric.objects.create(account=account, scope="own", period_start=start,
                                 period_end=end, gross_profit=Decimal(gross_profit))  # fmt: skip


@pytest.fixture
def week(kam, other_kam):
    """The kam owns `small` (gross profit 100) and `big` (900, strategic: a CTO never met,
    reachable through the coach) and is on the team of `team` (another kam's, 500); `other`
    is someone else's (not a key account); the three others are key accounts."""
    today = timezone.localdate()
    monday, sunday = week_of(today)
    small = AccountFactory(name="小客户", owner=kam)
    big = AccountFactory(name="大客户", owner=kam, account_type="strategic")
    team = AccountFactory(name="团队客户", owner=other_kam)
    AccountTeamMemberFactory(account=team, user=kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER)
    other = AccountFactory(name="别人的客户", owner=other_kam)
    for account in (small, big, team):
        KeyAccount.objects.create(account=account, reason="测试")
    _value(small, "100")
    _value(big, "900")
    _value(team, "500")
    coach = ContactFactory(account=big, name="李工", buying_role="coach", relationship=5,
                           decision_style="follower")  # fmt: skip
    cto = ContactFactory(account=big, name="王总工", buying_role="decision_maker",
                         decision_style="checker", introduced_by_contact=coach)  # fmt: skip
    boss = ContactFactory(account=small, name="张总", buying_role="decision_maker")
    done(small, owner=kam, contacts=[boss], when=days_ago(3), next_step="寄送方案",
         next_step_due=today - dt.timedelta(days=2))  # fmt: skip
    done(big, owner=kam, contacts=[coach], when=days_ago(2))
    activities = {
        "small_monday": planned(small, owner=kam, when=at(monday, 9), subject="周一拜访"),
        "big_sunday": planned(big, owner=kam, when=at(sunday, 20), subject="周日晚宴"),
        "team": planned(team, owner=other_kam, when=at(monday, 15), subject="团队会议"),
        "next_week": planned(big, owner=kam, when=at(sunday + dt.timedelta(days=1), 9)),
        "last_week": planned(big, owner=kam, when=at(monday - dt.timedelta(days=1), 9)),
        "elsewhere": planned(other, owner=other_kam, when=at(monday, 10)),
    }
    Reminder.objects.create(user=kam, kind="birthday", key="b1", account=small, contact=boss,
                            due_on=today)  # fmt: skip
    Reminder.objects.create(user=kam, kind="birthday", key="b2", account=big, contact=cto,
                            due_on=today)  # fmt: skip
    Reminder.objects.create(user=kam, kind="birthday", key="b3", account=big, contact=coach,
                            due_on=today, read_at=timezone.now())  # fmt: skip
    Reminder.objects.create(user=other_kam, kind="birthday", key="b4", account=other,
                            contact=ContactFactory(account=other), due_on=today)  # fmt: skip
    return {"small": small, "big": big, "team": team, "other": other, "cto": cto, "coach": coach,
            "boss": boss, **activities}  # fmt: skip


def test_my_accounts_by_value(week, kam):
    assert [a.name for a in my_accounts(actor=kam)] == ["大客户", "团队客户", "小客户"]


def test_the_latest_trailing_year_gives_the_value(week, kam):
    # an older calendar year of the small account was worth more: the trailing year counts
    _value(week["small"], "99999", start=dt.date(2024, 1, 1), end=dt.date(2024, 12, 31))
    assert [a.name for a in my_accounts(actor=kam)] == ["大客户", "团队客户", "小客户"]


def test_this_weeks_planned_activities(week, kam):
    mine = my_week(actor=kam)
    assert [a.subject for a in mine.planned] == ["周日晚宴", "团队会议", "周一拜访"]
    assert (mine.week_start, mine.week_end) == week_of(timezone.localdate())


def test_overdue_next_steps(week, kam):
    assert [a.next_step for a in my_week(actor=kam).overdue_next_steps] == ["寄送方案"]


def test_cadences_due_with_suggestions(week, kam):
    cadences = my_week(actor=kam).cadences
    today = timezone.localdate()
    # the big account first (strategic: all five never done), then the team's account and
    # the small one (any type: meet a decision maker every 90 days; the small one's boss was
    # met 3 days ago, so not due)
    assert [(c.account.name, c.item.kind) for c in cadences] == [
        ("大客户", "executive_visit"), ("大客户", "meeting"), ("大客户", "discovery"),
        ("大客户", "site_visit"), ("大客户", "business_activity"), ("团队客户", "meeting"),
    ]  # fmt: skip
    # a meeting is planned at the big account this week: marked, not suggested again
    meeting = cadences[1]
    assert meeting.already_planned and not cadences[0].already_planned
    assert cadences[0].status.due_on == today
    assert [(p.name, p.guidance.style) for p in cadences[0].people] == [("王总工", "checker")]


def test_uncovered_decision_makers_with_who_can_introduce_them(week, kam):
    uncovered = my_week(actor=kam).uncovered
    assert [(u.account.name, u.person.name) for u in uncovered] == [("大客户", "王总工")]
    cto = uncovered[0]
    assert [n.name for n in cto.path.nodes] == ["李工", "王总工"]
    assert cto.path.first_to_ask.name == "李工"
    assert cto.guidance.style == "checker" and cto.first_guidance.style == "follower"
    assert cto.already_planned is None


def test_an_introduction_already_planned_is_shown_not_offered_again(week, kam, client):
    from django.urls import reverse

    cto = my_week(actor=kam).uncovered[0]
    coach = cto.path.first_to_ask
    intro = planned(cto.account, owner=kam, kind="introduction", contacts=[],
                    target_contact_id=cto.person.contact_id, when=at(timezone.localdate(), 16))  # fmt: skip
    again = my_week(actor=kam).uncovered[0]
    assert (again.already_planned.pk, again.already_planned.planned_at) == (
        intro.pk,
        intro.planned_at,
    )
    client.force_login(kam)
    page = client.get(reverse("web:my_week")).content.decode()
    assert (
        'data-testid="introduction-planned"' in page
        and 'data-testid="plan-introduction"' not in page
    )
    assert coach.name in page


def test_unread_reminders_by_account_value(week, kam):
    reminders = my_week(actor=kam).reminders
    assert [r.key for r in reminders] == ["b2", "b1"]
    assert reminders[0].title == f"王总工 at {week['big']}: birthday today"


def test_someone_elses_week(week, other_kam):
    mine = my_week(actor=other_kam)
    assert [a.name for a in mine.accounts] == ["团队客户", "别人的客户"]
    assert sorted(a.subject for a in mine.planned) == ["团队会议", "计划拜访"]
    assert [r.key for r in mine.reminders] == ["b4"]
    assert mine.uncovered == []


def test_an_executive_sees_their_own_activities_elsewhere(week, executive, kam):
    # an executive on no account team sees the activities they own or take part in
    activity = planned(
        week["other"], owner=executive, when=at(week_of(timezone.localdate())[0], 11)
    )
    mine = my_week(actor=executive)
    assert mine.accounts == [] and [a.pk for a in mine.planned] == [activity.pk]


def test_customer_contacts_have_no_week(week, portal_user):
    ContactFactory(account=week["small"], user=portal_user)
    with pytest.raises(PermissionDeniedError):
        my_week(actor=portal_user)


def test_my_week_takes_a_fixed_number_of_queries(week, kam, other_kam, django_assert_num_queries):
    kam = type(kam).objects.get(pk=kam.pk)
    assert kam.roles
    # the settings row, my accounts, the planned activities and their contacts, the next
    # steps, the guidance, my key accounts, coverage 2 (memberships, contacts; no
    # colleagues here), cadences 6, planned kinds, what is planned to reach the decision
    # makers not met, the reminders
    with django_assert_num_queries(18):
        my_week(actor=kam)
    monday = week_of(timezone.localdate())[0]
    for i in range(4):
        account = AccountFactory(owner=kam, account_type="strategic")
        KeyAccount.objects.create(account=account, reason="测试")
        boss = ContactFactory(account=account, buying_role="decision_maker")
        planned(account, owner=kam, contacts=[boss], when=at(monday, 8 + i))
        done(account, owner=kam, contacts=[boss], when=days_ago(4), next_step="跟进",
             next_step_due=timezone.localdate() - dt.timedelta(days=1))  # fmt: skip
        Reminder.objects.create(user=kam, kind="birthday", key=f"x{i}", account=account,
                                contact=boss, due_on=timezone.localdate())  # fmt: skip
    with django_assert_num_queries(18):
        mine = my_week(actor=kam)
    assert len(mine.accounts) == 7 and len(mine.planned) == 7 and len(mine.reminders) == 6


def test_lost_accounts_are_left_out_and_only_key_accounts_are_due(week, kam):
    """A lost account of mine shows nothing at all; an account of mine that is not a key
    account shows its planned activities and overdue next steps, but no cadence and no
    decision maker not met — as the reminders, which remind only of key accounts."""
    today = timezone.localdate()
    monday = week_of(today)[0]
    lost = AccountFactory(name="流失客户", owner=kam, status="lost", account_type="strategic")
    KeyAccount.objects.create(account=lost, reason="测试")
    plain = AccountFactory(name="普通客户", owner=kam, account_type="strategic")
    for account in (lost, plain):
        boss = ContactFactory(account=account, buying_role="decision_maker")
        planned(account, owner=kam, contacts=[boss], when=at(monday, 7), subject=account.name)
        done(account, owner=kam, contacts=[boss], when=days_ago(200),
             next_step=f"{account.name}跟进", next_step_due=today - dt.timedelta(days=1))  # fmt: skip
        Reminder.objects.create(user=kam, kind="dormant_relationship", key=f"d{account.pk}",
                                account=account)  # fmt: skip
    mine = my_week(actor=kam)
    assert "流失客户" not in [a.name for a in mine.accounts]
    assert "普通客户" in [a.name for a in mine.accounts]
    assert sorted(a.subject for a in mine.planned if a.account_id in (lost.pk, plain.pk)) == [
        "普通客户"
    ]
    assert "普通客户跟进" in [a.next_step for a in mine.overdue_next_steps]
    assert "流失客户跟进" not in [a.next_step for a in mine.overdue_next_steps]
    assert not [c for c in mine.cadences if c.account.pk in (lost.pk, plain.pk)]
    assert [(u.account.name, u.person.name) for u in mine.uncovered] == [("大客户", "王总工")]
    assert f"d{lost.pk}" not in [r.key for r in mine.reminders]
    assert f"d{plain.pk}" in [r.key for r in mine.reminders]
