from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ActivityKind(models.TextChoices):
    """One kind per practice of reaching the key persons (the source document's seven)."""

    INTRODUCTION = "introduction", _("Introduction through a coach")
    CARE = "care", _("Care (greeting, personal detail)")
    MEETING = "meeting", _("Meeting")
    DISCOVERY = "discovery", _("Needs and pains discovery")
    EXECUTIVE_VISIT = "executive_visit", _("Executive visit")
    SITE_VISIT = "site_visit", _("Site or reference visit")
    BUSINESS_ACTIVITY = "business_activity", _("Business activity")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    WECHAT = "wechat", _("WeChat message")


class ActivityStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("activity status", "Planned")
    DONE = "done", pgettext_lazy("activity status", "Done")
    CANCELLED = "cancelled", pgettext_lazy("activity status", "Cancelled")


class VisitDestination(models.TextChoices):
    OUR_SITE = "our_site", _("Our plant or office")
    REFERENCE = "reference", _("A reference customer")


class EventKind(models.TextChoices):
    CUSTOMER_MEETING = "customer_meeting", _("Customer meeting")
    SEMINAR = "seminar", _("Seminar or training")
    SPORTS = "sports", _("Sports event")
    SOCIAL = "social", _("Social event")
    VIP_CLUB = "vip_club", _("VIP club event")
    OTHER = "other", pgettext_lazy("event kind", "Other")


class EventStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("event status", "Planned")
    HELD = "held", pgettext_lazy("event status", "Held")
    CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")


class InvitationStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    REGISTERED = "registered", _("Registered")
    DECLINED = "declined", _("Declined")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class GiftStatus(models.TextChoices):
    APPROVED = "approved", pgettext_lazy("gift status", "Approved")
    PENDING = "pending", pgettext_lazy("gift status", "Awaiting approval")
    REJECTED = "rejected", pgettext_lazy("gift status", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("gift status", "Cancelled")


class PainStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("pain status", "Open")
    PROPOSED = "proposed", _("Solution proposed")
    SOLVED = "solved", pgettext_lazy("pain status", "Solved")
    DROPPED = "dropped", pgettext_lazy("pain status", "Dropped")


class ReminderKind(models.TextChoices):
    BIRTHDAY = "birthday", _("Birthday")
    IMPORTANT_DATE = "important_date", _("Important date")
    NEXT_STEP_OVERDUE = "next_step_overdue", _("Next step overdue")
    EXECUTIVE_VISIT_DUE = "executive_visit_due", _("Executive visit due")
    CADENCE_DUE = "cadence_due", _("Playbook cadence due")
    KEY_PERSON_NOT_MET = "key_person_not_met", _("Key person not met")
    DORMANT_RELATIONSHIP = "dormant_relationship", _("Dormant relationship")
    KEY_PERSON_TICKET = "key_person_ticket", _("Key person in a service ticket")
    GIFT_APPROVAL = "gift_approval", _("Gift awaiting approval")
