"""A real Celery worker against the local Redis: a task enqueued on commit runs and its
effect is visible in the database."""

import os
import time

import pytest
from django.db import transaction

from keycare.core import ticks
from keycare.core.models import TickRun

REDIS = os.environ.get("KEYCARE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_celery(settings):
    import redis
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    client = redis.Redis.from_url(REDIS)
    client.ping()  # fail loudly (not skip) when Redis is down
    client.flushdb()
    old = {k: app.conf[k] for k in ("broker_url", "task_always_eager", "result_backend")}
    app.conf.update(broker_url=REDIS, task_always_eager=False, result_backend=None)
    _reset_connections(app)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app
    app.conf.update(old)
    _reset_connections(app)
    client.flushdb()
    # later tests run tasks in-process again (as the test settings say)
    assert app.conf.task_always_eager is True


def _reset_connections(app):
    """Drop pooled broker connections so the next use connects to the configured broker."""
    import kombu.pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_task_enqueued_on_commit_runs_in_a_real_worker(redis_celery, monkeypatch):
    from keycare.core.tasks import run_tick_task

    monkeypatch.setattr(ticks, "_TICKS", {"test.worker": lambda: "ran in worker"})
    with transaction.atomic():
        transaction.on_commit(lambda: run_tick_task.delay("test.worker"))
        # not sent before commit
        assert not TickRun.objects.filter(name="test.worker").exists()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = TickRun.objects.filter(name="test.worker").first()
        if run:
            break
        time.sleep(0.2)
    assert run is not None, "the worker did not run the task within 30 s"
    assert (run.status, run.detail) == ("ok", "ran in worker")
