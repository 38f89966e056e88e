"""Benchmark: import N order lines (default 1,000,000) from one CSV file.

Prints the time, the rate and the process's peak memory, to show that the import streams:
memory stays flat whatever the file size. Runs against a throwaway SQLite database in a
temporary folder, or against DATABASE_URL when given (use a scratch database!).

    .venv/bin/python bench/import_orders.py [--lines 1000000] [--accounts 2000] [--keep]
"""

import argparse
import csv
import random
import resource
import time

from scratch import scratch_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--lines-per-order", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()

    work = scratch_django()

    from keycare.accounts.models import Account, Product
    from keycare.accounts.services.accounts import _set_path
    from keycare.dataio.engine import run_import

    rng = random.Random(1)
    accounts = Account.objects.bulk_create(
        [Account(name=f"基准客户{i:05d}有限公司", search_text="") for i in range(args.accounts)]
    )
    for account in accounts:
        _set_path(account)
    Account.objects.bulk_update(accounts, ["path", "depth"], batch_size=1000)
    products = Product.objects.bulk_create(
        [Product(code=f"BP-{i:04d}", name=f"基准产品{i}", list_price=1000 + i, standard_cost=600 + i)
         for i in range(200)]
    )  # fmt: skip

    path = work / "orders.csv"
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["订单号", "行号", "订单日期", "客户", "产品编码", "数量", "成交价"])
        for i in range(args.lines):
            order, line = divmod(i, args.lines_per_order)
            account = accounts[order % len(accounts)]
            product = products[rng.randrange(len(products))]
            day = f"2025-{1 + order % 12:02d}-{1 + order % 28:02d}"
            writer.writerow([f"BO{order:08d}", line + 1, day, account.name, product.code,
                             rng.randint(1, 9), f"{product.list_price * 0.95:.2f}"])  # fmt: skip
    size_mb = path.stat().st_size / 1e6
    print(
        f"generated {args.lines:,} lines ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    last = [0.0]

    def progress(rows, done, total):
        now = time.perf_counter()
        if now - last[0] > 10:
            last[0] = now
            print(f"  {rows:,} rows, {100 * (done or 0) / (total or 1):.0f}%", flush=True)

    started = time.perf_counter()
    outcome = run_import(kind="orders", path=path, progress=progress)
    elapsed = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert outcome.ok, outcome.errors[:5]
    print(f"import: {outcome.rows:,} rows, {outcome.created:,} created in {elapsed:.1f} s "
          f"({outcome.rows / elapsed:,.0f} rows/s)")  # fmt: skip
    print(f"peak memory: {rss_after:.0f} MB (before the import: {rss_before:.0f} MB)")

    started = time.perf_counter()
    again = run_import(kind="orders", path=path)
    elapsed = time.perf_counter() - started
    print(f"re-import (nothing changes): {again.unchanged:,} unchanged in {elapsed:.1f} s "
          f"({again.rows / elapsed:,.0f} rows/s)")  # fmt: skip
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
