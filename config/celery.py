"""The Celery app. With REDIS_URL it uses Redis as broker; without, tasks run eagerly.

Periodic work is declared here: one beat entry runs the tick registry every minute
(keycare.core.ticks); features register their ticks instead of touching this file.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("keycare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "keycare-tick": {
        "task": "keycare.core.tasks.run_ticks_task",
        "schedule": float(os.environ.get("KEYCARE_TICK_SECONDS", "60")),
    },
}
