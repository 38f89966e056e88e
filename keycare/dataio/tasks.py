from celery import shared_task

from .services import import_job_run


@shared_task(name="keycare.dataio.tasks.run_import_job_task", acks_late=True)
def run_import_job_task(job_id: int) -> str | None:
    job = import_job_run(job_id=job_id)
    return job.status if job else None
