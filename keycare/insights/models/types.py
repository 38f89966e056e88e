"""Account types (大客户分类: intrinsic, extrinsic and strategic value) and the service
strategy of each type."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountType
from keycare.core.i18n import in_language
from keycare.core.scoping import RestrictedQuerySet


class AccountTypeAssessment(models.Model):
    """One assessment of an account's type: the questionnaire answers, the signals read
    from the data, the type they suggest and — once a person confirms — the type chosen,
    by whom and why. Assessments are kept; the latest confirmed one is the account's type."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="type_assessments",
    )  # fmt: skip
    answers = models.JSONField(_("questionnaire answers"), default=dict)
    signals = models.JSONField(_("signals from the data"), default=dict)
    points = models.JSONField(_("points per type"), default=dict)
    suggested_type = models.CharField(
        _("suggested type"), max_length=20, choices=AccountType.choices
    )
    confirmed_type = models.CharField(
        _("confirmed type"), max_length=20, choices=AccountType.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    assessed_by = models.ForeignKey(
        "users.User", verbose_name=_("assessed by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    assessed_at = models.DateTimeField(_("assessed at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        "users.User", verbose_name=_("confirmed by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("account type assessment")
        verbose_name_plural = _("account type assessments")
        ordering = ["-assessed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.confirmed_type or self.suggested_type}"


class ServiceStrategy(models.Model):
    """How accounts of one type are served (e.g. intrinsic: efficient self-service and
    convenient ordering), in both languages; one practice per line."""

    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, unique=True
    )
    summary = models.CharField(_("summary (English)"), max_length=200)
    summary_zh = models.CharField(_("summary (Chinese)"), max_length=200)
    practices = models.TextField(_("practices (English, one per line)"))
    practices_zh = models.TextField(_("practices (Chinese, one per line)"))
    updated_by = models.ForeignKey(
        "users.User", verbose_name=_("updated by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    class Meta:
        verbose_name = _("service strategy")
        verbose_name_plural = _("service strategies")
        ordering = ["account_type"]

    def __str__(self) -> str:
        return self.account_type

    @property
    def summary_text(self) -> str:
        return in_language(self.summary, self.summary_zh)

    @property
    def practice_list(self) -> list[str]:
        text = in_language(self.practices, self.practices_zh)
        return [line.strip() for line in text.splitlines() if line.strip()]
