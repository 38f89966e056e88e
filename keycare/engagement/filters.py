"""The FilterSets of the engagement lists (activities, pains, reference customers): one per
list, applied inside the list selectors, so a filter means the same on the page and in the
API. Invalid input is an error (a 400), never silently ignored."""

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.models import Contact
from keycare.core.filtering import ChoicesFilter

from .choices import ActivityKind, ActivityStatus, PainStatus
from .models import Activity, Pain, ReferenceCustomer

#: An id: a whole number a database column holds (anything larger is a clear 400, never an
#: overflow inside the database driver).
ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}
#: The longest search text (anything longer is a typing error, not a search).
Q_MAX = 100


def _search_text(value: str) -> str:
    return (value or "").strip()[:Q_MAX]


def overdue_q(today=None) -> Q:
    """An open next step whose due date has passed (the activity not cancelled)."""
    today = today or timezone.localdate()
    return (
        ~Q(next_step="")
        & Q(next_step_due__lt=today, next_step_done_at__isnull=True)
        & ~Q(status=ActivityStatus.CANCELLED)
    )


def open_next_step_q() -> Q:
    """An open next step (the one rule, everywhere): written, not done yet, on an activity
    not cancelled — with or without a due date (the calendars bound the due date)."""
    return (
        ~Q(next_step="") & Q(next_step_done_at__isnull=True) & ~Q(status=ActivityStatus.CANCELLED)
    )


class ActivityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=Q_MAX)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    kind = ChoicesFilter(label=_("Kind"), choices=ActivityKind.choices)
    status = ChoicesFilter(label=_("Status"), choices=ActivityStatus.choices)
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id", **ID)
    participant = django_filters.NumberFilter(
        label=_("Our participant"), method="with_participant", **ID
    )
    contact = django_filters.NumberFilter(label=_("Their person"), method="with_contact", **ID)
    planned_from = django_filters.DateFilter(
        label=_("Planned from"), field_name="planned_at", lookup_expr="date__gte"
    )
    planned_to = django_filters.DateFilter(
        label=_("Planned to"), field_name="planned_at", lookup_expr="date__lte"
    )
    overdue = django_filters.BooleanFilter(label=_("Next step overdue"), method="next_overdue")
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("planned_at", "planned_at"), ("done_at", "done_at"),
                ("next_step_due", "next_step_due"), ("cost", "cost")),
    )  # fmt: skip

    class Meta:
        model = Activity
        fields = []

    def search(self, queryset, name, value):
        value = _search_text(value)
        if not value:
            return queryset
        people = Contact.objects.filter(activities=OuterRef("pk"), name__icontains=value)
        return queryset.filter(
            Q(subject__icontains=value)
            | Q(account__name__icontains=value)
            | Q(account__short_name__icontains=value)
            | Exists(people)
        )

    def with_participant(self, queryset, name, value):
        through = Activity.participants.through.objects.filter(
            activity=OuterRef("pk"), user_id=int(value)
        )
        return queryset.filter(Exists(through))

    def with_contact(self, queryset, name, value):
        through = Activity.contacts.through.objects.filter(
            activity=OuterRef("pk"), contact_id=int(value)
        )
        return queryset.filter(Exists(through))

    def next_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())


class PainFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=Q_MAX)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    status = ChoicesFilter(label=_("Status"), choices=PainStatus.choices)
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id", **ID)
    raised_by = django_filters.NumberFilter(label=_("Who said it"), field_name="raised_by_id", **ID)
    impact_min = django_filters.NumberFilter(
        label=_("Impact at least"), field_name="impact", lookup_expr="gte",
        min_value=1, max_value=5, decimal_places=0,
    )  # fmt: skip
    open = django_filters.BooleanFilter(label=_("Still open"), method="still_open")
    raised_from = django_filters.DateFilter(
        label=_("Raised from"), field_name="raised_on", lookup_expr="gte"
    )
    raised_to = django_filters.DateFilter(
        label=_("Raised to"), field_name="raised_on", lookup_expr="lte"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("raised_on", "raised_on"), ("impact", "impact"),
                ("impact_value", "impact_value")),
    )  # fmt: skip

    class Meta:
        model = Pain
        fields = []

    def search(self, queryset, name, value):
        value = _search_text(value)
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(account__name__icontains=value)
            | Q(raised_by__name__icontains=value)
        )

    def still_open(self, queryset, name, value):
        if value is None:
            return queryset
        opened = Q(status__in=(PainStatus.OPEN, PainStatus.PROPOSED))
        return queryset.filter(opened) if value else queryset.exclude(opened)


class ReferenceFilter(django_filters.FilterSet):
    """Filters of the reference customers; `over_used` reads the usage the list selector
    annotates (`visits_this_year`, `visit_limit`)."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=Q_MAX)
    consent = django_filters.BooleanFilter(label=_("Consent given"))
    available = django_filters.BooleanFilter(label=_("Available for visits"))
    over_used = django_filters.BooleanFilter(label=_("Over its yearly limit"), method="overused")

    class Meta:
        model = ReferenceCustomer
        fields = []

    def search(self, queryset, name, value):
        value = _search_text(value)
        if not value:
            return queryset
        return queryset.filter(
            Q(account__name__icontains=value)
            | Q(account__short_name__icontains=value)
            | Q(showcase__icontains=value)
        )

    def overused(self, queryset, name, value):
        if value is None:
            return queryset
        over = Q(visits_this_year__gt=F("visit_limit"))
        return queryset.filter(over) if value else queryset.exclude(over)
