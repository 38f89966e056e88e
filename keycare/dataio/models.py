from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from keycare.core.scoping import RestrictedQuerySet


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    PRODUCTS = "products", _("Products")
    EQUIPMENT = "equipment", _("Equipment")
    ORDERS = "orders", _("Orders")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    CHECKED = "checked", _("Dry run passed")
    REJECTED = "rejected", _("Rejected: nothing changed")
    FAILED = "failed", _("Failed: nothing changed")


def import_upload_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{instance.created_at:%Y/%m}/{instance.token}-{filename[-80:]}"


class ImportJob(models.Model):
    """One import of one file, run in the background; the file is kept outside the web root."""

    token = models.CharField(max_length=32, unique=True, editable=False)
    kind = models.CharField(_("data"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("created at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def is_finished(self) -> bool:
        return self.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING)
