from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import Level
from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet
from keycare.service.models import private_storage

from ..choices import ActivityKind, ActivityStatus, PainStatus, VisitDestination

MONEY = {"max_digits": 12, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal("0"))]


class Activity(TimeStampedModel):
    """One interaction with the people at an account (客户互动): planned, then done or
    cancelled, with its objective, outcome and next step. A site or reference visit
    (参观考察) is an activity of that kind with its destination, host and itinerary; an
    introduction names the person it is meant to reach (`target_contact`)."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="activities",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=ActivityStatus.choices,
        default=ActivityStatus.PLANNED, db_index=True,
    )  # fmt: skip
    planned_at = models.DateTimeField(_("planned for"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=60)
    done_at = models.DateTimeField(_("done on"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    objective = models.TextField(_("objective"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    next_step_done_at = models.DateTimeField(_("next step done at"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), default=0, validators=NOT_NEGATIVE, **MONEY)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="owned_activities",
    )  # fmt: skip
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("their people"), related_name="activities", blank=True
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("our people"),
        related_name="engagement_activities", blank=True,
    )  # fmt: skip
    target_contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("person to reach"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="introductions_planned",
        help_text=_("For an introduction: the decision maker the coach is to introduce us to."),
    )  # fmt: skip
    destination = models.CharField(
        _("visit destination"), max_length=10, choices=VisitDestination.choices, blank=True
    )
    reference_account = models.ForeignKey(
        "accounts.Account", verbose_name=_("reference customer visited"), null=True,
        blank=True, on_delete=models.PROTECT, related_name="reference_visits",
    )  # fmt: skip
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("host"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="hosted_visits",
    )  # fmt: skip
    itinerary = models.TextField(_("itinerary"), blank=True)
    playbook_item = models.ForeignKey(
        "PlaybookItem", verbose_name=_("playbook item"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="activities",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-planned_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="activity_account_status"),
            models.Index(fields=["owner", "status", "planned_at"], name="activity_owner_planned"),
            models.Index(fields=["status", "next_step_due"], name="activity_next_step"),
            models.Index(fields=["account", "kind", "done_at"], name="activity_account_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="planned") | models.Q(planned_at__isnull=False),
                name="activity_planned_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(done_at__isnull=False),
                name="activity_done_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def when(self):
        """The date that places it: done on, else planned for."""
        return self.done_at or self.planned_at

    @property
    def next_step_overdue(self) -> bool:
        return bool(
            self.next_step
            and self.next_step_due
            and self.next_step_done_at is None
            and self.status != ActivityStatus.CANCELLED
            and self.next_step_due < timezone.localdate()
        )


class ActivityAttachment(models.Model):
    """A file on an activity (minutes, photos, an itinerary), stored outside the web root and
    served only through a view that checks who may see the activity."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="activities/%Y/%m/", storage=private_storage)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity attachment")
        verbose_name_plural = _("activity attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Pain(TimeStampedModel):
    """A need or pain found at an account (逃离痛苦,追求快乐): what hurts, who said it, its
    impact and the solution we propose, linked to the activities, tickets and concessions
    that concern it."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="pains",
    )  # fmt: skip
    title = models.CharField(_("what hurts"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    raised_by = models.ForeignKey(
        "accounts.Contact", verbose_name=_("who said it"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="pains_raised",
    )  # fmt: skip
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices, default=3)
    impact_value = models.DecimalField(
        _("impact a year (¥)"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    solution = models.TextField(_("our proposed solution"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PainStatus.choices, default=PainStatus.OPEN,
        db_index=True,
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="pains_owned",
    )  # fmt: skip
    raised_on = models.DateField(_("raised on"), default=timezone.localdate)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)
    activities = models.ManyToManyField(
        Activity, verbose_name=_("activities"), related_name="pains", blank=True
    )
    tickets = models.ManyToManyField(
        "service.Ticket", verbose_name=_("tickets"), related_name="pains", blank=True
    )
    concessions = models.ManyToManyField(
        "profitability.Concession", verbose_name=_("concessions"), related_name="pains",
        blank=True,
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("need or pain")
        verbose_name_plural = _("needs and pains")
        ordering = ["-raised_on", "-id"]
        indexes = [models.Index(fields=["account", "status"], name="pain_account_status")]

    def __str__(self) -> str:
        return self.title


class EngagementLog(models.Model):
    """Every state change of the engagement records (an activity planned, done or cancelled,
    a gift approved, an invitation answered, a playbook edited …), written in the same
    transaction: the timelines and the compliance review read it."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="engagement_log",
    )  # fmt: skip
    object_type = models.CharField(_("record"), max_length=30)
    object_id = models.PositiveBigIntegerField(_("record id"))
    action = models.CharField(_("action"), max_length=30)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("at"), default=timezone.now)
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("engagement log entry")
        verbose_name_plural = _("engagement log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="engagement_log_object"),
            models.Index(fields=["account", "-at"], name="engagement_log_account"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.object_id} {self.action}"
