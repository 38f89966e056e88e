"""Shared set-up of the benchmarks: Django on a throwaway SQLite database in a temporary
folder (or DATABASE_URL when given: use a scratch database!), migrated.

With `postgres=` (a server URL such as postgres://postgres@127.0.0.1:5432) the benchmark
creates its own scratch database on that server instead, under a fixed name it owns, and
`drop_scratch_postgres` drops it again; no other database is touched."""

import atexit
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DATABASE = "keycare_bench_insights"

#: The floor of the insights recompute: one plain aggregation of order lines per account
#: (`{where}`: PERIOD_WHERE for one period, "" for all lines), and the period's line count.
LINES_FLOOR_SQL = (
    "SELECT o.account_id, SUM(l.net_amount), SUM(l.cost_amount), SUM(l.discount_amount), "
    "COUNT(*), MAX(l.net_amount) FROM accounts_orderline l "
    "JOIN accounts_order o ON o.id = l.order_id {where}GROUP BY o.account_id"
)
PERIOD_WHERE = "WHERE o.order_date >= %s AND o.order_date <= %s "
PERIOD_LINES_SQL = (
    "SELECT COUNT(*) FROM accounts_orderline l JOIN accounts_order o ON o.id = l.order_id "
    + PERIOD_WHERE
)


def _admin(server: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def create_scratch_postgres(server: str, name: str = BENCH_DATABASE) -> str:
    """(Re)create the benchmark's own database on the server; returns its URL."""
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(server, f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


def drop_scratch_postgres(server: str, name: str = BENCH_DATABASE) -> None:
    from django.db import connections

    connections.close_all()
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_django(*, postgres: str | None = None, keep: bool = False) -> Path:
    """Set Django up on the scratch database; returns the temporary folder."""
    work = Path(tempfile.mkdtemp(prefix="keycare-bench-"))
    os.environ.setdefault("KEYCARE_VAR_DIR", str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.dev"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if postgres:
        os.environ["DATABASE_URL"] = create_scratch_postgres(postgres)
        if not keep:
            atexit.register(drop_scratch_postgres, postgres)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    return work
