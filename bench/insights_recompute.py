"""Benchmark: the insights recompute (`metrics_recompute`) over N accounts and M order lines,
next to the floor — one plain SQL aggregation of the same lines per account — on the same
database, and the incremental refresh (`metrics_refresh`) of one and of 1,000 accounts.

SQLite (default) in a temporary folder, or PostgreSQL with --postgres SERVER: the script
creates its own scratch database `keycare_bench_insights` there and drops it at the end
(--keep leaves it). Data are written with COPY on PostgreSQL and one prepared INSERT per
table on SQLite, bypassing the ORM (a benchmark of the recompute, not of the loader).

    .venv/bin/python bench/insights_recompute.py [--accounts 10000] [--lines 1200000]
    .venv/bin/python bench/insights_recompute.py --postgres postgres://postgres@127.0.0.1:5432 \\
        --accounts 100000 --lines 5000000
"""

import argparse
import atexit
import datetime as dt
import random
import shutil
import time
from array import array
from collections.abc import Iterable, Iterator

from scratch import LINES_FLOOR_SQL, PERIOD_LINES_SQL, PERIOD_WHERE, scratch_django

END = dt.date(2026, 12, 31)
START = dt.date(2026, 1, 1)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _spread(values: list[float]) -> str:
    return f"median of {len(values)}, {min(values):.3f}–{max(values):.3f}"


def _money(cents: int) -> str:
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


class Loader:
    """Write rows (tuples of str/int/None) into a model's table, all columns given."""

    def __init__(self, connection):
        self.connection = connection

    def columns(self, model, names: list[str]) -> tuple[str, list[str]]:
        meta = model._meta
        return meta.db_table, [meta.get_field(n).column for n in names]

    def load(self, model, names: list[str], rows: Iterable[tuple]) -> int:
        table, columns = self.columns(model, names)
        quote = self.connection.ops.quote_name
        column_sql = ", ".join(quote(c) for c in columns)
        n = 0
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                raw = cursor.cursor  # psycopg 3: COPY in text format, written in chunks
                with raw.copy(f"COPY {quote(table)} ({column_sql}) FROM STDIN") as copy:
                    chunk: list[str] = []
                    for row in rows:
                        chunk.append("\t".join("\\N" if v is None else str(v) for v in row))
                        n += 1
                        if len(chunk) == 20_000:
                            copy.write("\n".join(chunk) + "\n")
                            chunk = []
                    if chunk:
                        copy.write("\n".join(chunk) + "\n")
            else:
                marks = ", ".join(["%s"] * len(columns))
                sql = f"INSERT INTO {quote(table)} ({column_sql}) VALUES ({marks})"
                batch: list[tuple] = []
                for row in rows:
                    batch.append(row)
                    n += 1
                    if len(batch) == 20_000:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
        return n


def generate(args, connection) -> tuple[list[int], int]:
    """Accounts (a fifth groups, the rest their branches), products, orders over five years
    with `--lines-per-order` lines each, order totals equal to the sums of their lines.
    Returns the account ids and the number of rows written."""
    from django.core.management.color import no_style
    from django.db import transaction
    from django.utils import timezone

    from keycare.accounts.models import Account, Order, OrderLine, Product, ProductLine

    rng = random.Random(1)
    loader = Loader(connection)
    now = timezone.now().isoformat()
    n_groups = max(1, args.accounts // 5)
    n_orders = max(1, args.lines // args.lines_per_order)
    started = time.perf_counter()
    written = 0
    with transaction.atomic():
        parents = [0] * (args.accounts + 1)

        def accounts() -> Iterator[tuple]:
            for pk in range(1, args.accounts + 1):
                parent = None if pk <= n_groups else rng.randint(1, n_groups)
                parents[pk] = parent or 0
                kind = "基准集团" if parent is None else "基准工厂"
                path = f"/{pk}/" if parent is None else f"/{parent}/{pk}/"
                yield (pk, f"{kind}{pk:06d}", "", "", "", parent, path, 0 if parent is None else 1,
                       "", "", "", "", "", "active", "", "", None, "", "", 1, now, now)  # fmt: skip

        written += loader.load(Account, [
            "id", "name", "name_en", "short_name", "credit_code", "parent", "path", "depth",
            "industry", "province", "city", "address", "website", "status", "tier",
            "account_type", "owner", "notes", "search_text", "version", "created_at", "updated_at",
        ], accounts())  # fmt: skip
        line = ProductLine.objects.create(code="BENCH", name="Benchmark")
        prices = [rng.randint(1_000, 200_000) * 100 for _ in range(1000)]
        products = Product.objects.bulk_create([
            Product(code=f"P{i:05d}", name=f"基准产品{i:05d}", product_line=line,
                    list_price=p // 100, standard_cost=p * 62 // 10_000)
            for i, p in enumerate(prices)
        ])  # fmt: skip
        product_ids = [p.pk for p in products]
        totals = {
            name: array("q", bytes(8 * (n_orders + 1))) for name in ("list", "net", "disc", "cost")
        }

        def lines() -> Iterator[tuple]:
            random_ = rng.random
            for order in range(1, n_orders + 1):
                t_list = t_net = t_disc = t_cost = 0
                for number in range(1, args.lines_per_order + 1):
                    k = int(random_() * 1000)
                    price = prices[k]
                    quantity = 1 + int(random_() * 8)
                    net_price = price - price * int(random_() * 4) * 5 // 100  # 0–15 % off
                    unit_cost = price * 62 // 100
                    list_amount, net_amount = price * quantity, net_price * quantity
                    cost_amount = unit_cost * quantity
                    t_list += list_amount
                    t_net += net_amount
                    t_disc += list_amount - net_amount
                    t_cost += cost_amount
                    yield (order, number, "product", product_ids[k], "", quantity,
                           _money(price), _money(net_price), _money(unit_cost), _money(list_amount),
                           _money(net_amount), _money(list_amount - net_amount),
                           _money(cost_amount))  # fmt: skip
                totals["list"][order], totals["net"][order] = t_list, t_net
                totals["disc"][order], totals["cost"][order] = t_disc, t_cost

        # lines first (the foreign key to the order is checked at commit), so the orders'
        # totals are the sums of their lines without holding the lines in memory
        written += loader.load(OrderLine, [
            "order", "line_number", "line_type", "product", "description", "quantity",
            "list_price", "net_price", "unit_cost", "list_amount", "net_amount",
            "discount_amount", "cost_amount",
        ], lines())  # fmt: skip
        days = 5 * 365

        def orders() -> Iterator[tuple]:
            n = args.accounts
            for order in range(1, n_orders + 1):
                # skewed towards the low ids (the groups): the top fifth orders about half
                account = 1 + int(n * rng.random() ** 2)
                day = END - dt.timedelta(days=int(rng.random() * days))
                yield (order, f"B{order:09d}", account, day.isoformat(), "CNY", "",
                       _money(totals["list"][order]), _money(totals["net"][order]),
                       _money(totals["disc"][order]), _money(totals["cost"][order]),
                       args.lines_per_order, now, now)  # fmt: skip

        written += loader.load(Order, [
            "id", "number", "account", "order_date", "currency", "notes", "total_list",
            "total_net", "total_discount", "total_cost", "line_count", "created_at", "updated_at",
        ], orders())  # fmt: skip
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Account, Order, OrderLine]):
                cursor.execute(sql)
    elapsed = time.perf_counter() - started
    written += 1 + len(products)
    print(f"data: {args.accounts:,} accounts, {n_orders:,} orders, {n_orders * args.lines_per_order:,} "
          f"order lines: {elapsed:.1f} s, {written / elapsed:,.0f} rows/s")  # fmt: skip
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"ANALYZE: {time.perf_counter() - t:.1f} s")
    return list(range(1, args.accounts + 1)), written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=1_200_000, help="order lines")
    parser.add_argument("--lines-per-order", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="SERVER", default=None,
                        help="e.g. postgres://postgres@127.0.0.1:5432: runs in a scratch "
                             "database of its own there")  # fmt: skip
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database (and its folder)"
    )
    args = parser.parse_args()

    work = scratch_django(postgres=args.postgres, keep=args.keep)
    if not args.keep:
        atexit.register(shutil.rmtree, work, ignore_errors=True)
    from django.db import connection

    from keycare.insights.metrics import metrics_recompute, metrics_refresh

    accounts, _written = generate(args, connection)
    floors, all_floors, recomputes = [], [], []
    for _i in range(args.repeat):
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(LINES_FLOOR_SQL.format(where=PERIOD_WHERE), [START, END])
            groups = len(cursor.fetchall())
            floors.append(time.perf_counter() - t)
            t = time.perf_counter()
            cursor.execute(LINES_FLOOR_SQL.format(where=""))
            cursor.fetchall()
            all_floors.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = metrics_recompute(start=START, end=END)
        recomputes.append(time.perf_counter() - t)
    floor, all_floor, recompute = _median(floors), _median(all_floors), _median(recomputes)
    with connection.cursor() as cursor:
        cursor.execute(PERIOD_LINES_SQL, [START, END])
        (period_lines,) = cursor.fetchone()
    print(f"floor: one SQL aggregation of the {period_lines:,} order lines of {START.year} by "
          f"account ({groups:,} accounts): {floor:.3f} s ({_spread(floors)})")  # fmt: skip
    print(f"       the same over all lines: {all_floor:.3f} s ({_spread(all_floors)})")
    print(f"metrics_recompute ({rows:,} rows, own and group): {recompute:.3f} s "
          f"({_spread(recomputes)})")  # fmt: skip
    print(f"ratio recompute / floor: {recompute / floor:.1f} "
          f"(over all lines' floor: {recompute / all_floor:.1f})")  # fmt: skip

    rng = random.Random(2)
    branch = accounts[-1]
    many = min(1000, len(accounts))
    for label, ids in (("1 account", [branch]), (f"{many:,} accounts", rng.sample(accounts, many))):
        times = []
        for _i in range(args.repeat):
            t = time.perf_counter()
            written = metrics_refresh(account_ids=ids)
            times.append(time.perf_counter() - t)
        print(f"metrics_refresh of {label} (one stored period, {written:,} rows upserted): "
              f"{_median(times):.3f} s ({_spread(times)})")  # fmt: skip

    # the value scorecard in use (seeded by migration 0004), with judgements on half the
    # accounts: score every account for the period, as the tick or a page does when stale
    from keycare.insights.models import QualitativeCriterion, QualitativeScore
    from keycare.insights.scorecard import scorecard_active, scores_compute

    criteria = list(QualitativeCriterion.objects.all())
    QualitativeScore.objects.bulk_create(
        (QualitativeScore(account_id=pk, criterion=c, score=rng.randint(1, 10))
         for pk in accounts[::2] for c in criteria), batch_size=10_000,
    )  # fmt: skip
    scorecard = scorecard_active()
    times = []
    for _i in range(args.repeat):
        t = time.perf_counter()
        scored = scores_compute(scorecard=scorecard, start=START, end=END)
        times.append(time.perf_counter() - t)
    print(f"scores_compute ({scored:,} accounts, {scorecard.criteria.count()} criteria): "
          f"{_median(times):.3f} s ({_spread(times)}); ratio to the floor "
          f"{_median(times) / floor:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
