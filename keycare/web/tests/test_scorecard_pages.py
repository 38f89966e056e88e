"""The value scorecard pages and API: the ranking with explanations, editing and publishing
a draft, the account team's judgements, key account designation, the single-metric and
big-order comparisons, permissions per role and pinned query counts."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.insights.models import KeyAccount, KeyAccountChange, QualitativeScore, Scorecard

pytestmark = pytest.mark.django_db
QUERIES = 14  # the ranking page, whatever the number of accounts


def _book(n: int, owner=None):
    """n accounts with one order each last month: revenue 10k, 20k, … and cost 5k."""
    accounts = []
    day = timezone.localdate() - dt.timedelta(days=30)
    for i in range(n):
        account = AccountFactory(name=f"价值客户{i:02d}", owner=owner if i == 0 else None)
        product = ProductFactory(list_price=Decimal(10_000 * (i + 1)), standard_cost=Decimal(5_000))
        OrderFactory(account=account, order_date=day, lines=[{"product": product, "quantity": 1}])
        accounts.append(account)
    return accounts


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_ranking_explains_every_score_and_exports(client, admin_user):
    accounts = _book(3)
    client.force_login(admin_user)
    page = client.get("/insights/scorecard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="scorecard-ranking"' in html and "价值客户02" in html
    ranking = page.context["figures"]["rows"]
    # the seeded scorecard: the biggest account leads; every row carries its nine criteria
    assert [r["name"] for r in ranking] == ["价值客户02", "价值客户01", "价值客户00"]
    assert all(len(r["breakdown"]) == 9 for r in ranking)
    assert all(abs(sum(p["weighted"] for p in r["breakdown"]) - r["score"]) < 0.06 for r in ranking)
    export = client.get("/insights/scorecard/?export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("#", "Account", "Score", "Grade")
    assert [r[1] for r in rows[2:]] == ["价值客户02", "价值客户01", "价值客户00"]
    assert rows[2][2] == ranking[0]["score"]
    detail = client.get(f"/insights/scorecard/{accounts[2].pk}/")
    assert detail.status_code == 200
    assert detail.context["explained"]["rank"] == 1
    assert 'data-testid="score-breakdown"' in detail.content.decode()
    assert client.get("/insights/scorecard/?grade=Q").context["errors"] == {
        "grade": ["Choose grade A, B or C."]
    }


def test_an_administrator_edits_and_publishes_a_draft(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/insights/scorecard/draft/").status_code == 404  # no draft yet
    assert client.post("/insights/scorecard/versions/", {"action": "draft"}).status_code == 302
    draft = Scorecard.objects.get(status="draft")
    form = client.get("/insights/scorecard/draft/")
    assert form.status_code == 200 and form.context["total"] == 100
    data = {"name": "2027 计分卡", "grade_a": "65", "grade_b": "35", "proposals": "10",
            "notes": "", "lock_version": str(draft.lock_version),
            "c-TOTAL_FORMS": "3", "c-INITIAL_FORMS": "0", "c-MIN_NUM_FORMS": "0",
            "c-MAX_NUM_FORMS": "40",
            "c-0-key": "gross_profit", "c-0-weight": "70", "c-0-normalisation": "percentile",
            "c-0-higher_is_better": "1",
            "c-1-key": "q:strategic_fit", "c-1-weight": "20", "c-1-normalisation": "range",
            "c-1-higher_is_better": "", "c-1-parameters": "1;10",
            "c-2-key": "", "c-2-weight": "", "c-2-normalisation": "minmax"}  # fmt: skip
    bad = client.post("/insights/scorecard/draft/", {**data, "action": "publish"})
    assert bad.status_code == 400
    assert "The weights must sum to 100; they sum to 90." in bad.content.decode()
    draft.refresh_from_db()
    assert (draft.status, draft.name, draft.criteria.count()) == ("draft", draft.name, 9)
    unparsable = client.post("/insights/scorecard/draft/", {**data, "c-1-parameters": "one to ten"})
    assert unparsable.status_code == 400
    good = {**data, "c-2-key": "recency_days", "c-2-weight": "10", "c-2-normalisation": "thresholds",
            "c-2-parameters": "30:100; 90:60; 180:20", "action": "publish"}  # fmt: skip
    assert client.post("/insights/scorecard/draft/", good).status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.name, float(draft.grade_a)) == ("active", "2027 计分卡", 65.0)
    recency = draft.criteria.get(metric="recency_days")
    assert (recency.higher_is_better, recency.parameters) == (
        False,
        [[30, 100], [90, 60], [180, 20]],
    )
    assert Scorecard.objects.get(version=1).status == "retired"


def test_only_administrators_configure_the_scorecard(client, executive, kam, admin_user):
    for user in (executive, kam):
        client.force_login(user)
        assert client.get("/insights/scorecard/versions/").status_code == 200
        assert client.post("/insights/scorecard/versions/", {"action": "draft"}).status_code == 404
        assert client.get("/insights/scorecard/draft/").status_code == 404
        response = _api(user).post("/api/v1/insights/scorecards/")
        assert response.status_code == 403
        assert _api(user).post("/api/v1/insights/qualitative-criteria/", {
            "key": "x", "name": "X", "name_zh": "X"}).status_code == 403  # fmt: skip
    assert not Scorecard.objects.filter(status="draft").exists()
    api = _api(admin_user)
    draft = api.post("/api/v1/insights/scorecards/").json()
    assert (draft["status"], draft["version"]) == ("draft", 2)
    patched = api.patch(f"/api/v1/insights/scorecards/{draft['id']}/", {
        "criteria": [{"key": "revenue", "weight": 60, "normalisation": "minmax"},
                     {"key": "growth", "weight": 30, "normalisation": "percentile"}]},
        format="json")  # fmt: skip
    assert patched.status_code == 400
    assert patched.json()["extra"]["fields"]["criteria"] == [
        "The weights must sum to 100; they sum to 90."
    ]
    stale = api.patch(f"/api/v1/insights/scorecards/{draft['id']}/",
                      {"name": "x", "lock_version": 99}, format="json")  # fmt: skip
    assert stale.status_code == 409
    ok = api.patch(f"/api/v1/insights/scorecards/{draft['id']}/", {
        "criteria": [{"key": "revenue", "weight": 100, "normalisation": "minmax"}],
        "lock_version": draft["lock_version"]}, format="json")  # fmt: skip
    assert ok.status_code == 200 and ok.json()["criteria"][0]["key"] == "revenue"
    published = api.post(f"/api/v1/insights/scorecards/{draft['id']}/publish/")
    assert published.json()["status"] == "active"
    assert api.patch(f"/api/v1/insights/scorecards/{draft['id']}/", {"name": "y"},
                     format="json").status_code == 400  # fmt: skip
    created = api.post("/api/v1/insights/qualitative-criteria/", {
        "key": "innovation", "name": "Innovation partner", "name_zh": "创新伙伴"})  # fmt: skip
    assert created.status_code == 201


def test_the_account_team_judges_its_own_accounts(client, kam, other_kam):
    mine = AccountFactory(name="我的客户", owner=kam)
    client.force_login(other_kam)
    assert client.get(f"/insights/scorecard/{mine.pk}/judgements/").status_code == 404
    assert client.post(f"/insights/scorecard/{mine.pk}/judgements/",
                       {"score_strategic_fit": "9"}).status_code == 404  # fmt: skip
    assert _api(other_kam).put(f"/api/v1/insights/scorecard/{mine.pk}/judgements/",
                               {"scores": {"strategic_fit": 9}}, format="json").status_code == 404  # fmt: skip
    assert not QualitativeScore.objects.exists()
    client.force_login(kam)
    bad = client.post(f"/insights/scorecard/{mine.pk}/judgements/", {"score_strategic_fit": "11"})
    assert bad.status_code == 400 and not QualitativeScore.objects.exists()
    saved = client.post(f"/insights/scorecard/{mine.pk}/judgements/",
                        {"score_strategic_fit": "9", "note_strategic_fit": "新工厂"})  # fmt: skip
    assert saved.status_code == 302
    score = QualitativeScore.objects.get()
    assert (score.criterion.key, score.score, score.note) == ("strategic_fit", 9, "新工厂")
    api = _api(kam).put(f"/api/v1/insights/scorecard/{mine.pk}/judgements/",
                        {"scores": {"strategic_fit": None, "growth_potential": 7}}, format="json")  # fmt: skip
    assert api.status_code == 200
    assert set(api.json()) == {"growth_potential"}


def test_executives_confirm_key_accounts_others_cannot(client, executive, kam, admin_user):
    accounts = _book(3, owner=kam)
    client.force_login(kam)
    page = client.get("/insights/key-accounts/")
    assert page.status_code == 200 and not page.context["may_designate"]
    refused = client.post(f"/insights/key-accounts/{accounts[0].pk}/",
                          {"reason": "我想要"}, follow=True)  # fmt: skip
    assert "Only executives and administrators designate key accounts." in refused.content.decode()
    assert _api(kam).post("/api/v1/insights/key-accounts/", {
        "account": accounts[0].pk, "reason": "x"}).status_code == 403  # fmt: skip
    assert not KeyAccount.objects.exists()
    client.force_login(executive)
    page = client.get("/insights/key-accounts/")
    assert [p["name"] for p in page.context["figures"]["proposals"]] == [
        "价值客户02", "价值客户01", "价值客户00"]  # fmt: skip
    no_reason = client.post(
        f"/insights/key-accounts/{accounts[2].pk}/", {"reason": ""}, follow=True
    )
    assert "Give the reason for the decision." in no_reason.content.decode()
    evil = client.post(f"/insights/key-accounts/{accounts[2].pk}/",
                       {"reason": "利润最高", "next": "/\\evil.example/"})  # fmt: skip
    assert evil["Location"] == "/insights/key-accounts/"  # never off the site
    key = KeyAccount.objects.get()
    assert (key.account, key.by_hand, key.confirmed_by) == (accounts[2], False, executive)
    assert key.score is not None and key.scorecard.version == 1
    prospect = AccountFactory(name="战略新客户", status="prospect")  # no score: by hand
    by_hand = _api(admin_user).post("/api/v1/insights/key-accounts/", {
        "account": prospect.pk, "reason": "战略伙伴", "by_hand": False})  # fmt: skip
    assert by_hand.status_code == 201
    assert (by_hand.json()["by_hand"], by_hand.json()["score"]) == (True, None)
    accounts[0] = prospect
    removed = _api(admin_user).post(f"/api/v1/insights/key-accounts/{accounts[0].pk}/remove/",
                                    {"reason": "合作结束"})  # fmt: skip
    assert removed.status_code == 204
    assert list(KeyAccountChange.objects.order_by("id").values_list("action", flat=True)) == [
        "designated", "designated", "removed"]  # fmt: skip
    page = client.get("/insights/key-accounts/")
    assert [k["name"] for k in page.context["figures"]["key_accounts"]] == ["价值客户02"]


def test_single_metric_and_big_order_pages_warn(client, admin_user):
    _book(5)
    client.force_login(admin_user)
    single = client.get("/insights/single-metric/?metric=revenue")
    html = single.content.decode()
    assert 'data-testid="metric-warning"' in html and "误区1" in html
    assert single.context["figures"]["metric"] == "revenue"
    assert single.context["figures"]["spearman"] is not None
    big = client.get("/insights/big-orders/")
    assert "误区3" in big.content.decode()
    assert big.context["figures"]["metric"] == "largest_order"
    # a period in the API's query string (a QueryDict) is read as its values, not as lists
    dated = _api(admin_user).get("/api/v1/insights/big-orders/",
                                 {"period_from": "2026-01-01", "period_to": "2026-12-31"})  # fmt: skip
    assert dated.status_code == 200 and dated.json()["metric"] == "largest_order"
    assert client.get("/insights/single-metric/?metric=bogus").context["errors"] == {
        "metric": ["Choose one of the metrics."]
    }
    api = _api(admin_user).get("/api/v1/insights/single-metric/", {"metric": "orders"})
    assert api.status_code == 200 and api.json()["metric"] == "orders"
    assert (
        _api(admin_user).get("/api/v1/insights/single-metric/", {"metric": "x"}).status_code == 400
    )


@pytest.mark.parametrize("page", ["/insights/scorecard/", "/insights/key-accounts/",
                                  "/insights/single-metric/", "/insights/big-orders/"])  # fmt: skip
def test_those_who_do_not_see_orders_do_not_see_scores(client, engineer, portal_user, page):
    _book(2)
    for user in (engineer, portal_user):
        client.force_login(user)
        assert client.get(page).status_code == 404
    assert _api(engineer).get("/api/v1/insights/scorecard/").status_code == 403
    client.logout()
    assert client.get(page).status_code == 302  # to the login page


def test_a_key_account_manager_sees_the_scores_of_own_accounts_only(client, kam):
    accounts = _book(3, owner=kam)
    client.force_login(kam)
    rows = client.get("/insights/scorecard/").context["figures"]["rows"]
    assert [r["name"] for r in rows] == ["价值客户00"]
    assert rows[0]["rank"] == 3  # the rank among all accounts, not only the visible ones
    assert client.get(f"/insights/scorecard/{accounts[1].pk}/").status_code == 404
    assert _api(kam).get(f"/api/v1/insights/scorecard/{accounts[1].pk}/").status_code == 404
    assert _api(kam).get(f"/api/v1/insights/scorecard/{accounts[0].pk}/").json()["rank"] == 3


def test_the_ranking_page_runs_a_fixed_number_of_queries(
    client, admin_user, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keycare.insights.metrics import metrics_recompute, trailing_twelve_months

    client.force_login(admin_user)
    counts = []
    for n, more in ((2, 2), (12, 10)):
        _book(more)
        start, end = trailing_twelve_months()
        metrics_recompute(start=start, end=end)
        with django_capture_on_commit_callbacks(execute=True):  # new figures: stale scores
            client.get("/insights/scorecard/")  # served, recomputed by the task after it
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/insights/scorecard/")
        assert len(response.context["figures"]["rows"]) == n
        counts.append(len(captured.captured_queries))
    assert counts == [QUERIES, QUERIES]


def test_the_360_page_shows_the_value_section(client, kam, engineer, executive):
    from keycare.accounts.tests.factories import AccountTeamMemberFactory
    from keycare.insights.metrics import trailing_twelve_months
    from keycare.insights.scorecard import key_account_designate, scorecard_active, scores_ensure

    accounts = _book(3, owner=kam)
    AccountTeamMemberFactory(account=accounts[0], user=engineer, role="service_engineer")
    client.force_login(kam)
    before = client.get(f"/accounts/{accounts[0].pk}/").content.decode()
    assert "Not scored yet" in before  # a page view computes nothing
    start, end = trailing_twelve_months()
    scores_ensure(scorecard=scorecard_active(), start=start, end=end)
    key_account_designate(actor=executive, account=accounts[0], reason="区域标杆")
    page = client.get(f"/accounts/{accounts[0].pk}/")
    value = page.context["value"]
    assert (value["score"]["rank"], value["key_account"].reason) == (3, "区域标杆")
    assert len(value["score"]["top"]) == 3
    html = page.content.decode()
    assert 'data-testid="value-score"' in html and 'data-testid="key-account-badge"' in html
    client.force_login(engineer)
    html = client.get(f"/accounts/{accounts[0].pk}/").content.decode()
    assert "Value figures are shown to those who may see orders." in html
    assert 'data-testid="value-score"' not in html


def test_without_a_scorecard_in_use_the_pages_say_so(client, admin_user):
    (account,) = _book(1)
    Scorecard.objects.all().delete()
    client.force_login(admin_user)
    for url in ("/insights/scorecard/", "/insights/single-metric/", "/insights/big-orders/",
                "/insights/key-accounts/", f"/insights/scorecard/{account.pk}/",
                "/insights/scorecard/?export=xlsx"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200, url
        assert "No value scorecard is active." in response.content.decode(), url
    assert _api(admin_user).get("/api/v1/insights/scorecard/").status_code == 400


def test_a_prospect_has_no_score(client, admin_user):
    _book(2)
    account = AccountFactory(name="潜在客户", status="prospect")
    client.force_login(admin_user)
    page = client.get(f"/insights/scorecard/{account.pk}/")
    assert page.status_code == 200 and 'data-testid="no-score"' in page.content.decode()
    assert _api(admin_user).get(f"/api/v1/insights/scorecard/{account.pk}/").status_code == 404


def test_the_page_shows_the_best_hundred_and_the_export_all(client, admin_user):
    from keycare.web.views import scorecard as views

    _book(5)
    client.force_login(admin_user)
    views_rows, views.TABLE_ROWS = views.TABLE_ROWS, 3
    try:
        page = client.get("/insights/scorecard/")
        export = client.get("/insights/scorecard/?export=xlsx")
    finally:
        views.TABLE_ROWS = views_rows
    figures = page.context["figures"]
    assert (figures["shown"], figures["accounts"], page.context["total"]) == (3, 5, 5)
    assert sum(figures["grades"].values()) == 5
    assert "The first 3 of 5 accounts." in page.content.decode()
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 2 + 5
