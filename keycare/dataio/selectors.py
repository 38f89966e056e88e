from django.core.cache import cache
from django.db.models import QuerySet

from keycare.core.scoping import restrict
from keycare.users.models import User

from .models import ImportJob
from .services import progress_key


def import_job_list(*, actor: User) -> QuerySet[ImportJob]:
    return restrict(ImportJob.objects.all(), actor, "view").select_related("created_by")


def import_job_get(*, actor: User, pk: int) -> ImportJob:
    return import_job_list(actor=actor).get(pk=pk)


def import_job_progress(*, job: ImportJob) -> dict | None:
    return cache.get(progress_key(job.pk))
