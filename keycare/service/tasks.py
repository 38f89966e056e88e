from celery import shared_task

from .ratings import rating_invitation_send
from .surveys import nps_survey_invitation_send


@shared_task(name="keycare.service.tasks.send_rating_invitation_task", acks_late=True)
def send_rating_invitation_task(rating_id: int, token: str) -> bool:
    return rating_invitation_send(rating_id=rating_id, token=token)


@shared_task(name="keycare.service.tasks.send_nps_survey_task", acks_late=True)
def send_nps_survey_task(survey_id: int, token: str) -> bool:
    return nps_survey_invitation_send(survey_id=survey_id, token=token)


@shared_task(
    name="keycare.service.tasks.send_sla_alert_task", acks_late=True, bind=True,
    autoretry_for=(OSError,), retry_backoff=30, retry_kwargs={"max_retries": 8},
)  # fmt: skip
def send_sla_alert_task(self, alert_id: int) -> bool:
    from .escalation import alert_send

    return alert_send(alert_id=alert_id)
