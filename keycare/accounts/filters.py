import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import AccountStatus
from .models import Account


class AccountFilterSet(django_filters.FilterSet):
    """One filter set for the web list and the API list."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=AccountStatus.choices)
    province = django_filters.CharFilter(label=_("Province"), field_name="province")
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id")
    parent = django_filters.NumberFilter(label=_("Parent account"), field_name="parent_id")
    top_level = django_filters.BooleanFilter(
        label=_("Top-level only"), field_name="parent", lookup_expr="isnull"
    )

    class Meta:
        model = Account
        fields = ["q", "status", "province", "owner", "parent", "top_level"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(name_en__icontains=value) | Q(short_name__icontains=value)
        )
