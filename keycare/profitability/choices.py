from django.db import models
from django.utils.translation import gettext_lazy as _


class CostDriver(models.TextChoices):
    """The activities whose cost administrators maintain as a rate (activity-based costing).
    Travel and parts are not rates: their actual cost is recorded on each visit."""

    ENGINEER_HOUR = "engineer_hour", _("Engineer hour")
    FIELD_VISIT = "field_visit", _("Field visit (dispatch and vehicle, per visit)")
    TICKET = "ticket", _("Ticket handling (service desk, per ticket)")


class PnlDriver(models.TextChoices):
    """The cost-to-serve breakdown of an account's P&L."""

    SERVICE_LABOUR = "service_labour", _("Service labour and ticket handling")
    PARTS = "parts", _("Parts not billed")
    TRAVEL = "travel", _("Travel")
    FIELD_VISITS = "field_visits", _("Field visits")
    WARRANTY = "warranty", _("Warranty work")
    ENGAGEMENT = "engagement", _("Engagement (events, gifts, site visits)")
    CONCESSIONS = "concessions", _("Concessions granted")


class ConcessionKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount on a quote or order")
    FREE_SERVICE = "free_service", _("Free service")
    GOODWILL_PARTS = "goodwill_parts", _("Goodwill parts")
    EXTENDED_WARRANTY = "extended_warranty", _("Extended warranty")
    SLA_PENALTY_WAIVER = "sla_penalty_waiver", _("SLA penalty waiver")
    GIFT = "gift", _("Gift")


class ConcessionStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    GRANTED = "granted", _("Granted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApprovalLevel(models.TextChoices):
    """The approval chain's levels, lowest first; a higher level may decide a lower step."""

    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key account manager")
    SERVICE_MANAGER = "service_manager", _("Service manager")
    EXECUTIVE = "executive", _("Executive")


LEVEL_ORDER = [
    ApprovalLevel.KEY_ACCOUNT_MANAGER,
    ApprovalLevel.SERVICE_MANAGER,
    ApprovalLevel.EXECUTIVE,
]


class StepStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SKIPPED = "skipped", _("Not needed")


class ConcessionEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    GRANTED = "granted", _("Granted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProfitAlertKind(models.TextChoices):
    MARGIN_BELOW_FLOOR = "margin_below_floor", _("Margin below the policy floor")
    CONCESSIONS_OVER_POLICY = "concessions_over_policy", _("Concessions over the policy")
