from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet


class ProductLine(models.Model):
    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    code = models.CharField(_("product code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    product_line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="products",
    )
    category = models.CharField(_("category"), max_length=60, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="台")
    list_price = models.DecimalField(
        _("list price"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    standard_cost = models.DecimalField(
        _("standard cost"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    warranty_months = models.PositiveSmallIntegerField(_("warranty months"), default=12)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
