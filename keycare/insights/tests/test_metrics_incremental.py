"""The metrics follow every change incrementally: after an order, a ticket and its cost, a
rating, an NPS answer, an import or a move in the hierarchy, every stored period holds
exactly what a full recompute gives, and only the rows the change can move are rewritten."""

import csv
import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from keycare.accounts.services import (
    account_create,
    account_delete,
    account_update,
    order_create,
)
from keycare.accounts.tests.factories import AccountFactory, ContactFactory, ProductFactory
from keycare.dataio.engine import run_import
from keycare.insights import metrics as metrics_module
from keycare.insights import tasks
from keycare.insights.metrics import (
    metric_periods,
    metrics_recompute,
    metrics_refresh,
    trailing_twelve_months,
)
from keycare.insights.models import AccountMetric
from keycare.service.models import StockLevel, StockLocation
from keycare.service.ratings import rating_invite, rating_submit
from keycare.service.surveys import nps_survey_answer, nps_survey_send
from keycare.service.tests.factories import TicketFactory
from keycare.service.visits import visit_complete, visit_plan

pytestmark = pytest.mark.django_db
TTM = trailing_twelve_months()
# the second stored period: the trailing period's previous one (its growth compares to it)
PREVIOUS = (TTM[0] - (TTM[1] - TTM[0]) - dt.timedelta(days=1), TTM[0] - dt.timedelta(days=1))
FIELDS = [
    f.name for f in AccountMetric._meta.concrete_fields if f.name not in ("id", "computed_at")
]


def _order(account, day, price, quantity=1):
    product = ProductFactory(
        list_price=Decimal(price), standard_cost=Decimal(price) * Decimal("0.6")
    )
    return order_create(
        actor=None, number=f"SO-{account.pk}-{day}-{price}", account=account, order_date=day,
        lines=[{"product": product, "quantity": quantity}],
    )  # fmt: skip


def _rows() -> dict[tuple, tuple]:
    """Every stored row, all its fields but the id and the time it was computed."""
    return {
        (r["account"], r["scope"], r["period_start"], r["period_end"]): tuple(r[f] for f in FIELDS)
        for r in AccountMetric.objects.values(*FIELDS)
    }


def _computed_at() -> dict[tuple, dt.datetime]:
    return {
        (r.account_id, r.scope, r.period_start): r.computed_at for r in AccountMetric.objects.all()
    }


def _assert_equals_full_recompute() -> dict[tuple, tuple]:
    refreshed = _rows()
    for start, end in metric_periods():
        metrics_recompute(start=start, end=end)
    assert refreshed == _rows()
    return refreshed


def _rewritten(before: dict[tuple, dt.datetime]) -> set[tuple]:
    after = _computed_at()
    assert set(after) >= set(before)
    return {key for key, at in after.items() if before.get(key) != at}


@pytest.fixture
def world():
    """A group with a plant, a group of its own, and an unrelated account; orders in both
    stored periods (the trailing twelve months and the twelve months before them)."""
    hq = AccountFactory(name="集团")
    plant = AccountFactory(name="工厂", parent=hq)
    other = AccountFactory(name="别家集团")
    far = AccountFactory(name="无关客户")
    _order(hq, TTM[0] + dt.timedelta(days=10), 10_000)
    _order(plant, TTM[1] - dt.timedelta(days=30), 30_000)
    _order(plant, PREVIOUS[0] + dt.timedelta(days=40), 25_000)
    _order(other, TTM[1] - dt.timedelta(days=60), 7_000)
    _order(far, TTM[1] - dt.timedelta(days=5), 3_000)
    for start, end in (TTM, PREVIOUS):
        metrics_recompute(start=start, end=end)
    return {"hq": hq, "plant": plant, "other": other, "far": far}


def _keys(*accounts_scopes) -> set[tuple]:
    return {
        (account.pk, scope, start)
        for account, scope in accounts_scopes
        for start, _end in (TTM, PREVIOUS)
    }


def test_an_order_refreshes_the_account_and_its_groups_only(
    world, django_capture_on_commit_callbacks
):
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        _order(world["plant"], PREVIOUS[1] - dt.timedelta(days=3), 40_000)
    rewritten = _rewritten(before)
    plant, hq = world["plant"], world["hq"]
    # both periods: the order is in the previous one and is the trailing one's previous revenue
    assert rewritten == _keys((plant, "own"), (plant, "group"), (hq, "group"))
    rows = _assert_equals_full_recompute()
    ttm_group = rows[(hq.pk, "group", *TTM)]
    assert ttm_group[FIELDS.index("previous_revenue")] == Decimal("65000.00")


@pytest.fixture
def stock():
    part = ProductFactory(name="主轴轴承", standard_cost=Decimal("3900"))
    van = StockLocation.objects.create(name="刘洋的车", kind="van")
    StockLevel.objects.create(location=van, product=part, quantity=Decimal("2"))
    return {"product": part, "location": van}


def test_a_ticket_and_its_cost_to_serve(
    world, admin_user, engineer, stock, settings, django_capture_on_commit_callbacks
):
    settings.KEYCARE_LABOUR_RATE = 200
    plant, hq = world["plant"], world["hq"]
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(account=plant)
    assert _rows()[(plant.pk, "own", *TTM)][FIELDS.index("tickets")] == 1
    visit = visit_plan(
        actor=admin_user, ticket=ticket, planned_start=timezone.now(), engineers=[engineer]
    )
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        visit_complete(
            actor=engineer, visit=visit, work_done="更换主轴轴承", labour_hours=Decimal("2"),
            travel_cost=Decimal("300"), parts=[{**stock, "quantity": 1}],
        )  # fmt: skip
    assert _rewritten(before) == _keys((plant, "own"), (plant, "group"), (hq, "group"))
    rows = _assert_equals_full_recompute()
    assert rows[(hq.pk, "group", *TTM)][FIELDS.index("cost_to_serve")] == Decimal("4600.00")


def test_a_rating_and_an_nps_answer(world, admin_user, django_capture_on_commit_callbacks):
    plant, hq = world["plant"], world["hq"]
    contact = ContactFactory(account=plant, email="li@example.com")
    ticket = TicketFactory(account=plant, contact=contact)
    _rating, token = rating_invite(ticket=ticket)
    _survey, nps_token = nps_survey_send(actor=admin_user, account=plant, contact=contact)
    metrics_recompute(start=TTM[0], end=TTM[1])  # the ticket is counted
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        rating_submit(token=token, score=5)
    assert _rewritten(before) == _keys((plant, "own"), (plant, "group"), (hq, "group"))
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        nps_survey_answer(token=nps_token, score=10)
    assert _rewritten(before) == _keys((plant, "own"), (plant, "group"), (hq, "group"))
    rows = _assert_equals_full_recompute()
    group = rows[(hq.pk, "group", *TTM)]
    assert (group[FIELDS.index("csat")], group[FIELDS.index("nps")]) == (
        Decimal("100.00"),
        Decimal("100.00"),
    )


def test_a_move_in_the_hierarchy_refreshes_the_old_and_the_new_groups(
    world, django_capture_on_commit_callbacks
):
    plant, hq, other = world["plant"], world["hq"], world["other"]
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        account_update(actor=None, account=plant, data={"parent": other})
    # the move names the plant and its old ancestors; the refresh rewrites their rows and
    # the group rows of the new ancestors, no other row
    assert _rewritten(before) == _keys(
        (plant, "own"), (plant, "group"), (hq, "own"), (hq, "group"), (other, "group")
    )
    rows = _assert_equals_full_recompute()
    assert rows[(hq.pk, "group", *TTM)][FIELDS.index("revenue")] == Decimal("10000.00")
    assert rows[(other.pk, "group", *TTM)][FIELDS.index("revenue")] == Decimal("37000.00")


def test_a_new_account_gets_its_rows(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        branch = account_create(actor=None, name="新工厂", parent=world["hq"])
    assert AccountMetric.objects.filter(account=branch).count() == 4  # own, group × 2 periods
    _assert_equals_full_recompute()


def _orders_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["订单号", "行号", "订单日期", "客户", "产品编码", "数量", "成交价"], *rows]
        )
    return path


def test_an_import_refreshes_once_with_every_affected_account(
    world, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    ProductFactory(code="SPR-001", list_price=Decimal("9800"), standard_cost=Decimal("3900"))
    calls = []

    def recording(*, account_ids):
        calls.append(sorted(account_ids))
        return metrics_refresh(account_ids=account_ids)

    monkeypatch.setattr(tasks, "metrics_refresh", recording)
    monkeypatch.setattr("keycare.dataio.kinds.orders.OrdersKind.batch_size", 2)
    day = (TTM[1] - dt.timedelta(days=1)).isoformat()
    plant, other = world["plant"], world["other"]
    rows = [
        ["IM-1", "1", day, plant.name, "SPR-001", "2", "9000"],
        ["IM-1", "2", day, plant.name, "SPR-001", "1", "9500"],
        ["IM-2", "1", day, other.name, "SPR-001", "3", ""],
        ["IM-3", "1", day, other.name, "SPR-001", "1", ""],
        ["IM-3", "2", day, other.name, "SPR-001", "1", ""],
    ]
    before = _computed_at()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_import(kind="orders", path=_orders_csv(tmp_path / "o.csv", rows))
    assert outcome.ok, outcome.errors
    assert calls == [sorted([plant.pk, other.pk])]  # three batches, one refresh
    assert _rewritten(before) == _keys(
        (plant, "own"), (plant, "group"), (world["hq"], "group"), (other, "own"), (other, "group")
    )
    _assert_equals_full_recompute()
    # moving an order to another account refreshes both
    calls.clear()
    moved = [["IM-2", "1", day, world["far"].name, "SPR-001", "3", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import(kind="orders", path=_orders_csv(tmp_path / "m.csv", moved)).ok
    assert calls == [sorted([other.pk, world["far"].pk])]
    _assert_equals_full_recompute()


def test_a_dry_run_or_a_rejected_import_refreshes_nothing(
    world, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    ProductFactory(code="SPR-001", list_price=Decimal("9800"), standard_cost=Decimal("3900"))
    calls = []
    monkeypatch.setattr(tasks, "metrics_refresh", lambda **kw: calls.append(kw))
    day = TTM[1].isoformat()
    good = [["DR-1", "1", day, world["plant"].name, "SPR-001", "1", ""]]
    bad = [*good, ["DR-2", "1", day, "不存在的客户", "SPR-001", "1", ""]]
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import(
            kind="orders", path=_orders_csv(tmp_path / "g.csv", good), dry_run=True
        ).ok
        assert not run_import(kind="orders", path=_orders_csv(tmp_path / "b.csv", bad)).ok
    assert calls == []


def test_a_large_change_recomputes_the_stored_periods(world, monkeypatch):
    monkeypatch.setattr(metrics_module, "REFRESH_LIMIT", 2)
    before = _computed_at()
    assert metrics_refresh(account_ids=[world["plant"].pk]) == 2 * 3  # within the limit
    assert (
        metrics_refresh(account_ids=[world["far"].pk, world["plant"].pk]) == 4 * 2 * 2
    )  # every account, own and group, both periods
    assert _rewritten(before) == set(before)
    _assert_equals_full_recompute()


def test_the_refresh_is_set_based(world):
    plant = world["plant"]
    with CaptureQueriesContext(connection) as one_order:
        metrics_refresh(account_ids=[plant.pk])
    for i in range(20):
        _order(plant, TTM[1] - dt.timedelta(days=i), 1_000 + i)
    with CaptureQueriesContext(connection) as many_orders:
        metrics_refresh(account_ids=[plant.pk])
    assert len(many_orders) == len(one_order)


def test_nothing_stored_nothing_refreshed():
    account = AccountFactory()
    assert metrics_refresh(account_ids=[account.pk]) == 0
    assert metrics_refresh(account_ids=[]) == 0
    assert metrics_refresh(account_ids=None) == 0
    assert not AccountMetric.objects.exists()


def test_the_task_takes_ids_and_is_idempotent(world):
    plant = world["plant"]
    assert tasks.refresh_metrics_task.apply(args=[[plant.pk]]).get() == 6
    first = _rows()
    assert tasks.refresh_metrics_task.apply(args=[[plant.pk]]).get() == 6
    assert _rows() == first
    assert tasks.refresh_metrics_task.apply(args=[[999_999]]).get() == 0  # a deleted account


def test_an_account_import_refreshes_the_moved_and_the_new_accounts_once(
    world, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def recording(*, account_ids):
        calls.append(sorted(account_ids))
        return metrics_refresh(account_ids=account_ids)

    monkeypatch.setattr(tasks, "metrics_refresh", recording)
    plant, hq, other = world["plant"], world["hq"], world["other"]
    path = tmp_path / "a.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(
            [["Name", "Parent account"], [plant.name, other.name], ["新分厂", other.name]]
        )
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_import(kind="accounts", path=path)
    assert (outcome.ok, outcome.created, outcome.updated) == (True, 1, 1), outcome.errors
    new = AccountMetric.objects.get(scope="own", period_start=TTM[0], account__name="新分厂")
    assert calls == [sorted([plant.pk, hq.pk, new.account_id])]
    rows = _assert_equals_full_recompute()
    assert rows[(hq.pk, "group", *TTM)][FIELDS.index("revenue")] == Decimal("10000.00")
    assert rows[(other.pk, "group", *TTM)][FIELDS.index("revenue")] == Decimal("37000.00")


def test_a_deleted_branch_leaves_its_groups_figures(
    world, admin_user, django_capture_on_commit_callbacks
):
    hq = world["hq"]
    branch = account_create(actor=None, name="小分厂", parent=hq)
    contact = ContactFactory(account=branch, email="wang@example.com")
    _survey, token = nps_survey_send(actor=admin_user, account=branch, contact=contact)
    nps_survey_answer(token=token, score=0)
    metrics_recompute(start=TTM[0], end=TTM[1])
    assert _rows()[(hq.pk, "group", *TTM)][FIELDS.index("nps")] == Decimal("-100.00")
    branch_id = branch.pk
    before = {key: at for key, at in _computed_at().items() if key[0] != branch_id}
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(actor=admin_user, account=branch)
    assert not AccountMetric.objects.filter(account_id=branch_id).exists()
    assert _rewritten(before) == _keys((hq, "own"), (hq, "group"))
    rows = _assert_equals_full_recompute()
    assert rows[(hq.pk, "group", *TTM)][FIELDS.index("nps")] is None
