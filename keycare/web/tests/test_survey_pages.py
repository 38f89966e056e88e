"""The public NPS page behind the one-time link, and the account page's send button."""

import datetime as dt
import itertools
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from keycare.accounts.choices import AccountTeamRole
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.service import surveys
from keycare.service.models import NpsSurvey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(kam, other_kam, engineer):
    mine = AccountFactory(owner=kam, name="华鑫汽车")
    AccountTeamMemberFactory(account=mine, user=engineer, role=AccountTeamRole.SERVICE_LEAD)
    other = AccountFactory(owner=other_kam, name="远东钢铁")
    li = ContactFactory(account=mine, name="李工", email="li@huaxin.example")
    return {"mine": mine, "other": other, "li": li}


@pytest.fixture
def link(world, kam):
    _survey, token = surveys.nps_survey_send(actor=kam, account=world["mine"], contact=world["li"])
    return reverse("web:nps", args=[token])


def test_the_public_page_asks_the_standard_question(client, link):
    page = client.get(link)
    html = page.content.decode()
    assert page.status_code == 200
    assert "How likely are you to recommend us to a colleague or business partner?" in html
    assert re.findall(r'name="score" id="score-(\d+)"', html) == [str(i) for i in range(11)]
    assert "华鑫汽车" in html and 'name="comment"' in html


def test_answering_once(client, link):
    done = client.post(link, {"score": "0", "comment": "备件太慢"})
    assert done.status_code == 200 and 'data-testid="nps-thanks"' in done.content.decode()
    survey = NpsSurvey.objects.get()
    assert (survey.score, survey.comment) == (0, "备件太慢")
    again = client.post(link, {"score": "10"})
    assert again.status_code == 410 and "already been answered" in again.content.decode()
    assert client.get(link).status_code == 410
    assert NpsSurvey.objects.get().score == 0


@pytest.mark.parametrize("score", ["11", "-1", "", "ten"])
def test_a_score_outside_the_scale_shows_the_form_again(client, link, score):
    response = client.post(link, {"score": score, "comment": "还行"})
    html = response.content.decode()
    assert response.status_code == 400 and "Choose a score from 0 to 10." in html
    assert 'data-testid="nps-form"' in html and "还行" in html
    assert NpsSurvey.objects.get().responded_at is None


def test_expired_and_invalid_links(client, link):
    assert client.get(reverse("web:nps", args=["not-a-token"])).status_code == 410
    NpsSurvey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.post(link, {"score": "8"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert NpsSurvey.objects.get().score is None


def test_kam_sends_the_account_surveys_from_the_account_page(
    client, world, kam, django_capture_on_commit_callbacks
):
    ContactFactory(account=world["mine"], email="zhou@huaxin.example")
    ContactFactory(account=world["mine"], email="")
    client.force_login(kam)
    url = reverse("web:account_nps_send", args=[world["mine"].pk])
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert response.redirect_chain == [
        (reverse("web:account_detail", args=[world["mine"].pk]), 302)
    ]
    assert "2 NPS surveys sent." in [str(m) for m in response.context["messages"]]
    assert sorted(m.to[0] for m in mail.outbox) == ["li@huaxin.example", "zhou@huaxin.example"]
    again = client.post(url, follow=True)
    assert [str(m)[:18] for m in again.context["messages"]] == ["No NPS survey sent"]
    assert NpsSurvey.objects.count() == 2


@pytest.mark.parametrize(("who", "status"), [("engineer", 403), ("executive", 403),
                                             ("other_kam", 404), ("portal_user", 404)])  # fmt: skip
def test_sending_is_refused_and_nothing_is_created(request, client, world, who, status):
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("web:account_nps_send", args=[world["mine"].pk]))
    assert response.status_code == status
    assert NpsSurvey.objects.count() == 0


def test_sending_needs_a_login(client, world):
    response = client.post(reverse("web:account_nps_send", args=[world["mine"].pk]))
    assert response.status_code == 302 and "/login/" in response.url
    assert NpsSurvey.objects.count() == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_answering_on_a_phone(live_server, page: Page):
    from keycare.users.tests.factories import UserFactory

    kam = UserFactory(roles=["key_account_manager"], username="kam-phone")
    account = AccountFactory(owner=kam, name="华鑫汽车")
    contact = ContactFactory(account=account, name="李工", email="li@huaxin.example")
    _survey, token = surveys.nps_survey_send(actor=kam, account=account, contact=contact)
    for width in (360, 430, 575, 1024):
        page.set_viewport_size({"width": width, "height": 780})
        page.goto(f"{live_server.url}/nps/{token}/")
        # nothing wider than the screen; every score a tap target inside the card, none on
        # top of another (phones get two rows: 0–5 and 6–10)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        scale = page.get_by_test_id("nps-scale").bounding_box()
        boxes = [page.locator(f"label[for=score-{i}]").bounding_box() for i in range(11)]
        assert all(b["width"] >= 30 and b["height"] >= 30 for b in boxes), (width, boxes)
        assert all(scale["x"] - 0.5 <= b["x"] and b["x"] + b["width"] <= scale["x"] + scale["width"] + 0.5
                   for b in boxes), (width, scale, boxes)  # fmt: skip
        for a, b in itertools.pairwise(boxes):
            assert b["x"] >= a["x"] + a["width"] or b["y"] >= a["y"] + a["height"], (width, a, b)
        rows = len({round(b["y"]) for b in boxes})
        assert rows == (2 if width < 576 else 1), (width, rows)
    page.locator("label[for=score-9]").click()
    page.fill("#id_comment", "工程师很专业")
    page.get_by_test_id("nps-submit").click()
    expect(page.get_by_test_id("nps-thanks")).to_be_visible()
    survey = NpsSurvey.objects.get()
    assert (survey.score, survey.comment) == (9, "工程师很专业")
