"""Account types (大客户分类): the questionnaire and the data rules with exact points and
suggestions, the signals read from orders and tickets, assessing and confirming (another type
than suggested needs a reason; earlier assessments are kept), who may do what, the service
strategies with their edit version, and the reads with a fixed number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from keycare.accounts.models import Account
from keycare.accounts.tests.factories import (
    AccountFactory,
    AccountTeamMemberFactory,
    ContactFactory,
    OrderFactory,
    ProductFactory,
)
from keycare.core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from keycare.insights.account_type_selectors import (
    account_type_get,
    account_type_overview,
    account_type_signals,
    service_strategy_list,
    typed_account_list,
)
from keycare.insights.account_types import (
    QUESTIONS,
    account_type_assess,
    account_type_confirm,
    account_type_score,
    data_points,
    derive_signals,
    points_explained,
    questionnaire_clean,
    rule_label,
    service_strategy_update,
)
from keycare.insights.defaults import insights_defaults_ensure
from keycare.insights.metrics import metrics_ensure, trailing_twelve_months
from keycare.insights.models import AccountTypeAssessment, ServiceStrategy
from keycare.service.models import Ticket
from keycare.service.tests.factories import TicketFactory
from keycare.users.choices import Role

NONE = {"discount_depth": None, "service_intensity": None, "consultative_share": None}
PRICE_BUYER = {"price_focus": 5, "self_service": 4, "values_advice": 2, "pays_for_service": 1,
               "joint_planning": 1, "changes_organisation": 1}  # fmt: skip
PARTNER = {"price_focus": 2, "self_service": 1, "values_advice": 4, "pays_for_service": 3,
           "joint_planning": 5, "changes_organisation": 5}  # fmt: skip
NEUTRAL = dict.fromkeys(PRICE_BUYER, 3)


# --- scoring (pure) -------------------------------------------------------------------------


def test_six_questions_two_per_type():
    assert [(q.key, q.account_type) for q in QUESTIONS] == [
        ("price_focus", "intrinsic"), ("self_service", "intrinsic"),
        ("values_advice", "extrinsic"), ("pays_for_service", "extrinsic"),
        ("joint_planning", "strategic"), ("changes_organisation", "strategic"),
    ]  # fmt: skip


def test_a_price_buyer_is_intrinsic_with_every_point_explained():
    signals = {"discount_depth": 20.0, "service_intensity": 0.5, "consultative_share": None}
    scored = account_type_score(PRICE_BUYER, signals)
    assert scored["totals"] == {"intrinsic": 11, "extrinsic": 1, "strategic": 0}
    assert scored["suggested"] == "intrinsic"
    assert scored["rules"] == [
        {"rule": "q:price_focus", "type": "intrinsic", "points": 4, "value": 5},
        {"rule": "q:self_service", "type": "intrinsic", "points": 3, "value": 4},
        {"rule": "q:values_advice", "type": "extrinsic", "points": 1, "value": 2},
        {"rule": "q:pays_for_service", "type": "extrinsic", "points": 0, "value": 1},
        {"rule": "q:joint_planning", "type": "strategic", "points": 0, "value": 1},
        {"rule": "q:changes_organisation", "type": "strategic", "points": 0, "value": 1},
        {"rule": "discount_deep", "type": "intrinsic", "points": 3, "value": 20.0},
        {"rule": "service_low", "type": "intrinsic", "points": 1, "value": 0.5},
    ]


def test_a_partner_is_strategic_even_when_the_data_favours_extrinsic():
    signals = {"discount_depth": 2.0, "service_intensity": 9.0, "consultative_share": 50.0}
    scored = account_type_score(PARTNER, signals)
    # questionnaire 1 / 5 / 8; data: low discount +1/+1, high service +2, consultative +2/+1
    assert scored["totals"] == {"intrinsic": 1, "extrinsic": 10, "strategic": 10}
    assert scored["suggested"] == "extrinsic"  # a tie goes to the less service-intensive type
    signals["service_intensity"] = 2.0  # under 3%: no service points
    scored = account_type_score(PARTNER, signals)
    assert scored["totals"] == {"intrinsic": 1, "extrinsic": 8, "strategic": 10}
    assert scored["suggested"] == "strategic"


def test_ties_go_to_the_less_service_intensive_type():
    assert account_type_score(NEUTRAL, NONE)["totals"] == {
        "intrinsic": 4, "extrinsic": 4, "strategic": 4}  # fmt: skip
    assert account_type_score(NEUTRAL, NONE)["suggested"] == "intrinsic"
    level = {**NEUTRAL, "price_focus": 1, "joint_planning": 4}  # 2 / 4 / 5, then +1 extrinsic
    assert account_type_score(level, {**NONE, "consultative_share": 25.0})["totals"] == {
        "intrinsic": 2, "extrinsic": 5, "strategic": 5}  # fmt: skip
    assert account_type_score(level, {**NONE, "consultative_share": 25.0})["suggested"] == (
        "extrinsic"
    )


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"discount_depth": 15.0}, [("discount_deep", "intrinsic", 3)]),
        ({"discount_depth": 14.99}, [("discount_moderate", "intrinsic", 1)]),
        ({"discount_depth": 8.0}, [("discount_moderate", "intrinsic", 1)]),
        ({"discount_depth": 7.99}, []),
        ({"discount_depth": 3.0}, []),
        ({"discount_depth": 2.99}, [("discount_low", "extrinsic", 1),
                                    ("discount_low", "strategic", 1)]),
        ({"service_intensity": 8.0}, [("service_high", "extrinsic", 2)]),
        ({"service_intensity": 3.0}, [("service_moderate", "extrinsic", 1)]),
        ({"service_intensity": 1.0}, []),
        ({"service_intensity": 0.99}, [("service_low", "intrinsic", 1)]),
        ({"consultative_share": 40.0}, [("consultative_high", "extrinsic", 2),
                                        ("consultative_high", "strategic", 1)]),
        ({"consultative_share": 20.0}, [("consultative_some", "extrinsic", 1)]),
        ({"consultative_share": 10.0}, []),
        ({"consultative_share": 9.99}, [("consultative_none", "intrinsic", 1)]),
        (NONE, []),
    ],
)  # fmt: skip
def test_data_rule_boundaries(signals, expected):
    rows = data_points({**NONE, **signals})
    assert [(r["rule"], r["type"], r["points"]) for r in rows] == expected


def test_signals_from_the_figures():
    assert derive_signals(
        revenue=Decimal("90000"), discounts=Decimal("10000"), cost_to_serve=Decimal("4500"),
        tickets=4, consultative_tickets=2,
    ) == {"revenue": 90000.0, "discounts": 10000.0, "cost_to_serve": 4500.0, "tickets": 4,
          "consultative_tickets": 2, "discount_depth": 10.0, "service_intensity": 5.0,
          "consultative_share": 50.0}  # fmt: skip
    empty = derive_signals(revenue=Decimal(0), discounts=Decimal(0), cost_to_serve=Decimal(300),
                           tickets=2, consultative_tickets=2)  # fmt: skip
    # no list value, no revenue, too few tickets: nothing to compute, no points
    assert (empty["discount_depth"], empty["service_intensity"],
            empty["consultative_share"]) == (None, None, None)  # fmt: skip


def test_rule_labels_name_their_thresholds_in_both_languages():
    assert rule_label("discount_deep") == (
        "Discounts are at least 15% of the list value: buys on price"
    )
    assert rule_label("service_moderate") == "Cost to serve is 3–8% of revenue"
    assert rule_label("q:joint_planning").startswith("They are willing to plan jointly")
    explained = points_explained({"rules": [
        {"rule": "consultative_none", "type": "intrinsic", "points": 1, "value": 5.0}]})  # fmt: skip
    assert explained == [{"rule": "consultative_none", "type": "intrinsic", "points": 1,
                          "value": 5.0, "label": "Under 10% of the tickets are consultations: "
                          "repairs rather than advice", "type_label": "Intrinsic value",
                          "source": "data"}]  # fmt: skip


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        ({}, {k: ["Answer this question."] for k in PRICE_BUYER}),
        ({**PRICE_BUYER, "price_focus": 0}, {"price_focus": ["Answer from 1 (not at all) to 5 (fully)."]}),
        ({**PRICE_BUYER, "self_service": 6}, {"self_service": ["Answer from 1 (not at all) to 5 (fully)."]}),
        ({**PRICE_BUYER, "values_advice": "4"}, {"values_advice": ["Answer from 1 (not at all) to 5 (fully)."]}),
        ({**PRICE_BUYER, "joint_planning": True}, {"joint_planning": ["Answer from 1 (not at all) to 5 (fully)."]}),
        ({**PRICE_BUYER, "mood": 3}, {"mood": ["There is no such question."]}),
        ({**PRICE_BUYER, "changes_organisation": None}, {"changes_organisation": ["Answer this question."]}),
    ],
)  # fmt: skip
def test_bad_answers_are_named(answers, errors):
    with pytest.raises(ValidationError) as caught:
        questionnaire_clean(answers)
    assert caught.value.message_dict == errors


# --- on the database ------------------------------------------------------------------------


def _world(owner, *, list_price=10_000, net_price=8_000, quantity=10, consultations=2,
           repairs=2, cost=4_000):  # fmt: skip
    """An account with one order 30 days ago and tickets this month: by default revenue
    80 000 with 20 000 of discounts (20%), cost to serve 4 000 (5%), 2 of 4 tickets
    consultations (50%)."""
    account = AccountFactory(owner=owner)
    product = ProductFactory(list_price=Decimal(list_price), standard_cost=Decimal(1000))
    OrderFactory(account=account, order_date=timezone.localdate() - dt.timedelta(days=30),
                 lines=[{"product": product, "quantity": quantity,
                         "net_price": Decimal(net_price)}])  # fmt: skip
    tickets = [TicketFactory(account=account, ticket_type="consultation")
               for _ in range(consultations)]  # fmt: skip
    tickets += [TicketFactory(account=account, ticket_type="repair") for _ in range(repairs)]
    if tickets:
        Ticket.objects.filter(pk=tickets[0].pk).update(labour_cost=cost)
    return account


@pytest.fixture(autouse=True)
def _strategies(request):
    """The seeded strategies (put back where a transactional test flushed them)."""
    if "django_db" in request.keywords or "db" in request.fixturenames:
        insights_defaults_ensure()


@pytest.fixture
def account(kam):
    return _world(kam)


def _snapshot(account):
    account = Account.objects.get(pk=account.pk)
    rows = list(
        AccountTypeAssessment.objects.filter(account=account).values_list(
            "pk", "confirmed_type", "reason", "confirmed_by"
        )
    )
    return account.account_type, account.version, rows


@pytest.mark.django_db
def test_assessing_reads_the_data_and_suggests_without_changing_the_type(account, kam):
    assessment = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
    start, end = trailing_twelve_months()
    assert assessment.signals == {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "revenue": 80000.0, "discounts": 20000.0, "cost_to_serve": 4000.0, "tickets": 4,
        "consultative_tickets": 2, "discount_depth": 20.0, "service_intensity": 5.0,
        "consultative_share": 50.0,
    }  # fmt: skip
    # questionnaire 7 / 1 / 0; data: deep discounts intrinsic +3, some service extrinsic +1,
    # much consultative work extrinsic +2 and strategic +1
    assert assessment.points["totals"] == {"intrinsic": 10, "extrinsic": 4, "strategic": 1}
    assert [r["rule"] for r in assessment.points["rules"][6:]] == [
        "discount_deep", "service_moderate", "consultative_high", "consultative_high"]  # fmt: skip
    assert (assessment.suggested_type, assessment.confirmed_type) == ("intrinsic", "")
    assert assessment.answers == PRICE_BUYER
    assert (assessment.assessed_by, assessment.confirmed_by) == (kam, None)
    assert Account.objects.get(pk=account.pk).account_type == ""


@pytest.mark.django_db
def test_confirming_the_suggestion_needs_no_reason_and_sets_the_type(account, kam):
    assessment = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
    before = Account.objects.get(pk=account.pk).version
    confirmed = account_type_confirm(actor=kam, assessment=assessment, account_type="intrinsic",
                                     reason="")  # fmt: skip
    assert (confirmed.confirmed_type, confirmed.reason, confirmed.confirmed_by) == (
        "intrinsic", "", kam)  # fmt: skip
    assert confirmed.confirmed_at is not None
    after = Account.objects.get(pk=account.pk)
    assert (after.account_type, after.version) == ("intrinsic", before + 1)
    # the change is in the account's history too
    assert after.history.first().account_type == "intrinsic"


@pytest.mark.django_db
def test_another_type_than_suggested_needs_a_reason(account, kam):
    assessment = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
    before = _snapshot(account)
    with pytest.raises(ValidationError) as caught:
        account_type_confirm(actor=kam, assessment=assessment, account_type="strategic",
                             reason="   ")  # fmt: skip
    assert caught.value.message_dict == {
        "reason": ["Say why you choose another type than the suggested Intrinsic value."]}  # fmt: skip
    assert _snapshot(account) == before
    confirmed = account_type_confirm(
        actor=kam, assessment=assessment, account_type="strategic",
        reason=" 集团要求共同制定年度计划 ",
    )  # fmt: skip
    assert (confirmed.confirmed_type, confirmed.reason) == ("strategic", "集团要求共同制定年度计划")
    assert confirmed.suggested_type == "intrinsic"
    assert Account.objects.get(pk=account.pk).account_type == "strategic"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("account_type", "reason", "errors"),
    [
        ("platinum", "", {"account_type": ["Choose intrinsic, extrinsic or strategic value."]}),
        ("", "", {"account_type": ["Choose intrinsic, extrinsic or strategic value."]}),
        ("intrinsic", "x" * 301, {"reason": ["The reason has at most 300 characters."]}),
    ],
)
def test_bad_confirmations_change_nothing(account, kam, account_type, reason, errors):
    assessment = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
    before = _snapshot(account)
    with pytest.raises(ValidationError) as caught:
        account_type_confirm(actor=kam, assessment=assessment, account_type=account_type,
                             reason=reason)  # fmt: skip
    assert caught.value.message_dict == errors
    assert _snapshot(account) == before


@pytest.mark.django_db
def test_earlier_assessments_are_kept_and_only_the_latest_is_confirmed(account, kam):
    first = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
    account_type_confirm(actor=kam, assessment=first, account_type="intrinsic", reason="")
    with pytest.raises(ApplicationError) as caught:
        account_type_confirm(actor=kam, assessment=first, account_type="extrinsic", reason="再看")
    assert caught.value.extra == {"code": "already_confirmed"}
    second = account_type_assess(actor=kam, account=account, answers=PARTNER)
    third = account_type_assess(actor=kam, account=account, answers=PARTNER)
    before = _snapshot(account)
    with pytest.raises(ApplicationError) as caught:
        account_type_confirm(actor=kam, assessment=second, account_type="strategic", reason="")
    assert caught.value.extra == {"code": "superseded"}
    assert _snapshot(account) == before
    assert Account.objects.get(pk=account.pk).account_type == "intrinsic"  # until confirmed
    account_type_confirm(actor=kam, assessment=third, account_type=third.suggested_type,
                         reason="")  # fmt: skip
    assert list(
        AccountTypeAssessment.objects.filter(account=account).values_list("pk", "confirmed_type")
    ) == [(third.pk, third.suggested_type), (second.pk, ""), (first.pk, "intrinsic")]


@pytest.fixture
def people(make_user, kam, other_kam, engineer, service_manager, executive, admin_user,
           portal_user):  # fmt: skip
    return {"kam": kam, "other_kam": other_kam, "engineer": engineer,
            "service_manager": service_manager, "executive": executive, "admin": admin_user,
            "portal": portal_user,
            "team_kam": make_user(Role.KEY_ACCOUNT_MANAGER, username="kam-team")}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "allowed"),
    [("kam", True), ("team_kam", True), ("admin", True), ("executive", False),
     ("service_manager", False), ("engineer", False), ("other_kam", False), ("portal", False)],
)  # fmt: skip
def test_who_may_assess_and_confirm(account, people, who, allowed):
    AccountTeamMemberFactory(account=account, user=people["team_kam"], role="key_account_manager")
    AccountTeamMemberFactory(account=account, user=people["engineer"], role="service_engineer")
    ContactFactory(account=account, user=people["portal"])
    actor = people[who]
    existing = account_type_assess(actor=people["kam"], account=account, answers=NEUTRAL)
    before = _snapshot(account)
    if not allowed:
        with pytest.raises(PermissionDeniedError):
            account_type_assess(actor=actor, account=account, answers=PRICE_BUYER)
        with pytest.raises(PermissionDeniedError):
            account_type_confirm(actor=actor, assessment=existing, account_type="intrinsic",
                                 reason="")  # fmt: skip
        assert _snapshot(account) == before
        return
    assessment = account_type_assess(actor=actor, account=account, answers=PRICE_BUYER)
    account_type_confirm(actor=actor, assessment=assessment, account_type="intrinsic", reason="")
    assert Account.objects.get(pk=account.pk).account_type == "intrinsic"
    assert AccountTypeAssessment.objects.filter(account=account).count() == 2


# --- service strategies ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seeded_strategies_in_both_languages(executive):
    strategies = service_strategy_list(actor=executive)
    assert [s.account_type for s in strategies] == ["intrinsic", "extrinsic", "strategic"]
    strategic = strategies[2]
    assert strategic.summary_text.startswith("Partnership: executive sponsor")
    assert strategic.practice_list[0] == "An executive sponsor on our side"
    with translation.override("zh-hans"):
        assert strategic.summary_text == "战略合作：高层对接、联合年度计划、季度业务回顾"
        assert strategic.practice_list[0] == "我方指定高层负责人对接"


@pytest.mark.django_db
def test_an_administrator_changes_a_strategy(admin_user):
    strategy = ServiceStrategy.objects.get(account_type="extrinsic")
    updated = service_strategy_update(
        actor=admin_user, strategy=strategy, lock_version=strategy.lock_version,
        data={"summary": "  Dedicated engineer  ", "practices": "Engineer\n\n  Training \n"},
    )  # fmt: skip
    updated.refresh_from_db()
    assert (updated.summary, updated.practices) == ("Dedicated engineer", "Engineer\nTraining")
    assert (updated.lock_version, updated.updated_by) == (strategy.lock_version + 1, admin_user)
    assert updated.practice_list == ["Engineer", "Training"]


@pytest.mark.django_db
def test_a_stale_strategy_edit_saves_nothing(admin_user):
    strategy = ServiceStrategy.objects.get(account_type="intrinsic")
    service_strategy_update(actor=admin_user, strategy=strategy, data={"summary": "First"},
                            lock_version=strategy.lock_version)  # fmt: skip
    with pytest.raises(ConflictError) as caught:
        service_strategy_update(actor=admin_user, strategy=strategy,
                                data={"summary": "Second", "practices": "Other"},
                                lock_version=strategy.lock_version)  # fmt: skip
    assert caught.value.message == (
        "Someone else changed this record while you were editing it. Reload and try again."
    )
    assert caught.value.extra == {"code": "stale_version",
                                  "current_version": strategy.lock_version + 1}  # fmt: skip
    strategy.refresh_from_db()
    assert (strategy.summary, strategy.lock_version) == ("First", 2)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["kam", "executive", "service_manager", "engineer", "portal"])
def test_only_administrators_change_strategies(people, who):
    strategy = ServiceStrategy.objects.get(account_type="strategic")
    with pytest.raises(PermissionDeniedError):
        service_strategy_update(actor=people[who], strategy=strategy, data={"summary": "X"},
                                lock_version=strategy.lock_version)  # fmt: skip
    strategy.refresh_from_db()
    assert (strategy.lock_version, strategy.summary[:11]) == (1, "Partnership")


@pytest.mark.django_db
def test_a_strategy_needs_a_summary_and_practices(admin_user):
    strategy = ServiceStrategy.objects.get(account_type="strategic")
    with pytest.raises(ValidationError) as caught:
        service_strategy_update(actor=admin_user, strategy=strategy, lock_version=1,
                                data={"summary": " ", "practices_zh": "\n \n"})  # fmt: skip
    assert caught.value.message_dict == {"summary": ["This field cannot be blank."],
                                         "practices_zh": ["This field cannot be blank."]}  # fmt: skip
    strategy.refresh_from_db()
    assert strategy.lock_version == 1


# --- reads ----------------------------------------------------------------------------------


@pytest.fixture
def typed(kam, other_kam):
    """Three accounts of kam's (intrinsic confirmed, one awaiting confirmation, one never
    assessed) and one of other_kam's (strategic, set by hand)."""
    confirmed = AccountFactory(name="甲 intrinsic", owner=kam)
    pending = AccountFactory(name="乙 pending", owner=kam)
    AccountFactory(name="丙 untouched", owner=kam)
    theirs = AccountFactory(name="丁 theirs", owner=other_kam, account_type="strategic")
    first = account_type_assess(actor=kam, account=confirmed, answers=PRICE_BUYER)
    account_type_confirm(actor=kam, assessment=first, account_type="intrinsic", reason="")
    account_type_assess(actor=kam, account=pending, answers=PARTNER)
    return {"confirmed": confirmed, "pending": pending, "theirs": theirs}


@pytest.mark.django_db
def test_the_overview_counts_and_lists_what_the_actor_sees(typed, kam, executive):
    figures = account_type_overview(actor=executive)
    assert figures["types"] == [
        {"type": "intrinsic", "label": "Intrinsic value", "accounts": 1},
        {"type": "extrinsic", "label": "Extrinsic value", "accounts": 0},
        {"type": "strategic", "label": "Strategic value", "accounts": 1},
    ]
    assert (figures["untyped"], figures["pending"], figures["accounts"]) == (2, 1, 4)
    rows = {r["name"]: r for r in figures["rows"]}
    assert (rows["甲 intrinsic"]["account_type"], rows["甲 intrinsic"]["confirmed_by"],
            rows["甲 intrinsic"]["pending"]) == ("intrinsic", str(kam), False)  # fmt: skip
    assert (rows["乙 pending"]["suggested_type"], rows["乙 pending"]["pending"]) == (
        "strategic", True)  # fmt: skip
    assert (rows["丙 untouched"]["assessment"], rows["丙 untouched"]["suggested_type"]) == (
        None,
        "",
    )
    mine = account_type_overview(actor=kam)
    assert sorted(r["name"] for r in mine["rows"]) == ["丙 untouched", "乙 pending", "甲 intrinsic"]
    assert (mine["accounts"], mine["types"][2]["accounts"]) == (3, 0)


@pytest.mark.django_db
def test_the_overview_filters(typed, executive):
    def names(filters):
        return [r["name"] for r in account_type_overview(actor=executive, filters=filters)["rows"]]

    assert names({"type": "strategic"}) == ["丁 theirs"]
    assert sorted(names({"type": "none"})) == ["丙 untouched", "乙 pending"]
    assert names({"pending": "true"}) == ["乙 pending"]
    # the counts stay those of every visible account
    assert account_type_overview(actor=executive, filters={"type": "strategic"})["untyped"] == 2
    with pytest.raises(ValidationError) as caught:
        account_type_overview(actor=executive, filters={"type": "gold", "pending": "maybe"})
    assert caught.value.message_dict == {
        "type": ["Choose intrinsic, extrinsic or strategic value, or none."],
        "pending": ["Pending is true or false."],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["engineer", "portal"])
def test_engineers_and_customers_see_no_types(typed, people, who):
    ContactFactory(account=typed["confirmed"], user=people["portal"])
    AccountTeamMemberFactory(account=typed["confirmed"], user=people["engineer"],
                             role="service_engineer")  # fmt: skip
    assert account_type_overview(actor=people[who])["rows"] == []
    assert account_type_get(actor=people[who], account=typed["confirmed"]) is None
    assert account_type_signals(actor=people[who], account=typed["confirmed"]) is None
    assert service_strategy_list(actor=people[who]) == []


@pytest.mark.django_db
def test_the_overview_takes_a_fixed_number_of_queries(typed, kam, executive,
                                                       django_assert_num_queries):  # fmt: skip
    account_type_overview(actor=executive)  # the executive's roles are read once
    # the counts, the pending count, the accounts, the users who confirmed
    with django_assert_num_queries(4):
        account_type_overview(actor=executive)
    for n in range(6):
        account = AccountFactory(owner=kam)
        assessment = account_type_assess(actor=kam, account=account, answers=PRICE_BUYER)
        if n % 2:
            account_type_confirm(actor=kam, assessment=assessment, account_type="extrinsic",
                                 reason="服务需求高")  # fmt: skip
    with django_assert_num_queries(4):
        figures = account_type_overview(actor=executive)
    assert len(figures["rows"]) == 10
    assert typed_account_list(actor=executive, filters={"type": "extrinsic"}).count() == 3


@pytest.mark.django_db
def test_an_accounts_type_with_its_strategy(typed, kam, django_assert_num_queries):
    confirmed = Account.objects.get(pk=typed["confirmed"].pk)
    with django_assert_num_queries(2):
        info = account_type_get(actor=kam, account=confirmed)
    assert (info["account_type"], info["label"], info["set_by_hand"]) == (
        "intrinsic", "Intrinsic value", False)  # fmt: skip
    assert (info["confirmation"].confirmed_by, info["pending"]) == (kam, None)
    assert info["strategy"].summary.startswith("Efficient, low-cost service")
    pending = account_type_get(actor=kam, account=typed["pending"])
    assert (pending["account_type"], pending["strategy"], pending["confirmation"]) == ("", None,
                                                                                       None)  # fmt: skip
    assert pending["pending"].suggested_type == "strategic"


@pytest.mark.django_db
def test_a_type_set_by_hand_is_said_so(typed, executive):
    info = account_type_get(actor=executive, account=typed["theirs"])
    assert (info["account_type"], info["set_by_hand"], info["confirmation"]) == (
        "strategic", True, None)  # fmt: skip
    assert info["strategy"].account_type == "strategic"


@pytest.mark.django_db
def test_the_signals_before_an_assessment(account, kam):
    start, end = trailing_twelve_months()
    metrics_ensure(start=start, end=end)
    data = account_type_signals(actor=kam, account=account)
    assert [(f["key"], f["value"]) for f in data["figures"]] == [
        ("discount_depth", 20.0), ("service_intensity", 5.0), ("consultative_share", 50.0)]  # fmt: skip
    assert [(r["rule"], r["type"], r["points"]) for r in data["rules"]] == [
        ("discount_deep", "intrinsic", 3), ("service_moderate", "extrinsic", 1),
        ("consultative_high", "extrinsic", 2), ("consultative_high", "strategic", 1)]  # fmt: skip
