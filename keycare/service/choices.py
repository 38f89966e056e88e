from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING_ON_CUSTOMER = "waiting_on_customer", _("Waiting on customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    TicketStatus.NEW, TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CUSTOMER,
)  # fmt: skip


class TicketType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    MAINTENANCE = "maintenance", _("Maintenance")
    INSTALLATION = "installation", _("Installation")
    INSPECTION = "inspection", _("Inspection")
    COMPLAINT = "complaint", _("Complaint")
    CONSULTATION = "consultation", _("Consultation")
    RETURN = "return", _("Return")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 – critical")
    P2 = "P2", _("P2 – high")
    P3 = "P3", _("P3 – normal")
    P4 = "P4", _("P4 – low")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal")
    WECHAT = "wechat", _("WeChat")
    ON_SITE = "on_site", _("On site")
    API = "api", _("API")


class RootCause(models.TextChoices):
    WEAR = "wear", _("Wear and tear")
    OPERATION = "operation", _("Operating error")
    QUALITY = "quality", _("Product quality")
    INSTALLATION = "installation", _("Installation")
    ENVIRONMENT = "environment", _("Site environment")
    SOFTWARE = "software", _("Software or settings")
    OTHER = "other", _("Other")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    MET = "met", _("Met")
    PAUSED = "paused", _("Paused")


class CalendarDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    WORKDAY = "workday", _("Extra working day")


class Coverage(models.TextChoices):
    WARRANTY = "warranty", _("Under warranty")
    CONTRACT = "contract", _("Service contract")
    BILLABLE = "billable", _("Billable")
    UNKNOWN = "unknown", _("No equipment given")


class TicketEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    PRIORITY = "priority", _("Priority changed")
    COMMENT = "comment", _("Reply")
    NOTE = "note", _("Internal note")
    SLA_PAUSED = "sla_paused", _("SLA clock paused")
    SLA_RESUMED = "sla_resumed", _("SLA clock resumed")
    SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    EDITED = "edited", _("Edited")
    ATTACHMENT = "attachment", _("Attachment added")
    INTERNAL_ATTACHMENT = "internal_attachment", _("Internal attachment added")
