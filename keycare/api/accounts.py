"""API for accounts: /api/v1/accounts/."""

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from keycare.accounts.choices import AccountStatus
from keycare.accounts.filters import AccountFilterSet
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_list
from keycare.accounts.services import account_create, account_delete, account_update
from keycare.users.models import User

from .mixins import SchemaOnlyFilterBackend, SelectorQuerysetMixin
from .permissions import ScopedPermission


class AccountOutputSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.__str__", read_only=True, default=None)
    branch_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "name_en",
            "short_name",
            "parent",
            "industry",
            "province",
            "city",
            "address",
            "status",
            "owner",
            "owner_name",
            "notes",
            "branch_count",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AccountInputSerializer(serializers.Serializer):
    """Shapes input only; validation of the account itself lives in the model and services."""

    name = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)
    short_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.all(), required=False, allow_null=True
    )
    industry = serializers.CharField(max_length=60, required=False, allow_blank=True)
    province = serializers.CharField(max_length=30, required=False, allow_blank=True)
    city = serializers.CharField(max_length=30, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=AccountStatus.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
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
    list=extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)]
    ),
    create=extend_schema(request=AccountInputSerializer, responses={201: AccountOutputSerializer}),
    partial_update=extend_schema(request=AccountInputSerializer, responses=AccountOutputSerializer),
)
class AccountViewSet(SelectorQuerysetMixin, viewsets.ModelViewSet):
    """Accounts (客户) the acting user may see. Filters: q, status, province, owner, parent,
    top_level."""

    selector = staticmethod(account_list)
    scoped_model = Account
    serializer_class = AccountOutputSerializer
    filterset_class = AccountFilterSet
    filter_backends = [SchemaOnlyFilterBackend]
    permission_classes = [ScopedPermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = AccountInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("version", None)
        with transaction.atomic():
            account = account_create(actor=request.user, **values)
        account = account_list(actor=request.user).get(pk=account.pk)
        return Response(AccountOutputSerializer(account).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        account = self.get_object()
        data = AccountInputSerializer(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        account_update(actor=request.user, account=account, data=values, expected_version=version)
        account = account_list(actor=request.user).get(pk=account.pk)
        return Response(AccountOutputSerializer(account).data)

    def destroy(self, request, *args, **kwargs):
        account_delete(actor=request.user, account=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
