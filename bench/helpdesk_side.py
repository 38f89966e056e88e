"""django-helpdesk 2.6.1 side by side with KeyCare, for the performance-at-scale benchmark.

The benchmark compares KeyCare with the best-known open-source Django helpdesk loaded with the
same number of tickets, on the same PostgreSQL server, served the same way (gunicorn, 2 workers,
loopback). This module is the helpdesk half of that comparison; the orchestrator imports it
with KeyCare's own interpreter, so it needs only the standard library and psycopg.

django-helpdesk itself lives in its own virtual environment (``bench/.helpdesk-venv``, never
committed) built from the exact pins in ``bench/helpdesk/requirements.txt``; the small Django
project that mounts it is ``bench/helpdesk/hdproject``. Every Django step (migrations, the
first users and queues, gunicorn) runs as a subprocess of that venv. The bulk data (tickets and
follow-ups) goes straight into its tables with COPY, because creating 200,000 tickets through
its forms would take hours and measure nothing the benchmark cares about.

Typical use::

    python = ensure_venv(".tools/bin/uv")
    facts = prepare("postgres://postgres@127.0.0.1:5432", tickets=200_000)
    proc = serve(8301)
    session = login("http://127.0.0.1:8301")
    requests = endpoints(range(1, 1001), session=session)
    ...
    stop(proc)
    drop()
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from base64 import b64encode
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from serve import stop  # the same stop for both servers (bench/ is on the path)

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH / "helpdesk"
REQUIREMENTS = PROJECT / "requirements.txt"
VENV = BENCH / ".helpdesk-venv"
STAMP = VENV / ".keycare-requirements.sha256"
DATABASE = "keycare_bench_helpdesk"
USERNAME = "bench"
PASSWORD = "keycare-bench"  # noqa: S105 - benchmark login on a loopback-only site

# Dates are laid out back from a fixed day, not from today, so that a given seed always
# yields the same rows (and the same query plans) whenever the benchmark runs.
ANCHOR = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HISTORY_DAYS = 3 * 365

# django-helpdesk's status numbers (helpdesk.models.Ticket.STATUS_CHOICES).
OPEN, REOPENED, RESOLVED, CLOSED, DUPLICATE = 1, 2, 3, 4, 5
STATUS_NAMES = {
    OPEN: "Open",
    REOPENED: "Reopened",
    RESOLVED: "Resolved",
    CLOSED: "Closed",
    DUPLICATE: "Duplicate",
}
PRIORITIES = (1, 2, 3, 4, 5)
PRIORITY_WEIGHTS = (5, 15, 55, 15, 10)

EQUIPMENT = (
    "CNC lathe",
    "injection moulding machine",
    "air compressor",
    "laser cutter",
    "packaging line",
    "industrial chiller",
    "hydraulic press",
    "conveyor",
)
PROBLEMS = (
    "stops with an overload alarm",
    "leaks oil near the main pump",
    "needs its annual maintenance visit",
    "shows intermittent sensor faults",
    "requires a replacement spindle bearing",
    "runs noticeably louder than usual",
    "fails to start after a power cut",
    "needs a firmware update",
)
SITES = ("Suzhou plant", "Ningbo works", "Tianjin depot", "Chengdu site", "Wuxi line 2")

_database_url: str | None = None


# ------------------------------------------------------------------ the venv


def _requirements_hash() -> str:
    """What the venv was built from: the pins and the interpreter that installs them."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(b"python3.11")
    return digest.hexdigest()


def venv_python() -> Path:
    """The helpdesk venv's interpreter (see ensure_venv)."""
    return VENV / "bin" / "python"


def ensure_venv(uv: str) -> Path:
    """Build bench/.helpdesk-venv from requirements.txt unless it is already up to date.

    A hash of requirements.txt is kept inside the venv, so changing a pin rebuilds it from
    scratch instead of layering packages over an old set. Returns the venv's python.
    """
    expected = _requirements_hash()
    if venv_python().exists() and STAMP.exists() and STAMP.read_text().strip() == expected:
        return venv_python()
    shutil.rmtree(VENV, ignore_errors=True)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    subprocess.run(
        [uv, "venv", "--quiet", "--python", "python3.11", str(VENV)], check=True, env=env
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(venv_python()), "-r", str(REQUIREMENTS)],
        check=True,
        env=env,
    )
    STAMP.write_text(expected + "\n")
    return venv_python()


def _default_uv() -> str:
    """The project's bootstrapped uv, else one on PATH."""
    local = BENCH.parent / ".tools" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found: run scripts/bootstrap-uv.sh or pass ensure_venv(uv)")
    return found


def _django(args: list[str], database_url: str) -> str:
    """Run a command with the helpdesk venv inside its project; return its stdout."""
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "hdproject.settings",
    }
    result = subprocess.run(
        [str(venv_python()), *args],
        cwd=PROJECT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


# ------------------------------------------------------------------ the data


def database_url(server_url: str | None = None) -> str:
    """URL of the helpdesk database: on server_url, else the one prepare() last made."""
    if server_url:
        return f"{server_url.rstrip('/')}/{DATABASE}"
    if _database_url:
        return _database_url
    return os.environ.get("HELPDESK_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DATABASE}")


def _admin(server_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def drop(server_url: str = "postgres://postgres@127.0.0.1:5432") -> None:
    """Drop the helpdesk database (only ever this module's own one)."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _ticket_rows(
    rng: random.Random, tickets: int, staff: list[int], queues: list[int]
) -> Iterable[tuple[tuple, list[tuple]]]:
    """Yield (ticket row, its follow-up rows) in id order, oldest ticket first.

    Ids follow creation time, as in a real helpdesk. Old tickets are mostly closed and the
    recent ones mostly open, so the open-ticket list is a realistic fraction (about 8 %) of
    the table. Follow-ups: 1 to 5 per ticket (3 on average), the first one the "Ticket
    Opened" entry django-helpdesk itself writes, the last one closing a closed ticket.
    Follow-up ids are filled in by the caller.
    """
    step = HISTORY_DAYS * 86400 / max(tickets, 1)
    start = ANCHOR - timedelta(days=HISTORY_DAYS)
    for pk in range(1, tickets + 1):
        created = start + timedelta(seconds=(pk - 1) * step + rng.random() * step)
        age = (ANCHOR - created).days
        if age < 30:
            weights = (55, 10, 15, 18, 2)
        elif age < 180:
            weights = (12, 4, 20, 60, 4)
        else:
            weights = (2, 1, 7, 85, 5)
        status = rng.choices((OPEN, REOPENED, RESOLVED, CLOSED, DUPLICATE), weights)[0]
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        queue = rng.choice(queues)
        assignee = rng.choice(staff) if rng.random() < 0.85 else None
        equipment, problem, site = rng.choice(EQUIPMENT), rng.choice(PROBLEMS), rng.choice(SITES)
        customer = rng.randrange(1, 5000)
        title = f"{equipment.capitalize()} {problem}"
        description = (
            f"Our {equipment} at the {site} {problem}. Serial number "
            f"SN-{rng.randrange(10**7, 10**8)}. Please send an engineer or call us back "
            f"on the hotline; the line is scheduled to run again next week."
        )
        due = (
            (created + timedelta(days=rng.randint(1, 21))).replace(
                hour=17, minute=0, second=0, microsecond=0
            )
            if rng.random() < 0.7
            else None
        )
        followups = []
        moment = created
        count = rng.randint(1, 5)
        for n in range(count):
            if n == 0:
                row = (moment, "Ticket Opened", description, True, None, pk, None)
            else:
                moment += timedelta(minutes=rng.randint(20, 72 * 60))
                closing = n == count - 1 and status != OPEN
                if closing:
                    new_status = status
                    title_f = f"{STATUS_NAMES[status]}"
                    comment = "Engineer visit done, machine back in production."
                elif rng.random() < 0.4:
                    new_status = None
                    title_f = f"E-Mail Received from customer{customer}@example.com"
                    comment = "Thanks, the machine is still down, any update?"
                else:
                    new_status = None
                    title_f = "Comment"
                    comment = "Spare part ordered, engineer visit being scheduled."
                user = assignee if (closing or title_f == "Comment") else None
                row = (moment, title_f, comment, True, new_status, pk, user)
            followups.append(row)
        resolution = (
            "Replaced the faulty part and tested the machine with the customer."
            if status in (RESOLVED, CLOSED)
            else None
        )
        ticket = (
            pk,
            title[:200],
            created,
            moment,  # modified: the last follow-up
            f"customer{customer}@example.com",
            status,
            status in (OPEN, REOPENED) and rng.random() < 0.03,  # on_hold
            description,
            resolution,
            priority,
            due,
            None,  # last_escalation
            assignee,
            queue,
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),  # secret_key
            None,  # kbitem_id
            None,  # merged_to_id
        )
        yield ticket, followups


TICKET_COLUMNS = (
    "id, title, created, modified, submitter_email, status, on_hold, description, resolution, "
    "priority, due_date, last_escalation, assigned_to_id, queue_id, secret_key, kbitem_id, "
    "merged_to_id"
)
FOLLOWUP_COLUMNS = "id, date, title, comment, public, new_status, ticket_id, user_id"


def _load(url: str, tickets: int, seed: int, staff: list[int], queues: list[int]) -> dict:
    """COPY the generated tickets and follow-ups in; returns their counts."""
    import psycopg

    rng = random.Random(seed)
    followup_id = 0
    open_tickets = 0
    # Two connections, because one connection runs one COPY at a time and the follow-ups
    # are generated together with their ticket.
    with psycopg.connect(url) as tconn, psycopg.connect(url) as fconn:
        for conn in (tconn, fconn):
            # Rows are valid by construction (every foreign key points at a row made above),
            # so the deferred per-row FK triggers are skipped for the bulk load, as
            # pg_restore does.
            conn.execute("SET session_replication_role = replica")
        with (
            tconn.cursor().copy(f"COPY helpdesk_ticket ({TICKET_COLUMNS}) FROM STDIN") as tcopy,
            fconn.cursor().copy(f"COPY helpdesk_followup ({FOLLOWUP_COLUMNS}) FROM STDIN") as fcopy,
        ):
            for ticket, followups in _ticket_rows(rng, tickets, staff, queues):
                tcopy.write_row(ticket)
                open_tickets += ticket[5] in (OPEN, REOPENED)
                for row in followups:
                    followup_id += 1
                    fcopy.write_row((followup_id, *row))
        tconn.commit()
        fconn.commit()
        for table in ("helpdesk_ticket", "helpdesk_followup"):
            tconn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE helpdesk_ticket")
        conn.execute("VACUUM ANALYZE helpdesk_followup")
    return {"tickets": tickets, "followups": followup_id, "open_tickets": open_tickets}


def prepare(server_url: str, tickets: int, seed: int = 1) -> dict:
    """(Re)create keycare_bench_helpdesk on the server and fill it with `tickets` tickets.

    Migrates it with django-helpdesk's own migrations, creates the staff superuser
    bench / keycare-bench, three more staff agents and four queues through its models, then
    COPYs the tickets (ids 1..tickets) and about three follow-ups each. Deterministic for a
    given seed. Returns the counts and the time each step took, in seconds.
    """
    global _database_url
    ensure_venv(_default_uv())
    began = time.perf_counter()
    _admin(server_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(server_url, f'CREATE DATABASE "{DATABASE}"')
    url = database_url(server_url)
    _django(["manage.py", "migrate", "--noinput", "-v", "0"], url)
    migrated = time.perf_counter()
    base = json.loads(_django(["seed_base.py"], url))
    loading = time.perf_counter()
    counts = _load(url, tickets, seed, base["staff"], [pk for pk, _slug in base["queues"]])
    done = time.perf_counter()
    _database_url = url
    return {
        "database": DATABASE,
        "database_url": url,
        **counts,
        "staff_users": len(base["staff"]),
        "queues": base["queues"],
        "ticket_ids": (1, tickets),
        "migrate_seconds": round(migrated - began, 2),
        "load_seconds": round(done - loading, 2),
        "total_seconds": round(done - began, 2),
    }


# ------------------------------------------------------------------ the server


def _wait_until_up(base_url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {proc.log_path}")
        try:
            with urllib.request.urlopen(f"{base_url}/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"django-helpdesk did not answer on {base_url} within {timeout} s")


def serve(
    port: int, workers: int = 2, *, database: str | None = None, timeout: float = 60
) -> subprocess.Popen:
    """Start gunicorn from the helpdesk venv on 127.0.0.1:port; return once it answers.

    Serves the database prepare() made (or the URL `database`). Sync workers, no access log,
    as KeyCare is served; its error log goes to a file named by ``proc.log_path``.
    """
    log_path = Path(tempfile.gettempdir()) / f"keycare-bench-helpdesk-{port}.log"
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database or database_url(),
        "DJANGO_SETTINGS_MODULE": "hdproject.settings",
    }
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                str(VENV / "bin" / "gunicorn"),
                "hdproject.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    _wait_until_up(f"http://127.0.0.1:{port}", proc, timeout)
    return proc


# ------------------------------------------------------------------ the requests


def login(base_url: str, username: str = USERNAME, password: str = PASSWORD) -> dict:
    """Log in through django-helpdesk's own login form; return the staff session.

    Returns ``cookies`` (sessionid, csrftoken), ``cookie`` (the Cookie header value, e.g. for
    ``wrk -H "Cookie: …"``) and ``headers`` (Cookie plus X-CSRFToken, enough for its API's
    session authentication on unsafe methods).
    """
    base_url = base_url.rstrip("/")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base_url}/login/", timeout=30) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on django-helpdesk's login page")
    form = urllib.parse.urlencode(
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": match.group(1),
            "next": "/tickets/",
        }
    ).encode()
    with opener.open(f"{base_url}/login/", data=form, timeout=60) as response:
        response.read()
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError("django-helpdesk login failed (no sessionid cookie)")
    cookie = f"csrftoken={cookies['csrftoken']}; sessionid={cookies['sessionid']}"
    return {
        "cookies": {"csrftoken": cookies["csrftoken"], "sessionid": cookies["sessionid"]},
        "cookie": cookie,
        "headers": {"Cookie": cookie, "X-CSRFToken": cookies["csrftoken"]},
    }


def list_query(rows: int = 10) -> str:
    """Path of the JSON its staff ticket list page fetches, for the first `rows` open tickets.

    The ticket list page (/tickets/) renders a DataTables table that asks
    ``/datatables_ticket_list/<base64 JSON query>`` for each page; the query is what the page
    builds for its default view (open and reopened tickets), here ordered by due date, the
    DataTables paging parameters as the browser sends them.
    """
    query = {
        "filtering": {"status__in": [OPEN, REOPENED]},
        "sorting": "due_date",
        "search_string": "",
        "sortreverse": False,
    }
    encoded = b64encode(json.dumps(query).encode()).decode("ascii")
    params = urllib.parse.urlencode(
        {
            "draw": "1",
            "start": "0",
            "length": str(rows),
            "order[0][column]": "6",  # due_date in its DATATABLES_ORDER_COLUMN_CHOICES
            "order[0][dir]": "asc",
            "search[value]": "",
        }
    )
    return f"/datatables_ticket_list/{urllib.parse.quote(encoded, safe='')}?{params}"


def create_body(n: int = 0, queue: int = 1) -> dict:
    """A ticket as its REST API takes it (POST /api/tickets/)."""
    return {
        "queue": queue,
        "title": f"Benchmark ticket {n}: compressor stops with an overload alarm",
        "description": "Created by the KeyCare benchmark through django-helpdesk's REST API.",
        "submitter_email": "bench-customer@example.com",
        "priority": 3,
    }


def endpoints(ticket_ids: Iterable[int], session: dict | None = None, rows: int = 10) -> dict:
    """The three requests the benchmark compares with KeyCare's, for the load generator.

    * ``ticket_list``: its staff ticket list JSON (10 open tickets by due date);
    * ``ticket_page``: its staff ticket page ``/tickets/<id>/``, one path per given id;
    * ``ticket_create``: ticket creation through its REST API, JSON body, authenticated by
      the staff session cookie plus the X-CSRFToken header (DRF SessionAuthentication);
      HTTP basic auth (bench / keycare-bench) would work as well, but hashes the password
      on every request, which would dominate the timing.

    With ``session`` (from login()) its headers are merged in. Each entry has method,
    path or paths, headers, body (str or None) and the status a success returns.
    """
    auth = dict(session["headers"]) if session else {}
    cookie_only = {"Cookie": auth["Cookie"]} if "Cookie" in auth else {}
    return {
        "ticket_list": {
            "method": "GET",
            "path": list_query(rows),
            "headers": {**cookie_only, "Accept": "application/json"},
            "body": None,
            "expect_status": 200,
        },
        "ticket_page": {
            "method": "GET",
            "paths": [f"/tickets/{pk}/" for pk in ticket_ids],
            "headers": cookie_only,
            "body": None,
            "expect_status": 200,
        },
        "ticket_create": {
            "method": "POST",
            "path": "/api/tickets/",
            "headers": {**auth, "Content-Type": "application/json", "Accept": "application/json"},
            "body": json.dumps(create_body()),
            "expect_status": 201,
        },
    }


def count_list_queries(rows: int = 10) -> int:
    """SQL queries one ticket list JSON request makes, counted in-process in its venv.

    Uses Django's test client and CaptureQueriesContext against the prepared database,
    logged in as the bench superuser (session and user look-ups included, as in a real
    request).
    """
    script = (
        "import django, json; django.setup()\n"
        "from django.conf import settings; settings.ALLOWED_HOSTS.append('testserver')\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.db import connection\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "c = Client(); c.force_login(get_user_model().objects.get(username='bench'))\n"
        f"path = {list_query(rows)!r}\n"
        "c.get(path)  # warm: content types, templates, settings\n"
        "with CaptureQueriesContext(connection) as q:\n"
        "    r = c.get(path)\n"
        "assert r.status_code == 200, r.status_code\n"
        "print(json.dumps({'queries': len(q), 'rows': len(r.json()['data'])}))\n"
    )
    out = json.loads(_django(["-c", script], database_url()))
    return out["queries"]


if __name__ == "__main__":
    # python bench/helpdesk_side.py [tickets]: prepare, serve, log in, print the requests.
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(prepare("postgres://postgres@127.0.0.1:5432", n), default=str))
    server = serve(8399)
    try:
        print(json.dumps(endpoints(range(1, 4), session=login("http://127.0.0.1:8399")), indent=1))
    finally:
        stop(server)
