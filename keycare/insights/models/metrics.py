from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.core.scoping import RestrictedQuerySet

MONEY = {"max_digits": 16, "decimal_places": 2}


class MetricScope(models.TextChoices):
    OWN = "own", _("This account only")
    GROUP = "group", _("With its branches")


class AccountMetric(models.Model):
    """One account's value figures for one period: its own orders, or (scope "group") its
    own and all its branches' (a group rolls up its plants). Recomputed set-based by
    `keycare insights recompute`; one row per account, period and scope."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="metrics",
    )  # fmt: skip
    scope = models.CharField(_("scope"), max_length=5, choices=MetricScope.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    revenue = models.DecimalField(_("revenue"), default=0, **MONEY)
    cost_of_goods = models.DecimalField(_("cost of goods"), default=0, **MONEY)
    discounts = models.DecimalField(_("discounts"), default=0, **MONEY)
    gross_profit = models.DecimalField(_("gross profit"), default=0, **MONEY)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    order_frequency = models.DecimalField(
        _("orders per month"), max_digits=10, decimal_places=3, default=0
    )
    largest_order = models.DecimalField(_("largest order"), default=0, **MONEY)
    average_order = models.DecimalField(_("average order"), default=0, **MONEY)
    first_order = models.DateField(_("first order"), null=True, blank=True)
    last_order = models.DateField(_("last order"), null=True, blank=True)
    recency_days = models.PositiveIntegerField(_("days since the last order"), null=True)
    tenure_days = models.PositiveIntegerField(_("days since the first order"), null=True)
    previous_revenue = models.DecimalField(_("revenue, previous period"), default=0, **MONEY)
    growth = models.DecimalField(
        _("growth %"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    year_ago_revenue = models.DecimalField(
        _("revenue, same period a year before"), default=0, **MONEY
    )
    growth_yoy = models.DecimalField(
        _("growth year over year %"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    cost_to_serve = models.DecimalField(_("cost to serve"), default=0, **MONEY)
    tickets = models.PositiveIntegerField(_("tickets"), default=0)
    csat = models.DecimalField(_("CSAT %"), max_digits=5, decimal_places=2, null=True)
    nps = models.DecimalField(_("NPS"), max_digits=6, decimal_places=2, null=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("account metrics")
        verbose_name_plural = _("account metrics")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "scope", "period_start", "period_end"],
                name="account_metric_once",
            )
        ]
        indexes = [
            models.Index(fields=["period_start", "period_end", "scope", "revenue"],
                         name="metric_period_revenue"),
            # "computed when?" of a period (staleness checks on the analysis pages): one
            # index probe instead of reading every account's row
            models.Index(fields=["period_start", "period_end", "computed_at"],
                         name="metric_period_computed"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.account_id} {self.scope} {self.period_start}–{self.period_end}"


class TierChange(models.Model):
    """Why an account's tier changed (from the pyramid, or by hand): the tier selects the
    account's SLA policy, so every change of service level is explained here."""

    class Source(models.TextChoices):
        PYRAMID = "pyramid", _("Customer pyramid")
        SCORECARD = "scorecard", _("Value scorecard grade")
        MANUAL = "manual", _("Set by hand")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="tier_changes",
    )  # fmt: skip
    from_tier = models.CharField(_("from"), max_length=20, blank=True)
    to_tier = models.CharField(_("to"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    reason = models.CharField(_("reason"), max_length=300)
    # a reason the system wrote: its sentence (an English msgid) and figures, so each reader
    # sees it in their own language; `reason` keeps it as written (and a person's words)
    reason_key = models.CharField(_("reason key"), max_length=200, blank=True)
    reason_params = models.JSONField(_("reason figures"), default=dict, blank=True)
    actor = models.ForeignKey(
        "users.User", verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_tier or '—'} → {self.to_tier or '—'}"

    @property
    def reason_text(self) -> str:
        """The reason in the reader's language (a system reason), else as written."""
        from django.utils.translation import gettext

        if self.reason_key:
            try:
                return gettext(self.reason_key) % self.reason_params
            except (KeyError, TypeError, ValueError):
                return self.reason
        return self.reason


class TierOverride(models.Model):
    """A tier set by hand: the pyramid leaves the account alone until the override goes."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="tier_override",
    )  # fmt: skip
    tier = models.CharField(_("tier"), max_length=20)
    reason = models.CharField(_("reason"), max_length=300)
    actor = models.ForeignKey(
        "users.User", verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("tier override")
        verbose_name_plural = _("tier overrides")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.tier}"
