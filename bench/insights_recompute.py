"""Benchmark: the insights recompute (`metrics_recompute`) over N accounts and M orders,
next to the floor — one plain SQL aggregation of the same orders per account — on the same
database. Prints both times and their ratio. A throwaway SQLite database in a temporary
folder, or DATABASE_URL when given (use a scratch database!).

    .venv/bin/python bench/insights_recompute.py [--accounts 10000] [--orders 500000]
"""

import argparse
import datetime as dt
import random
import time
from decimal import Decimal

from scratch import scratch_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    scratch_django()
    from django.db import connection

    from keycare.accounts.models import Account, Order
    from keycare.accounts.services.accounts import _set_path
    from keycare.insights.metrics import metrics_recompute

    rng = random.Random(1)  # noqa: S311 - reproducible test data
    groups = Account.objects.bulk_create(
        [Account(name=f"基准集团{i:05d}", search_text="") for i in range(args.accounts // 5)]
    )
    branches = Account.objects.bulk_create(
        [Account(name=f"基准工厂{i:06d}", search_text="", parent=rng.choice(groups))
         for i in range(args.accounts - len(groups))]
    )  # fmt: skip
    accounts = groups + branches
    for account in accounts:
        _set_path(account)
    Account.objects.bulk_update(accounts, ["path", "depth"], batch_size=2000)
    end = dt.date(2026, 12, 31)
    started = time.perf_counter()
    batch = []
    for i in range(args.orders):
        net = Decimal(rng.randint(1_000, 500_000))
        batch.append(Order(
            number=f"B{i:08d}", account_id=accounts[int(rng.paretovariate(1.2)) % len(accounts)].pk,
            order_date=end - dt.timedelta(days=rng.randint(0, 5 * 365)),
            total_net=net, total_list=net, total_cost=net * Decimal("0.62"), line_count=4,
        ))  # fmt: skip
        if len(batch) == 10_000:
            Order.objects.bulk_create(batch)
            batch = []
    Order.objects.bulk_create(batch)
    print(f"data: {len(accounts):,} accounts, {args.orders:,} orders "
          f"({time.perf_counter() - started:.1f} s to load)")  # fmt: skip

    start = dt.date(2026, 1, 1)
    floor_sql = (
        "SELECT account_id, SUM(total_net), SUM(total_cost), COUNT(*), MAX(total_net) "
        "FROM accounts_order WHERE order_date >= %s AND order_date <= %s GROUP BY account_id"
    )
    floors, recomputes = [], []
    for _i in range(args.repeat):
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(floor_sql, [start, end])
            cursor.fetchall()
        floors.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = metrics_recompute(start=start, end=end)
        recomputes.append(time.perf_counter() - t)
    floor, recompute = sorted(floors)[len(floors) // 2], sorted(recomputes)[len(recomputes) // 2]
    print(
        f"floor (one SQL aggregation of the period's orders): {floor:.3f} s (median of {args.repeat})"
    )
    print(
        f"metrics_recompute ({rows:,} rows, own and group): {recompute:.3f} s (median of {args.repeat})"
    )
    print(f"ratio recompute / floor: {recompute / floor:.1f}")


if __name__ == "__main__":
    main()
