"""Writes of the import/export app: import jobs created from uploads and run in the background."""

import secrets
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from keycare.core.background import enqueue_on_commit
from keycare.core.services import require_permission
from keycare.core.tabular import TabularError, detect_format
from keycare.users.models import User

from .engine import ImportOutcome, run_import
from .models import ImportJob, ImportKind, ImportStatus


def progress_key(job_id: int) -> str:
    return f"dataio:import-progress:{job_id}"


@transaction.atomic
def import_job_create(*, actor: User, kind: str, upload: UploadedFile, dry_run: bool) -> ImportJob:
    require_permission(actor=actor, action="add", model=ImportJob)
    errors = {}
    if kind not in ImportKind.values:
        errors["kind"] = _("Choose what the file contains.")
    try:
        detect_format(upload.name or "")
    except TabularError:
        errors["file"] = _("Upload a .csv or .xlsx file.")
    limit = settings.KEYCARE_IMPORT_MAX_MB * 1024 * 1024
    if upload.size is not None and upload.size > limit:
        errors["file"] = _("The file is larger than %(mb)d MB.") % {
            "mb": settings.KEYCARE_IMPORT_MAX_MB
        }
    if upload.size == 0:
        errors["file"] = _("The file is empty.")
    if errors:
        raise ValidationError(errors)
    job = ImportJob(
        token=secrets.token_hex(8),
        kind=kind,
        original_name=Path(upload.name).name[:255],
        dry_run=dry_run,
        created_by=actor,
        created_at=timezone.now(),
    )
    job.file.save(job.original_name, upload, save=False)
    job.save()
    from .tasks import run_import_job_task

    enqueue_on_commit(run_import_job_task, job.pk)
    return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (idempotent: a job that already started is left alone)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportStatus.QUEUED:
            return job
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])

    def progress(rows: int, done: int | None, total: int | None) -> None:
        percent = round(100 * done / total) if done is not None and total else None
        cache.set(progress_key(job_id), {"rows": rows, "percent": percent}, timeout=3600)

    try:
        outcome = run_import(
            kind=job.kind,
            path=job.file.path,
            filename=job.original_name,
            actor=job.created_by,
            dry_run=job.dry_run,
            progress=progress,
        )
    except Exception as exc:  # never leave a job "running" forever
        outcome = ImportOutcome(
            kind=job.kind, dry_run=job.dry_run, failed=True, message=str(exc)[:500]
        )
    _finish(job, outcome)
    cache.delete(progress_key(job_id))
    return job


def _finish(job: ImportJob, outcome: ImportOutcome) -> None:
    if outcome.failed:
        job.status = ImportStatus.FAILED
    elif outcome.rejected_rows:
        job.status = ImportStatus.REJECTED
    elif job.dry_run:
        job.status = ImportStatus.CHECKED
    else:
        job.status = ImportStatus.SUCCEEDED
    job.rows = outcome.rows
    job.created, job.updated, job.unchanged = outcome.created, outcome.updated, outcome.unchanged
    job.rejected = len(outcome.rejected_rows)
    job.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in outcome.errors]
    job.message = outcome.message
    job.encoding = outcome.encoding or ""
    job.finished_at = timezone.now()
    job.save()
