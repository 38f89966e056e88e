"""API of the tiers: the history of tier changes (scoped like the metrics: those who may see
orders, key account managers for their own accounts), applying the tiers now and setting or
lifting a tier by hand (administrators)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.accounts.choices import AccountTier
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.insights.filters import TierChangeFilterSet
from keycare.insights.models import TierChange
from keycare.insights.selectors import insights_period
from keycare.insights.tier_selectors import tier_change_list
from keycare.insights.tiers import tier_override_clear, tier_override_set, tiers_apply

from .insights import _require_insights
from .mixins import SchemaOnlyFilterBackend


class TierChangeSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, default=None)
    direction = serializers.CharField(read_only=True, help_text='"up", "down" or ""')
    reason = serializers.CharField(source="reason_text", read_only=True,
                                   help_text="in the language asked for (Accept-Language)")  # fmt: skip

    class Meta:
        model = TierChange
        fields = ["id", "account", "account_name", "from_tier", "to_tier", "direction",
                  "source", "reason", "actor", "at"]  # fmt: skip
        read_only_fields = fields


class TierChangeListApi(ListAPIView):
    """Tier changes, newest first. Filters: changed_from, changed_to (dates), direction
    (up, down), source (pyramid, scorecard, manual), account."""

    serializer_class = TierChangeSerializer
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = TierChangeFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return TierChange.objects.none()
        _require_insights(self.request, metrics=False)
        return tier_change_list(actor=self.request.user, filters=self.request.query_params)


class TiersApplyApi(APIView):
    """Administrators: write the period's tiers (from the tier source of the settings) to
    every active account not set by hand; returns the counts. Without a period: the
    trailing twelve months."""

    @extend_schema(
        request=inline_serializer("TiersApply", {
            "period_from": serializers.DateField(), "period_to": serializers.DateField()}),
        responses=inline_serializer("TiersApplied", {
            "changed": serializers.IntegerField(), "kept": serializers.IntegerField(),
            "overridden": serializers.IntegerField()}),
    )  # fmt: skip
    def post(self, request):
        _require_insights(request, metrics=False)
        if not isinstance(request.data, dict):
            raise ValidationError(
                {"non_field_errors": [_("Send a JSON object (period_from, period_to).")]}
            )
        start, end = insights_period(request.data)
        return Response(tiers_apply(actor=request.user, start=start, end=end))


class TierOverrideInputSerializer(serializers.Serializer):
    tier = serializers.ChoiceField(choices=AccountTier.choices)
    reason = serializers.CharField(max_length=300)


class TierOverrideApi(APIView):
    """Administrators: POST sets the account's tier by hand with a reason (the tier source
    leaves it alone until lifted); DELETE hands it back to the tier source."""

    def _account(self, request, pk: int) -> Account:
        _require_insights(request, metrics=False)
        return account_get(actor=request.user, pk=pk)  # not visible: a 404

    @extend_schema(request=TierOverrideInputSerializer, responses={201: TierChangeSerializer})
    def post(self, request, pk: int):
        account = self._account(request, pk)
        serializer = TierOverrideInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = tier_override_set(actor=request.user, account=account, **serializer.validated_data)
        change = tier_change_list(actor=request.user).get(pk=change.pk)
        return Response(TierChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: OpenApiTypes.NONE})
    def delete(self, request, pk: int):
        account = self._account(request, pk)
        tier_override_clear(actor=request.user, account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)
