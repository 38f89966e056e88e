"""Enqueue background work after the transaction commits.

With Redis (production) the task goes to a Celery worker. In the embedded mode (no broker)
the same task code runs in-process: in a thread when KEYCARE_EAGER_THREADS is on (the demo
server, so a long import does not hold up the request and its progress can be watched), or
synchronously (tests, commands)."""

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction


def _run_in_thread(task: Any, args: tuple, kwargs: dict) -> None:
    try:
        task.apply(args=args, kwargs=kwargs)
    finally:
        connection.close()


_SUPPRESSED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "keycare_tasks_suppressed", default=False
)


@contextlib.contextmanager
def background_tasks_suppressed() -> Iterator[None]:
    """Enqueue nothing inside this block (demo data: its customers get no mail)."""
    token = _SUPPRESSED.set(True)
    try:
        yield
    finally:
        _SUPPRESSED.reset(token)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    if _SUPPRESSED.get():
        return

    def send() -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER and getattr(settings, "KEYCARE_EAGER_THREADS", False):
            close_old_connections()
            threading.Thread(target=_run_in_thread, args=(task, args, kwargs), daemon=True).start()
        else:
            task.delay(*args, **kwargs)

    # robust: a broker hiccup after commit is logged, it does not fail the finished request
    transaction.on_commit(send, robust=True)
