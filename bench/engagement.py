"""Benchmark: key-person engagement over K key accounts — buying-centre coverage with coach
paths (`coverage_for_accounts`), the playbook cadences (`cadence_statuses`), the coverage
report an executive opens (`coverage_list`: a page read from the materialised
`AccountCoverage`, next to `coverage_refresh`, the hourly tick that fills it, and the
executive overdue report), a key account manager's "My week" (`my_week`)
and one reminders run (`reminders_generate`) — next to the floor: the last touch of every
contact as one plain grouped SQL query, on the same database.

SQLite (default) in a temporary folder, or PostgreSQL with --postgres SERVER (a scratch
database of its own there, dropped at the end unless --keep).

    .venv/bin/python bench/engagement.py [--accounts 2000] [--contacts 8] [--activities 30]
    .venv/bin/python bench/engagement.py --postgres postgres://postgres@127.0.0.1:5432 \\
        --accounts 20000
"""

import argparse
import atexit
import datetime as dt
import random
import shutil
import time

from insights_recompute import _median, _spread
from scratch import scratch_django

ROLES = ["decision_maker", "influencer", "technical_evaluator", "user", "coach", "gatekeeper"]
KINDS = ["meeting", "call", "executive_visit", "discovery", "care", "wechat"]


def generate(args):
    """Key accounts (a third strategic, a third extrinsic, the rest intrinsic; tiers mixed)
    with `--contacts` people each (a reporting line to the first decision maker), a key
    account manager per 200 accounts and an executive sponsoring a tenth, and `--activities`
    done activities per account over the last year with one or two people each."""
    from django.db import transaction
    from django.utils import timezone

    from keycare.accounts.models import Account, AccountTeamMember, Contact
    from keycare.engagement.models import Activity
    from keycare.insights.models import KeyAccount
    from keycare.users.choices import Role
    from keycare.users.services import user_create

    rng = random.Random(7)
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        kams = [
            user_create(username=f"bench_kam{n}", password=None, roles=[Role.KEY_ACCOUNT_MANAGER])
            for n in range(max(1, args.accounts // 200))
        ]
        executive = user_create(username="bench_exec", password=None, roles=[Role.EXECUTIVE])
        types = ["strategic", "extrinsic", "intrinsic"]
        tiers = ["platinum", "gold", "iron", "lead"]
        accounts = Account.objects.bulk_create(
            [
                Account(
                    name=f"基准大客户{n:06d}",
                    path="",
                    status="active",
                    account_type=types[n % 3],
                    tier=tiers[n % 4],
                    owner=kams[n % len(kams)],
                )
                for n in range(args.accounts)
            ],
            batch_size=5000,
        )
        KeyAccount.objects.bulk_create(
            [KeyAccount(account=a, reason="bench") for a in accounts], batch_size=5000
        )
        AccountTeamMember.objects.bulk_create(
            [
                AccountTeamMember(account=a, user=executive, role="executive_sponsor")
                for a in accounts[::10]
            ],
            batch_size=5000,
        )
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    account=a,
                    name=f"联系人{a.pk}-{i}",
                    buying_role=ROLES[i % len(ROLES)],
                    decision_style=["leader", "influencer", "checker", "follower"][i % 4],
                    relationship=rng.randint(1, 5),
                    influence=rng.randint(1, 5),
                )
                for a in accounts
                for i in range(args.contacts)
            ],
            batch_size=5000,
        )
        by_account: dict[int, list] = {}
        for c in contacts:
            by_account.setdefault(c.account_id, []).append(c)
        for people in by_account.values():
            for c in people[1:]:
                c.reports_to_id = people[0].pk
        Contact.objects.bulk_update(contacts, ["reports_to"], batch_size=5000)
        activities, links = [], []
        for a in accounts:
            for _ in range(args.activities):
                done = now - dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
                activities.append(Activity(
                    account=a, kind=rng.choice(KINDS), subject="基准拜访", status="done",
                    planned_at=done, done_at=done, owner_id=a.owner_id,
                ))  # fmt: skip
        Activity.objects.bulk_create(activities, batch_size=5000)
        through = Activity.contacts.through
        for activity in activities:
            people = by_account[activity.account_id]
            for c in rng.sample(people, min(len(people), rng.choice((1, 2)))):
                links.append(through(activity_id=activity.pk, contact_id=c.pk))
        through.objects.bulk_create(links, batch_size=10_000)
    elapsed = time.perf_counter() - started
    print(
        f"data: {len(accounts):,} key accounts, {len(contacts):,} contacts, "
        f"{len(activities):,} activities ({len(links):,} people met): {elapsed:.1f} s"
    )
    return accounts, kams, executive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--contacts", type=int, default=8, help="people per account")
    parser.add_argument("--activities", type=int, default=30, help="done activities per account")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", metavar="SERVER", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = scratch_django(postgres=args.postgres, keep=args.keep)
    if not args.keep:
        atexit.register(shutil.rmtree, work, ignore_errors=True)
    from django.core.paginator import Paginator
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from keycare.accounts.models import Account
    from keycare.engagement.cadences import cadence_statuses
    from keycare.engagement.coverage import coverage_for_accounts, coverage_list
    from keycare.engagement.coverage_ticks import coverage_refresh
    from keycare.engagement.reminders import reminders_generate
    from keycare.engagement.selectors.my_week import my_week
    from keycare.engagement.sponsors import executive_overdue_report

    accounts, kams, executive = generate(args)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ids = [a.pk for a in accounts]
    today = timezone.localdate()
    floor_sql = (
        "SELECT c.id, MAX(a.done_at) FROM accounts_contact c "
        "JOIN engagement_activity_contacts l ON l.contact_id = c.id "
        "JOIN engagement_activity a ON a.id = l.activity_id "
        "WHERE a.status = 'done' GROUP BY c.id"
    )
    timings: dict[str, list[float]] = {}
    queries: dict[str, int] = {}

    def timed(label, func):
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            result = func()
            timings.setdefault(label, []).append(time.perf_counter() - t)
        queries[label] = len(captured)
        return result

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(floor_sql)
            return cursor.fetchall()

    for _ in range(args.repeat):
        timed("floor", floor)
        coverage = timed("coverage", lambda: coverage_for_accounts(account_ids=ids, today=today))
        statuses = timed(
            "cadences",
            lambda: cadence_statuses(accounts=Account.objects.filter(pk__in=ids), today=today),
        )
        refreshed = timed("refresh", lambda: coverage_refresh(today=today))
        rows = timed("report", lambda: list(Paginator(coverage_list(actor=executive), 25).page(1)))
        flagged_rows = timed("report_flag", lambda: list(Paginator(
            coverage_list(actor=executive, filters={"flag": "uncovered_decision_makers"}), 25
        ).page(1)))  # fmt: skip
        overdue = timed("overdue", lambda: list(
            Paginator(executive_overdue_report(actor=executive, today=today), 25).page(1)
        ))  # fmt: skip
        week = timed("my_week", lambda: my_week(actor=kams[0], today=today))
    made = timed("reminders", lambda: reminders_generate(today=today, deliver=False))
    base = _median(timings["floor"])
    print(
        f"floor: the last touch of every contact, one grouped query: {base:.3f} s ({_spread(timings['floor'])})"
    )
    flagged = sum(1 for c in coverage.values() if c.single_threaded or c.uncovered_decision_makers)
    labels = {
        "coverage": f"coverage_for_accounts ({len(coverage):,} accounts, {flagged:,} flagged, coach paths)",
        "cadences": f"cadence_statuses ({len(statuses):,} cadences)",
        "refresh": f"coverage_refresh, the hourly tick's set-based upsert ({refreshed:,} accounts)",
        "report": f"coverage_list, the executive's report from AccountCoverage (page 1: {len(rows)} rows)",
        "report_flag": f"coverage_list filtered by a flag, in SQL (page 1: {len(flagged_rows)} rows)",
        "overdue": f"executive_overdue_report from AccountCoverage (page 1: {len(overdue)} rows)",
        "my_week": f"my_week of a key account manager ({len(week.accounts)} accounts)",
        "reminders": f"reminders_generate, first run ({made:,} reminders recorded)",
    }  # fmt: skip
    for key, label in labels.items():
        median = _median(timings[key])
        print(
            f"{label}: {median:.3f} s ({_spread(timings[key])}); {queries[key]} queries; "
            f"ratio to the floor {median / base:.1f}"
        )


if __name__ == "__main__":
    main()
