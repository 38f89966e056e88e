"""The insights area's settings (one row): defaults of the analyses, the alert thresholds of
the risk views, and where account tiers come from."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class InsightsSettings(models.Model):
    class TierSource(models.TextChoices):
        PYRAMID = "pyramid", _("Customer pyramid (profit after cost to serve)")
        SCORECARD = "scorecard", _("Value scorecard grade (A → platinum, B → gold, C → iron)")

    tier_source = models.CharField(
        _("tiers come from"), max_length=10, choices=TierSource.choices,
        default=TierSource.PYRAMID,
    )  # fmt: skip
    cutoff_a = models.DecimalField(_("Pareto class A up to %"), max_digits=5, decimal_places=2,
                                   default=80, validators=PERCENT)  # fmt: skip
    cutoff_b = models.DecimalField(_("Pareto class B up to %"), max_digits=5, decimal_places=2,
                                   default=95, validators=PERCENT)  # fmt: skip
    platinum = models.DecimalField(_("platinum: top % of profitable accounts"), max_digits=5,
                                   decimal_places=2, default=10, validators=PERCENT)  # fmt: skip
    gold = models.DecimalField(_("platinum and gold: top %"), max_digits=5, decimal_places=2,
                               default=30, validators=PERCENT)  # fmt: skip
    neglect_days = models.PositiveIntegerField(
        _("neglected after days without contact"), default=90,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )  # fmt: skip
    alert_top_1 = models.DecimalField(_("alert when the largest account's share exceeds %"),
                                      max_digits=5, decimal_places=2, default=20,
                                      validators=PERCENT)  # fmt: skip
    alert_top_5 = models.DecimalField(_("alert when the top five's share exceeds %"),
                                      max_digits=5, decimal_places=2, default=50,
                                      validators=PERCENT)  # fmt: skip
    alert_hhi = models.PositiveIntegerField(
        _("alert when the HHI exceeds"), default=1500,
        validators=[MinValueValidator(0), MaxValueValidator(10000)],
    )  # fmt: skip
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    class Meta:
        verbose_name = _("insights settings")
        verbose_name_plural = _("insights settings")

    def __str__(self) -> str:
        return "insights settings"

    def clean(self) -> None:
        errors = {}
        if (
            self.cutoff_a is not None
            and self.cutoff_b is not None
            and not (0 < self.cutoff_a <= self.cutoff_b <= 100)
        ):
            errors["cutoff_b"] = _("Cut-offs must satisfy 0 < A ≤ B ≤ 100 (e.g. 80 and 95).")
        if (
            self.platinum is not None
            and self.gold is not None
            and not (0 < self.platinum <= self.gold <= 100)
        ):
            errors["gold"] = _(
                "The splits must satisfy 0 < platinum ≤ gold ≤ 100 (e.g. 10 and 30)."
            )
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> "InsightsSettings":
        """The settings row (created with the defaults the first time)."""
        return cls.objects.get_or_create(pk=1)[0]
