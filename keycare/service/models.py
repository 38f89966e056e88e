import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from keycare.core.scoping import RestrictedQuerySet

from .calculations import WorkingCalendar, parse_intervals
from .choices import (
    OPEN_STATUSES,
    CalendarDayKind,
    Channel,
    Coverage,
    Priority,
    RootCause,
    SlaState,
    TicketEventKind,
    TicketStatus,
    TicketType,
)


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Attachments live under KEYCARE_PRIVATE_MEDIA_ROOT, outside the static and media roots
    that a web server might serve; only the download view hands them out. The location is
    read from the settings each time, so tests can point it elsewhere."""

    @property
    def base_location(self):
        return str(settings.KEYCARE_PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        import os

        return os.path.abspath(self.base_location)


private_storage = PrivateStorage()

STANDARD_HOURS = {str(d): [["08:30", "12:00"], ["13:30", "17:30"]] for d in range(5)}


def _validate_hours(value) -> None:
    try:
        for weekday, intervals in (value or {}).items():
            if int(weekday) not in range(7):
                raise ValueError
            parse_intervals(intervals)
        WorkingCalendar(
            tz=ZoneInfo("UTC"), weekly={int(k): parse_intervals(v) for k, v in value.items()}
        )
    except Exception:
        raise ValidationError(
            _(
                'Working hours are {"0": [["08:30", "12:00"], ["13:30", "17:30"]], …} with weekdays 0 (Monday) to 6 and intervals in order.'
            )
        ) from None


class BusinessCalendar(models.Model):
    """Working hours, holidays and extra working days (工作日历)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    weekly_hours = models.JSONField(_("working hours"), default=dict, validators=[_validate_hours])
    is_default = models.BooleanField(_("default calendar"), default=False)
    covered_from = models.PositiveSmallIntegerField(
        _("holidays known from year"), null=True, blank=True
    )
    covered_to = models.PositiveSmallIntegerField(
        _("holidays known to year"), null=True, blank=True
    )

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_calendar",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": _("Unknown time zone.")})
        if self.covered_from and self.covered_to and self.covered_to < self.covered_from:
            raise ValidationError({"covered_to": _("The last year comes before the first.")})

    def working_calendar(self, days=None) -> WorkingCalendar:
        """The pure calendar for the SLA arithmetic. `days` may be passed pre-loaded."""
        days = list(self.days.all()) if days is None else days
        weekly = {int(k): parse_intervals(v) for k, v in (self.weekly_hours or {}).items()}
        first_weekday = next(iter(sorted(weekly.items())), (0, ()))[1]
        holidays = frozenset(d.date for d in days if d.kind == CalendarDayKind.HOLIDAY)
        workdays = {
            d.date: parse_intervals(d.intervals) if d.intervals else first_weekday
            for d in days if d.kind == CalendarDayKind.WORKDAY
        }  # fmt: skip
        covered = None
        if self.covered_from and self.covered_to:
            covered = frozenset(range(self.covered_from, self.covered_to + 1))
        return WorkingCalendar(
            tz=ZoneInfo(self.time_zone), weekly=weekly, holidays=holidays, workdays=workdays,
            covered_years=covered,
        )  # fmt: skip


class CalendarDay(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField(_("name"), max_length=60, blank=True)
    intervals = models.JSONField(_("working hours"), default=list, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class AccountCalendar(models.Model):
    """An account served on its own hours (a customer plant's calendar)."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="service_calendar"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("account calendar")
        verbose_name_plural = _("account calendars")

    def __str__(self) -> str:
        return f"{self.account} · {self.calendar}"


class SlaPolicy(models.Model):
    """Targets per priority, chosen by the account's tier and type; the floor policy covers
    every account no other policy matches (抓大放小 is not allowed)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    tier = models.CharField(_("tier"), max_length=20, blank=True, help_text=_("Empty: any tier."))
    account_type = models.CharField(
        _("account type"), max_length=20, blank=True, help_text=_("Empty: any type.")
    )
    is_floor = models.BooleanField(_("floor policy"), default=False)
    calendar = models.ForeignKey(
        BusinessCalendar, verbose_name=_("calendar"), null=True, blank=True, on_delete=models.PROTECT,
        help_text=_("Empty: the account's own calendar, or the default one."),
    )  # fmt: skip
    at_risk_ratio = models.DecimalField(
        _("at risk from"), max_digits=3, decimal_places=2, default=0.8
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["is_floor", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_floor"], condition=models.Q(is_floor=True), name="one_floor_policy"
            )
        ]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    priority = models.CharField(_("priority"), max_length=2, choices=Priority.choices)
    first_response_minutes = models.PositiveIntegerField(_("first response (working minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (working minutes)"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["priority"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "priority"], name="sla_target_unique")
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.priority}"

    def clean(self) -> None:
        if self.resolution_minutes < self.first_response_minutes:
            raise ValidationError(
                {"resolution_minutes": _("Resolution cannot come before the first response.")}
            )

    @property
    def first_response(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.first_response_minutes)

    @property
    def resolution(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.resolution_minutes)


class Ticket(models.Model):
    """A service ticket / work order (服务工单)."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )  # fmt: skip
    equipment = models.ForeignKey(
        "accounts.Equipment", verbose_name=_("equipment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )  # fmt: skip
    ticket_type = models.CharField(
        _("type"), max_length=20, choices=TicketType.choices, default=TicketType.REPAIR
    )
    priority = models.CharField(
        _("priority"), max_length=2, choices=Priority.choices, default=Priority.P3
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=TicketStatus.choices,
        default=TicketStatus.NEW,
        db_index=True,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )  # fmt: skip
    team = models.ForeignKey(
        "ServiceTeam", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="tickets",
    )  # fmt: skip
    coverage = models.CharField(
        _("coverage"), max_length=10, choices=Coverage.choices, default=Coverage.UNKNOWN
    )
    contract = models.ForeignKey(
        "ServiceContract",
        verbose_name=_("service contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    resolution = models.TextField(_("resolution"), blank=True)
    root_cause = models.CharField(
        _("root cause"), max_length=20, choices=RootCause.choices, blank=True
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), null=True, blank=True, on_delete=models.SET_NULL
    )
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(
        _("resolution due"), null=True, blank=True, db_index=True
    )
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    paused_since = models.DateTimeField(_("waiting on customer since"), null=True, blank=True)
    response_sla = models.CharField(
        _("first response SLA"), max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK
    )
    resolution_sla = models.CharField(
        _("resolution SLA"), max_length=10, choices=SlaState.choices, default=SlaState.ON_TRACK
    )
    sla_warning = models.CharField(_("SLA warning"), max_length=255, blank=True)
    labour_cost = models.DecimalField(_("labour cost"), max_digits=12, decimal_places=2, default=0)
    parts_cost = models.DecimalField(_("parts cost"), max_digits=12, decimal_places=2, default=0)
    travel_cost = models.DecimalField(_("travel cost"), max_digits=12, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # fmt: skip
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["account", "status"], name="ticket_account_status"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            # the open queue by SLA due time: an ordered walk over the open tickets only,
            # instead of skipping the years of closed ones that are due earlier
            models.Index(
                fields=["resolution_due_at", "id"],
                name="ticket_open_due",
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def sla_status(self) -> str:
        """The worse of the two targets, for lists and the API."""
        order = [
            SlaState.BREACHED,
            SlaState.AT_RISK,
            SlaState.PAUSED,
            SlaState.ON_TRACK,
            SlaState.MET,
        ]
        states = [self.response_sla, self.resolution_sla]
        return next(s for s in order if s in states)

    @property
    def cost_to_serve(self) -> Decimal:
        return self.labour_cost + self.parts_cost + self.travel_cost

    @property
    def sla_status_display(self) -> str:
        return SlaState(self.sla_status).label


class TicketPause(models.Model):
    """A period in which the ticket waited on the customer: the SLA clock does not run."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.started_at:%Y-%m-%d %H:%M}"


class TicketComment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("message"))
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} #{self.pk}"


class TicketEvent(models.Model):
    """The timeline: one row per change, written in the same transaction as the change."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=TicketEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticket_event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class ServiceTeam(models.Model):
    """A service team (服务团队): its engineers, and the provinces it covers (region match in
    the assignment rules)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("team leader"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="led_service_teams",
    )  # fmt: skip
    provinces = models.JSONField(
        _("provinces covered"), default=list, blank=True,
        help_text=_("Province names as on the accounts, e.g. [\"江苏省\", \"上海市\"]."),
    )  # fmt: skip
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ServiceTeamMember", related_name="service_teams",
        verbose_name=_("engineers"),
    )  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service team")
        verbose_name_plural = _("service teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.provinces, list) or not all(
            isinstance(p, str) and p.strip() for p in self.provinces
        ):
            raise ValidationError({"provinces": _("Provinces are a list of names.")})


class ServiceTeamMember(models.Model):
    """An engineer in a team, with their skills: product categories or ticket types they are
    qualified for (skill match in the assignment rules)."""

    team = models.ForeignKey(ServiceTeam, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_team_memberships",
        verbose_name=_("engineer"),
    )  # fmt: skip
    skills = models.JSONField(
        _("skills"), default=list, blank=True,
        help_text=_("Product categories or ticket types, e.g. [\"compressor\", \"installation\"]."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="service_team_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.user_id}"

    def clean(self) -> None:
        if not isinstance(self.skills, list) or not all(
            isinstance(p, str) and p.strip() for p in self.skills
        ):
            raise ValidationError({"skills": _("Skills are a list of names.")})


class TicketAttachment(models.Model):
    """A file on a ticket (or on one of its replies), stored outside the web root and
    served only through a view that checks who may see the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        TicketComment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/", storage=private_storage)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, editable=False)
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class NpsSurvey(models.Model):
    """An NPS survey (净推荐值) sent to one contact of an account: a one-time, expiring link
    asking 0–10 "how likely are you to recommend us", with a comment."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="nps_surveys",
    )  # fmt: skip
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="nps_surveys",
    )  # fmt: skip
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    expires_at = models.DateTimeField(_("expires at"))
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, choices=[(i, str(i)) for i in range(11)]
    )
    comment = models.TextField(_("comment"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("sent by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("NPS survey")
        verbose_name_plural = _("NPS surveys")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=10),
                name="nps_score_0_to_10",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score if self.score is not None else '—'}"


class TicketSequence(models.Model):
    """Per-year counter for human-readable numbers (SR-2026-000123), incremented with F()."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class TicketRating(models.Model):
    """CSAT: a one-time link sent to the contact when the ticket is resolved (no login)."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, choices=[(i, str(i)) for i in range(1, 6)]
    )
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="rating_score_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score or '—'}"


class Webhook(models.Model):
    """Where SLA alerts go besides email: a generic JSON endpoint, or a WeCom (企业微信) or
    DingTalk (钉钉) group robot."""

    class Format(models.TextChoices):
        GENERIC = "generic", _("Generic JSON")
        WECOM = "wecom", _("WeCom robot")
        DINGTALK = "dingtalk", _("DingTalk robot")

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    format = models.CharField(
        _("format"), max_length=10, choices=Format.choices, default=Format.GENERIC
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class SlaAlert(models.Model):
    """One escalation notice, recorded before it is sent: the unique key makes every notice
    go out once, even when the sweep runs again or a worker restarts."""

    class Level(models.IntegerChoices):
        AT_RISK = 1, _("At risk")
        BREACHED = 2, _("Breached")
        ESCALATED = 3, _("Still breached: escalated")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="alerts")
    target = models.CharField(_("target"), max_length=12)  # "response" or "resolution"
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    recipients = models.JSONField(_("recipients"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("SLA alert")
        verbose_name_plural = _("SLA alerts")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "level"], name="sla_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} L{self.level}"


class StockLocation(models.Model):
    """A warehouse or an engineer's van, holding spare parts."""

    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        VAN = "van", _("Engineer's van")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.WAREHOUSE)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("engineer"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="vans",
    )  # fmt: skip

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class StockLevel(models.Model):
    location = models.ForeignKey(StockLocation, on_delete=models.CASCADE, related_name="levels")
    product = models.ForeignKey(
        "accounts.Product", verbose_name=_("part"), on_delete=models.PROTECT
    )
    quantity = models.DecimalField(_("in stock"), max_digits=12, decimal_places=3, default=0)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        constraints = [
            models.UniqueConstraint(fields=["location", "product"], name="stock_level_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.location} · {self.product_id}: {self.quantity}"


class FieldVisit(models.Model):
    """An on-site visit (上门服务) for a ticket: who went, when, what was done and used."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ON_SITE = "on_site", _("On site")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="visits"
    )
    planned_start = models.DateTimeField(_("planned for"))
    engineers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("engineers"), related_name="visits"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    labour_hours = models.DecimalField(_("labour hours"), max_digits=7, decimal_places=2, default=0)
    labour_rate = models.DecimalField(_("hourly rate"), max_digits=10, decimal_places=2, default=0)
    travel_cost = models.DecimalField(_("travel cost"), max_digits=12, decimal_places=2, default=0)
    parts_cost = models.DecimalField(_("parts cost"), max_digits=12, decimal_places=2, default=0)
    signed_off_by = models.CharField(_("signed off by (customer)"), max_length=100, blank=True)
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("field visit")
        verbose_name_plural = _("field visits")
        ordering = ["planned_start", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.planned_start:%Y-%m-%d}"

    @property
    def labour_cost(self) -> Decimal:
        return (Decimal(self.labour_hours) * Decimal(self.labour_rate)).quantize(Decimal("0.01"))

    @property
    def total_cost(self):
        return self.labour_cost + self.travel_cost + self.parts_cost


class VisitPart(models.Model):
    visit = models.ForeignKey(FieldVisit, on_delete=models.CASCADE, related_name="parts")
    product = models.ForeignKey(
        "accounts.Product", verbose_name=_("part"), on_delete=models.PROTECT
    )
    location = models.ForeignKey(
        StockLocation, verbose_name=_("taken from"), on_delete=models.PROTECT
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"


class ServiceContract(models.Model):
    """A service contract (服务合同): which equipment it covers, for how long, with which SLA,
    and how many visits or hours it includes."""

    number = models.CharField(_("contract number"), max_length=40, unique=True)
    account = models.ForeignKey(
        "accounts.Account",
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    equipment = models.ManyToManyField(
        "accounts.Equipment",
        verbose_name=_("covered equipment"),
        blank=True,
        related_name="contracts",
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    sla_policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy (overrides the tier's)"), null=True, blank=True, on_delete=models.PROTECT
    )  # fmt: skip
    included_visits = models.PositiveIntegerField(
        _("included visits"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    included_hours = models.DecimalField(
        _("included hours"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    renewal_reminder_days = models.PositiveSmallIntegerField(
        _("remind days before the end"), default=60
    )
    reminded_at = models.DateTimeField(_("renewal reminder sent"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-ends_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="contract_period_valid"
            )
        ]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The contract cannot end before it starts.")})

    def is_active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on


class MaintenancePlan(models.Model):
    """Preventive maintenance: every `interval_months`, a maintenance ticket is opened
    `lead_days` before the due date."""

    equipment = models.ForeignKey(
        "accounts.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.CASCADE,
        related_name="maintenance_plans",
    )
    contract = models.ForeignKey(
        ServiceContract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), default=3)
    next_due = models.DateField(_("next due"))
    lead_days = models.PositiveSmallIntegerField(_("open the ticket days ahead"), default=14)
    last_ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("last ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        ordering = ["next_due"]

    def __str__(self) -> str:
        return f"{self.equipment_id} / {self.interval_months}m"

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone as tz

        open_ticket = self.last_ticket_id and self.last_ticket.status not in ("resolved", "closed")
        return bool(
            open_ticket
        ) and self.last_ticket.opened_at.date() < tz.localdate() - dt.timedelta(days=self.lead_days)


class InboundMessage(models.Model):
    """An email received (mail-in), kept by Message-ID so a redelivered mail is not applied
    twice."""

    message_id = models.CharField(_("message ID"), max_length=255, unique=True)
    sender = models.EmailField(_("sender"))
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, related_name="inbound_messages"
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return self.message_id
