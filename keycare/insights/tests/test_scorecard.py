"""The value scorecard: normalisation, a worked score with its explanation, versions that keep
past scores reproducible, the key account manager's judgements, key account designation,
and the single-metric comparison."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keycare.accounts.tests.factories import AccountFactory, OrderFactory, ProductFactory
from keycare.core.exceptions import ApplicationError, PermissionDeniedError
from keycare.insights import calculations as calc
from keycare.insights.models import AccountScore, KeyAccount, KeyAccountChange, Scorecard
from keycare.insights.scorecard import (
    key_account_designate,
    key_account_remove,
    qualitative_scores_set,
    scorecard_active,
    scorecard_draft,
    scorecard_publish,
    scorecard_update,
    scores_compute,
    scores_ensure,
)
from keycare.insights.scorecard_selectors import (
    account_score_get,
    big_order_analysis,
    key_account_overview,
    scorecard_ranking,
    single_metric_analysis,
)

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
PERIOD = {"period_from": "2026-01-01", "period_to": "2026-12-31"}


# --- normalisation (pure) -------------------------------------------------------------------


def test_minmax_and_its_reverse():
    values = {"a": 100, "b": 60, "c": 20, "d": None}
    assert calc.normalise(values, method="minmax") == {"a": 100, "b": 50, "c": 0, "d": None}
    lower = calc.normalise(values, method="minmax", higher_is_better=False)
    assert lower == {"a": 0, "b": 50, "c": 100, "d": None}
    assert calc.normalise({"a": 5, "b": 5}, method="minmax") == {"a": 100, "b": 100}


def test_percentile_ranks_share_ties():
    values = {"a": 10, "b": 20, "c": 20, "d": 40, "e": 50}
    # ranks 0, 1.5, 1.5, 3, 4 of 4 steps
    assert calc.normalise(values, method="percentile") == {
        "a": 0.0, "b": 37.5, "c": 37.5, "d": 75.0, "e": 100.0}  # fmt: skip
    assert calc.normalise({"x": 3}, method="percentile") == {"x": 100.0}
    assert calc.normalise(values, method="percentile", higher_is_better=False)["e"] == 0.0


def test_thresholds_up_and_down():
    steps = [[100_000, 40], [500_000, 70], [1_000_000, 100]]
    values = {"a": 50_000, "b": 100_000, "c": 750_000, "d": 2_000_000}
    assert calc.normalise(values, method="thresholds", parameters=steps) == {
        "a": 0.0, "b": 40.0, "c": 70.0, "d": 100.0}  # fmt: skip
    recency = [[30, 100], [90, 60], [180, 20]]
    days = {"a": 10, "b": 30, "c": 120, "d": 400}
    assert calc.normalise(
        days, method="thresholds", higher_is_better=False, parameters=recency
    ) == {"a": 100.0, "b": 100.0, "c": 20.0, "d": 0.0}


def test_fixed_range_clamps():
    judged = {"a": 1, "b": 10, "c": 5.5, "d": 12}
    assert calc.normalise(judged, method="range", parameters=[1, 10]) == {
        "a": 0.0, "b": 100.0, "c": 50.0, "d": 100.0}  # fmt: skip


def test_parameter_problems_are_named():
    assert calc.normalisation_problem("thresholds", [[10, 50], [5, 80]]) == "thresholds"
    assert calc.normalisation_problem("thresholds", [[10, 150]]) == "thresholds"
    assert calc.normalisation_problem("range", [10, 1]) == "range"
    assert calc.normalisation_problem("median", []) == "method"
    assert calc.normalisation_problem("range", [1, 10]) is None
    assert calc.grade(70, a=70, b=40) == "A"
    assert calc.grade(69.99, a=70, b=40) == "B"
    assert calc.grade(39, a=70, b=40) == "C"


# --- the scorecard on the database ----------------------------------------------------------


def _book(specs):
    """Accounts with one order each in 2026: (name, revenue, cost, largest-order split)."""
    accounts = []
    for name, revenue, cost, orders in specs:
        account = AccountFactory(name=name)
        for part in orders or [1]:
            product = ProductFactory(
                list_price=Decimal(revenue * part), standard_cost=Decimal(cost * part)
            )
            OrderFactory(account=account, order_date=dt.date(2026, 6, 1),
                         lines=[{"product": product, "quantity": 1}])  # fmt: skip
        accounts.append(account)
    return accounts


@pytest.fixture
def simple_card(admin_user):
    """Revenue (min–max) and strategic fit (1–10) half and half, bands 70 / 40."""
    draft = scorecard_draft(actor=admin_user)
    scorecard_update(
        actor=admin_user, scorecard=draft, data={"name": "简单计分卡", "proposals": 1},
        criteria=[
            {"key": "revenue", "weight": 50, "normalisation": "minmax"},
            {"key": "q:strategic_fit", "weight": 50, "normalisation": "range",
             "parameters": [1, 10]},
        ],
    )  # fmt: skip
    return scorecard_publish(actor=admin_user, scorecard=draft)


@pytest.mark.django_db
def test_a_worked_score_explained_criterion_by_criterion(simple_card, admin_user):
    a, b, _c = _book([("甲", 100_000, 50_000, None), ("乙", 60_000, 30_000, None),
                     ("丙", 20_000, 10_000, None)])  # fmt: skip
    qualitative_scores_set(actor=admin_user, account=a, scores={"strategic_fit": 1})
    qualitative_scores_set(actor=admin_user, account=b, scores={"strategic_fit": 10})
    assert scores_compute(scorecard=simple_card, start=START, end=END) == 3
    ranking = scorecard_ranking(actor=admin_user, filters=PERIOD)
    rows = {r["name"]: r for r in ranking["rows"]}
    # 甲: revenue 100 points × 50% + fit 0 × 50% = 50; 乙: 50 + 100 → 75; 丙: 0 + (not scored)
    assert [(r["name"], r["score"], r["grade"], r["rank"]) for r in ranking["rows"]] == [
        ("乙", 75.0, "A", 1), ("甲", 50.0, "B", 2), ("丙", 0.0, "C", 3)]  # fmt: skip
    assert ranking["grades"] == {"A": 1, "B": 1, "C": 1}
    assert rows["乙"]["breakdown"] == [
        {"key": "revenue", "label": "Revenue", "weight": 50.0, "value": 60000.0,
         "points": 50.0, "weighted": 25.0, "missing": False},
        {"key": "q:strategic_fit", "label": "Strategic fit", "weight": 50.0, "value": 10.0,
         "points": 100.0, "weighted": 50.0, "missing": False},
    ]  # fmt: skip
    assert rows["丙"]["breakdown"][1]["missing"] is True
    explained = account_score_get(actor=admin_user, account=b, filters=PERIOD)
    assert (explained["rank"], explained["of"], explained["score"]) == (1, 3, 75.0)
    # one grade only
    assert [r["name"] for r in scorecard_ranking(
        actor=admin_user, filters={**PERIOD, "grade": "B"})["rows"]] == ["甲"]  # fmt: skip
    with pytest.raises(ValidationError):
        scorecard_ranking(actor=admin_user, filters={**PERIOD, "grade": "Z"})


@pytest.mark.django_db
def test_weights_must_sum_to_100_and_every_criterion_is_checked(admin_user):
    draft = scorecard_draft(actor=admin_user)
    before = list(draft.criteria.values_list("metric", "weight"))
    with pytest.raises(ValidationError) as error:
        scorecard_update(actor=admin_user, scorecard=draft, data={}, criteria=[
            {"key": "revenue", "weight": 60}, {"key": "gross_profit", "weight": 30}])  # fmt: skip
    assert error.value.message_dict["criteria"] == ["The weights must sum to 100; they sum to 90."]
    with pytest.raises(ValidationError) as error:
        scorecard_update(actor=admin_user, scorecard=draft, data={}, criteria=[
            {"key": "turnover", "weight": 50}, {"key": "revenue", "weight": "x"},
            {"key": "growth", "weight": 50, "normalisation": "range", "parameters": [5, 1]}])  # fmt: skip
    assert error.value.message_dict["criteria"] == [
        "Criterion 1: choose a metric or a qualitative criterion.",
        "Revenue: the weight must be a number above 0 and at most 100.",
        "Growth %: a fixed range needs a low and a higher high value (e.g. 1 and 10).",
    ]
    with pytest.raises(ValidationError):
        scorecard_update(actor=admin_user, scorecard=draft, data={"grade_a": 30, "grade_b": 60})
    draft.refresh_from_db()
    assert list(draft.criteria.values_list("metric", "weight")) == before
    assert (draft.grade_a, draft.grade_b) == (70, 40)


@pytest.mark.django_db
def test_versions_keep_past_scores_reproducible(simple_card, admin_user, kam):
    _book([("甲", 100_000, 50_000, None), ("乙", 60_000, 30_000, None)])
    scores_ensure(scorecard=simple_card, start=START, end=END)
    v1 = {
        r["name"]: r["score"] for r in scorecard_ranking(actor=admin_user, filters=PERIOD)["rows"]
    }
    assert v1 == {"甲": 50.0, "乙": 0.0}
    with pytest.raises(ApplicationError):  # a published version cannot change
        scorecard_update(actor=admin_user, scorecard=simple_card, data={"name": "x"})
    with pytest.raises(PermissionDeniedError):
        scorecard_draft(actor=kam)
    draft = scorecard_draft(actor=admin_user)
    assert draft.version == simple_card.version + 1
    assert scorecard_draft(actor=admin_user) == draft  # one draft at a time
    scorecard_update(actor=admin_user, scorecard=draft, data={}, lock_version=draft.lock_version,
                     criteria=[{"key": "revenue", "weight": 100, "normalisation": "minmax"}])  # fmt: skip
    with pytest.raises(ApplicationError) as stale:
        scorecard_update(actor=admin_user, scorecard=draft, data={"name": "旧"}, lock_version=1)
    assert stale.value.extra["code"] == "stale_version"
    scorecard_publish(actor=admin_user, scorecard=draft)
    simple_card.refresh_from_db()
    assert (simple_card.status, scorecard_active()) == ("retired", draft)
    v2 = {
        r["name"]: r["score"] for r in scorecard_ranking(actor=admin_user, filters=PERIOD)["rows"]
    }
    assert v2 == {"甲": 100.0, "乙": 0.0}
    old = scorecard_ranking(actor=admin_user, filters={**PERIOD, "scorecard": simple_card.pk})
    assert {r["name"]: r["score"] for r in old["rows"]} == v1
    assert old["scorecard"]["status"] == "retired"


@pytest.mark.django_db
def test_judgements_belong_to_the_account_team(simple_card, kam, other_kam, admin_user):
    account = AccountFactory(name="甲", owner=kam)
    with pytest.raises(PermissionDeniedError):
        qualitative_scores_set(actor=other_kam, account=account, scores={"strategic_fit": 8})
    with pytest.raises(ValidationError) as error:
        qualitative_scores_set(actor=kam, account=account,
                               scores={"strategic_fit": 11, "made_up": 3})  # fmt: skip
    assert error.value.message_dict == {
        "strategic_fit": ["Score Strategic fit from 1 to 10."],
        "made_up": ["There is no such qualitative criterion."],
    }
    assert not account.qualitative_scores.exists()
    qualitative_scores_set(actor=kam, account=account, scores={"strategic_fit": 8},
                           notes={"strategic_fit": "新工厂"})  # fmt: skip
    score = account.qualitative_scores.get()
    assert (score.score, score.note, score.scored_by) == (8, "新工厂", kam)
    qualitative_scores_set(actor=kam, account=account, scores={"strategic_fit": None})
    assert not account.qualitative_scores.exists()


@pytest.mark.django_db
def test_judgements_rescore_the_current_period_and_past_scores_stay(
    simple_card, admin_user, django_capture_on_commit_callbacks
):
    import io

    from django.core.management import call_command

    from keycare.insights.metrics import metrics_refresh

    a, b = _book([("甲", 100_000, 50_000, None), ("乙", 60_000, 30_000, None)])
    today = timezone.localdate()
    current = {"period_from": today.replace(month=1, day=1).isoformat(),
               "period_to": today.isoformat()}  # fmt: skip
    half = {"period_from": "2026-01-01", "period_to": "2026-06-30"}  # ended: a past period
    past_start, past_end = dt.date(2026, 1, 1), dt.date(2026, 6, 30)

    def scores(filters):
        return {
            r["name"]: r["score"]
            for r in scorecard_ranking(actor=admin_user, filters=filters)["rows"]
        }

    assert scores(current) == scores(half) == {"甲": 50.0, "乙": 0.0}
    with django_capture_on_commit_callbacks(execute=True):
        qualitative_scores_set(actor=admin_user, account=b, scores={"strategic_fit": 10})
    assert scores(current) == {"甲": 50.0, "乙": 50.0}  # rescored by the task after commit
    metrics_refresh(account_ids=[a.pk])  # newer figures of the past period ...
    assert scores_ensure(scorecard=simple_card, start=past_start, end=past_end) is False
    assert scores(half) == {"甲": 50.0, "乙": 0.0}  # ... leave its scores as they were
    with django_capture_on_commit_callbacks(execute=True):  # clearing counts too
        qualitative_scores_set(actor=admin_user, account=b, scores={"strategic_fit": None})
    assert scores(current) == {"甲": 50.0, "乙": 0.0}
    with django_capture_on_commit_callbacks(execute=True):
        qualitative_scores_set(actor=admin_user, account=a, scores={"strategic_fit": 10})
    out = io.StringIO()
    call_command("insights", "score", "--period", "2026-01-01:2026-06-30", stdout=out)
    assert (
        "2 accounts scored on scorecard version 2 for 2026-01-01 to 2026-06-30." in out.getvalue()
    )
    assert scores(half) == {"甲": 100.0, "乙": 0.0}  # recomputed on purpose


@pytest.mark.django_db
def test_stale_current_scores_are_served_while_a_task_recomputes(
    simple_card, admin_user, django_capture_on_commit_callbacks
):
    from keycare.insights.metrics import metrics_recompute, trailing_twelve_months

    _book([("甲", 100_000, 50_000, None)])
    start, end = trailing_twelve_months()
    assert scores_ensure(scorecard=simple_card, start=start, end=end) is True  # none: now
    _book([("乙", 200_000, 50_000, None)])
    metrics_recompute(start=start, end=end)
    with django_capture_on_commit_callbacks() as callbacks:
        names = [r["name"] for r in scorecard_ranking(actor=admin_user)["rows"]]
    assert names == ["甲"] and len(callbacks) == 1  # the stored ranking, a task queued
    callbacks[0]()
    assert [r["name"] for r in scorecard_ranking(actor=admin_user)["rows"]] == ["乙", "甲"]


@pytest.mark.django_db
def test_accounts_without_orders_in_the_period_are_not_scored(simple_card, admin_user):
    _book([("甲", 100_000, 50_000, None)])
    AccountFactory(name="沉睡客户")  # active, no order
    assert scores_compute(scorecard=simple_card, start=START, end=END) == 1
    assert [r["name"] for r in scorecard_ranking(actor=admin_user, filters=PERIOD)["rows"]] == [
        "甲"
    ]


@pytest.mark.django_db
def test_key_account_designation_is_recorded(simple_card, admin_user, executive, kam):
    a, b, _c = _book([("甲", 100_000, 50_000, None), ("乙", 60_000, 30_000, None),
                      ("丙", 20_000, 10_000, None)])  # fmt: skip
    overview = key_account_overview(actor=executive, filters=PERIOD)
    assert [p["name"] for p in overview["proposals"]] == ["甲"]  # proposals = 1
    with pytest.raises(PermissionDeniedError):
        key_account_designate(actor=kam, account=a, reason="营收第一")
    with pytest.raises(ValidationError):
        key_account_designate(actor=executive, account=a, reason="  ")
    assert not KeyAccount.objects.exists()
    key_account_designate(actor=executive, account=a, reason="营收第一", start=START, end=END)
    # rank 2 with one proposal: the service records it as added by hand
    key_account_designate(actor=admin_user, account=b, reason="战略合作伙伴", start=START, end=END)
    assert [(k.account.name, k.by_hand, k.score) for k in KeyAccount.objects.order_by("id")] == [
        ("甲", False, Decimal("50.00")), ("乙", True, Decimal("25.00"))]  # fmt: skip
    with pytest.raises(ApplicationError):
        key_account_designate(actor=admin_user, account=b, reason="again")
    overview = key_account_overview(actor=executive, filters=PERIOD)
    assert overview["proposals"] == []
    assert [(k["name"], k["by_hand"], k["grade"], k["review"])
            for k in overview["key_accounts"]] == [("乙", True, "C", True), ("甲", False, "B", False)]  # fmt: skip
    key_account_remove(actor=admin_user, account=b, reason="合作结束")
    with pytest.raises(ApplicationError):
        key_account_remove(actor=admin_user, account=b, reason="合作结束")
    assert list(KeyAccountChange.objects.order_by("id").values_list("action", "reason")) == [
        ("designated", "营收第一"), ("designated", "战略合作伙伴"), ("removed", "合作结束")]  # fmt: skip
    assert scorecard_ranking(actor=admin_user, filters=PERIOD)["rows"][0]["key_account"] is True


@pytest.mark.django_db
def test_one_metric_alone_misjudges_accounts(admin_user, kam):
    # value = gross profit only; revenue and largest order tell another story
    draft = scorecard_draft(actor=admin_user)
    scorecard_update(actor=admin_user, scorecard=draft, data={"proposals": 1}, criteria=[
        {"key": "gross_profit", "weight": 100, "normalisation": "minmax"}])  # fmt: skip
    scorecard_publish(actor=admin_user, scorecard=draft)
    _book([
        ("大单低利", 500_000, 490_000, None),  # big single order, thin margin
        ("稳定高利", 200_000, 100_000, [0.25, 0.25, 0.25, 0.25]),
        ("小客户", 50_000, 30_000, None),
        ("客户D", 40_000, 31_000, None), ("客户E", 30_000, 25_000, None),
    ])  # fmt: skip
    single = single_metric_analysis(actor=admin_user, filters={**PERIOD, "metric": "revenue"})
    assert single["top_n"] == 1
    assert [r["name"] for r in single["overrated"]] == ["大单低利"]
    assert [r["name"] for r in single["overlooked"]] == ["稳定高利"]
    # revenue ranks 1..5; gross profit ranks 3, 1, 2, 4, 5 → ρ = 1 − 6·6 / (5·24) = 0.7
    assert single["spearman"] == 0.7
    big = big_order_analysis(actor=admin_user, filters=PERIOD)
    assert (big["metric"], [r["name"] for r in big["overrated"]]) == ("largest_order", ["大单低利"])
    assert [r["value"] for r in big["rows"]][:2] == [500000.0, 50000.0]
    with pytest.raises(ValidationError):
        single_metric_analysis(actor=admin_user, filters={**PERIOD, "metric": "turnover"})
    # a key account manager sees the comparison for their own accounts only
    assert single_metric_analysis(actor=kam, filters=PERIOD)["rows"] == []


@pytest.mark.django_db
def test_scores_are_only_for_those_who_see_orders(simple_card, engineer, portal_user):
    _book([("甲", 100_000, 50_000, None)])
    scores_compute(scorecard=simple_card, start=START, end=END)
    assert AccountScore.objects.count() == 1
    assert scorecard_ranking(actor=engineer, filters=PERIOD)["rows"] == []
    assert scorecard_ranking(actor=portal_user, filters=PERIOD)["rows"] == []


@pytest.mark.django_db
def test_the_seeded_scorecard_is_active_and_sums_to_100():
    card = scorecard_active()
    assert card.version == 1 and card.status == Scorecard.Status.ACTIVE
    assert sum(c.weight for c in card.criteria.all()) == 100
    assert {c.key for c in card.criteria.all()} >= {"gross_profit", "q:strategic_fit"}


def _race(work, *args_per_racer):
    """Run `work` for each argument at once (PostgreSQL: threads with their own connections
    and real concurrent transactions; SQLite serialises writers: one after the other)."""
    import threading

    from django.db import connection

    results, errors = [], []
    barrier = threading.Barrier(len(args_per_racer))

    def run(arg, in_thread=True):
        try:
            if in_thread:
                barrier.wait(timeout=10)
            results.append(work(arg))
        except Exception as error:
            errors.append(error)
        finally:
            if in_thread:
                connection.close()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=run, args=(a,)) for a in args_per_racer]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    else:
        for a in args_per_racer:
            run(a, in_thread=False)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_administrators_start_a_draft_at_once_one_draft(make_user):

    admins = [make_user("administrator", username=f"adm{i}") for i in range(2)]
    results, errors = _race(lambda actor: scorecard_draft(actor=actor).pk, *admins)
    assert errors == []
    assert len(set(results)) == 1
    assert Scorecard.objects.filter(status="draft").count() == 1


@pytest.mark.django_db(transaction=True)
def test_stale_scores_computed_at_once_are_computed_once():
    _book([("甲", 100_000, 50_000, None), ("乙", 60_000, 30_000, None)])
    card = scorecard_active()
    results, errors = _race(
        lambda _i: scores_compute(scorecard=card, start=START, end=END, only_if_stale=True), 1, 2
    )
    assert errors == []
    assert sorted(results) == [0, 2]  # the second waited, found them fresh
    assert AccountScore.objects.filter(scorecard=card).count() == 2


@pytest.mark.django_db
def test_groups_are_ranked_with_their_branches(simple_card, admin_user):
    group = AccountFactory(name="集团")
    plant = AccountFactory(name="集团工厂", parent=group)
    single = AccountFactory(name="单体客户")
    product = ProductFactory(list_price=Decimal(40_000), standard_cost=Decimal(10_000))
    for account, n in ((group, 1), (plant, 2), (single, 2)):
        for _i in range(n):
            OrderFactory(account=account, order_date=dt.date(2026, 6, 1),
                         lines=[{"product": product, "quantity": 1}])  # fmt: skip
    own = scorecard_ranking(actor=admin_user, filters=PERIOD)
    assert [r["name"] for r in own["rows"]] == ["集团工厂", "单体客户", "集团"]  # 80k, 80k, 40k
    grouped = scorecard_ranking(actor=admin_user, filters={**PERIOD, "level": "group"})
    # the group with its plant (120k) leads; the plant is no group of its own
    assert grouped["level"] == "group"
    assert [(r["name"], r["rank"]) for r in grouped["rows"]] == [("集团", 1), ("单体客户", 2)]
    assert grouped["rows"][0]["breakdown"][0]["value"] == 120_000.0
    with pytest.raises(ValidationError):
        scorecard_ranking(actor=admin_user, filters={**PERIOD, "level": "region"})
