"""`make bench`: KeyCare at scale on PostgreSQL, side by side with django-helpdesk and against
the raw-SQL floor, in one run. Prints a table and writes bench/results/<scale>-<time>.json.

    .venv/bin/python bench/run.py --scale small|medium|large [--reuse] [--repeat 3]

1. Data: `keycare bench-data --scale S` into the scratch database keycare_bench_<scale> on
   the server (--reuse keeps a loaded one from an earlier run); django-helpdesk (its own
   virtual environment under bench/.helpdesk-venv) gets the same number of tickets in
   keycare_bench_helpdesk.
2. HTTP: both served by gunicorn with 2 workers on loopback, loaded by wrk (its own process)
   at concurrency 1 and 8, each measurement a fixed time, repeated --repeat times
   (interleaved, KeyCare then django-helpdesk); medians of the repeats.
3. SQL: each KeyCare request made once in this process counts its queries; its slowest one
   is "the main query", run alone (inside a rolled-back transaction) for the floor.
4. Analysis: the insights recompute (metrics and scores of the trailing twelve months) next
   to one plain SQL aggregation of the same order lines.
5. Import: order lines through `keycare import orders` (a child process; its peak RSS from
   wait4) next to PostgreSQL COPY of the same file; the imported orders are deleted again.
6. Memory: the gunicorn workers' RSS while mixed requests run, to see whether it grows.

No timing is asserted here; CI runs the small scale to prove the scripts work."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import serve
from scratch import LINES_FLOOR_SQL, PERIOD_LINES_SQL, PERIOD_WHERE

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = Path(sys.executable)
KEYCARE_DB = "keycare_bench_{scale}"
REDIS_DB = "redis://127.0.0.1:6379/13"  # the benchmark's own Redis database, flushed by it
PASSWORD = "keycare-bench"  # noqa: S105 - the benchmark logins of `keycare bench-data`

# per scale: seconds per measurement, order lines imported, mixed requests for the memory run
SCALES = {
    "small": {"seconds": 2, "import_lines": 10_000, "mixed": 1_000, "tickets": 10_000},
    "medium": {"seconds": 5, "import_lines": 100_000, "mixed": 5_000, "tickets": 100_000},
    "large": {"seconds": 8, "import_lines": 1_000_000, "mixed": 10_000, "tickets": 1_000_000},
}
TARGETS = {"ticket_list": 0.1, "ticket_detail": 0.25, "ticket_create": 0.5}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ---------------------------------------------------------------------------------------- data


def admin_sql(server: str, sql: str, database: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/{database}", autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def database_exists(server: str, name: str) -> bool:
    return bool(admin_sql(server, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def keycare_env(database_url: str, var_dir: Path) -> dict:
    """The environment of every KeyCare process of the run: production settings over HTTP."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(64),
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_DB,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "KEYCARE_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def keycare(env: dict, *args: str, capture: bool = False) -> str:
    cmd = [str(PYTHON), "-m", "keycare", *args]
    if capture:
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"keycare {' '.join(args)} failed ({done.returncode})")
        return done.stdout
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return ""


def prepare_keycare(server: str, scale: str, seed: int, reuse: bool, env: dict) -> dict:
    name = KEYCARE_DB.format(scale=scale)
    if reuse and database_exists(server, name):
        rows = admin_sql(server, "SELECT COUNT(*) FROM accounts_account", name)
        if rows and rows[0][0]:
            log(f"reusing {name} ({rows[0][0]:,} accounts); migrate")
            keycare(env, "migrate", "--noinput", "-v", "0")
            return {"database": name, "reused": True}
    admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(server, f'CREATE DATABASE "{name}"')
    log(f"{name}: migrate")
    keycare(env, "migrate", "--noinput", "-v", "0")
    log(f"{name}: keycare bench-data --scale {scale} --seed {seed}")
    started = time.perf_counter()
    out = keycare(env, "bench-data", "--scale", scale, "--seed", str(seed), capture=True)
    print(out)
    return {"database": name, "reused": False, "seconds": time.perf_counter() - started,
            "output": out.strip().splitlines()[-40:]}  # fmt: skip


# -------------------------------------------------------------------------- the KeyCare side


class KeyCare:
    """Django set up in this process on the benchmark database: sample ids, sessions, query
    counts and main queries, floors, the analysis benchmark."""

    def __init__(self, env: dict, rng: random.Random):
        for key in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SECURE_SSL_REDIRECT", "DATABASE_URL",
                    "REDIS_URL", "ALLOWED_HOSTS", "KEYCARE_VAR_DIR", "LOG_LEVEL"):  # fmt: skip
            os.environ[key] = env[key]
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth import get_user_model

        self.rng = rng
        self.users = {u.username: u for u in get_user_model().objects.filter(
            username__in=["bench-admin", "bench-kam", "bench-engineer", "bench-svcmgr"])}  # fmt: skip
        missing = {"bench-admin", "bench-kam"} - set(self.users)
        if missing:
            raise SystemExit(f"the benchmark logins are missing: {sorted(missing)}")

    # sessions for wrk: the same session store the servers use
    def cookies(self, username: str) -> dict[str, str]:
        from django.test import Client

        client = Client()
        client.force_login(self.users[username])
        csrf = secrets.token_hex(16)  # a CSRF secret of 32 characters, sent back as the header
        return {
            "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Accept-Language": "zh-hans",
        }

    def samples(self) -> dict:
        """Ids and search words the requests rotate over: random tickets and accounts (with
        the biggest accounts among them), a Chinese word and its pinyin from account names."""
        from django.db import connection
        from pypinyin import lazy_pinyin

        from keycare.accounts.models import Account, Contact
        from keycare.service.models import Ticket

        rng = self.rng
        top_ticket = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
        tickets = sorted(rng.sample(range(1, top_ticket + 1), min(200, top_ticket)))
        tickets = list(Ticket.objects.filter(id__in=tickets).values_list("id", flat=True))
        top_account = Account.objects.order_by("-id").values_list("id", flat=True).first()
        accounts = set(rng.sample(range(1, top_account + 1), min(100, top_account)))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id FROM accounts_order GROUP BY account_id "
                "ORDER BY SUM(total_net) DESC LIMIT 10"
            )
            accounts |= {r[0] for r in cursor.fetchall()}
        accounts = list(Account.objects.filter(id__in=accounts).values_list("id", flat=True))
        names = list(Account.objects.filter(id__in=accounts[:20]).values_list("name", flat=True))
        words = [n[2:4] for n in names if len(n) >= 4]
        pinyin = ["".join(lazy_pinyin(w)) for w in words]
        visible = Account.objects.restrict(self.users["bench-admin"], "view").first()
        contact = Contact.objects.filter(accounts=visible).values_list("id", flat=True).first()
        return {"tickets": tickets, "accounts": accounts, "words": words[:5],
                "pinyin": pinyin[:5], "create_account": visible.pk,
                "create_contact": contact}  # fmt: skip

    def measure_request(self, username: str, method: str, path: str, body: str) -> dict:
        """One request in this process: status, SQL queries, the slowest query (the main one)."""
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(self.users[username])
        from django.core.cache import cache

        def request():
            if method == "GET":
                return client.get(path)
            return client.post(path, data=body, content_type="application/json")

        request()  # warm caches as a served worker would
        with CaptureQueriesContext(connection) as warm:
            response = request()
        # the main query is taken from the request that computes everything: the figures
        # the pages cache (Pareto) are computed by it, and so is the floor
        cache.clear()  # the run's own Redis database
        with CaptureQueriesContext(connection) as queries:
            request()
        captured = list(queries.captured_queries)
        # the main query: the slowest statement that reads or writes rows (a COMMIT's fsync
        # or a SAVEPOINT is not a query of the page)
        control = ("COMMIT", "BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET ")
        work = [q for q in captured if not q["sql"].lstrip().upper().startswith(control)]
        main = max(work, key=lambda q: float(q["time"]), default=None)
        return {"status": response.status_code, "queries": len(warm.captured_queries),
                "queries_uncached": len(captured),
                "main_sql": main["sql"] if main else "",
                "main_ms_in_request": float(main["time"]) * 1000 if main else 0.0}  # fmt: skip

    def floor_ms(self, sql: str, repeat: int = 15, budget: float = 10.0) -> float:
        """The main query alone on its own connection, inside a transaction rolled back."""
        import psycopg
        from django.db import connection

        s = connection.settings_dict
        dsn = f"postgresql://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        times = []
        deadline = time.monotonic() + budget
        # the same session settings as the application's connections (join planning, JIT)
        options = (s.get("OPTIONS") or {}).get("options", "")
        with psycopg.connect(dsn, options=options) as conn:
            for i in range(repeat):
                # a ticket INSERT replayed needs a number of its own (rolled back anyway)
                statement = re.sub(r"'SR-\d{4}-\d+'", f"'FLOOR-{i:06d}'", sql)
                t = time.perf_counter()
                with conn.cursor() as cur:
                    cur.execute(statement.encode())
                    if cur.description:
                        cur.fetchall()
                times.append(time.perf_counter() - t)
                conn.rollback()
                if time.monotonic() > deadline:
                    break
        return median(times[1:] or times) * 1000

    def analysis(self, repeat: int) -> dict:
        """metrics_recompute + scores_compute of the trailing twelve months against one plain
        SQL aggregation of the same period's order lines per account (the floor)."""
        from django.db import connection

        from keycare.insights.metrics import metrics_recompute, trailing_twelve_months
        from keycare.insights.scorecard import scorecard_active, scores_compute

        start, end = trailing_twelve_months()
        floor_sql = LINES_FLOOR_SQL.format(where=PERIOD_WHERE)
        floors, metrics, scores = [], [], []
        rows = scored = groups = 0
        scorecard = scorecard_active()
        for _ in range(repeat):
            with connection.cursor() as cursor:
                t = time.perf_counter()
                cursor.execute(floor_sql, [start, end])
                groups = len(cursor.fetchall())
                floors.append(time.perf_counter() - t)
            t = time.perf_counter()
            rows = metrics_recompute(start=start, end=end)
            metrics.append(time.perf_counter() - t)
            t = time.perf_counter()
            scored = scores_compute(scorecard=scorecard, start=start, end=end)
            scores.append(time.perf_counter() - t)
        with connection.cursor() as cursor:
            cursor.execute(PERIOD_LINES_SQL, [start, end])
            (lines,) = cursor.fetchone()
        floor, metric, score = median(floors), median(metrics), median(scores)
        return {"period": [start.isoformat(), end.isoformat()], "order_lines": lines,
                "accounts_with_orders": groups, "floor_s": floor, "metrics_s": metric,
                "metric_rows": rows, "scores_s": score, "scored": scored,
                "recompute_s": metric + score, "ratio": (metric + score) / floor,
                "runs": {"floor": floors, "metrics": metrics, "scores": scores}}  # fmt: skip

    def import_file(self, path: Path, lines: int) -> int:
        """An ERP-style CSV of order lines for existing accounts (unique names) and products."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM accounts_account GROUP BY name HAVING COUNT(*) = 1 "
                "ORDER BY MIN(id) LIMIT 5000"
            )
            accounts = [r[0] for r in cursor.fetchall()]
            cursor.execute("SELECT code, list_price FROM accounts_product ORDER BY id LIMIT 500")
            products = cursor.fetchall()
        rng = random.Random(7)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["订单号", "行号", "订单日期", "客户", "产品编码", "数量", "成交价"])
            for i in range(lines):
                order, line = divmod(i, 4)
                code, price = products[rng.randrange(len(products))]
                day = f"2026-{1 + order % 11:02d}-{1 + order % 28:02d}"
                writer.writerow([f"BI{order:09d}", line + 1, day, accounts[order % len(accounts)],
                                 code, rng.randint(1, 9), f"{float(price) * 0.95:.2f}"])  # fmt: skip
        return lines

    def copy_floor(self, path: Path) -> float:
        """PostgreSQL COPY of the same CSV file into a table of its columns (then dropped)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE bench_import_copy (order_number text, line_number integer, "
                "order_date date, customer text, product_code text, quantity numeric, "
                "net_price numeric)"
            )
            try:
                raw = cursor.cursor
                t = time.perf_counter()
                with raw.copy("COPY bench_import_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                        open(path, "rb") as fh:  # fmt: skip
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
                return time.perf_counter() - t
            finally:
                cursor.execute("DROP TABLE bench_import_copy")

    def delete_imported(self) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM accounts_orderline WHERE order_id IN "
                "(SELECT id FROM accounts_order WHERE number LIKE 'BI%%')"
            )
            cursor.execute("DELETE FROM accounts_order WHERE number LIKE 'BI%%'")
            return cursor.rowcount


def keycare_requests(s: dict) -> list[dict]:
    """The measured KeyCare requests: name, login, method, paths (rotated) and body."""
    open_statuses = "status=new&status=assigned&status=in_progress&status=waiting_on_customer"
    create = json.dumps({"account": s["create_account"], "contact": s["create_contact"],
                         "subject": "基准测试：主轴异响", "priority": "P3", "ticket_type": "repair",
                         "description": "bench"}, ensure_ascii=False)  # fmt: skip
    return [
        {"name": "ticket_list", "label": "ticket list (HTML, open, by SLA due)", "user": "bench-admin",
         "paths": [f"/service/?{open_statuses}&ordering=resolution_due_at"]},
        {"name": "ticket_list_api", "label": "ticket list (API, open, by SLA due)", "user": "bench-admin",
         "paths": [f"/api/v1/tickets/?{open_statuses}&ordering=resolution_due_at&page_size=10"],
         "compare": "ticket_list"},
        {"name": "ticket_list_kam", "label": "ticket list (HTML, KAM's accounts)", "user": "bench-kam",
         "paths": [f"/service/?{open_statuses}&ordering=resolution_due_at"]},
        {"name": "ticket_detail", "label": "ticket detail (HTML)", "user": "bench-admin",
         "paths": [f"/service/{t}/" for t in s["tickets"]], "compare": "ticket_detail"},
        {"name": "ticket_detail_api", "label": "ticket detail (API)", "user": "bench-admin",
         "paths": [f"/api/v1/tickets/{t}/" for t in s["tickets"]]},
        {"name": "ticket_create", "label": "ticket create (API)", "user": "bench-admin",
         "method": "POST", "paths": ["/api/v1/tickets/"], "body": create,
         "compare": "ticket_create"},
        {"name": "account_360", "label": "account 360 page", "user": "bench-admin",
         "paths": [f"/accounts/{a}/" for a in s["accounts"]]},
        {"name": "accounts_search_zh", "label": "accounts list, search (Chinese)", "user": "bench-admin",
         "paths": [f"/accounts/?q={w}" for w in s["words"]]},
        {"name": "accounts_search_pinyin", "label": "accounts list, search (pinyin)",
         "user": "bench-admin", "paths": [f"/accounts/?q={w}" for w in s["pinyin"]]},
        {"name": "pareto", "label": "Pareto page", "user": "bench-admin", "paths": ["/insights/"]},
        {"name": "scorecard", "label": "scorecard page", "user": "bench-admin",
         "paths": ["/insights/scorecard/"]},
    ]  # fmt: skip


def quote_paths(paths: list[str]) -> list[str]:
    from urllib.parse import quote

    return [quote(p, safe="/?&=%:") for p in paths]


def prepare_helpdesk(helpdesk_side, server: str, tickets: int, seed: int, reuse: bool) -> dict:
    """django-helpdesk's database with the same number of tickets (kept with --reuse)."""
    if reuse and database_exists(server, helpdesk_side.DATABASE):
        rows = admin_sql(server, "SELECT COUNT(*) FROM helpdesk_ticket", helpdesk_side.DATABASE)
        if rows and tickets <= rows[0][0] < tickets * 1.1:  # create adds a few per run
            log(f"reusing {helpdesk_side.DATABASE} ({rows[0][0]:,} tickets)")
            return {"database": helpdesk_side.DATABASE, "reused": True, "tickets": rows[0][0]}
    log(f"django-helpdesk: {tickets:,} tickets into {helpdesk_side.DATABASE}")
    return helpdesk_side.prepare(server, tickets, seed=seed)


# --------------------------------------------------------------------------------------- run


def run_http(targets: list[dict], repeat: int, seconds: float) -> None:
    """Each target: base, headers, requests; fills target["runs"][concurrency] with wrk's
    figures per repeat. Repeats are interleaved over the targets."""
    for target in targets:  # warm-up: every request once or more in every worker
        serve.load(target["base"], target["requests"], target["headers"], concurrency=2,
                   seconds=max(1.0, seconds / 4))  # fmt: skip
        serve.drain(target["base"], target["drain"])
        target["runs"] = {1: [], 8: []}
    for rep in range(repeat):
        for target in targets:
            for concurrency in (1, 8):
                figures = serve.load(target["base"], target["requests"], target["headers"],
                                     concurrency=concurrency, seconds=seconds)  # fmt: skip
                figures["drained_s"] = serve.drain(target["base"], target["drain"])
                target["runs"][concurrency].append(figures)
                log(f"  {rep + 1}/{repeat} {target['system']:>8} {target['name']:<24} c{concurrency}: "
                    f"p50 {figures['p50_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms  "
                    f"{figures['rps']:7.1f}/s  errors {figures['http_errors']}")  # fmt: skip


def summarise(target: dict) -> dict:
    out = {}
    for concurrency, runs in target["runs"].items():
        out[f"c{concurrency}"] = {
            key: median([r[key] for r in runs]) for key in ("p50_ms", "p95_ms", "rps")
        } | {"requests": sum(r["requests"] for r in runs),
             "http_errors": sum(r["http_errors"] + r["socket_errors"] for r in runs)}  # fmt: skip
    return out


def memory_run(
    base: str, requests: list, headers: dict, master: int, total: int, seconds: float
) -> dict:
    """Mixed requests at concurrency 8 in slices, the workers' RSS after each slice."""
    samples, done = [], 0
    pids = serve.worker_pids(master)
    samples.append({"requests": 0, "rss_mb": [serve.rss_mb(p) for p in pids]})
    for _ in range(60):  # bounded: at most 60 slices
        figures = serve.load(base, requests, headers, concurrency=8, seconds=seconds)
        done += figures["requests"]
        samples.append({"requests": done, "rss_mb": [serve.rss_mb(p) for p in pids]})
        if done >= total:
            break
    first = max(samples[1]["rss_mb"]) if len(samples) > 1 else 0.0
    last = max(samples[-1]["rss_mb"])
    # growth over the second half of the run (after the workers' caches have filled)
    middle = samples[len(samples) // 2]
    return {"requests": done, "workers": pids, "samples": samples, "peak_mb": max(max(s["rss_mb"]) for s in samples),
            "after_first_slice_mb": first, "final_mb": last,
            "growth_second_half_mb": last - max(middle["rss_mb"])}  # fmt: skip


def run_import(env: dict, kc: KeyCare, lines: int, work: Path) -> dict:
    path = work / "orders.csv"
    t = time.perf_counter()
    kc.import_file(path, lines)
    log(f"import: {lines:,} lines written to CSV ({path.stat().st_size / 1e6:.0f} MB) in "
        f"{time.perf_counter() - t:.1f} s")  # fmt: skip
    copy_s = kc.copy_floor(path)
    log(f"import: PostgreSQL COPY of the file {copy_s:.2f} s ({lines / copy_s:,.0f} rows/s)")
    cmd = [str(PYTHON), "-m", "keycare", "import", "orders", str(path), "--no-progress"]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out = proc.stdout.read().decode(errors="replace")
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(out[-3000:])
        raise SystemExit("keycare import orders failed")
    peak_mb = usage.ru_maxrss / 1024
    log(f"import: keycare import orders {seconds:.1f} s ({lines / seconds:,.0f} rows/s), "
        f"peak RSS {peak_mb:.0f} MB")  # fmt: skip
    deleted = kc.delete_imported()
    return {"lines": lines, "file_mb": path.stat().st_size / 1e6, "copy_s": copy_s,
            "copy_rows_per_s": lines / copy_s, "import_s": seconds,
            "import_rows_per_s": lines / seconds, "ratio": (lines / seconds) / (lines / copy_s),
            "peak_rss_mb": peak_mb, "orders_deleted_after": deleted,
            "output": out.strip().splitlines()[-5:]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, help="per measurement (default by scale)")
    parser.add_argument("--reuse", action="store_true", help="reuse loaded benchmark databases")
    parser.add_argument("--keep", action="store_true", help="keep the databases at the end")
    parser.add_argument("--only", help="comma-separated steps: http,analysis,import,memory")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    seconds = args.seconds or scale["seconds"]
    steps = set((args.only or "http,analysis,import,memory").split(","))
    started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"{args.server.rstrip('/')}/{KEYCARE_DB.format(scale=args.scale)}"
    env = keycare_env(database_url, var_dir)
    result: dict = {"scale": args.scale, "started": stamp, "repeat": args.repeat,
                    "seconds_per_measurement": seconds, "machine": machine()}  # fmt: skip
    import helpdesk_side
    import redis

    redis.Redis.from_url(REDIS_DB).flushdb()
    servers: list = []
    try:
        result["data"] = prepare_keycare(args.server, args.scale, args.seed, args.reuse, env)
        log("collectstatic")
        keycare(env, "collectstatic", "--noinput", "-v", "0")
        helpdesk_side.ensure_venv(os.environ.get("UV", str(ROOT / ".tools/bin/uv")))
        result["helpdesk_data"] = prepare_helpdesk(helpdesk_side, args.server, scale["tickets"],
                                                   args.seed, args.reuse)  # fmt: skip
        rng = random.Random(args.seed)
        kc = KeyCare(env, rng)
        samples = kc.samples()
        result["samples"] = {k: v for k, v in samples.items() if k in ("words", "pinyin")}
        requests = keycare_requests(samples)
        log("queries per request and the main queries' floors")
        for r in requests:
            r["paths"] = quote_paths(r["paths"])
            m = kc.measure_request(
                r["user"], r.get("method", "GET"), r["paths"][0], r.get("body", "")
            )
            if m["status"] >= 400:
                raise SystemExit(f"{r['name']}: {r['paths'][0]} answered {m['status']}")
            m["floor_ms"] = kc.floor_ms(m["main_sql"]) if m["main_sql"] else 0.0
            r["sql"] = m
            log(f"  {r['name']:<24} {m['status']} {m['queries']:3d} queries, main query "
                f"{m['floor_ms']:7.2f} ms alone")  # fmt: skip

        if steps & {"http", "memory"}:
            kc_port, hd_port = serve.free_port(), serve.free_port()
            log(f"gunicorn: KeyCare on {kc_port}, django-helpdesk on {hd_port} (2 workers each)")
            kc_proc = serve.gunicorn(PYTHON, "config.wsgi:application", kc_port, env, ROOT,
                                     log=var_dir / "gunicorn-keycare.log")  # fmt: skip
            servers.append(kc_proc)
            hd_proc = helpdesk_side.serve(hd_port, database=helpdesk_side.database_url(args.server))
            servers.append(hd_proc)
            kc_base, hd_base = f"http://127.0.0.1:{kc_port}", f"http://127.0.0.1:{hd_port}"
            heads = {u: kc.cookies(u) for u in {r["user"] for r in requests}}
            targets = []
            for r in requests:
                body = r.get("body", "")
                headers = dict(heads[r["user"]])
                if body:
                    headers["Content-Type"] = "application/json"
                targets.append({"system": "KeyCare", "name": r["name"], "base": kc_base, "headers": headers,
                                "drain": "/login/",
                                "requests": [(r.get("method", "GET"), p, body) for p in r["paths"]]})  # fmt: skip
            hd_ids = sorted(rng.sample(range(1, scale["tickets"] + 1), 200))
            hd_specs = helpdesk_side.endpoints(hd_ids, session=helpdesk_side.login(hd_base))
            for name, spec in hd_specs.items():
                paths = spec["paths"] if "paths" in spec else [spec["path"]]
                name = {"ticket_page": "ticket_detail"}.get(name, name)
                targets.append({"system": "helpdesk", "name": name, "base": hd_base, "drain": "/login/",
                                "headers": spec.get("headers", {}),
                                "requests": [(spec["method"], p, spec.get("body") or "") for p in paths]})  # fmt: skip
            if "http" in steps:
                log(
                    f"HTTP: {len(targets)} requests × concurrency 1 and 8 × {args.repeat}, {seconds:g} s each"
                )
                run_http(targets, args.repeat, seconds)
                result["http"] = http_results(requests, targets)
            if "memory" in steps:
                mixed = [
                    req for t in targets if t["system"] == "KeyCare" for req in t["requests"][:5]
                ]
                log(f"memory: {scale['mixed']:,} mixed requests at concurrency 8")
                result["memory"] = memory_run(kc_base, mixed, heads["bench-admin"] | {"Content-Type": "application/json"},
                                              kc_proc.pid, scale["mixed"], seconds)  # fmt: skip
            for proc in servers:
                serve.stop(proc)
            servers.clear()
        if "analysis" in steps:
            log(f"analysis: insights recompute × {args.repeat}")
            result["analysis"] = kc.analysis(args.repeat)
        if "import" in steps:
            with tempfile.TemporaryDirectory(prefix="keycare-bench-import-") as work:
                result["import"] = run_import(env, kc, scale["import_lines"], Path(work))
    finally:
        for proc in servers:
            serve.stop(proc)
        redis.Redis.from_url(REDIS_DB).flushdb()
        if not (args.keep or args.reuse):
            from django.db import connections

            connections.close_all()
            for name in (KEYCARE_DB.format(scale=args.scale), helpdesk_side.DATABASE):
                admin_sql(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["total_s"] = time.perf_counter() - started
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.scale}-{stamp}.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    table = render(result)
    (RESULTS / f"{args.scale}-latest.md").write_text(table, encoding="utf-8")
    print(table)
    log(f"results: {out.relative_to(ROOT)} ({result['total_s'] / 60:.1f} min)")
    failed = [
        f"{name}{' (django-helpdesk)' if side is not entry else ''} c{c}: {side[f'c{c}']['http_errors']}"
        for name, entry in result.get("http", {}).items()
        for side in (entry, entry.get("helpdesk", entry))
        for c in (1, 8)
        if side[f"c{c}"]["http_errors"]
    ]
    if failed:
        raise SystemExit(f"requests failed (HTTP 4xx/5xx or socket errors): {', '.join(failed)}")


def http_results(requests: list[dict], targets: list[dict]) -> dict:
    by = {(t["system"], t["name"]): summarise(t) for t in targets}
    pages = {}
    for r in requests:
        fig = by[("KeyCare", r["name"])]
        floor = r["sql"]["floor_ms"]
        entry = {"label": r["label"], "queries": r["sql"]["queries"], "floor_ms": floor,
                 "main_sql": r["sql"]["main_sql"][:2000], **fig,
                 "floor_target_ms": 3 * floor + 15,
                 "meets_floor_target": fig["c1"]["p50_ms"] <= 3 * floor + 15,
                 "meets_p95_300ms_c8": fig["c8"]["p95_ms"] < 300}  # fmt: skip
        compare = r.get("compare")
        if compare:
            hd = by[("helpdesk", compare)]
            entry["helpdesk"] = hd
            entry["ratio_p95"] = {c: fig[c]["p95_ms"] / hd[c]["p95_ms"] for c in ("c1", "c8")}
            entry["ratio_p50"] = {c: fig[c]["p50_ms"] / hd[c]["p50_ms"] for c in ("c1", "c8")}
            entry["target_ratio"] = TARGETS[compare]
            entry["meets_ratio_target"] = all(
                v <= TARGETS[compare] for v in entry["ratio_p95"].values()
            )
        pages[r["name"]] = entry
    return pages


def machine() -> dict:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    load = os.getloadavg()
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform(), "load_average_at_start": load}  # fmt: skip


def render(result: dict) -> str:
    """The markdown table of the run (also bench/results/<scale>-latest.md)."""
    ok = {True: "✓", False: "✗"}
    out = [f"# KeyCare benchmark — scale {result['scale']}, {result['started']}", "",
           f"{result['machine']['cpu']}, {result['machine']['cores']} cores; medians of "
           f"{result['repeat']} runs of {result['seconds_per_measurement']:g} s each; "
           f"load average at start {result['machine']['load_average_at_start'][0]:.1f}", ""]  # fmt: skip
    http = result.get("http")
    if http:
        out += ["## HTTP (gunicorn, 2 workers; wrk)", "",
                "| request | queries | floor ms | c1 p50 | c1 p95 | c1 req/s | c8 p50 | c8 p95 | c8 req/s | p50 ≤ 3×floor+15 | c8 p95 < 300 |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for e in http.values():
            out.append(
                f"| {e['label']} | {e['queries']} | {e['floor_ms']:.2f} | {e['c1']['p50_ms']:.1f} | "
                f"{e['c1']['p95_ms']:.1f} | {e['c1']['rps']:.1f} | {e['c8']['p50_ms']:.1f} | "
                f"{e['c8']['p95_ms']:.1f} | {e['c8']['rps']:.1f} | "
                f"{ok[e['meets_floor_target']]} ({e['floor_target_ms']:.0f}) | {ok[e['meets_p95_300ms_c8']]} |"
            )
        out += ["", "## Side by side with django-helpdesk (same tickets, same PostgreSQL)", "",
                "| request | KeyCare p95 c1 / c8 (ms) | django-helpdesk p95 c1 / c8 (ms) | ratio p95 c1 / c8 | target | met |",
                "|---|---|---|---|---|---|"]  # fmt: skip
        for e in http.values():
            if "helpdesk" in e:
                h = e["helpdesk"]
                out.append(
                    f"| {e['label']} | {e['c1']['p95_ms']:.1f} / {e['c8']['p95_ms']:.1f} | "
                    f"{h['c1']['p95_ms']:.1f} / {h['c8']['p95_ms']:.1f} | "
                    f"{e['ratio_p95']['c1']:.3f} / {e['ratio_p95']['c8']:.3f} | ≤ {e['target_ratio']} | "
                    f"{ok[e['meets_ratio_target']]} |"
                )
    a = result.get("analysis")
    if a:
        out += ["", "## Analysis", "",
                f"Insights recompute ({a['metric_rows']:,} metric rows, {a['scored']:,} scores) over "
                f"{a['order_lines']:,} order lines of {a['period'][0]}–{a['period'][1]}: "
                f"{a['recompute_s']:.2f} s (metrics {a['metrics_s']:.2f} s + scores {a['scores_s']:.2f} s) "
                f"against the floor aggregation {a['floor_s']:.2f} s: **{a['ratio']:.1f} ×** "
                f"(target ≤ 3 ×: {ok[a['ratio'] <= 3]})"]  # fmt: skip
    i = result.get("import")
    if i:
        out += ["", "## Import", "",
                f"{i['lines']:,} order lines ({i['file_mb']:.0f} MB CSV): `keycare import orders` "
                f"{i['import_s']:.1f} s ({i['import_rows_per_s']:,.0f} rows/s), COPY {i['copy_s']:.2f} s "
                f"({i['copy_rows_per_s']:,.0f} rows/s): **{i['ratio']:.3f} × COPY** (target ≥ 0.3: "
                f"{ok[i['ratio'] >= 0.3]}); peak RSS {i['peak_rss_mb']:.0f} MB (target ≤ 500: "
                f"{ok[i['peak_rss_mb'] <= 500]})"]  # fmt: skip
    m = result.get("memory")
    if m:
        out += ["", "## Server memory", "",
                f"{m['requests']:,} mixed requests: worker RSS peak {m['peak_mb']:.0f} MB, after the first "
                f"slice {m['after_first_slice_mb']:.0f} MB, at the end {m['final_mb']:.0f} MB, growth over the "
                f"second half {m['growth_second_half_mb']:+.1f} MB (target ≤ 250 MB: {ok[m['peak_mb'] <= 250]})"]  # fmt: skip
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
