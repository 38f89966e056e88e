"""The reminders API: one's own only (another's is a 404 and never marked), staff only,
filters shared with the page (a bad one is a 400), marking one, several or all read, the
unread count, text in the reader's language, and pinned query counts."""

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from keycare.accounts.choices import BuyingRole, DecisionStyle
from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.engagement.models import Reminder
from keycare.engagement.tests.factories import ReminderFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/reminders/"


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def ticket_reminder(user, n=1):
    account = AccountFactory(owner=user, short_name=f"精密{n}")
    boss = ContactFactory(account=account, name=f"周总{n}", buying_role=BuyingRole.DECISION_MAKER,
                          decision_style=DecisionStyle.FOLLOWER)  # fmt: skip
    return ReminderFactory(
        user=user, kind="key_person_ticket", account=account, contact=boss, key=f"ticket:{n}:filed",
        params={"ticket": n, "number": f"TK-{n}", "subject": "停机", "priority": "P3",
                "reason": "filed", "style": "follower", "role": "decision_maker"},
        link=f"/service/{n}/",
    )  # fmt: skip


def ids(response):
    return [r["id"] for r in response.json()["results"]]


def test_anonymous_and_portal_users_are_refused(portal_user, kam):
    mine = ReminderFactory(user=kam)
    # without credentials: refused (403, as everywhere in the API: session authentication
    # comes first and sends no challenge)
    anonymous = api().get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert anonymous.status_code == 403
    assert "credentials were not provided" in str(anonymous.json())
    assert api().post(f"{URL}{mine.pk}/read/").status_code == 403
    client = api(portal_user)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}read/", {"all": True}, format="json").status_code == 403
    assert client.get(f"{URL}unread-count/").status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None


@pytest.mark.parametrize("role", ["engineer", "service_manager", "kam", "executive", "admin_user"])
def test_each_staff_role_lists_only_their_own(request, role, other_kam):
    user = request.getfixturevalue(role)
    mine = ReminderFactory(user=user)
    theirs = ReminderFactory(user=other_kam)
    client = api(user)
    assert ids(client.get(URL)) == [mine.pk]
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/read/").status_code == 404
    assert client.post(f"{URL}read/", {"ids": [theirs.pk]}, format="json").json() == {
        "marked": 0, "unread": 1}  # fmt: skip
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_unread_first_with_text_in_the_readers_language(kam):
    read = ReminderFactory(user=kam, read_at=timezone.now())
    ticket = ticket_reminder(kam)
    client = api(kam)
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    assert [r["id"] for r in body["results"]] == [ticket.pk, read.pk]
    first = body["results"][0]
    assert first["title"] == "周总1 (Decision maker) at 精密1 filed a ticket: TK-1"
    assert first["body"] == ("Ticket TK-1 (P3): 停机\n"
                             "Decision style: Follower — Use the influence of others they respect.")  # fmt: skip
    assert first["link"] == "/service/1/" and first["unread"] is True
    assert first["kind_label"] == "Key person in a service ticket"
    assert first["contact_name"] == "周总1" and first["account_name"] == "精密1"
    zh = client.get(f"{URL}{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert "借助他人的影响力。" in zh["body"] and "跟随型" in zh["body"]


def test_filters_are_the_pages(kam):
    read = ReminderFactory(user=kam, read_at=timezone.now())
    ticket = ticket_reminder(kam)
    client = api(kam)
    assert ids(client.get(URL, {"status": "unread"})) == [ticket.pk]
    assert ids(client.get(URL, {"status": "read"})) == [read.pk]
    assert ids(client.get(URL, {"kind": "dormant_relationship"})) == [read.pk]
    bad = client.get(URL, {"kind": "horoscope"})
    assert bad.status_code == 400 and "kind" in str(bad.json())
    assert client.get(URL, {"status": "maybe"}).status_code == 400


def test_mark_one_several_and_all_read(kam):
    a, b, c, d = (ReminderFactory(user=kam) for _ in range(4))
    client = token_client(kam)
    one = client.post(f"{URL}{a.pk}/read/")
    assert one.status_code == 200 and one.json()["unread"] is False and one.json()["read_at"]
    assert client.post(f"{URL}{a.pk}/read/").status_code == 200  # again: unchanged
    assert client.post(f"{URL}read/", {"ids": [a.pk, b.pk]}, format="json").json() == {
        "marked": 1, "unread": 2}  # fmt: skip
    assert client.get(f"{URL}unread-count/").json() == {"unread": 2}
    assert client.post(f"{URL}read/", {"all": True}, format="json").json() == {
        "marked": 2, "unread": 0}  # fmt: skip
    assert not Reminder.objects.filter(read_at__isnull=True).exists()
    assert {c.pk, d.pk} <= set(Reminder.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("data", [{}, {"ids": []}, {"ids": ["x"]}, {"ids": [0]}, {"ids": [2**63]},
                                  {"all": "perhaps"}])  # fmt: skip
def test_bad_input_is_a_400_and_nothing_changes(kam, data):
    mine = ReminderFactory(user=kam)
    response = api(kam).post(f"{URL}read/", data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.read_at is None


def test_the_missing_choice_is_said_in_the_users_language(kam):
    response = api(kam).post(f"{URL}read/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert "Choose the reminders to mark as read." in str(response.json())


def test_list_and_detail_take_a_fixed_number_of_queries(kam, django_assert_num_queries):
    ReminderFactory(user=kam)
    ticket_reminder(kam)
    client = token_client(kam)
    # token + user, roles, count, page, guidance
    with django_assert_num_queries(5):
        assert client.get(URL).json()["count"] == 2
    for n in range(2, 8):
        ticket_reminder(kam, n)
        ReminderFactory(user=kam)
    with django_assert_num_queries(5):
        assert client.get(URL).json()["count"] == 14
    one = Reminder.objects.filter(kind="key_person_ticket").first()
    # token + user, roles, the reminder, guidance
    with django_assert_num_queries(4):
        assert client.get(f"{URL}{one.pk}/").json()["id"] == one.pk
