"""The FilterSet of the notification list (a user's own reminders), shared by the page and
the API: unread or read (blank: all), and the kinds."""

import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from keycare.core.filtering import ChoicesFilter

from .choices import ReminderKind
from .models import Reminder

READ_STATES = (
    ("unread", pgettext_lazy("reminders", "Unread")),
    ("read", pgettext_lazy("reminders", "Read")),
)


class ReminderFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Show"), choices=READ_STATES, method="read_state",
        empty_label=pgettext_lazy("reminders", "All"),
    )  # fmt: skip
    kind = ChoicesFilter(label=_("Kind"), choices=ReminderKind.choices)

    class Meta:
        model = Reminder
        fields = []

    def read_state(self, queryset, name, value):
        if value == "unread":
            return queryset.filter(read_at__isnull=True)
        if value == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset
