"""The engagement ticks (registered with keycare.core.ticks): the reminders."""
