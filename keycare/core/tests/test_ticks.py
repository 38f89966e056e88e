import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from keycare.core import ticks
from keycare.core.models import TickRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def temp_ticks(monkeypatch):
    registry = dict(ticks._TICKS)
    monkeypatch.setattr(ticks, "_TICKS", registry)
    return registry


def test_registered_ticks_run_and_are_recorded(temp_ticks):
    calls = []

    @ticks.register_tick("test.counter")
    def counter():
        calls.append(1)
        return "counted"

    results = {r.name: r for r in ticks.run_ticks()}
    assert results["test.counter"].ok
    assert calls == [1]
    run = TickRun.objects.get(name="test.counter")
    assert (run.status, run.detail) == ("ok", "counted")


def test_one_failing_tick_does_not_stop_the_others(temp_ticks):
    @ticks.register_tick("test.a_broken")
    def broken():
        TickRun.objects.create(  # written inside the tick's transaction: must roll back
            name="leak", started_at=timezone.now(), finished_at=timezone.now(), status="ok"
        )
        raise RuntimeError("boom")

    @ticks.register_tick("test.b_fine")
    def fine():
        return None

    results = {r.name: r for r in ticks.run_ticks()}
    assert not results["test.a_broken"].ok
    assert results["test.a_broken"].detail == "RuntimeError: boom"
    assert results["test.b_fine"].ok
    assert not TickRun.objects.filter(name="leak").exists()
    assert TickRun.objects.get(name="test.a_broken").status == "failed"


def test_prune_keeps_a_week():
    now = timezone.now()
    for days in (1, 8, 30):
        TickRun.objects.create(
            name="old",
            started_at=now - dt.timedelta(days=days),
            finished_at=now - dt.timedelta(days=days),
            status="ok",
        )
    assert ticks.prune_tick_runs() == "pruned 2"
    assert TickRun.objects.filter(name="old").count() == 1


def test_tick_command_runs_once(temp_ticks):
    seen = []
    ticks.register_tick("test.cmd")(lambda: seen.append("x") or "")
    call_command("tick")
    assert seen == ["x"]


def test_run_forever_is_bounded(temp_ticks):
    seen = []
    ticks.register_tick("test.loop")(lambda: seen.append("x") or "")
    ticks.run_forever(0, max_runs=3)
    assert seen == ["x", "x", "x"]


def test_celery_beat_declares_the_tick_every_minute():
    from config.celery import app

    entry = app.conf.beat_schedule["keycare-tick"]
    assert entry["task"] == "keycare.core.tasks.run_ticks_task"
    assert entry["schedule"] == 60.0


def test_run_ticks_task_in_embedded_mode_runs_every_tick(temp_ticks):
    """Without REDIS_URL the task code runs in-process (eager)."""
    from keycare.core.tasks import run_ticks_task

    seen = []
    ticks.register_tick("test.eager")(lambda: seen.append("x") or "")
    names = run_ticks_task.delay().get()
    assert "test.eager" in names
    assert seen == ["x"]


def test_background_tasks_can_be_suppressed(monkeypatch):
    from keycare.core import background

    sent = []

    class FakeTask:
        def delay(self, *args):
            sent.append(args)

    monkeypatch.setattr(background.transaction, "on_commit", lambda fn, **kw: fn())
    monkeypatch.setattr(background.settings, "KEYCARE_EAGER_THREADS", False)
    with background.background_tasks_suppressed():
        background.enqueue_on_commit(FakeTask(), 1)
    background.enqueue_on_commit(FakeTask(), 2)
    assert sent == [(2,)]
