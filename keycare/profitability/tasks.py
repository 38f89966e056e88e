from celery import shared_task


@shared_task(
    name="keycare.profitability.tasks.send_profit_alert_task", acks_late=True, bind=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 8},
)  # fmt: skip
def send_profit_alert_task(self, alert_id: int) -> bool:
    from .alerts import alert_send

    return alert_send(alert_id=alert_id)


@shared_task(
    name="keycare.profitability.tasks.notify_approvers_task", acks_late=True, bind=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 8},
)  # fmt: skip
def notify_approvers_task(self, step_id: int) -> bool:
    from .concessions import approvers_notify

    return approvers_notify(step_id=step_id)


@shared_task(
    name="keycare.profitability.tasks.notify_requester_task", acks_late=True, bind=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 8},
)  # fmt: skip
def notify_requester_task(self, concession_id: int) -> bool:
    from .concessions import requester_notify

    return requester_notify(concession_id=concession_id)
