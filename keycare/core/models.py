from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class TickRun(models.Model):
    """One run of one registered periodic tick: the health record of background work."""

    class Status(models.TextChoices):
        OK = "ok", _("succeeded")
        FAILED = "failed", _("failed")

    name = models.CharField(_("tick"), max_length=100, db_index=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("tick run")
        verbose_name_plural = _("tick runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["name", "-started_at"], name="core_tickrun_name_started")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.started_at:%Y-%m-%d %H:%M}"
