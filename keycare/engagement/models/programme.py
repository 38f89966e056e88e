from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import (
    AccountTeamRole,
    AccountTier,
    AccountType,
    BuyingRole,
    DecisionStyle,
)
from keycare.core.i18n import in_language
from keycare.core.scoping import RestrictedQuerySet

from ..choices import ActivityKind
from .activities import MONEY, NOT_NEGATIVE


class StyleGuidance(models.Model):
    """How to deal with a person of each decision style (风格矩阵), in both languages; edited
    by administrators, shown on the contact page and when planning an activity."""

    style = models.CharField(
        _("decision style"), max_length=20, choices=DecisionStyle.choices, unique=True
    )
    summary = models.CharField(_("summary (English)"), max_length=200)
    summary_zh = models.CharField(_("summary (Chinese)"), max_length=200)
    tips = models.TextField(_("tips (English, one per line)"), blank=True)
    tips_zh = models.TextField(_("tips (Chinese, one per line)"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("style guidance")
        verbose_name_plural = _("style guidance")
        ordering = ["style"]

    def __str__(self) -> str:
        return self.style

    @property
    def summary_text(self) -> str:
        return in_language(self.summary, self.summary_zh)

    @property
    def tip_list(self) -> list[str]:
        text = in_language(self.tips, self.tips_zh)
        return [line.strip() for line in text.splitlines() if line.strip()]


class EngagementSettings(models.Model):
    """The one row of engagement settings (pk 1)."""

    gift_limit_per_contact = models.DecimalField(
        _("gift value limit per contact a year"), null=True, blank=True,
        validators=NOT_NEGATIVE,
        help_text=_("Used where the account's concession policy sets no gift limit."),
        **MONEY,
    )  # fmt: skip
    key_person_days = models.PositiveIntegerField(
        _("a key person counts as met for (days)"), default=90,
        validators=[MinValueValidator(1)],
    )  # fmt: skip
    dormant_days = models.PositiveIntegerField(
        _("a relationship is dormant after (days)"), default=180,
        validators=[MinValueValidator(1)],
    )  # fmt: skip
    reference_visits_per_year = models.PositiveIntegerField(
        _("reference visits a customer hosts a year at most"), default=4,
        validators=[MinValueValidator(1)],
    )  # fmt: skip
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("engagement settings")
        verbose_name_plural = _("engagement settings")

    def __str__(self) -> str:
        return "engagement settings"


class Playbook(models.Model):
    """How accounts of one type and tier are engaged: its cadences and recommended
    activities (the items), with the service measures of the type's service strategy. A
    blank type or tier means any; the most specific playbook applies."""

    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, blank=True
    )
    tier = models.CharField(_("tier"), max_length=20, choices=AccountTier.choices, blank=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    notes = models.TextField(_("service measures (English, one per line)"), blank=True)
    notes_zh = models.TextField(_("service measures (Chinese, one per line)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["account_type", "tier", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account_type", "tier"], name="playbook_type_tier_unique",
                violation_error_message=_("There is already a playbook for this type and tier."),
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return in_language(self.name, self.name_zh)

    @property
    def name_text(self) -> str:
        return in_language(self.name, self.name_zh)

    @property
    def measure_list(self) -> list[str]:
        text = in_language(self.notes, self.notes_zh)
        return [line.strip() for line in text.splitlines() if line.strip()]


class PlaybookItem(models.Model):
    """A cadence or recommended activity: who of ours (`our_role`) meets whom of theirs
    (`their_role`, blank: any key person), with which kind of activity, every `every_days`
    days (e.g. strategic accounts: the executive sponsor visits a decision maker every 90)."""

    playbook = models.ForeignKey(
        Playbook, verbose_name=_("playbook"), on_delete=models.CASCADE, related_name="items"
    )
    kind = models.CharField(_("activity kind"), max_length=20, choices=ActivityKind.choices)
    our_role = models.CharField(
        _("our role"), max_length=30, choices=AccountTeamRole.choices,
        default=AccountTeamRole.KEY_ACCOUNT_MANAGER,
    )  # fmt: skip
    their_role = models.CharField(
        _("their role"), max_length=30, choices=BuyingRole.choices, blank=True
    )
    every_days = models.PositiveIntegerField(_("every (days)"), validators=[MinValueValidator(1)])
    title = models.CharField(_("title (English)"), max_length=200)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    how = models.TextField(_("how (English)"), blank=True)
    how_zh = models.TextField(_("how (Chinese)"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("playbook item")
        verbose_name_plural = _("playbook items")
        ordering = ["playbook", "position", "id"]

    def __str__(self) -> str:
        return in_language(self.title, self.title_zh)

    @property
    def title_text(self) -> str:
        return in_language(self.title, self.title_zh)

    @property
    def how_text(self) -> str:
        return in_language(self.how, self.how_zh)


class ReferenceCustomer(models.Model):
    """An account that agreed to be a reference (参观考察: visits to a successful customer):
    its consent, availability, and a yearly cap so a reference is not over-used."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="reference",
    )  # fmt: skip
    consent = models.BooleanField(_("consent given"), default=False)
    consent_on = models.DateField(_("consent given on"), null=True, blank=True)
    consent_by = models.ForeignKey(
        "accounts.Contact", verbose_name=_("consent given by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    available = models.BooleanField(_("available for visits"), default=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    showcase = models.TextField(_("what visitors see"), blank=True)
    max_visits_per_year = models.PositiveIntegerField(
        _("visits a year at most"), null=True, blank=True, validators=[MinValueValidator(1)],
        help_text=_("Blank: the engagement settings' limit."),
    )  # fmt: skip
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reference customer")
        verbose_name_plural = _("reference customers")
        ordering = ["account__name", "id"]

    def __str__(self) -> str:
        return str(self.account)
