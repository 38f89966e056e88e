"""One FilterSet per listable entity, used by the web lists and the API lists alike."""

import django_filters
from django.utils.translation import gettext_lazy as _

from keycare.core.filtering import ChoicesFilter
from keycare.core.search import search_q

from .choices import (
    AccountStatus,
    AccountTier,
    AccountType,
    BuyingRole,
    DecisionStyle,
    EquipmentStatus,
)
from .models import Account, Contact, Equipment, Order, Product


class SearchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")

    def search(self, queryset, name, value):
        return queryset.filter(search_q(value))


class AccountFilterSet(SearchFilterSet):
    status = ChoicesFilter(label=_("Status"), choices=AccountStatus.choices)
    tier = ChoicesFilter(label=_("Tier"), choices=AccountTier.choices)
    account_type = ChoicesFilter(label=_("Account type"), choices=AccountType.choices)
    province = django_filters.CharFilter(label=_("Province"), field_name="province")
    industry = django_filters.CharFilter(label=_("Industry"), field_name="industry")
    owner = django_filters.NumberFilter(label=_("Owner"), field_name="owner_id")
    parent = django_filters.NumberFilter(label=_("Parent account"), field_name="parent_id")
    within = django_filters.NumberFilter(label=_("Within group"), method="filter_within")
    top_level = django_filters.BooleanFilter(
        label=_("Top-level only"), field_name="parent", lookup_expr="isnull"
    )
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag")
    credit_code = django_filters.CharFilter(label=_("Credit code"), field_name="credit_code")
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(
            ("name", "name"),
            ("province", "province"),
            ("status", "status"),
            ("tier", "tier"),
            ("created_at", "created"),
        ),
    )

    class Meta:
        model = Account
        fields = []

    def search(self, queryset, name, value):
        code = value.strip().upper()
        if len(code) == 18 and code.isalnum():
            return queryset.filter(credit_code=code)
        return super().search(queryset, name, value)

    def filter_tag(self, queryset, name, value):
        through = Account.tags.through.objects.filter(tag__name=value.strip())
        return queryset.filter(pk__in=through.values("account_id"))

    def filter_within(self, queryset, name, value):
        """The account with this id and every branch below it."""
        root = Account.objects.filter(pk=value).values_list("path", flat=True).first()
        return queryset.filter(path__startswith=root) if root else queryset.none()


class ContactFilterSet(SearchFilterSet):
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id")
    buying_role = ChoicesFilter(label=_("Buying role"), choices=BuyingRole.choices)
    decision_style = ChoicesFilter(label=_("Decision style"), choices=DecisionStyle.choices)
    is_active = django_filters.BooleanFilter(label=_("Still with the company"))
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(
            ("name", "name"),
            ("influence", "influence"),
            ("relationship", "relationship"),
            ("created_at", "created"),
        ),
    )

    class Meta:
        model = Contact
        fields = []


class EquipmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id")
    product = django_filters.NumberFilter(label=_("Product"), field_name="product_id")
    status = ChoicesFilter(label=_("Status"), choices=EquipmentStatus.choices)
    under_warranty = django_filters.BooleanFilter(
        label=_("Under warranty"), method="filter_warranty"
    )
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(
            ("serial_number", "serial_number"),
            ("install_date", "install_date"),
            ("warranty_end", "warranty_end"),
        ),
    )

    class Meta:
        model = Equipment
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(serial_number__icontains=value) | queryset.filter(
            product__code__icontains=value
        )

    def filter_warranty(self, queryset, name, value):
        from django.utils import timezone

        today = timezone.localdate()
        if value:
            return queryset.filter(warranty_end__gte=today)
        return queryset.exclude(warranty_end__gte=today)


class OrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Order number"), field_name="number", lookup_expr="icontains"
    )
    account = django_filters.NumberFilter(label=_("Account"), field_name="account_id")
    within = django_filters.NumberFilter(label=_("Within group"), method="filter_within")
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="order_date", lookup_expr="gte"
    )
    date_to = django_filters.DateFilter(label=_("To"), field_name="order_date", lookup_expr="lte")
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("order_date", "order_date"), ("number", "number"), ("total_net", "total_net")),
    )

    class Meta:
        model = Order
        fields = []

    def filter_within(self, queryset, name, value):
        root = Account.objects.filter(pk=value).values_list("path", flat=True).first()
        return queryset.filter(account__path__startswith=root) if root else queryset.none()


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    product_line = django_filters.NumberFilter(
        label=_("Product line"), field_name="product_line_id"
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))
    ordering = django_filters.OrderingFilter(
        label=_("Order by"),
        fields=(("code", "code"), ("name", "name"), ("list_price", "list_price")),
    )

    class Meta:
        model = Product
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(code__icontains=value) | queryset.filter(name__icontains=value)
