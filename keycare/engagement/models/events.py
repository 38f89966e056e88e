from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountTier
from keycare.core.i18n import in_language
from keycare.core.models import TimeStampedModel
from keycare.core.scoping import RestrictedQuerySet

from ..choices import EventKind, EventStatus, GiftStatus, InvitationStatus
from .activities import MONEY, NOT_NEGATIVE


class VipLevel(models.Model):
    """A level of the VIP club (e.g. 钻石, 金卡, 银卡) with its benefits; an account's tier
    gives its members their level unless a member's level is set by hand."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name (English)"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60)
    rank = models.PositiveSmallIntegerField(
        _("rank"), unique=True, help_text=_("1 is the highest level.")
    )
    tier = models.CharField(
        _("for accounts of tier"), max_length=20, choices=AccountTier.choices, blank=True
    )
    benefits = models.TextField(_("benefits (English, one per line)"), blank=True)
    benefits_zh = models.TextField(_("benefits (Chinese, one per line)"), blank=True)
    lock_version = models.PositiveIntegerField(_("edit version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("VIP level")
        verbose_name_plural = _("VIP levels")
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["tier"], condition=~models.Q(tier=""), name="vip_level_tier_unique",
                violation_error_message=_("Another level is already given to this tier."),
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return in_language(self.name, self.name_zh)

    @property
    def name_text(self) -> str:
        return in_language(self.name, self.name_zh)

    @property
    def benefit_list(self) -> list[str]:
        text = in_language(self.benefits, self.benefits_zh)
        return [line.strip() for line in text.splitlines() if line.strip()]


class VipMember(TimeStampedModel):
    """A contact in the VIP club. Their level is the one of their account's tier, or
    `level_override` when set by hand."""

    contact = models.OneToOneField(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE,
        related_name="vip_membership",
    )  # fmt: skip
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="vip_members",
    )  # fmt: skip
    level_override = models.ForeignKey(
        VipLevel, verbose_name=_("level set by hand"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    override_reason = models.CharField(_("why set by hand"), max_length=200, blank=True)
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("VIP club member")
        verbose_name_plural = _("VIP club members")
        ordering = ["account__name", "contact__name", "id"]

    def __str__(self) -> str:
        return str(self.contact)


class BusinessEvent(TimeStampedModel):
    """A business activity (商务活动) for many accounts: a customer meeting, seminar, sports
    or social event, or a VIP club event (open to members of `vip_level` and above). Its cost
    is shared among the accounts of the people who came."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.PLANNED,
        db_index=True,
    )  # fmt: skip
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    budget = models.DecimalField(
        _("budget"), null=True, blank=True, validators=NOT_NEGATIVE, **MONEY
    )
    cost = models.DecimalField(_("actual cost"), default=0, validators=NOT_NEGATIVE, **MONEY)
    vip_level = models.ForeignKey(
        VipLevel, verbose_name=_("for VIP members of level"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="events",
        help_text=_("A member event: open to members of this level and above."),
    )  # fmt: skip
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organiser"), on_delete=models.PROTECT,
        related_name="organised_events",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("business event")
        verbose_name_plural = _("business events")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")),
                name="event_ends_after_start",
                violation_error_message=_("An event cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class EventInvitation(models.Model):
    """One person invited to an event, and what became of it: registered, declined, came or
    not. `account` is the account the invitation is for (the contact's main one unless
    chosen), which bears its share of the event's cost."""

    event = models.ForeignKey(
        BusinessEvent, verbose_name=_("event"), on_delete=models.CASCADE,
        related_name="invitations",
    )  # fmt: skip
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.PROTECT,
        related_name="invitations",
    )  # fmt: skip
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="invitations",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=12, choices=InvitationStatus.choices,
        default=InvitationStatus.INVITED,
    )  # fmt: skip
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["event", "account__name", "contact__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "contact"], name="invitation_event_contact_unique",
                violation_error_message=_("This person is already invited to this event."),
            )
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["contact", "status"], name="invitation_contact_status"),
            models.Index(fields=["account", "status"], name="invitation_account_status"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.event}"


class Gift(TimeStampedModel):
    """A gift to a person at a customer (商务活动), held to a yearly limit per person: within
    the limit it is approved as recorded; over it, it waits for an executive's approval. The
    register of all gifts is for compliance review."""

    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("recipient"), on_delete=models.PROTECT,
        related_name="gifts",
    )  # fmt: skip
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.PROTECT,
        related_name="gifts",
    )  # fmt: skip
    description = models.CharField(_("gift"), max_length=200)
    occasion = models.CharField(_("occasion"), max_length=200)
    value = models.DecimalField(_("value"), validators=NOT_NEGATIVE, **MONEY)
    given_on = models.DateField(_("given on"))
    status = models.CharField(
        _("status"), max_length=10, choices=GiftStatus.choices, default=GiftStatus.APPROVED,
        db_index=True,
    )  # fmt: skip
    event = models.ForeignKey(
        BusinessEvent, verbose_name=_("at event"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="gifts",
    )  # fmt: skip
    activity = models.ForeignKey(
        "Activity", verbose_name=_("activity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="gifts",
    )  # fmt: skip
    limit = models.DecimalField(_("yearly limit when recorded"), null=True, blank=True, **MONEY)
    year_total = models.DecimalField(
        _("this person's gifts in the year, with this one"), default=0, **MONEY
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
        related_name="gifts_recorded",
    )  # fmt: skip
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="gifts_decided",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=300, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gift")
        verbose_name_plural = _("gifts")
        ordering = ["-given_on", "-id"]
        indexes = [
            models.Index(fields=["contact", "given_on"], name="gift_contact_given"),
            models.Index(fields=["account", "given_on"], name="gift_account_given"),
        ]

    def __str__(self) -> str:
        return f"{self.description} → {self.contact}"
