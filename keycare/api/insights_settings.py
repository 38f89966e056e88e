"""API of the insights settings: read by those who see the insights, changed by
administrators (with the edit version they read: a stale one is a 409)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.insights.models import InsightsSettings
from keycare.insights.settings import insights_settings_get, insights_settings_update
from keycare.users.choices import Role

from .insights import _require_insights


class InsightsSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = InsightsSettings
        fields = ["tier_source", "cutoff_a", "cutoff_b", "platinum", "gold", "neglect_days",
                  "alert_top_1", "alert_top_5", "alert_hhi", "lock_version"]  # fmt: skip
        read_only_fields = fields


class InsightsSettingsInputSerializer(serializers.Serializer):
    """Shapes input only; the ranges and the order of the pairs are checked by the model."""

    tier_source = serializers.ChoiceField(
        choices=InsightsSettings.TierSource.choices, required=False
    )
    cutoff_a = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    cutoff_b = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    platinum = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    gold = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    neglect_days = serializers.IntegerField(required=False)
    alert_top_1 = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    alert_top_5 = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    alert_hhi = serializers.IntegerField(required=False)
    lock_version = serializers.IntegerField(
        help_text="The edit version you read; a stale one is a 409 and nothing is saved."
    )


class InsightsSettingsApi(APIView):
    """The insights settings: the defaults of the analyses (Pareto cut-offs, pyramid splits,
    days without contact), the concentration alert thresholds and where tiers come from.
    GET: those who see the insights; PATCH: administrators."""

    @extend_schema(responses=InsightsSettingsSerializer)
    def get(self, request):
        _require_insights(request, metrics=False)
        return Response(InsightsSettingsSerializer(insights_settings_get()).data)

    @extend_schema(request=InsightsSettingsInputSerializer, responses=InsightsSettingsSerializer)
    def patch(self, request):
        if not request.user.has_role(Role.ADMINISTRATOR):  # before looking at the input
            raise PermissionDenied()
        serializer = InsightsSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        settings = insights_settings_update(
            actor=request.user, data=data, lock_version=lock_version
        )
        return Response(InsightsSettingsSerializer(settings).data)
