from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.accounts.choices import AccountTier, AccountType
from keycare.core.scoping import RestrictedQuerySet

from .choices import (
    ApprovalLevel,
    ConcessionEventKind,
    ConcessionKind,
    ConcessionStatus,
    CostDriver,
    ProfitAlertKind,
    StepStatus,
)

MONEY = {"max_digits": 16, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
MARGIN = [MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))]


class CostRate(models.Model):
    """An activity-based cost rate from a day on (e.g. an engineer hour = the service team's
    yearly cost ÷ its practical capacity hours: 240,000 ÷ 8,500 → 28.24). Rates are kept,
    never changed: a new rate starts a new row, so a past period is costed as it was."""

    driver = models.CharField(_("cost driver"), max_length=20, choices=CostDriver.choices)
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=12, decimal_places=2,
                               validators=[MinValueValidator(Decimal("0"))])  # fmt: skip
    pool_cost = models.DecimalField(
        _("cost of the resource pool"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    capacity = models.DecimalField(
        _("practical capacity (hours, visits or tickets)"), max_digits=14, decimal_places=2,
        null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))],
    )  # fmt: skip
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cost rate")
        verbose_name_plural = _("cost rates")
        ordering = ["driver", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["driver", "valid_from"], name="cost_rate_once_a_day",
                violation_error_message=_("This driver already has a rate from that day."),
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.get_driver_display()} {self.rate} ({self.valid_from})"


class ConcessionPolicy(models.Model):
    """How far concessions may go for a tier and account type (empty: any). The most specific
    active policy applies: tier and type, then tier, then type, then the default. An empty
    limit means no limit."""

    name = models.CharField(_("name"), max_length=100)
    tier = models.CharField(_("tier"), max_length=20, choices=AccountTier.choices, blank=True)
    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, blank=True
    )
    max_discount_pct = models.DecimalField(
        _("maximum discount on list price (%)"), max_digits=5, decimal_places=2,
        null=True, blank=True, validators=PERCENT,
    )  # fmt: skip
    min_line_margin_pct = models.DecimalField(
        _("minimum gross margin per order line (%)"), max_digits=5, decimal_places=2,
        null=True, blank=True, validators=MARGIN,
    )  # fmt: skip
    min_period_margin_pct = models.DecimalField(
        _("minimum gross margin per account-period (%)"), max_digits=5, decimal_places=2,
        null=True, blank=True, validators=MARGIN,
    )  # fmt: skip
    min_contribution_margin_pct = models.DecimalField(
        _("minimum margin after cost to serve per account-period (%)"), max_digits=5,
        decimal_places=2, null=True, blank=True, validators=MARGIN,
    )  # fmt: skip
    max_free_service_hours = models.DecimalField(
        _("maximum free service hours a year"), max_digits=8, decimal_places=2,
        null=True, blank=True, validators=NOT_NEGATIVE,
    )  # fmt: skip
    max_free_visits = models.PositiveIntegerField(
        _("maximum free visits a year"), null=True, blank=True
    )
    max_goodwill_parts_value = models.DecimalField(
        _("maximum goodwill parts value a year"), null=True, blank=True, validators=NOT_NEGATIVE,
        **MONEY,
    )  # fmt: skip
    max_extended_warranty_months = models.PositiveIntegerField(
        _("maximum extended warranty (months)"), null=True, blank=True,
        validators=[MaxValueValidator(120)],
    )  # fmt: skip
    max_penalty_waiver_value = models.DecimalField(
        _("maximum SLA penalty waived a year"), null=True, blank=True, validators=NOT_NEGATIVE,
        **MONEY,
    )  # fmt: skip
    gift_limit_per_contact = models.DecimalField(
        _("gift value limit per contact a year"), null=True, blank=True, validators=NOT_NEGATIVE,
        **MONEY,
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("concession policy")
        verbose_name_plural = _("concession policies")
        ordering = ["tier", "account_type", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "account_type"], name="concession_policy_once",
                violation_error_message=_("A policy for this tier and account type already exists."),
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class ProfitabilitySettings(models.Model):
    """The approval chain's thresholds (one row). A concession beyond its policy goes to the
    key account manager; above `service_manager_above` (or more than `service_manager_share`
    % of the account's contribution) also to a service manager; above `executive_above` (or
    more than `executive_share` %, or when it would turn the account's contribution
    negative) also to an executive."""

    service_manager_above = models.DecimalField(
        _("service manager approval above"), default=Decimal("5000"), validators=NOT_NEGATIVE,
        **MONEY,
    )  # fmt: skip
    executive_above = models.DecimalField(
        _("executive approval above"), default=Decimal("20000"), validators=NOT_NEGATIVE, **MONEY
    )
    service_manager_share = models.DecimalField(
        _("service manager approval above % of the account's contribution"), max_digits=5,
        decimal_places=2, default=Decimal("10"), validators=PERCENT,
    )  # fmt: skip
    executive_share = models.DecimalField(
        _("executive approval above % of the account's contribution"), max_digits=5,
        decimal_places=2, default=Decimal("25"), validators=PERCENT,
    )  # fmt: skip
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    history = HistoricalRecords()  # who changed the thresholds, when, from what

    class Meta:
        verbose_name = _("profitability settings")
        verbose_name_plural = _("profitability settings")

    def __str__(self) -> str:
        return "profitability settings"

    def clean(self) -> None:
        errors = {}
        if (
            self.service_manager_above is not None
            and self.executive_above is not None
            and self.executive_above < self.service_manager_above
        ):
            errors["executive_above"] = _(
                "The executive threshold cannot be below the service manager's."
            )
        if (
            self.service_manager_share is not None
            and self.executive_share is not None
            and self.executive_share < self.service_manager_share
        ):
            errors["executive_share"] = _(
                "The executive share cannot be below the service manager's."
            )
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> "ProfitabilitySettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class Concession(models.Model):
    """A concession request (优惠申请): what is given, to which account, why, its value, the
    profit simulation and policy check it was decided on, and its approval state."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="concessions",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=ConcessionKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=ConcessionStatus.choices,
        default=ConcessionStatus.PENDING, db_index=True,
    )  # fmt: skip
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        related_name="concession_requests",
    )  # fmt: skip
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    effective_date = models.DateField(_("effective date"))
    reason = models.TextField(_("reason"))
    amount = models.DecimalField(_("value"), validators=NOT_NEGATIVE, **MONEY)
    # what is given, by kind
    order_reference = models.CharField(_("quote or order number"), max_length=40, blank=True)
    list_amount = models.DecimalField(_("list value"), null=True, blank=True, **MONEY)
    cost_amount = models.DecimalField(_("standard cost"), null=True, blank=True, **MONEY)
    discount_pct = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    hours = models.DecimalField(
        _("service hours"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    visits = models.PositiveIntegerField(_("visits"), null=True, blank=True)
    months = models.PositiveIntegerField(_("months"), null=True, blank=True)
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("recipient"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="gifts_received",
    )  # fmt: skip
    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="concessions",
    )  # fmt: skip
    equipment = models.ForeignKey(
        "accounts.Equipment", verbose_name=_("equipment"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="concessions",
    )  # fmt: skip
    # the decision basis, as it was at submission
    policy = models.ForeignKey(  # a policy that decided requests is deactivated, never removed
        ConcessionPolicy, verbose_name=_("policy"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="concessions",
    )  # fmt: skip
    within_policy = models.BooleanField(_("within policy"), default=False)
    breaches = models.JSONField(_("policy limits exceeded"), default=list, blank=True)
    simulation = models.JSONField(_("profit simulation"), default=dict, blank=True)
    current_step = models.PositiveSmallIntegerField(_("current step"), default=0)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    requester_told_at = models.DateTimeField(_("requester told at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("concession")
        verbose_name_plural = _("concessions")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status", "effective_date"],
                         name="concession_account_status"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"


class ConcessionStep(models.Model):
    """One step of a concession's approval chain, lowest level first."""

    concession = models.ForeignKey(
        Concession, verbose_name=_("concession"), on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(_("step"))
    level = models.CharField(_("approver"), max_length=20, choices=ApprovalLevel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=StepStatus.choices, default=StepStatus.WAITING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="concession_decisions",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    notified_at = models.DateTimeField(_("approvers told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["concession_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["concession", "position"], name="concession_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.concession_id}/{self.position} {self.level}"


class ConcessionEvent(models.Model):
    """Every step of a concession's life (submitted, granted, approved, rejected, withdrawn),
    written in the same transaction as the change: the audit trail of the decision."""

    concession = models.ForeignKey(
        Concession, verbose_name=_("concession"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=10, choices=ConcessionEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)
    level = models.CharField(_("as"), max_length=20, choices=ApprovalLevel.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("concession event")
        verbose_name_plural = _("concession events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.concession_id} {self.kind}"


class ProfitAlert(models.Model):
    """One alert about an account's profit (margin below its policy floor, concessions over
    the policy), recorded before it is sent: the unique key sends it once a month, however
    often the check runs."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="profit_alerts",
    )  # fmt: skip
    kind = models.CharField(_("alert"), max_length=30, choices=ProfitAlertKind.choices)
    month = models.CharField(_("month"), max_length=7)  # "2026-12"
    detail = models.JSONField(_("detail"), default=dict)
    recipients = models.JSONField(_("recipients"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    #: The channels it reached ("email", "webhook:<id>"): a retry after a failed webhook
    #: does not send the email again.
    delivered = models.JSONField(_("delivered to"), default=list, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("profit alert")
        verbose_name_plural = _("profit alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "month"], name="profit_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.month}"
