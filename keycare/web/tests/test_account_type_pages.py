"""The account type pages: the types page (chart, table with drill-down, filters) with a fixed
number of queries, the assessment page (questionnaire, data signals, suggestion, confirmation)
and the service strategies page, each for every role (denied requests change nothing), and
the type section of the account 360 page."""

import pytest
from django.urls import reverse

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
)
from keycare.insights.account_types import account_type_assess, account_type_confirm
from keycare.insights.models import AccountTypeAssessment, ServiceStrategy
from keycare.users.choices import Role

pytestmark = pytest.mark.django_db
ANSWERS = {"price_focus": 5, "self_service": 4, "values_advice": 2, "pays_for_service": 1,
           "joint_planning": 1, "changes_organisation": 1}  # fmt: skip


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def people(make_user, kam, other_kam, engineer, service_manager, executive, admin_user,
           portal_user):  # fmt: skip
    return {"kam": kam, "other_kam": other_kam, "engineer": engineer,
            "service_manager": service_manager, "executive": executive, "admin": admin_user,
            "portal": portal_user}  # fmt: skip


@pytest.fixture
def account(people):
    account = AccountFactory(name="华东精密机械有限公司", owner=people["kam"])
    AccountTeamMemberFactory(account=account, user=people["engineer"], role="service_engineer")
    ContactFactory(account=account, user=people["portal"])
    return account


def _state(account):
    account = Account.objects.get(pk=account.pk)
    return (account.account_type, account.version,
            list(AccountTypeAssessment.objects.values_list("pk", "confirmed_type", "reason")))  # fmt: skip


# --- the types page -------------------------------------------------------------------------


def test_the_types_page_chart_and_table(login, people, account):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    account_type_confirm(actor=people["kam"], assessment=assessment, account_type="intrinsic",
                         reason="")  # fmt: skip
    AccountFactory(name="未分类客户", owner=people["other_kam"])
    response = login(people["executive"]).get(reverse("web:insights_types"))
    assert response.status_code == 200
    chart = response.context["chart"]
    assert chart["values"] == [1, 0, 0, 1]
    assert chart["labels"] == ["Intrinsic value", "Extrinsic value", "Strategic value",
                               "No type yet"]  # fmt: skip
    assert chart["links"][0] == "?type=intrinsic"
    html = response.content.decode()
    assert 'data-chart="bar"' in html and 'id="chart-types"' in html
    assert reverse("web:account_detail", args=[account.pk]) in html
    assert reverse("web:insights_type_assess", args=[account.pk]) in html
    filtered = login(people["executive"]).get(reverse("web:insights_types"), {"type": "none"})
    assert [r["name"] for r in filtered.context["figures"]["rows"]] == ["未分类客户"]


def test_a_bad_filter_is_said_and_shows_every_account(login, people, account):
    response = login(people["executive"]).get(reverse("web:insights_types"), {"type": "gold"})
    assert response.status_code == 200
    assert "Choose intrinsic, extrinsic or strategic value, or none." in response.content.decode()
    assert [r["name"] for r in response.context["figures"]["rows"]] == ["华东精密机械有限公司"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("kam", 200), ("other_kam", 200), ("executive", 200), ("service_manager", 200),
     ("admin", 200), ("engineer", 404), ("portal", 404)],
)  # fmt: skip
def test_who_sees_the_types_page(login, people, account, who, status):
    response = login(people[who]).get(reverse("web:insights_types"))
    assert response.status_code == status
    if status == 200:
        names = [r["name"] for r in response.context["figures"]["rows"]]
        assert names == ([] if who == "other_kam" else ["华东精密机械有限公司"])


def test_the_types_page_needs_a_login(client):
    response = client.get(reverse("web:insights_types"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_the_types_page_takes_a_fixed_number_of_queries(login, people, django_assert_num_queries):
    def add(n):
        for _ in range(n):
            account = AccountFactory(owner=people["kam"])
            assessment = account_type_assess(actor=people["kam"], account=account,
                                             answers=ANSWERS)  # fmt: skip
            account_type_confirm(actor=people["kam"], assessment=assessment,
                                 account_type="intrinsic", reason="")  # fmt: skip

    add(2)
    client = login(people["executive"])
    client.get(reverse("web:insights_types"))
    # session, user, roles, counts, pending, accounts, confirming users, the region and
    # industry choices
    with django_assert_num_queries(9):
        client.get(reverse("web:insights_types"))
    add(8)
    with django_assert_num_queries(9):
        response = client.get(reverse("web:insights_types"))
    assert len(response.context["figures"]["rows"]) == 10


# --- the assessment page --------------------------------------------------------------------


def _assess_url(account):
    return reverse("web:insights_type_assess", args=[account.pk])


@pytest.mark.parametrize(
    ("who", "status", "questionnaire"),
    [("kam", 200, True), ("admin", 200, True), ("executive", 200, False),
     ("service_manager", 200, False), ("other_kam", 404, False), ("engineer", 404, False),
     ("portal", 404, False)],
)  # fmt: skip
def test_who_sees_the_assessment_page(login, people, account, who, status, questionnaire):
    response = login(people[who]).get(_assess_url(account))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert ('data-testid="questionnaire-form"' in html) is questionnaire
        assert 'data-testid="signals"' in html


def test_assess_then_confirm_another_type_with_a_reason(login, people, account):
    client = login(people["kam"])
    response = client.post(_assess_url(account), {"action": "assess", **ANSWERS})
    assert response.status_code == 302
    assessment = AccountTypeAssessment.objects.get(account=account)
    assert (assessment.suggested_type, assessment.assessed_by) == ("intrinsic", people["kam"])
    page = client.get(_assess_url(account)).content.decode()
    assert 'data-testid="confirm-form"' in page
    before = _state(account)
    refused = client.post(_assess_url(account), {"action": "confirm", "assessment": assessment.pk,
                                                 "account_type": "extrinsic", "reason": ""})  # fmt: skip
    assert refused.status_code == 400
    assert "Say why you choose another type than the suggested Intrinsic value." in (
        refused.content.decode()
    )
    assert _state(account) == before
    done = client.post(_assess_url(account), {"action": "confirm", "assessment": assessment.pk,
                                              "account_type": "extrinsic",
                                              "reason": "需要专属工程师"})  # fmt: skip
    assert done.status_code == 302
    assert Account.objects.get(pk=account.pk).account_type == "extrinsic"
    assessment.refresh_from_db()
    assert (assessment.confirmed_type, assessment.reason) == ("extrinsic", "需要专属工程师")


def test_unanswered_questions_are_shown_and_nothing_is_saved(login, people, account):
    client = login(people["kam"])
    response = client.post(_assess_url(account), {"action": "assess", **ANSWERS, "price_focus": ""})
    assert response.status_code == 400
    assert response.context["questionnaire"].errors == {"price_focus": ["Answer this question."]}
    assert "Answer this question." in response.content.decode()
    response = client.post(_assess_url(account), {"action": "assess", **ANSWERS,
                                                  "joint_planning": "9"})  # fmt: skip
    assert response.status_code == 400
    assert response.context["questionnaire"].errors == {
        "joint_planning": ["Select a valid choice. 9 is not one of the available choices."]}  # fmt: skip
    assert AccountTypeAssessment.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("executive", 403), ("service_manager", 403), ("other_kam", 404), ("engineer", 404),
     ("portal", 404)],
)  # fmt: skip
def test_denied_assessments_and_confirmations_change_nothing(login, people, account, who, status):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    before = _state(account)
    client = login(people[who])
    assert client.post(_assess_url(account), {"action": "assess", **ANSWERS}).status_code == status
    confirm = {"action": "confirm", "assessment": assessment.pk, "account_type": "intrinsic"}
    assert client.post(_assess_url(account), confirm).status_code == status
    assert _state(account) == before


def test_an_assessment_of_another_account_cannot_be_confirmed_here(login, people, account):
    elsewhere = AccountFactory(owner=people["kam"])
    theirs = account_type_assess(actor=people["kam"], account=elsewhere, answers=ANSWERS)
    before = _state(account)
    response = login(people["kam"]).post(_assess_url(account), {
        "action": "confirm", "assessment": theirs.pk, "account_type": "intrinsic"})  # fmt: skip
    assert response.status_code == 404
    assert _state(account) == before


# --- service strategies ---------------------------------------------------------------------


def _strategy_post(strategy, **changes):
    p = strategy.account_type
    data = {"account_type": p, f"{p}-lock_version": strategy.lock_version,
            f"{p}-summary": strategy.summary, f"{p}-summary_zh": strategy.summary_zh,
            f"{p}-practices": strategy.practices, f"{p}-practices_zh": strategy.practices_zh}  # fmt: skip
    data.update({f"{p}-{k}": v for k, v in changes.items()})
    return data


@pytest.mark.parametrize(
    ("who", "status", "forms"),
    [("admin", 200, True), ("executive", 200, False), ("kam", 200, False),
     ("service_manager", 200, False), ("engineer", 404, False), ("portal", 404, False)],
)  # fmt: skip
def test_who_sees_and_edits_the_strategies(login, people, who, status, forms):
    response = login(people[who]).get(reverse("web:insights_service_strategies"))
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert (
            "Partnership: executive sponsor, joint annual plan, quarterly business review" in html
        )
        assert ('data-testid="strategy-form-strategic"' in html) is forms


def test_an_administrator_saves_a_strategy(login, people):
    strategy = ServiceStrategy.objects.get(account_type="extrinsic")
    response = login(people["admin"]).post(
        reverse("web:insights_service_strategies"),
        _strategy_post(strategy, summary="专属工程师 + application support"),
    )
    assert response.status_code == 302
    strategy.refresh_from_db()
    assert (strategy.summary, strategy.lock_version, strategy.updated_by) == (
        "专属工程师 + application support", 2, people["admin"])  # fmt: skip


def test_a_stale_strategy_form_is_refused(login, people):
    strategy = ServiceStrategy.objects.get(account_type="intrinsic")
    stale = _strategy_post(strategy, summary="Mine")
    client = login(people["admin"])
    assert client.post(reverse("web:insights_service_strategies"),
                       _strategy_post(strategy, summary="Theirs")).status_code == 302  # fmt: skip
    response = client.post(reverse("web:insights_service_strategies"), stale)
    assert response.status_code == 400
    assert "Someone else changed this record while you were editing it." in (
        response.content.decode()
    )
    strategy.refresh_from_db()
    assert (strategy.summary, strategy.lock_version) == ("Theirs", 2)


@pytest.mark.parametrize(("who", "status"), [("executive", 403), ("kam", 403), ("engineer", 404),
                                             ("portal", 404)])  # fmt: skip
def test_denied_strategy_edits_change_nothing(login, people, who, status):
    strategy = ServiceStrategy.objects.get(account_type="strategic")
    response = login(people[who]).post(reverse("web:insights_service_strategies"),
                                       _strategy_post(strategy, summary="Hacked"))  # fmt: skip
    assert response.status_code == status
    strategy.refresh_from_db()
    assert (strategy.lock_version, strategy.summary[:11]) == (1, "Partnership")


# --- the account 360 page -------------------------------------------------------------------


def test_the_360_page_shows_the_type_and_its_strategy(login, people, account):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    account_type_confirm(actor=people["kam"], assessment=assessment, account_type="strategic",
                         reason="集团战略合作")  # fmt: skip
    client = login(people["kam"])
    html = client.get(reverse("web:account_detail", args=[account.pk])).content.decode()
    section = html[html.index('data-testid="account-type"') :]
    assert "Strategic value" in section
    assert f"Confirmed by {people['kam']} on " in section
    assert "Partnership: executive sponsor, joint annual plan, quarterly business review" in section
    assert "<li>Quarterly business reviews</li>" in section
    assert _assess_url(account) in section
    assert html.index('data-testid="account-type"') > html.index("Value and engagement")


def test_the_360_page_in_chinese_shows_the_chinese_strategy(login, people, account, settings):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    account_type_confirm(actor=people["kam"], assessment=assessment, account_type="intrinsic",
                         reason="")  # fmt: skip
    client = login(people["kam"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("web:account_detail", args=[account.pk])).content.decode()
    assert "高效低成本：自助服务、便捷订货" in html
    assert "<li>快速报价、便捷复购</li>" in html


def test_the_360_page_offers_an_assessment_when_untyped(login, people, account):
    html = login(people["kam"]).get(reverse("web:account_detail", args=[account.pk])).content
    html = html.decode()
    assert 'data-testid="account-type"' in html
    assert "No type yet: assess the account to get a suggestion." in html
    executive = login(people["executive"]).get(reverse("web:account_detail", args=[account.pk]))
    assert 'data-testid="assess-link"' in executive.content.decode()


@pytest.mark.parametrize("who", ["engineer", "portal"])
def test_the_360_page_has_no_type_section_for_engineers_and_customers(login, people, account, who):
    assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
    account_type_confirm(actor=people["kam"], assessment=assessment, account_type="intrinsic",
                         reason="")  # fmt: skip
    response = login(people[who]).get(reverse("web:account_detail", args=[account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="account-type"' not in html
    assert "Efficient, low-cost service" not in html


def test_the_360_type_section_takes_a_fixed_number_of_queries(
    login, people, account, django_assert_num_queries
):
    """Typed: the assessments (latest and confirming, one query) and the strategy."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(people["kam"])
    url = reverse("web:account_detail", args=[account.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as untyped:
        client.get(url)
    for n in range(3):
        assessment = account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)
        account_type_confirm(actor=people["kam"], assessment=assessment,
                             account_type="intrinsic" if n % 2 else "strategic", reason="理由")  # fmt: skip
    account_type_assess(actor=people["kam"], account=account, answers=ANSWERS)  # awaiting
    with django_assert_num_queries(len(untyped.captured_queries) + 1):
        response = client.get(url)
    info = response.context["account_type_info"]
    assert (info["account_type"], info["pending"].suggested_type) == ("strategic", "intrinsic")
    assert info["label"] == "Strategic value"


def test_the_assessment_page_shows_the_suggestion_and_its_points(login, people, account):
    client = login(people["kam"])
    client.post(_assess_url(account), {"action": "assess", **ANSWERS})
    page = client.get(_assess_url(account))
    latest = page.context["latest"]
    assert latest["totals"] == {"intrinsic": 7, "extrinsic": 1, "strategic": 0}
    html = page.content.decode()
    assert 'data-testid="points-intrinsic">7<' in html
    assert "Price decides their purchases; they push hard for discounts." in html
    assert page.context["confirm"].initial == {"assessment": latest["id"],
                                               "account_type": "intrinsic"}  # fmt: skip


def test_a_team_key_account_manager_may_assess(login, make_user, account):
    member = make_user(Role.KEY_ACCOUNT_MANAGER, username="kam-team")
    AccountTeamMemberFactory(account=account, user=member, role="key_account_manager")
    response = login(member).post(_assess_url(account), {"action": "assess", **ANSWERS})
    assert response.status_code == 302
    assert AccountTypeAssessment.objects.get(account=account).assessed_by == member


def test_the_types_page_follows_the_region_filter(client, admin_user):
    AccountFactory(name="浙江客户", province="浙江省")
    AccountFactory(name="江苏客户", province="江苏省")
    client.force_login(admin_user)
    page = client.get(reverse("web:insights_types"), {"province": "浙江省"})
    assert [r["name"] for r in page.context["figures"]["rows"]] == ["浙江客户"]
    assert page.context["figures"]["accounts"] == 1
    assert page.context["chosen"] == {"province": "浙江省"}
