"""Create the users and queues of the benchmark's django-helpdesk site through its own models.

Run with the helpdesk venv's python from this folder (``helpdesk_side.prepare`` does). The few
rows made here go through the ORM on purpose: saving a Queue creates its access permission and
saving a User its helpdesk UserSettings, which raw rows would miss. The bulk of the data
(tickets and follow-ups) is then COPYed in by ``helpdesk_side``. Prints the ids as JSON.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdproject.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from helpdesk.models import Queue  # noqa: E402

BENCH_USER = "bench"
BENCH_PASSWORD = "keycare-bench"  # noqa: S105 - a benchmark login on a loopback-only site
AGENTS = [("li.na", "Li", "Na"), ("wang.wei", "Wang", "Wei"), ("zhang.min", "Zhang", "Min")]
QUEUES = [
    ("Installation", "install"),
    ("Repairs", "repair"),
    ("Spare parts", "parts"),
    ("Maintenance contracts", "contract"),
]


def main() -> None:
    """Make the superuser, the agents and the queues; print their ids."""
    users = get_user_model()
    bench = users.objects.create_superuser(
        BENCH_USER, "bench@example.com", BENCH_PASSWORD, first_name="Bench", last_name="User"
    )
    staff = [bench.pk]
    for username, first, last in AGENTS:
        agent = users.objects.create_user(
            username,
            f"{username}@example.com",
            BENCH_PASSWORD,
            first_name=first,
            last_name=last,
            is_staff=True,
        )
        staff.append(agent.pk)
    queues = [
        Queue.objects.create(
            title=title,
            slug=slug,
            email_address=f"{slug}@example.com",
            allow_public_submission=True,
        )
        for title, slug in QUEUES
    ]
    print(json.dumps({"staff": staff, "queues": [[q.pk, q.slug] for q in queues]}))


if __name__ == "__main__":
    main()
