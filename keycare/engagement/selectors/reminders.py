"""Reads of the notification list: a user's own reminders (unread first), the unread count
for the top bar, and the text of each in the reader's language. A personal date (birthday,
important date) is shown only while its user may still see that person's personal data
(`reminders.visible_reminders`): after the owner or the team changed, it is gone
everywhere — the list, the count, the API and My week."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from keycare.accounts.models import Contact, ImportantDate
from keycare.accounts.scopes import personal_data_q
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.users.choices import STAFF_ROLES

from ..choices import ReminderKind
from ..filters_reminders import ReminderFilterSet
from ..models import Reminder, StyleGuidance
from ..reminders import PERSONAL_KINDS, reminder_text, visible_reminders


def reminders_may_view(actor: Any) -> bool:
    """Reminders are for the company's staff (a portal user has none)."""
    return bool(getattr(actor, "is_authenticated", False)) and actor.has_role(*STAFF_ROLES)


def reminder_list(*, actor: Any, filters: Mapping[str, Any] | None = None) -> QuerySet[Reminder]:
    """The actor's own reminders, unread first, newest first, with what their text needs."""
    qs = (
        visible_reminders(restrict(Reminder.objects.all(), actor, "view"), actor)
        .select_related("account", "contact", "activity")
        .annotate(unread=ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField()))
        .order_by("-unread", "-created_at", "-pk")
    )
    return filter_queryset(ReminderFilterSet, filters, qs)


def unread_count(*, actor: Any) -> int:
    """How many of the actor's reminders are unread, those they may still see (one indexed
    count; none for others)."""
    if not reminders_may_view(actor):
        return 0
    return visible_reminders(Reminder.objects.filter(user=actor, read_at__isnull=True),
                             actor).count()  # fmt: skip


@dataclass
class ReminderEntry:
    reminder: Reminder
    title: str
    body: str
    link: str

    @property
    def is_personal(self) -> bool:
        return self.reminder.kind in PERSONAL_KINDS

    @property
    def unread(self) -> bool:
        return self.reminder.read_at is None


def reminder_entries(*, actor: Any, reminders: Iterable[Reminder]) -> list[ReminderEntry]:
    """Each reminder with its title and body in the active language. At most two queries
    for any number: the style guidance (when a ticket reminder is among them) and the
    occasions of important dates — read live, and only those the actor may still see
    (nothing of personal data is copied into a reminder)."""
    reminders = list(reminders)
    kinds = {r.kind for r in reminders}
    guidance = {}
    if ReminderKind.KEY_PERSON_TICKET in kinds:
        guidance = {g.style: g for g in StyleGuidance.objects.all()}
    labels: dict[int, str] = {}
    date_ids = {
        (r.params or {}).get("important_date")
        for r in reminders
        if r.kind == ReminderKind.IMPORTANT_DATE
    } - {None}
    verdict = personal_data_q(actor) if date_ids else False
    if verdict is not False:
        dates = ImportantDate.objects.filter(pk__in=[int(i) for i in date_ids])
        if verdict is not True:
            dates = dates.filter(contact__in=Contact.objects.filter(verdict).values("pk"))
        labels = dict(dates.values_list("pk", "label"))
    today = timezone.localdate()
    entries = []
    for reminder in reminders:
        label = labels.get((reminder.params or {}).get("important_date"))
        title, body = reminder_text(reminder, today=today, guidance=guidance, label=label)
        entries.append(ReminderEntry(reminder=reminder, title=title, body=body,
                                     link=reminder.link))  # fmt: skip
    return entries
