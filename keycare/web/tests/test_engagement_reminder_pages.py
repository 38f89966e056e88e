"""The notification list: who may open it (staff, each their own), unread first, the kind
and read filters, marking one or all read (POST with CSRF; another's never), bad input
refused with nothing changed, the bell of the top bar (its count fetched by the page, so
no other page pays a query for it), and pinned query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.choices import BuyingRole, DecisionStyle
from keycare.accounts.models import ImportantDate
from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.engagement.models import Reminder
from keycare.engagement.tests.factories import ReminderFactory

pytestmark = pytest.mark.django_db
URL = "/engagement/reminders/"
READ = "/engagement/reminders/read/"


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def account(kam):
    return AccountFactory(owner=kam, name="华东精密机械有限公司", short_name="华东精密")


def ticket_reminder(user, account, n=1):
    boss = ContactFactory(account=account, name=f"周总{n}", buying_role=BuyingRole.DECISION_MAKER,
                          decision_style=DecisionStyle.CHECKER)  # fmt: skip
    return ReminderFactory(
        user=user, kind="key_person_ticket", account=account, contact=boss, key=f"ticket:{n}:p1",
        params={"ticket": n, "number": f"TK-{n}", "subject": "停机", "priority": "P1",
                "reason": "p1", "style": "checker", "role": "decision_maker"},
        link=f"/service/{n}/",
    )  # fmt: skip


def date_reminder(user, account, n=1):
    person = ContactFactory(account=account, name=f"赵总{n}")
    day = ImportantDate.objects.create(contact=person, label="女儿婚礼", yearly=False,
                                       date=timezone.localdate() + dt.timedelta(days=3))  # fmt: skip
    return ReminderFactory(user=user, kind="important_date", account=account, contact=person,
                           key=f"date:{day.pk}:x", params={"important_date": day.pk},
                           due_on=day.date, link=f"/contacts/{person.pk}/")  # fmt: skip


def rows(response):
    return [(e.reminder.pk, e.title) for e in response.context["entries"]]


# --- who ------------------------------------------------------------------------------------


def test_anonymous_visitors_log_in_and_portal_users_are_refused(client, portal_user, kam):
    mine = ReminderFactory(user=kam)
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post(READ, {"reminder": mine.pk}).status_code == 302
    client.force_login(portal_user)
    assert client.get(URL).status_code == 403
    assert client.post(READ, {"all": "1"}).status_code == 403
    assert client.get(reverse("web:reminder_badge")).status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None


@pytest.mark.parametrize("role", ["engineer", "service_manager", "kam", "executive", "admin_user"])
def test_each_staff_role_sees_only_their_own(request, login, role, other_kam):
    user = request.getfixturevalue(role)
    mine = ReminderFactory(user=user)
    ReminderFactory(user=other_kam)
    response = login(user).get(URL)
    assert response.status_code == 200
    assert [pk for pk, _t in rows(response)] == [mine.pk]


# --- the list -------------------------------------------------------------------------------


def test_unread_first_with_their_text_and_links(login, kam, account):
    read = ReminderFactory(user=kam, account=account, read_at=timezone.now())
    older = ReminderFactory(user=kam, account=account)
    Reminder.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    ticket = ticket_reminder(kam, account)
    response = login(kam).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert [pk for pk, _t in rows(response)] == [ticket.pk, older.pk, read.pk]
    html = response.content.decode()
    assert "周总1 (Decision maker) at 华东精密 is the contact of a P1 ticket: TK-1" in html
    assert (
        "Decision style: Checker — Bring evidence and detail, and acknowledge their rigour." in html
    )
    assert 'href="/service/1/"' in html
    assert "华东精密: nobody met yet" in html
    assert response.context["unread"] == 2
    assert html.count('data-testid="reminder-read"') == 2  # a button on each unread one


def test_the_text_is_in_the_readers_language(login, kam, account):
    ticket_reminder(kam, account)
    client = login(kam)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(URL).content.decode()
    assert "拿出证据和细节，肯定对方的严谨。" in html and "检查型" in html


def test_filters_by_read_state_and_kind_and_refuses_a_bad_one(login, kam, account):
    read = ReminderFactory(user=kam, account=account, read_at=timezone.now())
    ticket = ticket_reminder(kam, account)
    dormant = ReminderFactory(user=kam, account=account)
    client = login(kam)
    assert [pk for pk, _t in rows(client.get(URL, {"status": "unread"}))] == [dormant.pk, ticket.pk]
    assert [pk for pk, _t in rows(client.get(URL, {"status": "read"}))] == [read.pk]
    kinds = client.get(URL, {"kind": "key_person_ticket"})
    assert [pk for pk, _t in rows(kinds)] == [ticket.pk]
    bad = client.get(URL, {"kind": "horoscope"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and rows(bad) == []
    assert (
        "horoscope" in bad.content.decode()
        and 'data-testid="reminder-errors"' in bad.content.decode()
    )
    fragment = client.get(URL, {"kind": "key_person_ticket"}, HTTP_HX_REQUEST="true")
    assert fragment.content.decode().startswith('<div class="card" id="reminder-list">')


def test_the_occasion_shows_only_while_the_reader_may_see_it(login, kam, other_kam, account):
    mine = date_reminder(kam, account)
    theirs = date_reminder(other_kam, account, 2)  # other_kam is not on the account's team
    html = login(kam).get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Occasion: 女儿婚礼." in html and "important date in 3 days" in html
    # other_kam may not see that person's personal data: the reminder is not theirs to see
    response = login(other_kam).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "女儿婚礼" not in html and "important date in 3 days" not in html
    assert rows(response) == [] and response.context["unread"] == 0
    assert mine.pk != theirs.pk


# --- marking read ---------------------------------------------------------------------------


def test_mark_one_then_all_read(login, kam, account):
    first, second, third = (ReminderFactory(user=kam, account=account) for _ in range(3))
    client = login(kam)
    response = client.post(
        READ, {"reminder": first.pk, "next": "/engagement/reminders/?kind=dormant_relationship"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/engagement/reminders/?kind=dormant_relationship"
    assert list(Reminder.objects.filter(read_at__isnull=False).values_list("pk", flat=True)) == [
        first.pk
    ]
    response = client.post(READ, {"all": "1", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == URL
    assert Reminder.objects.filter(read_at__isnull=True).count() == 0
    assert {second.pk, third.pk} <= set(Reminder.objects.values_list("pk", flat=True))


def test_another_users_reminder_is_never_marked(login, kam, other_kam):
    theirs = ReminderFactory(user=other_kam)
    response = login(kam).post(
        READ, {"reminder": theirs.pk}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "0 reminders marked as read." in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize(
    "data", [{}, {"reminder": "abc"}, {"reminder": str(2**63)}, {"reminder": "-1"}]
)
def test_bad_input_is_refused_and_nothing_changes(login, kam, data):
    mine = ReminderFactory(user=kam)
    response = login(kam).post(READ, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert 'data-testid="reminder-errors"' in response.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is None


def test_marking_read_needs_the_csrf_token(kam):
    mine = ReminderFactory(user=kam)
    client = Client(enforce_csrf_checks=True)
    client.force_login(kam)
    assert client.post(READ, {"reminder": mine.pk}).status_code == 403
    page = client.get(URL)
    token = page.cookies["csrftoken"].value
    assert client.post(READ, {"reminder": mine.pk, "csrfmiddlewaretoken": token}).status_code == 302
    mine.refresh_from_db()
    assert mine.read_at is not None


# --- the bell -------------------------------------------------------------------------------


def test_the_bell_is_for_staff_and_costs_other_pages_no_query(login, kam, portal_user):
    ReminderFactory(user=kam)
    ReminderFactory(user=kam, read_at=timezone.now())
    client = login(kam)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/").content.decode()
    assert 'data-testid="reminder-bell"' in html and reverse("web:reminder_badge") in html
    assert not any("engagement_reminder" in q["sql"] for q in queries.captured_queries)
    badge = client.get(reverse("web:reminder_badge")).content.decode()
    assert 'data-testid="reminder-badge-count">1<' in badge
    Reminder.objects.update(read_at=timezone.now())
    assert "reminder-badge-count" not in client.get(reverse("web:reminder_badge")).content.decode()
    html = login(portal_user).get("/").content.decode()
    assert 'data-testid="reminder-bell"' not in html


def test_the_badge_takes_one_query_after_the_session(login, kam, django_assert_num_queries):
    ReminderFactory(user=kam)
    client = login(kam)
    with django_assert_num_queries(4):  # session, user, roles, the count
        client.get(reverse("web:reminder_badge"))


def test_the_list_takes_a_fixed_number_of_queries(login, kam, account, django_assert_num_queries):
    ReminderFactory(user=kam, account=account)
    ticket_reminder(kam, account)
    date_reminder(kam, account)
    client = login(kam)
    # session, user, roles, the count, the page, the unread count, the guidance, the
    # occasions (with the personal-data rule)
    with django_assert_num_queries(8):
        assert client.get(URL).status_code == 200
    for n in range(2, 7):
        ReminderFactory(user=kam, account=AccountFactory(owner=kam))
        ticket_reminder(kam, account, n)
        date_reminder(kam, account, n)
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert len(rows(response)) == 18
