from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet

from ..choices import EquipmentStatus
from .account import Account
from .catalogue import Product


class Equipment(TimeStampedModel):
    """An installed unit of one of our products at a customer (设备台账)."""

    serial_number = models.CharField(_("serial number"), max_length=60)
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="equipment"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="equipment"
    )
    site = models.CharField(_("site"), max_length=255, blank=True)
    install_date = models.DateField(_("install date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EquipmentStatus.choices,
        default=EquipmentStatus.OPERATING,
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="components",
    )
    contract_ref = models.CharField(_("service contract"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["account_id", "serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "serial_number"],
                name="equipment_serial_unique_per_product",
                violation_error_message=_(
                    "This product already has a unit with this serial number."
                ),
            )
        ]
        indexes = [models.Index(fields=["account", "status"], name="equipment_account_status")]

    def __str__(self) -> str:
        return f"{self.product.code} #{self.serial_number}"

    @property
    def under_warranty(self) -> bool | None:
        from django.utils import timezone

        if self.warranty_end is None:
            return None
        return self.warranty_end >= timezone.localdate()
