"""The filters of the business events, invitations, gifts and VIP club lists: one FilterSet
per list, applied inside its selector, so a query string means the same on the page and in
the API (invalid input is an error, not ignored)."""

import django_filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from keycare.core.filtering import ChoicesFilter

from .choices import EventKind, EventStatus, GiftStatus, InvitationStatus
from .models import BusinessEvent, EventInvitation, Gift, VipMember

#: An id: a whole number a database column holds (anything else is a clear 400).
ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}
#: A gift over its limit when recorded (the year total with it above the limit recorded with
#: it): waiting, or decided (approved or rejected) after waiting; never a cancelled one.
GIFT_OVER_LIMIT = Q(
    status__in=(GiftStatus.PENDING, GiftStatus.APPROVED, GiftStatus.REJECTED),
    limit__isnull=False, year_total__gt=F("limit"),
)  # fmt: skip
#: The years a register can be read for.
YEAR = {"min_value": 1990, "max_value": 2100, "decimal_places": 0}


class BusinessEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = ChoicesFilter(label=_("Status"), choices=EventStatus.choices)
    kind = ChoicesFilter(label=_("Kind"), choices=EventKind.choices)
    starts_from = django_filters.DateFilter(
        label=_("Starts from"), field_name="starts_at", lookup_expr="date__gte"
    )
    starts_to = django_filters.DateFilter(
        label=_("Starts until"), field_name="starts_at", lookup_expr="date__lte"
    )
    vip = django_filters.BooleanFilter(
        label=_("VIP club events"), field_name="vip_level", lookup_expr="isnull", exclude=True
    )
    vip_level = django_filters.NumberFilter(label=_("VIP level"), field_name="vip_level_id", **ID)
    organiser = django_filters.NumberFilter(label=_("Organiser"), field_name="organiser_id", **ID)
    ordering = django_filters.OrderingFilter(
        label=_("Order by"), fields=(("starts_at", "starts_at"), ("name", "name"), ("cost", "cost"))
    )

    class Meta:
        model = BusinessEvent
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(location__icontains=value))


class EventInvitationFilterSet(django_filters.FilterSet):
    status = ChoicesFilter(label=_("Status"), choices=InvitationStatus.choices)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    contact = django_filters.NumberFilter(label=_("Contact"), field_name="contact_id", **ID)

    class Meta:
        model = EventInvitation
        fields = []


class GiftFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    year = django_filters.NumberFilter(
        label=_("Year"), field_name="given_on", lookup_expr="year", **YEAR
    )
    status = ChoicesFilter(label=_("Status"), choices=GiftStatus.choices)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    contact = django_filters.NumberFilter(label=_("Recipient"), field_name="contact_id", **ID)
    over_limit = django_filters.BooleanFilter(label=_("Over the limit"), method="filter_over")
    recorded_by = django_filters.NumberFilter(
        label=_("Recorded by"), field_name="requested_by_id", **ID
    )
    given_from = django_filters.DateFilter(
        label=_("Given from"), field_name="given_on", lookup_expr="gte"
    )
    given_to = django_filters.DateFilter(
        label=_("Given until"), field_name="given_on", lookup_expr="lte"
    )
    event = django_filters.NumberFilter(label=_("Event"), field_name="event_id", **ID)
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("given_on", "given_on"), ("value", "value"), ("created_at", "created_at")),
    )

    class Meta:
        model = Gift
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(description__icontains=value)
            | Q(occasion__icontains=value)
            | Q(contact__name__icontains=value)
            | Q(account__name__icontains=value)
        )

    def filter_over(self, queryset, name, value):
        """Over the limit when recorded (GIFT_OVER_LIMIT)."""
        if value is None:
            return queryset
        return queryset.filter(GIFT_OVER_LIMIT) if value else queryset.exclude(GIFT_OVER_LIMIT)


class VipMemberFilterSet(django_filters.FilterSet):
    """Applied to members annotated with their effective level (selectors.vip)."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    level = django_filters.NumberFilter(
        label=pgettext_lazy("VIP club", "Level"), field_name="effective_level_id", **ID
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))
    overridden = django_filters.BooleanFilter(
        label=_("Level set by hand"), field_name="level_override", lookup_expr="isnull",
        exclude=True,
    )  # fmt: skip
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("effective_rank", "level"), ("joined_on", "joined_on"),
                ("contact__name", "name")),
    )  # fmt: skip

    class Meta:
        model = VipMember
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(contact__name__icontains=value) | Q(account__name__icontains=value)
        )
