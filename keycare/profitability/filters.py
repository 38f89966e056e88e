import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from keycare.core.filtering import ChoicesFilter

from .choices import ConcessionKind, ConcessionStatus
from .models import Concession

#: An id: a whole number a database column holds (anything else is a clear 400, never an
#: overflow inside the database driver).
ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}


class ConcessionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = ChoicesFilter(label=_("Status"), choices=ConcessionStatus.choices)
    kind = ChoicesFilter(label=_("Kind"), choices=ConcessionKind.choices)
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id", **ID)
    requested_by = django_filters.NumberFilter(
        label=_("Requested by"), field_name="requested_by_id", **ID
    )
    within_policy = django_filters.BooleanFilter(label=_("Within policy"))
    period_from = django_filters.DateFilter(
        label=_("Effective from"), field_name="effective_date", lookup_expr="gte"
    )
    period_to = django_filters.DateFilter(
        label=_("Effective to"), field_name="effective_date", lookup_expr="lte"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("requested_at", "requested_at"), ("amount", "amount"),
                ("effective_date", "effective_date"), ("number", "number")),
    )  # fmt: skip

    class Meta:
        model = Concession
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(account__name__icontains=value)
            | Q(order_reference__icontains=value)
        )
