import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, ContactFactory
from keycare.service import services
from keycare.service.calculations import csat, nps
from keycare.service.models import TicketRating
from keycare.service.tests.factories import TicketFactory


def test_nps_and_csat_reference_figures():
    assert nps(range(11)) == -45.45  # 0…10 once each: 2 promoters, 7 detractors of 11
    assert nps([10, 9, 8, 7]) == 50.0
    assert nps([]) is None
    assert csat([5, 4, 3, 1]) == 50.0
    assert csat([]) is None


@pytest.fixture
def resolved(admin_user, django_capture_on_commit_callbacks):
    account = AccountFactory()
    contact = ContactFactory(account=account, email="li@example.com")
    ticket = TicketFactory(account=account, contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(
            actor=admin_user, ticket=ticket, status="resolved", resolution="修好了"
        )
    return ticket


@pytest.mark.django_db
def test_resolving_sends_a_one_time_link_once(
    resolved, admin_user, django_capture_on_commit_callbacks
):
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@example.com"]
    assert resolved.number in mail.outbox[0].subject
    # reopen and resolve again: no second invitation
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(actor=admin_user, ticket=resolved, status="in_progress")
        services.ticket_transition(actor=admin_user, ticket=resolved, status="resolved")
    assert len(mail.outbox) == 1 and TicketRating.objects.count() == 1


@pytest.mark.django_db
def test_rating_through_the_link(client, resolved):
    link = re.search(r"/rate/[\w-]+/", mail.outbox[0].body).group(0)
    page = client.get(link)
    assert page.status_code == 200 and resolved.number in page.content.decode()
    assert client.post(link, {"score": "9"}).status_code == 400
    done = client.post(link, {"score": "5", "comment": "很及时"})
    assert 'data-testid="rating-thanks"' in done.content.decode()
    rating = TicketRating.objects.get()
    assert (rating.score, rating.comment) == (5, "很及时")
    again = client.post(link, {"score": "1"})
    assert again.status_code == 410 and "already been rated" in again.content.decode()
    assert TicketRating.objects.get().score == 5
    assert client.get(reverse("web:rate", args=["not-a-token"])).status_code == 410


@pytest.mark.django_db
def test_expired_link(client, resolved):
    TicketRating.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    link = re.search(r"/rate/[\w-]+/", mail.outbox[0].body).group(0)
    response = client.post(link, {"score": "4"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert TicketRating.objects.get().score is None
