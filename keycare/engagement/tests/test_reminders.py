"""Reminders (细节): who gets which, each once per user and key even when the tick runs twice,
delivered once per channel even when a worker dies mid-way (a real HTTP server on 127.0.0.1
stands in for the WeCom / DingTalk / generic webhooks; Django's locmem outbox for email),
personal dates only to those who may see personal data and without the details, leap-day
birthdays, the retry path, and a fixed number of queries whatever the data size."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone, translation

from keycare.accounts.choices import AccountTeamRole, BuyingRole, DecisionStyle
from keycare.accounts.models import Account, ImportantDate, PersonalDetails
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.models import TickRun
from keycare.core.ticks import run_tick
from keycare.engagement.cadences import CadenceStatus
from keycare.engagement.choices import ActivityKind, ReminderKind
from keycare.engagement.models import Activity, Playbook, PlaybookItem, Reminder
from keycare.engagement.reminders import (
    MAX_DELIVERY_ATTEMPTS,
    occurrence_on_or_after,
    reminder_mark_read,
    reminder_send,
    reminder_text,
    reminders_generate,
    reminders_retry,
)
from keycare.insights.models import KeyAccount
from keycare.service.models import Webhook
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def hook():
    """A webhook receiver on 127.0.0.1: `fail` the next n requests with a 500."""
    state = {"fail": 0, "received": [], "failed": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state["fail"]:
                state["fail"] -= 1
                state["failed"] += 1
                self.send_response(500)
            else:
                state["received"].append(body)
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_port}/robot"
    yield state
    server.shutdown()
    server.server_close()


def key_account(owner=None, **kwargs):
    account = AccountFactory(owner=owner, **kwargs)
    KeyAccount.objects.create(account=account, reason="测试")
    return account


def age(obj, days):
    """Pretend the row was created `days` ago."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=timezone.now() - dt.timedelta(days=days))


def met(contact, days_ago, owner, kind=ActivityKind.MEETING):
    activity = Activity.objects.create(
        account=contact.account, kind=kind, subject="拜访", status="done", owner=owner,
        done_at=timezone.now() - dt.timedelta(days=days_ago),
    )  # fmt: skip
    activity.contacts.add(contact)
    return activity


@pytest.fixture
def team(kam, other_kam, service_manager, executive, engineer):
    """A key account of `kam` with `other_kam` as key account manager, the service manager
    as service lead, the executive as sponsor and the engineer as service engineer."""
    account = key_account(owner=kam, name="华东精密机械有限公司", short_name="华东精密")
    for user, role in ((other_kam, AccountTeamRole.KEY_ACCOUNT_MANAGER),
                       (service_manager, AccountTeamRole.SERVICE_LEAD),
                       (executive, AccountTeamRole.EXECUTIVE_SPONSOR),
                       (engineer, AccountTeamRole.SERVICE_ENGINEER)):  # fmt: skip
        AccountTeamMemberFactory(account=account, user=user, role=role)
    return account


def for_users(kind):
    return sorted(Reminder.objects.filter(kind=kind).values_list("user__username", "key"))


# --- personal dates ---------------------------------------------------------------------------


def test_a_birthday_goes_to_the_owner_and_key_account_managers_only(team, kam):
    wang = ContactFactory(account=team, name="王总", buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=wang, birthday=D(1975, 5, 13), family="女儿在读大学",
                                   preferences="喜欢普洱茶")  # fmt: skip
    late = ContactFactory(account=team, name="李工", buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=late, birthday=D(1980, 5, 18))  # 8 days: not yet
    assert reminders_generate(today=D(2026, 5, 10), cadences=[]) == 2
    assert for_users(ReminderKind.BIRTHDAY) == [
        ("kam1", f"birthday:{wang.pk}:2026"),
        ("kam2", f"birthday:{wang.pk}:2026"),
    ]  # not the service lead, the sponsor, the engineer, nor any administrator
    reminder = Reminder.objects.get(user=kam, kind=ReminderKind.BIRTHDAY)
    assert reminder.due_on == D(2026, 5, 13) and reminder.contact == wang
    assert reminder.params == {} and reminder.link == f"/contacts/{wang.pk}/"
    with translation.override("en"):
        title, body = reminder_text(reminder, today=D(2026, 5, 10))
    assert title == "王总 at 华东精密: birthday in 3 days"
    assert "普洱茶" not in body and "女儿" not in body


def test_erasing_personal_details_erases_the_reminders_made_from_them(team, kam):
    from keycare.accounts.models import ImportantDate
    from keycare.accounts.services.contacts import personal_details_erase

    wang = ContactFactory(account=team, name="王总", buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=wang, birthday=D(1975, 5, 13))
    ImportantDate.objects.create(contact=wang, label="结婚纪念日", date=D(2001, 5, 12))
    assert reminders_generate(today=D(2026, 5, 10), cadences=[]) == 4  # two each, two people
    kept = Reminder.objects.create(user=kam, kind=ReminderKind.KEY_PERSON_NOT_MET,
                                   key="not_met:x", contact=wang, account=team)  # fmt: skip
    personal_details_erase(actor=kam, contact=wang)
    assert list(Reminder.objects.filter(contact=wang)) == [kept]
    # and nothing is made again from what is gone
    assert reminders_generate(today=D(2026, 5, 11), cadences=[]) == 0


def test_a_birthday_is_not_for_someone_who_may_not_see_personal_data(make_user, service_manager):
    """Personal dates go to the owner and the key account managers, who may see personal
    data; a service manager on the team as service lead is not told, and a portal user
    made the owner by mistake is not staff: nobody is."""
    portal = make_user(Role.CUSTOMER_CONTACT, username="portal9")
    account = key_account(owner=portal)
    AccountTeamMemberFactory(
        account=account, user=service_manager, role=AccountTeamRole.SERVICE_LEAD
    )
    contact = ContactFactory(account=account, buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=contact, birthday=D(1970, 1, 2))
    assert reminders_generate(today=D(2026, 1, 1), cadences=[]) == 0
    assert not Reminder.objects.exists()


def test_leap_day_birthdays_fall_on_28_february_in_a_common_year(team, kam):
    leap = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=leap, birthday=D(1988, 2, 29))
    assert occurrence_on_or_after(D(1988, 2, 29), D(2027, 1, 10)) == D(2027, 2, 28)
    assert occurrence_on_or_after(D(1988, 2, 29), D(2028, 1, 10)) == D(2028, 2, 29)
    assert occurrence_on_or_after(D(1988, 2, 29), D(2027, 3, 1)) == D(2028, 2, 29)
    # the window of 21–28 February 2027 ends on the 28th: the 29th's people are in it
    reminders_generate(today=D(2027, 2, 21), cadences=[])
    reminder = Reminder.objects.get(user=kam, kind=ReminderKind.BIRTHDAY)
    assert (reminder.key, reminder.due_on) == (f"birthday:{leap.pk}:2027", D(2027, 2, 28))
    reminders_generate(today=D(2027, 3, 1), cadences=[])  # past for 2027, 2028 is far off
    reminders_generate(today=D(2028, 2, 25), cadences=[])
    assert sorted(Reminder.objects.filter(user=kam).values_list("key", "due_on")) == [
        (f"birthday:{leap.pk}:2027", D(2027, 2, 28)),
        (f"birthday:{leap.pk}:2028", D(2028, 2, 29)),
    ]


def test_important_dates_use_their_own_lead_time_across_the_new_year(team, kam):
    c = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=2)
    soon = ImportantDate.objects.create(contact=c, label="结婚纪念日", date=D(2010, 1, 3),
                                        remind_days_before=7)  # fmt: skip
    far = ImportantDate.objects.create(contact=c, label="公司成立", date=D(2001, 2, 20),
                                       remind_days_before=14)  # fmt: skip
    once = ImportantDate.objects.create(contact=c, label="新厂投产", date=D(2027, 1, 4),
                                        yearly=False, remind_days_before=10)  # fmt: skip
    gone = ImportantDate.objects.create(contact=c, label="旧事", date=D(2026, 12, 1), yearly=False)
    ahead = ImportantDate.objects.create(contact=c, label="二十周年", date=D(2007, 3, 20),
                                         remind_days_before=90)  # beyond the SQL horizon  # fmt: skip
    reminders_generate(today=D(2026, 12, 28), cadences=[])
    assert sorted(Reminder.objects.filter(user=kam).values_list("key", "due_on")) == [
        (f"date:{soon.pk}:2027-01-03", D(2027, 1, 3)),
        (f"date:{once.pk}:2027-01-04", D(2027, 1, 4)),
        (f"date:{ahead.pk}:2027-03-20", D(2027, 3, 20)),
    ]
    assert far.pk and gone.pk  # 54 days ahead with 14 days' notice; a one-off in the past


def test_the_occasion_is_shown_in_the_app_only_to_who_may_still_see_it(team, kam, other_kam):
    from keycare.engagement.selectors.reminders import reminder_entries, reminder_list

    c = ContactFactory(account=team, name="赵总", buying_role=BuyingRole.USER, influence=2)
    day = timezone.localdate() + dt.timedelta(days=2)
    ImportantDate.objects.create(contact=c, label="女儿婚礼", date=day, yearly=False)
    reminders_generate(cadences=[])
    with translation.override("en"):
        entry = reminder_entries(actor=kam, reminders=reminder_list(actor=kam))[0]
        assert entry.title == "赵总 at 华东精密: important date in 2 days"
        assert entry.body == "Occasion: 女儿婚礼."
        # other_kam leaves the team: the reminder is no longer theirs to see at all
        team.team.filter(user=other_kam).delete()
        assert list(reminder_list(actor=other_kam)) == []
        theirs = Reminder.objects.get(user=other_kam)
        assert reminder_entries(actor=other_kam, reminders=[theirs])[0].body == ""


# --- next steps, key persons, dormant relationships, cadences -----------------------------


def test_an_overdue_next_step_reminds_its_owner(team, kam, other_kam):
    today = timezone.localdate()
    late = Activity.objects.create(
        account=team, kind=ActivityKind.MEETING, subject="技术交流", status="done", owner=other_kam,
        done_at=timezone.now() - dt.timedelta(days=10), next_step="发送报价",
        next_step_due=today - dt.timedelta(days=2),
    )  # fmt: skip
    Activity.objects.create(  # done: no reminder
        account=team, kind=ActivityKind.CALL, subject="电话", status="done", owner=kam,
        done_at=timezone.now(), next_step="回访", next_step_due=today - dt.timedelta(days=1),
        next_step_done_at=timezone.now(),
    )  # fmt: skip
    Activity.objects.create(  # cancelled: no reminder
        account=team, kind=ActivityKind.CALL, subject="取消", status="cancelled", owner=kam,
        next_step="回访", next_step_due=today - dt.timedelta(days=1),
    )  # fmt: skip
    reminders_generate(cadences=[])
    due = (today - dt.timedelta(days=2)).isoformat()
    assert for_users(ReminderKind.NEXT_STEP_OVERDUE) == [("kam2", f"next_step:{late.pk}:{due}")]
    reminder = Reminder.objects.get(kind=ReminderKind.NEXT_STEP_OVERDUE)
    assert reminder.activity == late and reminder.account == team
    with translation.override("en"):
        assert reminder_text(reminder)[0] == "Next step overdue: 发送报价"


def test_key_persons_of_key_accounts_not_met_in_the_window(team, kam, other_kam, settings):
    from keycare.engagement.models import EngagementSettings

    EngagementSettings.objects.filter(pk=1).update(key_person_days=60)
    never = ContactFactory(account=team, name="决策者", buying_role=BuyingRole.DECISION_MAKER)
    age(never, 90)
    newcomer = ContactFactory(account=team, buying_role=BuyingRole.DECISION_MAKER)  # just added
    coach = ContactFactory(account=team, buying_role=BuyingRole.COACH)
    met(coach, 10, kam)
    stale = ContactFactory(account=team, name="影响者", buying_role=BuyingRole.INFLUENCER)
    touch = met(stale, 61, kam)
    strong = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=4)
    age(strong, 61)
    weak = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=3)
    age(weak, 200)
    other = AccountFactory(owner=kam)  # not a key account
    age(ContactFactory(account=other, buying_role=BuyingRole.DECISION_MAKER), 200)
    reminders_generate(cadences=[])
    last = timezone.localdate(touch.done_at).isoformat()
    keys = {k for _u, k in for_users(ReminderKind.KEY_PERSON_NOT_MET)}
    # as coverage counts it: a key person never met is not met, however new
    assert keys == {f"not_met:{team.pk}:{never.pk}:never", f"not_met:{team.pk}:{stale.pk}:{last}",
                    f"not_met:{team.pk}:{strong.pk}:never",
                    f"not_met:{team.pk}:{newcomer.pk}:never"}  # fmt: skip
    assert {u for u, _k in for_users(ReminderKind.KEY_PERSON_NOT_MET)} == {"kam1", "kam2"}
    reminder = Reminder.objects.get(user=kam, contact=stale)
    with translation.override("en"):
        title, body = reminder_text(reminder)
    assert title == "影响者 at 华东精密: not met for 60 days"
    assert body.startswith("Influencer, last met ")
    assert weak.pk


def test_key_persons_and_dormancy_follow_coverage_memberships_included(team, kam, other_kam):
    """The same people as the coverage report: a contact of another account who is a
    technical evaluator here (a membership) is a key person here; a decision maker at
    their main account who is only a user here with influence 2 is not; an inactive one
    never; and a membership contact met recently keeps the account from being dormant."""
    from keycare.accounts.models import ContactAccount
    from keycare.engagement.coverage import coverage_for_accounts, is_key_person

    age(team, 400)
    elsewhere = key_account(owner=kam, name="集团总部")
    age(elsewhere, 400)
    evaluator = ContactFactory(account=elsewhere, name="陈工", buying_role=BuyingRole.USER,
                               influence=1)  # fmt: skip
    ContactAccount.objects.create(contact=evaluator, account=team,
                                  buying_role=BuyingRole.TECHNICAL_EVALUATOR)  # fmt: skip
    boss = ContactFactory(account=elsewhere, name="总部老板",
                          buying_role=BuyingRole.DECISION_MAKER, influence=2)  # fmt: skip
    ContactAccount.objects.create(contact=boss, account=team, buying_role=BuyingRole.USER)
    gone = ContactFactory(account=elsewhere, buying_role=BuyingRole.USER, is_active=False)
    ContactAccount.objects.create(contact=gone, account=team,
                                  buying_role=BuyingRole.DECISION_MAKER)  # fmt: skip
    met(boss, 5, kam)  # at the head office: the team's account is not dormant through him
    reminders_generate(cadences=[])
    not_met = sorted(Reminder.objects.filter(user=kam, kind=ReminderKind.KEY_PERSON_NOT_MET)
                     .values_list("account_id", "contact_id", "params__role"))  # fmt: skip
    # only the evaluator at the team's account: at the head office he is a user of
    # influence 1; the boss is a mere user here and was met at the head office
    assert not_met == [(team.pk, evaluator.pk, "technical_evaluator")]
    # nobody of either account was met within the dormant window but the boss, met 5 days
    # ago, who counts for both (he is a member of the team's account)
    assert not Reminder.objects.filter(kind=ReminderKind.DORMANT_RELATIONSHIP).exists()
    assert is_key_person(role="technical_evaluator", influence=1)
    assert not is_key_person(role="unknown", influence=5)
    coverage = coverage_for_accounts(account_ids=[team.pk], days=90)[team.pk]
    assert {p.contact_id for p in coverage.people if not p.met_in_window
            and is_key_person(role=p.role, influence=p.influence)} == {evaluator.pk}  # fmt: skip


def test_a_dormant_key_account_tells_the_owner_managers_and_sponsor(team, kam, engineer):
    contact = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=1)
    touch = met(contact, 200, kam)
    age(team, 400)
    quiet = key_account(owner=kam)  # nobody met, ever; added long ago
    age(quiet, 400)
    fresh = key_account(owner=kam)  # nobody met yet, but just made a key account
    young = key_account(owner=kam)  # just added, but its people were last met long ago
    young_touch = met(ContactFactory(account=young, buying_role=BuyingRole.USER), 200, kam)
    reminders_generate(cadences=[])
    last = timezone.localdate(touch.done_at).isoformat()
    assert for_users(ReminderKind.DORMANT_RELATIONSHIP) == sorted([
        ("exec1", f"dormant:{team.pk}:{last}"), ("kam1", f"dormant:{quiet.pk}:never"),
        ("kam1", f"dormant:{team.pk}:{last}"), ("kam2", f"dormant:{team.pk}:{last}"),
        ("kam1", f"dormant:{young.pk}:{timezone.localdate(young_touch.done_at).isoformat()}"),
    ])  # fmt: skip
    assert fresh.pk


def test_cadences_due_within_a_week_or_overdue_remind_who_is_responsible(team, kam, executive):
    visit = PlaybookItem.objects.filter(kind="executive_visit").first()
    meeting = PlaybookItem.objects.filter(kind="meeting").first()
    today = D(2026, 4, 1)
    done = dt.datetime(2026, 1, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    statuses = [
        CadenceStatus(team.pk, visit, done, D(2026, 3, 31), 1, [executive.pk]),
        CadenceStatus(team.pk, meeting, None, today, 0, [kam.pk]),
        CadenceStatus(team.pk, meeting, done, D(2026, 4, 9), 0, [kam.pk]),  # 8 days: not yet
        CadenceStatus(team.pk, meeting, done, D(2026, 4, 2), 0, []),  # nobody responsible
    ]
    assert reminders_generate(today=today, cadences=statuses) == 2
    assert sorted(Reminder.objects.values_list("kind", "user__username", "key")) == [
        ("cadence_due", "kam1", f"cadence:{team.pk}:{meeting.pk}:never"),
        ("executive_visit_due", "exec1", f"cadence:{team.pk}:{visit.pk}:2026-03-31"),
    ]
    # never met: due every day from today on, reminded once until it is first met
    assert reminders_generate(today=today + dt.timedelta(days=1), cadences=statuses[1:2]) == 0
    reminder = Reminder.objects.get(kind="executive_visit_due")
    with translation.override("en"):
        assert reminder_text(reminder, today=today) == (
            f"{visit.title} at 华东精密: overdue by 1 day",
            f"Every {visit.every_days} days; last done 2026-01-01.",
        )
    with translation.override("zh-hans"):
        assert reminder_text(reminder, today=today)[0] == f"华东精密：{visit.title_zh}，已逾期1天"


def test_cadences_come_from_the_playbooks(team, kam, executive):
    """With the real cadence statuses: a strategic key account never visited by an
    executive is due its executive visit (to the sponsor) and its meetings (to the owner
    and key account managers)."""
    Account.objects.filter(pk=team.pk).update(account_type="strategic")
    reminders_generate()
    kinds = set(Reminder.objects.values_list("kind", "user__username"))
    assert ("executive_visit_due", "exec1") in kinds
    assert ("cadence_due", "kam1") in kinds and ("cadence_due", "kam2") in kinds
    assert ("executive_visit_due", "kam1") not in kinds


# --- once, and once per channel ------------------------------------------------------------


def birthday_reminder(team, **details):
    c = ContactFactory(account=team, name="王总", buying_role=BuyingRole.USER, influence=2)
    PersonalDetails.objects.create(contact=c, birthday=timezone.localdate() + dt.timedelta(days=2),
                                   **details)  # fmt: skip
    return c


def test_the_tick_twice_records_and_sends_each_reminder_once(
    team, hook, django_capture_on_commit_callbacks
):
    Webhook.objects.create(name="大客户群", url=hook["url"], format="wecom")
    Webhook.objects.create(name="generic", url=hook["url"], format="generic")
    Playbook.objects.update(is_active=False)  # only the birthday here
    birthday_reminder(team, family="女儿在读大学", hobbies="高尔夫")
    with django_capture_on_commit_callbacks(execute=True):
        first = run_tick("engagement.reminders")
    assert first.ok and first.detail.startswith("2 reminders"), first.detail
    assert sorted(m.to[0] for m in mail.outbox) == ["kam1@example.com", "kam2@example.com"]
    assert len(hook["received"]) == 4  # two reminders × two webhooks
    with django_capture_on_commit_callbacks(execute=True):
        second = run_tick("engagement.reminders")
    assert second.ok and second.detail == "ran this hour"
    TickRun.objects.all().delete()  # as if an hour had passed
    with django_capture_on_commit_callbacks(execute=True):
        third = run_tick("engagement.reminders")
    assert third.detail == "0 reminders, 0 retried"
    assert len(mail.outbox) == 2 and len(hook["received"]) == 4
    assert all(r.sent_at and r.attempts == 1 for r in Reminder.objects.all())
    # the email says who, where and when, nothing else; a group chat not even that
    message = mail.outbox[0]
    assert message.subject == "[KeyCare] 王总 at 华东精密: birthday in 2 days"
    assert "女儿" not in message.body and "高尔夫" not in message.body
    for payload in hook["received"]:
        text = json.dumps(payload, ensure_ascii=False)
        assert "王总" not in text and "华东精密" not in text and "birthday" not in text
        assert "/engagement/reminders/" in text
    generic = [p for p in hook["received"] if p.get("event") == "reminder"]
    assert generic[0]["kind"] == "personal_date" and set(generic[0]) == {
        "event", "kind", "user", "subject", "text", "link"}  # fmt: skip


def test_a_worker_that_died_after_the_email_sends_only_the_webhook(team, kam, hook):
    webhook = Webhook.objects.create(name="钉钉群", url=hook["url"], format="dingtalk")
    birthday_reminder(team)
    reminders_generate(cadences=[])  # in a test transaction: nothing delivered yet
    reminder = Reminder.objects.get(user=kam)
    # the first delivery: the email goes, the webhook answers 500
    hook["fail"] = 1
    with pytest.raises(OSError):
        reminder_send(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.delivered == ["email"] and reminder.sent_at is None
    assert reminder.attempts == 1 and reminder.last_error.startswith("HTTPError")
    # the retry: no second email, the webhook now
    assert reminder_send(reminder_id=reminder.pk) is True
    reminder.refresh_from_db()
    assert reminder.delivered == ["email", f"webhook:{webhook.pk}"]
    assert reminder.sent_at is not None and reminder.last_error == "" and reminder.attempts == 2
    assert [m.to for m in mail.outbox] == [[kam.email]]
    assert hook["failed"] == 1 and len(hook["received"]) == 1
    assert hook["received"][0]["msgtype"] == "text"
    assert reminder_send(reminder_id=reminder.pk) is False  # sent: never again
    # a worker killed between the email and the rest: the row says what went out
    other = Reminder.objects.exclude(pk=reminder.pk).get()
    Reminder.objects.filter(pk=other.pk).update(delivered=["email"], attempts=1)
    assert reminder_send(reminder_id=other.pk) is True
    assert len(mail.outbox) == 1 and len(hook["received"]) == 2


def test_the_email_is_in_the_users_language(team, kam, other_kam):
    from keycare.users.models import User

    User.objects.filter(pk=kam.pk).update(language="zh-hans")
    User.objects.filter(pk=other_kam.pk).update(language="en")
    Account.objects.filter(pk=team.pk).update(account_type="strategic")
    reminders_generate()
    visit = Reminder.objects.filter(kind="cadence_due", user=kam).order_by("pk").first()
    same = Reminder.objects.get(kind="cadence_due", user=other_kam, key=visit.key)
    reminder_send(reminder_id=visit.pk)
    reminder_send(reminder_id=same.pk)
    item = PlaybookItem.objects.get(pk=visit.params["item"])
    zh, en = mail.outbox
    assert zh.to == [kam.email] and item.title_zh in zh.subject and item.title not in zh.subject
    assert en.to == [other_kam.email] and item.title in en.subject


def test_delivery_failures_are_retried_by_the_tick_within_bounds(team, kam):
    birthday_reminder(team)
    reminders_generate(cadences=[])
    mine, theirs = Reminder.objects.order_by("user__username")
    two_hours_ago = timezone.now() - dt.timedelta(hours=2)
    Reminder.objects.update(created_at=two_hours_ago)
    Reminder.objects.filter(pk=theirs.pk).update(attempts=MAX_DELIVERY_ATTEMPTS)
    assert reminders_retry() == 1  # the other has had its tries
    assert reminder_send(reminder_id=theirs.pk) is False
    assert reminder_send(reminder_id=mine.pk) is True
    assert [m.to for m in mail.outbox] == [[kam.email]]
    assert reminders_retry() == 0


def test_only_active_staff_get_reminders(team, kam, other_kam):
    from keycare.users.models import User

    User.objects.filter(pk=other_kam.pk).update(is_active=False)
    birthday_reminder(team)
    reminders_generate(cadences=[])
    assert list(Reminder.objects.values_list("user__username", flat=True)) == ["kam1"]


def test_a_user_marks_only_their_own_reminders_read(team, kam, other_kam):
    birthday_reminder(team)
    reminders_generate(cadences=[])
    mine = Reminder.objects.get(user=kam)
    theirs = Reminder.objects.get(user=other_kam)
    assert reminder_mark_read(actor=kam, reminder_ids=[theirs.pk]) == 0
    assert reminder_mark_read(actor=kam, reminder_ids=[mine.pk, theirs.pk]) == 1
    assert reminder_mark_read(actor=kam, reminder_ids=[mine.pk]) == 0  # already read
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert reminder_mark_read(actor=other_kam, all_unread=True) == 1
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        reminder_mark_read(actor=kam)


# --- a fixed number of queries --------------------------------------------------------------


def busy_key_account(n, kam, other_kam, executive):
    """A key account with a birthday in three days, a decision maker never met, nobody met
    for a year, an overdue next step and a strategic playbook."""
    account = key_account(owner=kam, account_type="strategic", name=f"重点客户{n}号有限公司")
    AccountTeamMemberFactory(
        account=account, user=other_kam, role=AccountTeamRole.KEY_ACCOUNT_MANAGER
    )
    AccountTeamMemberFactory(
        account=account, user=executive, role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    boss = ContactFactory(account=account, buying_role=BuyingRole.DECISION_MAKER,
                          decision_style=DecisionStyle.LEADER)  # fmt: skip
    PersonalDetails.objects.create(
        contact=boss, birthday=timezone.localdate() + dt.timedelta(days=3)
    )
    ImportantDate.objects.create(
        contact=boss, label="纪念日", date=timezone.localdate() + dt.timedelta(days=4)
    )
    Activity.objects.create(
        account=account, kind=ActivityKind.CALL, subject="电话", status="planned", owner=kam,
        planned_at=timezone.now(), next_step="寄样品",
        next_step_due=timezone.localdate() - dt.timedelta(days=3),
    )  # fmt: skip
    age(boss, 400)
    age(account, 400)
    return account


def test_generation_takes_a_fixed_number_of_queries(
    kam, other_kam, executive, django_assert_num_queries
):
    busy_key_account(1, kam, other_kam, executive)
    # the settings, the key accounts, birthdays, important dates, next steps, the cadences
    # (the key accounts and six), the coverage twice (memberships, contacts: key persons not
    # met, dormant accounts; no colleague introduced anyone here); then the teams, the
    # users, what exists, the insert and the new ids (and the savepoint around them)
    with django_assert_num_queries(23) as one:
        created_one = reminders_generate()
    Reminder.objects.all().delete()
    for n in range(2, 4):  # 57 reminders: one insert (SQLite batches past 999 parameters)
        busy_key_account(n, kam, other_kam, executive)
    with django_assert_num_queries(len(one.captured_queries)):
        created_three = reminders_generate()
    assert created_one == 19 and created_three == 3 * created_one
    # nothing new: no insert, no read-back
    with django_assert_num_queries(len(one.captured_queries) - 2):
        assert reminders_generate() == 0


def test_what_exists_is_read_for_the_keys_of_the_batch_only(team, kam, other_kam):
    """The generation does not read every reminder of the key accounts: only the rows of
    this batch's keys (by the unique user and key), in chunks."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keycare.engagement import reminders as module

    for n in range(3):  # older reminders of the same account, of other keys
        Reminder.objects.create(user=kam, kind=ReminderKind.DORMANT_RELATIONSHIP,
                                key=f"dormant:old:{n}", account=team)  # fmt: skip
    birthday_reminder(team)
    specs = module._personal_dates(timezone.localdate())
    with CaptureQueriesContext(connection) as queries:
        assert len(module.reminders_record(specs=specs, deliver=False)) == 2
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith("SELECT") and '"engagement_reminder"."key"' in q["sql"]
             and "created_at" not in q["sql"]]  # fmt: skip
    assert len(reads) == 1 and '"account_id" IN' not in reads[0] and "dormant" not in reads[0]
    # chunked: three keys, two a query, two queries; all still recorded once
    Reminder.objects.filter(kind=ReminderKind.BIRTHDAY).delete()
    other = ContactFactory(account=team, buying_role=BuyingRole.USER, influence=1)
    PersonalDetails.objects.create(contact=other, birthday=timezone.localdate())
    ImportantDate.objects.create(contact=other, label="x", date=timezone.localdate(),
                                 yearly=False)  # fmt: skip
    specs = module._personal_dates(timezone.localdate())
    assert len({s.key for s in specs}) == 3
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "EXISTING_CHUNK", 2)
        with CaptureQueriesContext(connection) as queries:
            assert len(module.reminders_record(specs=specs, deliver=False)) == 6
            assert module.reminders_record(specs=specs, deliver=False) == []
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith("SELECT") and '"engagement_reminder"."key" IN' in q["sql"]
             and "created_at" not in q["sql"]]  # fmt: skip
    assert len(reads) == 4  # two per call


# --- personal dates follow who may still see them --------------------------------------------


def test_a_new_owner_takes_the_birthday_reminder_away_from_the_old_one(
    team, kam, other_kam, make_user
):
    """The owner changes: the former owner (no longer owner nor on the team) no longer sees
    the birthday reminder anywhere — the list, the count, the API, My week — nor is it sent
    to them; the key account manager still has it."""
    from rest_framework.test import APIClient

    from keycare.engagement.selectors.my_week import my_week
    from keycare.engagement.selectors.reminders import reminder_list, unread_count

    Playbook.objects.update(is_active=False)
    met(ContactFactory(account=team, buying_role=BuyingRole.DECISION_MAKER), 1, kam)
    birthday_reminder(team)
    reminders_generate(cadences=[])
    mine = Reminder.objects.get(user=kam, kind=ReminderKind.BIRTHDAY)
    theirs = Reminder.objects.get(user=other_kam, kind=ReminderKind.BIRTHDAY)
    assert [r.pk for r in reminder_list(actor=kam)] == [mine.pk]
    assert unread_count(actor=kam) == 1
    newcomer = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam9")
    Account.objects.filter(pk=team.pk).update(owner=newcomer)
    assert list(reminder_list(actor=kam)) == [] and unread_count(actor=kam) == 0
    assert [r.key for r in my_week(actor=kam).reminders] == []
    api = APIClient()
    api.force_authenticate(kam)
    assert api.get("/api/v1/reminders/").json()["results"] == []
    assert api.get(f"/api/v1/reminders/{mine.pk}/").status_code == 404
    assert api.get("/api/v1/reminders/unread-count/").json() == {"unread": 0}
    assert reminder_mark_read(actor=kam, all_unread=True) == 0
    # not sent to the former owner; the key account manager still gets theirs
    assert reminder_send(reminder_id=mine.pk) is False
    mine.refresh_from_db()
    assert mine.sent_at is None and mine.last_error.startswith("withdrawn")
    assert mine.attempts == MAX_DELIVERY_ATTEMPTS
    assert reminder_send(reminder_id=theirs.pk) is True
    assert [m.to for m in mail.outbox] == [[other_kam.email]]
    assert [r.pk for r in reminder_list(actor=other_kam)] == [theirs.pk]
    assert unread_count(actor=other_kam) == 1


# --- webhooks: once per event -------------------------------------------------------------


def test_an_event_for_several_users_is_posted_once_per_webhook(team, kam, other_kam, hook):
    """A dormant relationship tells three people (owner, key account manager, sponsor):
    three emails, but the group chat gets it once; a birthday (personal, anonymous) is
    posted once per user."""
    webhook = Webhook.objects.create(name="generic", url=hook["url"], format="generic")
    Playbook.objects.update(is_active=False)
    age(team, 400)
    birthday_reminder(team)
    reminders_generate(cadences=[])
    dormant = list(Reminder.objects.filter(kind=ReminderKind.DORMANT_RELATIONSHIP).order_by("-pk"))
    birthdays = list(Reminder.objects.filter(kind=ReminderKind.BIRTHDAY).order_by("pk"))
    assert len(dormant) == 3 and len(birthdays) == 2
    for reminder in dormant + birthdays:  # the highest id first: order does not matter
        assert reminder_send(reminder_id=reminder.pk) is True
    assert len(mail.outbox) == 5
    events = [p for p in hook["received"] if p["kind"] == ReminderKind.DORMANT_RELATIONSHIP]
    assert len(events) == 1 and "user" not in events[0]
    assert events[0]["key"] == dormant[0].key and events[0]["subject"].startswith("[KeyCare] ")
    assert "(for " not in events[0]["subject"]
    personal = [p for p in hook["received"] if p["kind"] == "personal_date"]
    assert sorted(p["user"]["id"] for p in personal) == sorted([kam.pk, other_kam.pk])
    lowest = min(dormant, key=lambda r: r.pk)
    lowest.refresh_from_db()
    assert lowest.delivered == ["email", f"webhook:{webhook.pk}"]
    others = [r for r in dormant if r.pk != lowest.pk]
    for reminder in others:
        reminder.refresh_from_db()
        assert reminder.delivered == ["email"] and reminder.sent_at is not None


# --- exactly once with two workers -------------------------------------------------------------


def test_the_row_stays_locked_while_it_is_sent(team, kam, monkeypatch):
    """Deterministic on any database: the email goes out inside the transaction that read
    the row with select_for_update (so a second worker waits for it), and a second worker
    after it finds the reminder sent."""
    from django.db import connection
    from django.db.models.query import QuerySet

    from keycare.engagement import reminders as module

    birthday_reminder(team)
    reminders_generate(cadences=[])
    reminder = Reminder.objects.get(user=kam)
    depth = len(connection.savepoint_ids)
    locked, seen = [], []
    original = QuerySet.select_for_update

    def select_for_update(qs, *args, **kwargs):
        locked.append(len(connection.savepoint_ids))
        return original(qs, *args, **kwargs)

    def send_mail(*args, **kwargs):
        # the lock's transaction (a savepoint here, inside the test's) is still open
        seen.append((connection.in_atomic_block, len(connection.savepoint_ids)))
        return 1

    monkeypatch.setattr(QuerySet, "select_for_update", select_for_update)
    monkeypatch.setattr(module, "send_mail", send_mail)
    assert reminder_send(reminder_id=reminder.pk) is True
    assert locked == [depth + 1] and seen == [(True, depth + 1)]
    assert reminder_send(reminder_id=reminder.pk) is False  # the second worker, after
    assert len(seen) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_send_once(team, kam):
    """PostgreSQL: a second worker starts while the first is sending: it waits on the row
    lock, then finds the reminder sent and sends nothing."""
    from unittest import mock

    from django.db import connection, connections

    birthday_reminder(team)
    reminders_generate(cadences=[], deliver=False)
    Reminder.objects.update(sent_at=None)
    reminder = Reminder.objects.get(user=kam)
    sent, second = [], {}
    if connection.vendor != "postgresql":
        # SQLite serialises writers: the second worker runs after the first and finds it sent
        with mock.patch("keycare.engagement.reminders.send_mail",
                        side_effect=lambda subject, body, sender, to: sent.append(to)):  # fmt: skip
            assert reminder_send(reminder_id=reminder.pk) is True
            assert reminder_send(reminder_id=reminder.pk) is False
        assert sent == [[kam.email]]
        return

    def worker():
        try:
            second["result"] = reminder_send(reminder_id=reminder.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)

    def send_mail(subject, body, sender, to):
        sent.append(to)
        if len(sent) == 1:
            thread.start()
            thread.join(timeout=1.0)
            second["blocked"] = thread.is_alive()  # waiting on our lock
        return 1

    with mock.patch("keycare.engagement.reminders.send_mail", side_effect=send_mail):
        assert reminder_send(reminder_id=reminder.pk) is True
        thread.join(timeout=10)
    assert second == {"blocked": True, "result": False}
    assert sent == [[kam.email]]
    reminder.refresh_from_db()
    assert reminder.delivered == ["email"] and reminder.attempts == 1
