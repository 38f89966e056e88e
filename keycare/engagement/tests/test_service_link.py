"""The service link: a key person's ticket tells the account team once per ticket and
reason, with the person's decision style and its guidance, in each reader's language; only
recently opened or changed tickets are read, in a fixed number of queries."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.utils import timezone, translation

from keycare.accounts.choices import AccountTeamRole, BuyingRole, DecisionStyle
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.core.ticks import run_tick
from keycare.engagement.choices import ReminderKind
from keycare.engagement.models import Reminder, StyleGuidance
from keycare.engagement.reminders import reminder_text
from keycare.engagement.service_link import key_person_tickets_check, ticket_reason
from keycare.service.models import Ticket, TicketEvent, Webhook
from keycare.service.tests.factories import TicketFactory
from keycare.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def received():
    posts: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Webhook.objects.create(
        name="generic", url=f"http://127.0.0.1:{server.server_port}/", format="generic"
    )
    yield posts
    server.shutdown()
    server.server_close()


@pytest.fixture
def account(kam, other_kam, service_manager, executive, engineer):
    """The owner kam; other_kam key account manager, the executive sponsor, the service
    manager service lead, the engineer a service engineer (not told)."""
    account = AccountFactory(owner=kam, name="华东精密机械有限公司", short_name="华东精密")
    for user, role in ((other_kam, AccountTeamRole.KEY_ACCOUNT_MANAGER),
                       (executive, AccountTeamRole.EXECUTIVE_SPONSOR),
                       (service_manager, AccountTeamRole.SERVICE_LEAD),
                       (engineer, AccountTeamRole.SERVICE_ENGINEER)):  # fmt: skip
        AccountTeamMemberFactory(account=account, user=user, role=role)
    return account


@pytest.fixture
def boss(account):
    return ContactFactory(account=account, name="周总", buying_role=BuyingRole.DECISION_MAKER,
                          decision_style=DecisionStyle.LEADER)  # fmt: skip


def told():
    return sorted(
        Reminder.objects.filter(kind=ReminderKind.KEY_PERSON_TICKET).values_list(
            "user__username", "key"
        )
    )


def team_keys(ticket, reason):
    key = f"ticket:{ticket.pk}:{reason}"
    return [("exec1", key), ("kam1", key), ("kam2", key), ("svcmgr1", key)]


def test_a_key_persons_ticket_tells_the_account_team_once(account, boss):
    ticket = TicketFactory(account=account, contact=boss, subject="主轴异响")
    assert key_person_tickets_check() == 4
    assert told() == team_keys(ticket, "filed")  # not the engineer
    assert key_person_tickets_check() == 0  # again: nothing twice
    reminder = Reminder.objects.get(user__username="kam1")
    assert reminder.link == f"/service/{ticket.pk}/" and reminder.contact == boss
    with translation.override("en"):
        title, body = reminder_text(reminder)
    assert title == f"周总 (Decision maker) at 华东精密 filed a ticket: {ticket.number}"
    assert body == (
        f"Ticket {ticket.number} (P3): 主轴异响\n"
        "Decision style: Leader — Be direct and lead with the benefits to them."
    )
    # an administrator rewrote the guidance: the text follows it
    StyleGuidance.objects.filter(style="leader").update(summary="Keep it short.")
    with translation.override("en"):
        assert reminder_text(reminder)[1].endswith("Leader — Keep it short.")


def test_one_reason_per_check_the_gravest_then_a_breach_on_top(account, boss):
    p1 = TicketFactory(account=account, contact=boss, priority="P1")
    key_person_tickets_check()
    assert told() == team_keys(p1, "p1")  # a P1 filed: one reminder, not two
    Ticket.objects.filter(pk=p1.pk).update(resolution_sla="breached")
    TicketEvent.objects.create(ticket=p1, kind="sla_breached", at=timezone.now())
    assert key_person_tickets_check() == 4
    assert told() == sorted(team_keys(p1, "p1") + team_keys(p1, "breached"))


def test_who_counts_as_a_key_person(account, boss):
    user = ContactFactory(account=account, buying_role=BuyingRole.USER, influence=3)
    strong = ContactFactory(account=account, buying_role=BuyingRole.USER, influence=4)
    coach = ContactFactory(account=account, buying_role=BuyingRole.COACH, influence=1)
    gone = ContactFactory(account=account, buying_role=BuyingRole.DECISION_MAKER, is_active=False)
    tickets = {c: TicketFactory(account=account, contact=c) for c in (user, strong, coach, gone)}
    TicketFactory(account=account)  # nobody named
    key_person_tickets_check()
    tickets_told = {k.split(":")[1] for _u, k in told()}
    assert tickets_told == {str(tickets[strong].pk), str(tickets[coach].pk)}


def test_the_role_at_the_tickets_account_counts_memberships_included(account, kam):
    """The same key persons as coverage and the reminders: a technical evaluator counts;
    a contact of another account counts by their role at the ticket's account (their
    membership), not by their main account's role."""
    from keycare.accounts.models import ContactAccount

    elsewhere = AccountFactory(owner=kam, name="集团总部")
    evaluator = ContactFactory(account=account, buying_role=BuyingRole.TECHNICAL_EVALUATOR,
                               influence=1)  # fmt: skip
    member = ContactFactory(account=elsewhere, name="陈工", buying_role=BuyingRole.USER,
                            influence=1)  # fmt: skip
    ContactAccount.objects.create(contact=member, account=account,
                                  buying_role=BuyingRole.DECISION_MAKER)  # fmt: skip
    boss_there = ContactFactory(account=elsewhere, buying_role=BuyingRole.DECISION_MAKER,
                                influence=1)  # fmt: skip
    ContactAccount.objects.create(contact=boss_there, account=account,
                                  buying_role=BuyingRole.USER)  # fmt: skip
    tickets = {c: TicketFactory(account=account, contact=c)
               for c in (evaluator, member, boss_there)}  # fmt: skip
    key_person_tickets_check()
    tickets_told = {k.split(":")[1] for _u, k in told()}
    assert tickets_told == {str(tickets[evaluator].pk), str(tickets[member].pk)}
    reminder = Reminder.objects.get(user=kam, contact=member)
    assert reminder.params["role"] == "decision_maker"


def test_only_recent_tickets_are_read(account, boss):
    old = TicketFactory(account=account, contact=boss, priority="P1",
                        opened_at=timezone.now() - dt.timedelta(days=5))  # fmt: skip
    TicketEvent.objects.filter(ticket=old).update(at=timezone.now() - dt.timedelta(days=5))
    assert key_person_tickets_check() == 0
    # an old ticket edited now is read again: still open and P1
    TicketEvent.objects.create(ticket=old, kind="priority", at=timezone.now())
    assert key_person_tickets_check() == 4
    assert {k for _u, k in told()} == {f"ticket:{old.pk}:p1"}  # not "filed": it is not new
    # a check since a moment after the last change reads nothing
    Reminder.objects.all().delete()
    assert key_person_tickets_check(since=timezone.now() + dt.timedelta(minutes=11)) == 0


def test_the_reason_rules():
    base = {"priority": "P3", "response_sla": "on_track", "resolution_sla": "on_track",
            "status": "new", "is_new": True}  # fmt: skip
    assert ticket_reason(**base) == "filed"
    assert ticket_reason(**{**base, "is_new": False}) is None
    assert ticket_reason(**{**base, "priority": "P1"}) == "p1"
    assert ticket_reason(**{**base, "priority": "P1", "status": "closed", "is_new": False}) is None
    assert ticket_reason(**{**base, "priority": "P1", "response_sla": "breached"}) == "breached"
    assert (
        ticket_reason(**{**base, "status": "resolved", "resolution_sla": "breached"}) == "breached"
    )


def test_the_tick_tells_each_in_their_language_and_the_group_in_the_sites(
    account, boss, kam, other_kam, received, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=kam.pk).update(language="zh-hans")
    User.objects.filter(pk=other_kam.pk).update(language="en")
    ticket = TicketFactory(account=account, contact=boss, subject="伺服报警")
    with django_capture_on_commit_callbacks(execute=True):
        first = run_tick("engagement.key_person_tickets")
    with django_capture_on_commit_callbacks(execute=True):
        second = run_tick("engagement.key_person_tickets")
    assert first.detail == "4 key-person ticket reminders" and second.detail.startswith("0 ")
    by = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 4 and len(received) == 1  # one event: the group told once
    zh, en = by[kam.email], by[other_kam.email]
    assert "领导型" in zh.body and "开门见山，以利益为先。" in zh.body
    assert "Be direct" not in zh.body
    assert "Leader — Be direct and lead with the benefits to them." in en.body
    assert en.body.endswith(f"/service/{ticket.pk}/")
    # the group chat gets the site's language (English in the tests), once, for all four
    assert all("Be direct" in p["text"] and p["kind"] == "key_person_ticket" for p in received)
    assert received[0]["key"] == f"ticket:{ticket.pk}:filed" and "user" not in received[0]


def test_the_check_takes_a_fixed_number_of_queries(account, boss, django_assert_num_queries):
    TicketFactory(account=account, contact=boss)
    # opened, changed, the tickets; then the teams, the users, what exists, the insert, the
    # new ids (and the savepoint around them)
    with django_assert_num_queries(10) as one:
        assert key_person_tickets_check() == 4
    for _n in range(3):
        person = ContactFactory(account=AccountFactory(owner=account.owner),
                                buying_role=BuyingRole.INFLUENCER)  # fmt: skip
        TicketFactory(account=person.account, contact=person, priority="P1")
    with django_assert_num_queries(len(one.captured_queries)):
        assert key_person_tickets_check() == 3  # the owner of each of the three new accounts
    with django_assert_num_queries(len(one.captured_queries) - 2):
        assert key_person_tickets_check() == 0
