"""Background tasks of engagement: thin, take ids, idempotent (safe to retry)."""

from celery import shared_task


@shared_task(
    name="keycare.engagement.tasks.send_reminder_task", acks_late=True, bind=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 5},
)  # fmt: skip
def send_reminder_task(self, reminder_id: int) -> bool:
    from .reminders import reminder_send

    return reminder_send(reminder_id=reminder_id)
