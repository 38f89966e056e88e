from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.core.scoping import RestrictedQuerySet

from ..choices import ReminderKind


class Reminder(models.Model):
    """One reminder for one user (细节: a birthday, an overdue next step, an executive visit
    due, a key person not met, a key person's ticket …). `key` names what it is about, unique
    per user, so a tick that runs twice or a worker that restarts creates and sends nothing
    twice. The text is rendered from `kind` and `params` in the reader's language."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("for"), on_delete=models.CASCADE,
        related_name="reminders",
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=30, choices=ReminderKind.choices)
    key = models.CharField(_("key"), max_length=200)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+",
    )  # fmt: skip
    activity = models.ForeignKey(
        "Activity", verbose_name=_("activity"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="reminders",
    )  # fmt: skip
    params = models.JSONField(_("figures"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    delivered = models.JSONField(_("delivered through"), default=list, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    last_error = models.CharField(_("last delivery error"), max_length=255, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="reminder_user_key_unique")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="reminder_user_unread")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class CalendarFeed(models.Model):
    """A user's private iCalendar feed. Only a digest of the secret token is stored; the
    address is shown once, when the feed is created or reset."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="calendar_feed",
    )  # fmt: skip
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last read at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"
