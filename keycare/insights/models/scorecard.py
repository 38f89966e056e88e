"""The customer value scorecard (客户价值计分卡) and key account designation.

A scorecard is kept in versions: a draft is edited, publishing freezes it (its criteria can
no longer change) and retires the version before it, and a change is made in a new draft
copied from the published one. Scores are stored per version and period with the raw value
and the points of every criterion, so last year's ranking stays reproducible."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.core.i18n import in_language
from keycare.core.scoping import RestrictedQuerySet


class QualitativeCriterion(models.Model):
    """Something the key account manager judges and scores 1–10 per account (strategic
    fit, reference value, relationship stage, share of wallet, growth potential, …)."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    guidance = models.CharField(_("how to score (English)"), max_length=300, blank=True)
    guidance_zh = models.CharField(_("how to score (Chinese)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("qualitative criterion")
        verbose_name_plural = _("qualitative criteria")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return in_language(self.name, self.name_zh)

    @property
    def guidance_text(self) -> str:
        return in_language(self.guidance, self.guidance_zh)


class QualitativeScore(models.Model):
    """The current 1–10 score of one qualitative criterion for one account."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="qualitative_scores",
    )  # fmt: skip
    criterion = models.ForeignKey(
        QualitativeCriterion, verbose_name=_("criterion"), on_delete=models.CASCADE,
        related_name="scores",
    )  # fmt: skip
    score = models.PositiveSmallIntegerField(
        _("score (1–10)"), validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    scored_by = models.ForeignKey(
        "users.User", verbose_name=_("scored by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    scored_at = models.DateTimeField(_("scored at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("qualitative score")
        verbose_name_plural = _("qualitative scores")
        constraints = [
            models.UniqueConstraint(fields=["account", "criterion"], name="qualitative_score_once"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=10), name="qualitative_score_1_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.criterion_id}: {self.score}"


class Scorecard(models.Model):
    """One version of the value scorecard: its criteria, weights (summing to 100) and the
    grade bands. Exactly one version is active at a time."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        RETIRED = "retired", _("Retired")

    name = models.CharField(_("name"), max_length=100)
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    grade_a = models.DecimalField(
        _("grade A from score"), max_digits=5, decimal_places=2, default=70,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    grade_b = models.DecimalField(
        _("grade B from score"), max_digits=5, decimal_places=2, default=40,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    proposals = models.PositiveSmallIntegerField(
        _("key accounts proposed"), default=20,
        help_text=_("How many of the top-scoring accounts are proposed as key accounts."),
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )  # fmt: skip
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        "users.User", verbose_name=_("created by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    class Meta:
        verbose_name = _("value scorecard")
        verbose_name_plural = _("value scorecards")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["version"], name="scorecard_version_once"),
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="one_active_scorecard"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def clean(self) -> None:
        if self.grade_a is not None and self.grade_b is not None and self.grade_b > self.grade_a:
            raise ValidationError(
                {
                    "grade_b": _(
                        "Grade B must start at or below grade A (e.g. A from 70, B from 40)."
                    )
                }
            )


class ScorecardCriterion(models.Model):
    """One criterion of a scorecard version: a metric or a qualitative criterion, its weight,
    and how its values become 0–100 points."""

    class Normalisation(models.TextChoices):
        MINMAX = "minmax", _("Min–max over the accounts")
        PERCENTILE = "percentile", _("Percentile rank")
        THRESHOLDS = "thresholds", _("Fixed thresholds")
        RANGE = "range", _("Fixed range")

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="criteria"
    )
    metric = models.CharField(_("metric"), max_length=40, blank=True)
    qualitative = models.ForeignKey(
        QualitativeCriterion, verbose_name=_("qualitative criterion"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    normalisation = models.CharField(
        _("normalisation"), max_length=12, choices=Normalisation.choices,
        default=Normalisation.MINMAX,
    )  # fmt: skip
    higher_is_better = models.BooleanField(_("higher is better"), default=True)
    # thresholds: [[bound, points], ...] ascending by bound; range: [low, high]
    parameters = models.JSONField(_("parameters"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scorecard criterion")
        verbose_name_plural = _("scorecard criteria")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(metric="") & models.Q(qualitative__isnull=False))
                | (~models.Q(metric="") & models.Q(qualitative__isnull=True)),
                name="criterion_metric_or_qualitative",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scorecard_id}: {self.metric or self.qualitative_id} × {self.weight}"

    @property
    def key(self) -> str:
        return self.metric or f"q:{self.qualitative.key}"


class AccountScore(models.Model):
    """One account's score on one scorecard version for one period — of its own figures, or
    (scope "group") of a group's figures with its branches, ranked among the groups — with
    the explanation:
    `breakdown` holds, per criterion, its key, label, weight, raw value, normalised points
    (0–100) and weighted points."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="scores"
    )
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="value_scores",
    )  # fmt: skip
    scope = models.CharField(
        _("scope"), max_length=5, default="own",
        choices=[("own", _("This account only")), ("group", _("With its branches"))],
    )  # fmt: skip
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=1)
    rank = models.PositiveIntegerField(_("rank"))
    breakdown = models.JSONField(_("breakdown"), default=list)
    computed_at = models.DateTimeField(_("computed at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("value score")
        verbose_name_plural = _("value scores")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "account", "scope", "period_start", "period_end"],
                name="account_score_once_per_scope",
            )
        ]
        indexes = [
            models.Index(fields=["scorecard", "scope", "period_start", "period_end", "rank"],
                         name="score_scope_period_rank"),
            models.Index(fields=["scorecard", "scope", "period_start", "period_end", "computed_at"],
                         name="score_period_computed"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} ({self.grade})"


class KeyAccount(models.Model):
    """An account confirmed as a key account (大客户), by whom and why."""

    account = models.OneToOneField(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="key_account",
    )  # fmt: skip
    reason = models.CharField(_("reason"), max_length=300)
    by_hand = models.BooleanField(_("added by hand"), default=False)
    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    confirmed_by = models.ForeignKey(
        "users.User", verbose_name=_("confirmed by"), null=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    confirmed_at = models.DateTimeField(_("confirmed at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key account")
        verbose_name_plural = _("key accounts")

    def __str__(self) -> str:
        return str(self.account_id)


class KeyAccountChange(models.Model):
    """The record of every designation and removal."""

    class Action(models.TextChoices):
        DESIGNATED = "designated", _("Designated a key account")
        REMOVED = "removed", _("No longer a key account")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="key_account_changes",
    )  # fmt: skip
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    by_hand = models.BooleanField(_("by hand"), default=False)
    reason = models.CharField(_("reason"), max_length=300)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    actor = models.ForeignKey(
        "users.User", verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("key account change")
        verbose_name_plural = _("key account changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.action}"
