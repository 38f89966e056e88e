"""API for accounts, contacts (with personal details behind their own audited endpoint),
products, equipment and orders."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from keycare.accounts import selectors, services
from keycare.accounts.choices import (
    AccountStatus,
    AccountTier,
    AccountType,
    BuyingRole,
    DecisionStyle,
    EquipmentStatus,
    Level,
)
from keycare.accounts.filters import (
    AccountFilterSet,
    ContactFilterSet,
    EquipmentFilterSet,
    OrderFilterSet,
    ProductFilterSet,
)
from keycare.accounts.models import (
    Account,
    Contact,
    Equipment,
    Order,
    OrderLine,
    PersonalDetails,
    Product,
    ProductLine,
)
from keycare.accounts.scopes import may_see_costs
from keycare.users.models import User

from .mixins import NameField, ReadOnlyScopedViewSet, ScopedViewSet

# --- accounts ----------------------------------------------------------------------------------

#: What the company thinks of a customer and its people is not for the customer's own eyes.
INTERNAL_ACCOUNT_FIELDS = ("tier", "account_type", "owner", "owner_name", "notes", "tags")
INTERNAL_CONTACT_FIELDS = ("buying_role", "decision_style", "influence", "relationship",
                           "introduced_by_contact", "introduced_by_user")  # fmt: skip


def _hide_from_customers(serializer, data: dict, fields: tuple[str, ...]) -> dict:
    request = serializer.context.get("request")
    if request is not None and request.user.is_portal_user:
        for field in fields:
            data.pop(field, None)
    return data


class AccountOutputSerializer(serializers.ModelSerializer):
    """An account (for a customer contact: without the company's internal assessments)."""

    owner_name = NameField(source="owner")
    branch_count = serializers.IntegerField(read_only=True, default=0)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "name_en",
            "short_name",
            "credit_code",
            "parent",
            "depth",
            "industry",
            "province",
            "city",
            "address",
            "website",
            "status",
            "tier",
            "account_type",
            "owner",
            "owner_name",
            "tags",
            "notes",
            "branch_count",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        return _hide_from_customers(
            self, super().to_representation(instance), INTERNAL_ACCOUNT_FIELDS
        )


class AccountInputSerializer(serializers.Serializer):
    """Shapes input only; validation of the account itself lives in the model and services."""

    name = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    short_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    credit_code = serializers.CharField(max_length=30, required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True
    )
    industry = serializers.CharField(max_length=60, required=False, allow_blank=True)
    province = serializers.CharField(max_length=30, required=False, allow_blank=True)
    city = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=AccountStatus.choices, required=False)
    tier = serializers.ChoiceField(choices=AccountTier.choices, required=False, allow_blank=True)
    account_type = serializers.ChoiceField(
        choices=AccountType.choices, required=False, allow_blank=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    confirm_duplicate = serializers.BooleanField(
        required=False, default=False, help_text="Create even though a similar account exists."
    )
    version = serializers.IntegerField(
        required=False, write_only=True, help_text="Version you edited; a stale one is a 409."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # A parent must be an account the user can see.
            self.fields["parent"].queryset = Account.objects.restrict(request.user, "view")


@extend_schema_view(
    create=extend_schema(request=AccountInputSerializer, responses={201: AccountOutputSerializer}),
    partial_update=extend_schema(request=AccountInputSerializer, responses=AccountOutputSerializer),
)
class AccountViewSet(ScopedViewSet):
    """Accounts (客户) the acting user may see. Filters: q (name, pinyin or initials, credit
    code), status, tier, account_type, province, industry, owner, parent, within (a group and
    all its branches), top_level, tag, credit_code; ordering."""

    selector = staticmethod(selectors.account_list)
    scoped_model = Account
    serializer_class = AccountOutputSerializer
    input_serializer = AccountInputSerializer
    filterset_class = AccountFilterSet

    def get_queryset(self):
        return super().get_queryset().prefetch_related("tags")

    def perform_service_create(self, data):
        tags = data.pop("tags", ())
        with transaction.atomic():
            return services.account_create(actor=self.request.user, tags=tags, **data)

    def perform_service_update(self, obj, data, version):
        data.pop("confirm_duplicate", None)
        tags = data.pop("tags", None)
        services.account_update(
            actor=self.request.user, account=obj, data=data, expected_version=version, tags=tags
        )

    def perform_service_destroy(self, obj):
        services.account_delete(actor=self.request.user, account=obj)


# --- contacts ----------------------------------------------------------------------------------


class ContactOutputSerializer(serializers.ModelSerializer):
    """A contact (for a customer contact: without the buying role, style and scores)."""

    account_name = serializers.CharField(source="account.name", read_only=True)

    def to_representation(self, instance):
        return _hide_from_customers(
            self, super().to_representation(instance), INTERNAL_CONTACT_FIELDS
        )

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "account_name",
            "name",
            "title",
            "department",
            "mobile",
            "email",
            "wechat_id",
            "buying_role",
            "decision_style",
            "influence",
            "relationship",
            "reports_to",
            "introduced_by_contact",
            "introduced_by_user",
            "portal_sees_branches",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    department = serializers.CharField(max_length=100, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    wechat_id = serializers.CharField(max_length=60, required=False, allow_blank=True)
    buying_role = serializers.ChoiceField(choices=BuyingRole.choices, required=False)
    decision_style = serializers.ChoiceField(choices=DecisionStyle.choices, required=False)
    influence = serializers.ChoiceField(choices=Level.choices, required=False)
    relationship = serializers.ChoiceField(choices=Level.choices, required=False)
    reports_to = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    introduced_by_contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    introduced_by_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    portal_sees_branches = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    version = serializers.IntegerField(required=False, write_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")
            visible = Contact.objects.restrict(request.user, "view")
            self.fields["reports_to"].queryset = visible
            self.fields["introduced_by_contact"].queryset = visible


class MembershipSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    account_name = serializers.CharField(source="account.name", read_only=True)
    buying_role = serializers.ChoiceField(choices=BuyingRole.choices)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


class PersonalDetailsSerializer(serializers.ModelSerializer):
    important_dates = serializers.SerializerMethodField()

    class Meta:
        model = PersonalDetails
        fields = ["birthday", "preferences", "family", "hobbies", "important_dates", "updated_at"]
        read_only_fields = ["updated_at", "important_dates"]

    def get_important_dates(self, obj) -> list[dict]:
        return [
            {
                "id": d.pk,
                "label": d.label,
                "date": d.date,
                "yearly": d.yearly,
                "remind_days_before": d.remind_days_before,
            }
            for d in self.context.get("dates", [])
        ]


@extend_schema_view(
    create=extend_schema(request=ContactInputSerializer, responses={201: ContactOutputSerializer}),
    partial_update=extend_schema(request=ContactInputSerializer, responses=ContactOutputSerializer),
)
class ContactViewSet(ScopedViewSet):
    """Contacts / key persons (联系人 / 关键人物) at accounts the user may see. Personal details
    are not part of a contact: they have their own endpoint, open only to the account team and
    administrators, and every read is recorded. Filters: q (name or pinyin), account,
    buying_role, decision_style, is_active; ordering."""

    selector = staticmethod(selectors.contact_list)
    scoped_model = Contact
    serializer_class = ContactOutputSerializer
    input_serializer = ContactInputSerializer
    filterset_class = ContactFilterSet

    def perform_service_create(self, data):
        account = data.pop("account")
        return services.contact_create(actor=self.request.user, account=account, **data)

    def perform_service_update(self, obj, data, version):
        services.contact_update(
            actor=self.request.user, contact=obj, data=data, expected_version=version
        )

    def perform_service_destroy(self, obj):
        services.contact_delete(actor=self.request.user, contact=obj)

    @extend_schema(methods=["GET"], responses=PersonalDetailsSerializer)
    @extend_schema(
        methods=["PATCH"], request=PersonalDetailsSerializer, responses=PersonalDetailsSerializer
    )
    @action(detail=True, methods=["get", "patch"], url_path="personal-details")
    def personal_details(self, request, pk=None):
        """Personal details (细节): account team and administrators only; reads are audited."""
        contact = self.get_object()
        if request.method == "PATCH":
            data = PersonalDetailsSerializer(data=request.data, partial=True)
            data.is_valid(raise_exception=True)
            services.personal_details_update(
                actor=request.user, contact=contact, data=dict(data.validated_data), channel="api"
            )
        details, dates = services.personal_details_get(
            actor=request.user, contact=contact, channel="api"
        )
        details = details or PersonalDetails(contact=contact)
        return Response(PersonalDetailsSerializer(details, context={"dates": dates}).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="erase-personal-details")
    def erase_personal_details(self, request, pk=None):
        """Erase this person's personal details on request, keeping the business record."""
        services.personal_details_erase(
            actor=request.user, contact=self.get_object(), channel="api"
        )
        return Response(status=204)

    @extend_schema(request=MembershipSerializer, responses=MembershipSerializer(many=True))
    @action(detail=True, methods=["get", "post"], url_path="memberships")
    def memberships(self, request, pk=None):
        """The other accounts this person belongs to, with their buying role there. POST adds
        one (or changes the role), DELETE with `?account=<id>` removes one."""
        contact = self.get_object()
        if request.method == "POST":
            data = MembershipSerializer(data=request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            services.contact_membership_set(
                actor=request.user, contact=contact, **data.validated_data
            )
        links = contact.memberships.select_related("account").filter(
            account__in=Account.objects.restrict(request.user, "view")
        )
        return Response(MembershipSerializer(links, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("account", int, required=True)], responses={204: None}
    )
    @memberships.mapping.delete
    def remove_membership(self, request, pk=None):
        contact = self.get_object()
        link = contact.memberships.filter(
            account_id=request.query_params.get("account") or 0
        ).first()
        if link is None:
            raise NotFound()
        services.contact_membership_remove(actor=request.user, link=link)
        return Response(status=204)

    scoped_action_map = {
        "personal_details": "view",
        "erase_personal_details": "view",
        "memberships": "view",
        "remove_membership": "view",
    }


# --- products ----------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    product_line = serializers.SlugRelatedField(
        slug_field="code", queryset=ProductLine.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "product_line",
            "category",
            "unit",
            "list_price",
            "standard_cost",
            "warranty_months",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"code": {"validators": []}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        # Costs are commercial data: only for those who may see orders.
        if request is not None and not may_see_costs(request.user):
            data.pop("standard_cost", None)
        return data


class ProductViewSet(ScopedViewSet):
    """The product catalogue: everyone reads it, administrators maintain it."""

    selector = staticmethod(selectors.product_list)
    scoped_model = Product
    serializer_class = ProductSerializer
    input_serializer = ProductSerializer
    filterset_class = ProductFilterSet

    def perform_service_create(self, data):
        return services.product_create(actor=self.request.user, **data)

    def perform_service_update(self, obj, data, version):
        services.product_update(actor=self.request.user, product=obj, data=data)

    def perform_service_destroy(self, obj):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("Products are not deleted; mark them inactive instead."))


# --- equipment ---------------------------------------------------------------------------------


class EquipmentOutputSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    under_warranty = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = Equipment
        fields = [
            "id",
            "serial_number",
            "product",
            "product_code",
            "account",
            "account_name",
            "site",
            "install_date",
            "warranty_end",
            "under_warranty",
            "status",
            "parent",
            "contract_ref",
            "notes",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EquipmentInputSerializer(serializers.Serializer):
    serial_number = serializers.CharField(max_length=60)
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    site = serializers.CharField(max_length=255, required=False, allow_blank=True)
    install_date = serializers.DateField(required=False, allow_null=True)
    warranty_end = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=EquipmentStatus.choices, required=False)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Equipment.objects.none(), required=False, allow_null=True
    )
    contract_ref = serializers.CharField(max_length=60, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, write_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")
            self.fields["parent"].queryset = Equipment.objects.restrict(request.user, "view")


@extend_schema_view(
    create=extend_schema(
        request=EquipmentInputSerializer, responses={201: EquipmentOutputSerializer}
    ),
    partial_update=extend_schema(
        request=EquipmentInputSerializer, responses=EquipmentOutputSerializer
    ),
)
class EquipmentViewSet(ScopedViewSet):
    """Installed base (设备台账). Filters: q (serial number or product code), account, product,
    status, under_warranty; ordering."""

    selector = staticmethod(selectors.equipment_list)
    scoped_model = Equipment
    serializer_class = EquipmentOutputSerializer
    input_serializer = EquipmentInputSerializer
    filterset_class = EquipmentFilterSet

    def perform_service_create(self, data):
        return services.equipment_create(actor=self.request.user, **data)

    def perform_service_update(self, obj, data, version):
        services.equipment_update(
            actor=self.request.user, equipment=obj, data=data, expected_version=version
        )

    def perform_service_destroy(self, obj):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("Equipment is not deleted; set its status to decommissioned."))


# --- orders ------------------------------------------------------------------------------------


class OrderLineSerializer(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code", read_only=True, default=None)

    class Meta:
        model = OrderLine
        fields = [
            "line_number",
            "line_type",
            "product",
            "product_code",
            "description",
            "quantity",
            "list_price",
            "net_price",
            "unit_cost",
            "list_amount",
            "net_amount",
            "discount_amount",
            "cost_amount",
        ]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    gross_profit = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "account",
            "account_name",
            "order_date",
            "currency",
            "total_list",
            "total_net",
            "total_discount",
            "total_cost",
            "gross_profit",
            "line_count",
            "notes",
        ]
        read_only_fields = fields


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "lines"]
        read_only_fields = fields


class OrderViewSet(ReadOnlyScopedViewSet):
    """Orders (订单) with totals; the detail includes the lines. Orders come from the ERP
    through the import (`keycare import orders FILE`). Filters: q (number), account, within
    (a group and its branches), date_from, date_to; ordering."""

    selector = staticmethod(selectors.order_list)
    scoped_model = Order
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet

    def get_serializer_class(self):
        return OrderDetailSerializer if self.action == "retrieve" else OrderSerializer

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.order_list(actor=self.request.user).prefetch_related("lines__product")
        return super().get_queryset()
