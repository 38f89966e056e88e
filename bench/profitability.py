"""Benchmark: the account P&L with its cost to serve (`pnl_compute`), the P&L page's report
(`pnl_report`, per account and per group) and the whale curve over N accounts, M order
lines and T tickets with completed visits, next to the floor — the same grouped SQL over
orders and tickets run directly — on the same database.

SQLite (default) in a temporary folder, or PostgreSQL with --postgres SERVER (a scratch
database of its own there, dropped at the end unless --keep).

    .venv/bin/python bench/profitability.py [--accounts 10000] [--lines 400000] [--tickets 50000]
    .venv/bin/python bench/profitability.py --postgres postgres://postgres@127.0.0.1:5432 \\
        --accounts 100000 --lines 5000000 --tickets 1000000
"""

import argparse
import atexit
import datetime as dt
import random
import shutil
import time
from decimal import Decimal

from insights_recompute import END, START, _median, _spread, generate
from scratch import scratch_django


def tickets(args) -> int:
    """Tickets over the year with recorded costs, a tenth under warranty and a tenth billable,
    each with one completed visit, and activity rates with a mid-year change."""
    from django.db import transaction
    from django.utils import timezone

    from keycare.profitability.models import CostRate
    from keycare.service.models import FieldVisit, Ticket

    rng = random.Random(3)
    started = time.perf_counter()
    tz = timezone.get_current_timezone()
    coverages = ["unknown"] * 6 + ["contract"] * 2 + ["warranty", "billable"]
    with transaction.atomic():
        CostRate.objects.bulk_create([
            CostRate(driver="engineer_hour", valid_from=START, rate=Decimal("28.24")),
            CostRate(driver="ticket", valid_from=START, rate=Decimal("40")),
            CostRate(driver="ticket", valid_from=dt.date(2026, 7, 1), rate=Decimal("45")),
            CostRate(driver="field_visit", valid_from=START, rate=Decimal("150")),
        ])  # fmt: skip
        batch, visits = [], []
        for n in range(1, args.tickets + 1):
            opened = dt.datetime(2026, 1, 1, 8, tzinfo=tz) + dt.timedelta(
                minutes=rng.randint(0, 364 * 24 * 60)
            )
            batch.append(Ticket(
                number=f"BT{n:09d}", account_id=1 + int(args.accounts * rng.random() ** 2),
                subject="基准工单", opened_at=opened, coverage=rng.choice(coverages),
                labour_cost=Decimal(rng.randint(0, 2000)), parts_cost=Decimal(rng.randint(0, 3000)),
                travel_cost=Decimal(rng.randint(0, 800)),
            ))  # fmt: skip
            if len(batch) == 10_000:
                made = Ticket.objects.bulk_create(batch)
                visits += [FieldVisit(ticket_id=t.pk, planned_start=t.opened_at, status="done",
                                      checked_out_at=t.opened_at + dt.timedelta(hours=6)) for t in made]  # fmt: skip
                batch = []
        if batch:
            made = Ticket.objects.bulk_create(batch)
            visits += [FieldVisit(ticket_id=t.pk, planned_start=t.opened_at, status="done",
                                  checked_out_at=t.opened_at + dt.timedelta(hours=6)) for t in made]  # fmt: skip
        FieldVisit.objects.bulk_create(visits, batch_size=10_000)
    elapsed = time.perf_counter() - started
    print(f"data: {args.tickets:,} tickets and visits: {elapsed:.1f} s")
    return args.tickets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=400_000, help="order lines")
    parser.add_argument("--lines-per-order", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="SERVER", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = scratch_django(postgres=args.postgres, keep=args.keep)
    if not args.keep:
        atexit.register(shutil.rmtree, work, ignore_errors=True)
    from django.db import connection

    from keycare.profitability.pnl import pnl_compute, pnl_report, whale_curve_report
    from keycare.users.choices import Role
    from keycare.users.services import user_create

    generate(args, connection)
    tickets(args)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    executive = user_create(username="bench_exec", password=None, roles=[Role.EXECUTIVE])
    floor_sql = [
        ("SELECT account_id, SUM(total_list), SUM(total_net), SUM(total_discount), SUM(total_cost), "
         "COUNT(*) FROM accounts_order WHERE order_date >= %s AND order_date <= %s GROUP BY account_id"),
        ("SELECT account_id, COUNT(*), SUM(labour_cost), SUM(parts_cost), SUM(travel_cost) "
         "FROM service_ticket WHERE opened_at >= %s AND opened_at < %s GROUP BY account_id"),
    ]  # fmt: skip
    floors, computes, reports, groups, whales = [], [], [], [], []
    filters = {"period_from": START.isoformat(), "period_to": END.isoformat()}
    for _i in range(args.repeat):
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(floor_sql[0], [START, END])
            cursor.fetchall()
            cursor.execute(
                floor_sql[1],
                [f"{START}T00:00:00+08:00", f"{END + dt.timedelta(days=1)}T00:00:00+08:00"],
            )
            cursor.fetchall()
        floors.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = pnl_compute(start=START, end=END)
        computes.append(time.perf_counter() - t)
        t = time.perf_counter()
        report = pnl_report(actor=executive, filters=filters)
        reports.append(time.perf_counter() - t)
        t = time.perf_counter()
        pnl_report(actor=executive, filters={**filters, "group_by": "group"})
        groups.append(time.perf_counter() - t)
        t = time.perf_counter()
        curve = whale_curve_report(actor=executive, filters=filters)
        whales.append(time.perf_counter() - t)
    floor = _median(floors)
    print(
        f"floor: the two grouped aggregations (orders and tickets of {START.year}) alone: {floor:.3f} s ({_spread(floors)})"
    )
    for label, times in (
        (f"pnl_compute ({len(rows):,} accounts, every driver)", computes),
        (f"pnl_report per account ({len(report['rows']):,} rows)", reports),
        ("pnl_report per group", groups),
        (
            f"whale curve (peak {curve['peak_pct']} % at {curve['peak_rank']:,} of {curve['accounts']:,})",
            whales,
        ),
    ):
        print(
            f"{label}: {_median(times):.3f} s ({_spread(times)}); ratio to the floor {_median(times) / floor:.1f}"
        )


if __name__ == "__main__":
    main()
