from celery import shared_task

from .ratings import rating_invitation_send


@shared_task(name="keycare.service.tasks.send_rating_invitation_task", acks_late=True)
def send_rating_invitation_task(rating_id: int, token: str) -> bool:
    return rating_invitation_send(rating_id=rating_id, token=token)
