"""Enqueue background work after the transaction commits.

With Redis (production) the task goes to a Celery worker. In the embedded mode (no broker)
the same task code runs in-process: in a thread when KEYCARE_EAGER_THREADS is on (the demo
server, so a long import does not hold up the request and its progress can be watched), or
synchronously (tests, commands)."""

import threading
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction


def _run_in_thread(task: Any, args: tuple, kwargs: dict) -> None:
    try:
        task.apply(args=args, kwargs=kwargs)
    finally:
        connection.close()


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    def send() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "KEYCARE_EAGER_THREADS", False):
            close_old_connections()
            threading.Thread(target=_run_in_thread, args=(task, args, kwargs), daemon=True).start()
        else:
            task.delay(*args, **kwargs)

    transaction.on_commit(send)
