from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet

from ..choices import OrderLineType
from .account import Account
from .catalogue import Product

MONEY = {"max_digits": 16, "decimal_places": 2}


class Order(TimeStampedModel):
    """A sales order (订单), usually from the ERP. Totals are kept on the order so that lists
    and value analysis aggregate orders, not lines."""

    number = models.CharField(_("order number"), max_length=40, unique=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    order_date = models.DateField(_("order date"), db_index=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    notes = models.TextField(_("notes"), blank=True)
    total_list = models.DecimalField(_("list value"), default=Decimal("0"), **MONEY)
    total_net = models.DecimalField(_("net revenue"), default=Decimal("0"), **MONEY)
    total_discount = models.DecimalField(_("discounts"), default=Decimal("0"), **MONEY)
    total_cost = models.DecimalField(_("standard cost"), default=Decimal("0"), **MONEY)
    #: Rebates and credit notes, as a positive amount (their lines are negative).
    total_rebate = models.DecimalField(
        _("rebates"), default=Decimal("0"), db_default=Decimal("0"), **MONEY
    )
    line_count = models.PositiveIntegerField(_("lines"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        indexes = [models.Index(fields=["account", "order_date"], name="order_account_date")]

    def __str__(self) -> str:
        return self.number

    @property
    def gross_profit(self) -> Decimal:
        return self.total_net - self.total_cost


class OrderLine(models.Model):
    """One line: a product sold, or a rebate / credit note as a negative line.

    Amounts are line totals (quantity × unit price) so that set-based SQL can sum them."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField(_("line number"))
    line_type = models.CharField(
        _("line type"), max_length=20, choices=OrderLineType.choices, default=OrderLineType.PRODUCT
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_lines",
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    list_price = models.DecimalField(_("list price"), **MONEY)
    net_price = models.DecimalField(_("net price"), **MONEY)
    unit_cost = models.DecimalField(_("standard cost"), default=Decimal("0"), **MONEY)
    list_amount = models.DecimalField(_("list amount"), **MONEY)
    net_amount = models.DecimalField(_("net amount"), **MONEY)
    discount_amount = models.DecimalField(_("discount"), **MONEY)
    cost_amount = models.DecimalField(_("cost amount"), **MONEY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_number}"
