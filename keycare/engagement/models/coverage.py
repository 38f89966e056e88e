from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccountCoverage(models.Model):
    """The materialised coverage figures of one key account (the coverage report and the
    executive overdue report read these, filter, sort and paginate in SQL): refreshed
    set-based every hour by the coverage tick, and for an account when its activities
    change (`coverage_ticks.coverage_refresh`). The account pages stay live."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="coverage_figures",
    )  # fmt: skip
    score = models.PositiveSmallIntegerField(_("coverage score"), default=0)
    window_days = models.PositiveIntegerField(_("window (days)"), default=90)
    engaged = models.PositiveIntegerField(_("people engaged"), default=0)
    decision_maker_known = models.BooleanField(_("decision maker known"), default=False)
    decision_makers_known = models.PositiveIntegerField(_("decision makers known"), default=0)
    decision_makers_met = models.PositiveIntegerField(_("decision makers met"), default=0)
    uncovered_count = models.PositiveIntegerField(_("decision makers not met"), default=0)
    uncovered_ids = models.JSONField(_("decision makers not met (contacts)"), default=list)
    single_threaded = models.BooleanField(_("single-threaded"), default=False)
    none_engaged = models.BooleanField(_("nobody engaged"), default=False)
    has_coach = models.BooleanField(_("has a coach"), default=False)
    roles_covered = models.PositiveSmallIntegerField(_("buying roles covered"), default=0)
    relationship_by_role = models.JSONField(_("relationship by role"), default=dict)
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True)
    #: the executive visit cadence (null: the account's playbook asks for none)
    executive_every_days = models.PositiveIntegerField(
        _("executive visit every (days)"), null=True, blank=True
    )
    executive_last_at = models.DateTimeField(_("last executive contact"), null=True, blank=True)
    executive_due_on = models.DateField(_("executive visit due on"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    class Meta:
        verbose_name = _("account coverage")
        verbose_name_plural = _("account coverage")
        indexes = [
            models.Index(fields=["score", "account"], name="eng_cov_score"),
            models.Index(fields=["single_threaded", "score"], name="eng_cov_single"),
            models.Index(fields=["none_engaged", "score"], name="eng_cov_none"),
            models.Index(fields=["decision_maker_known", "score"], name="eng_cov_dm"),
            models.Index(fields=["uncovered_count", "score"], name="eng_cov_uncovered"),
            models.Index(fields=["has_coach", "score"], name="eng_cov_coach"),
            models.Index(fields=["executive_due_on"], name="eng_cov_exec_due"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score}"
