from .activities import Activity, ActivityAttachment, EngagementLog, Pain
from .coverage import AccountCoverage
from .events import BusinessEvent, EventInvitation, Gift, VipLevel, VipMember
from .programme import (
    EngagementSettings,
    Playbook,
    PlaybookItem,
    ReferenceCustomer,
    StyleGuidance,
)
from .reminders import CalendarFeed, Reminder

__all__ = [
    "AccountCoverage",
    "Activity",
    "ActivityAttachment",
    "BusinessEvent",
    "CalendarFeed",
    "EngagementLog",
    "EngagementSettings",
    "EventInvitation",
    "Gift",
    "Pain",
    "Playbook",
    "PlaybookItem",
    "ReferenceCustomer",
    "Reminder",
    "StyleGuidance",
    "VipLevel",
    "VipMember",
]
