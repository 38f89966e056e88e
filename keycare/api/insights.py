"""API of the insights area: the same figures as its pages, for the same people (those who
may see orders; key account managers for their own accounts)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.core.scoping import user_can_any
from keycare.insights.models import AccountMetric

#: The region and industry filters (exact values; at the group level, the group's own).
ACCOUNT_FILTERS = [
    OpenApiParameter("province", str, description="only accounts in this region (province; exact, at most 30 characters)"),
    OpenApiParameter("industry", str, description="only accounts of this industry (exact, at most 60 characters)"),
]  # fmt: skip
PERIOD = [
    OpenApiParameter("period_from", OpenApiTypes.DATE, description="first day (default: a year ago)"),
    OpenApiParameter("period_to", OpenApiTypes.DATE, description="last day (default: today)"),
    OpenApiParameter("level", str, enum=["account", "group"], description="accounts, or groups with their branches"),
    *ACCOUNT_FILTERS,
]  # fmt: skip


def _require_insights(request, *, metrics: bool = True) -> None:
    """Only for those who may see orders; for an analysis of the metrics, the period asked
    for is computed first if it never has been (a bad period is a 400)."""
    if not user_can_any(request.user, "view", AccountMetric):
        raise PermissionDenied()
    if metrics:
        from keycare.insights.metrics import metrics_ensure
        from keycare.insights.selectors import insights_period

        start, end = insights_period(request.query_params)
        metrics_ensure(start=start, end=end)


class ParetoApi(APIView):
    """Pareto / ABC (帕累托) on revenue and gross profit: accounts ranked by each measure with
    cumulative shares and A/B/C classes (the account that crosses a cut-off stays in the
    higher class), the top 20% share and the class totals."""

    @extend_schema(
        parameters=[*PERIOD,
                    OpenApiParameter("cutoff_a", float, description="class A up to this % (80)"),
                    OpenApiParameter("cutoff_b", float, description="class B up to this % (95)")],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        from keycare.insights.selectors import pareto_analysis

        _require_insights(request)
        return Response(pareto_analysis(actor=request.user, filters=request.query_params))


class PyramidApi(APIView):
    """The customer pyramid (金字塔模型) by profit after the cost to serve: platinum, gold,
    iron and lead (accounts that cost money, with the reason)."""

    @extend_schema(
        parameters=[*PERIOD,
                    OpenApiParameter("platinum", float, description="top % that is platinum (10)"),
                    OpenApiParameter("gold", float, description="top % that is platinum or gold (30)")],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        from keycare.insights.selectors import pyramid_analysis

        _require_insights(request)
        return Response(pyramid_analysis(actor=request.user, filters=request.query_params))


_FIGURES = {
    "accounts": serializers.IntegerField(),
    "top_1_share": serializers.FloatField(allow_null=True, help_text="% of the revenue"),
    "top_5_share": serializers.FloatField(allow_null=True),
    "top_10_share": serializers.FloatField(allow_null=True),
    "hhi": serializers.FloatField(
        allow_null=True, help_text="on shares in %: 10,000 = one account"
    ),
    "gini": serializers.FloatField(allow_null=True),
}
_ALERT_FIGURE = serializers.ChoiceField(choices=["top_1_share", "top_5_share", "hhi"])
CONCENTRATION = inline_serializer("Concentration", {
    "period": inline_serializer("ConcentrationPeriod", {"from": serializers.DateField(),
                                                        "to": serializers.DateField()}),
    "level": serializers.ChoiceField(choices=["account", "group"]),
    **_FIGURES,
    "thresholds": inline_serializer("ConcentrationThresholds", {
        "top_1_share": serializers.FloatField(), "top_5_share": serializers.FloatField(),
        "hhi": serializers.FloatField()}, help_text="the alert thresholds of the settings"),
    "alerts": inline_serializer("ConcentrationAlert", {
        "figure": _ALERT_FIGURE, "value": serializers.FloatField(),
        "threshold": serializers.FloatField(), "message": serializers.CharField(),
    }, many=True, help_text="one per figure above its threshold (strictly above)"),
    "trend": inline_serializer("ConcentrationTrend", {
        "label": serializers.CharField(), "from": serializers.DateField(),
        "to": serializers.DateField(),
        "selected": serializers.BooleanField(help_text="the period asked for"),
        **_FIGURES,
        "exceeded": serializers.ListField(
            child=serializers.CharField(), help_text="the figures above their threshold"
        ),
    }, many=True, help_text="the last five calendar years up to the period's, then the period"),
})  # fmt: skip


class ConcentrationApi(APIView):
    """Revenue concentration: top-1/5/10 shares, HHI (shares in %) and Gini; by default over
    groups with their branches. `alerts` lists each figure above its threshold in the
    insights settings; `trend` gives the same figures for each of the last five calendar
    years up to the year the period ends in, and for the period itself (`selected`)."""

    @extend_schema(parameters=PERIOD, responses=CONCENTRATION)
    def get(self, request):
        from keycare.insights.metrics import metrics_ensure
        from keycare.insights.selectors import concentration_analysis, concentration_periods

        _require_insights(request)
        for start, end in concentration_periods(request.query_params)[1:]:
            metrics_ensure(start=start, end=end)  # the trend's calendar years
        return Response(concentration_analysis(actor=request.user, filters=request.query_params))


class NeglectedApi(APIView):
    """Active accounts of any tier with no order, ticket or field visit for `days` (90)."""

    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="days without contact (90)"),
                    *ACCOUNT_FILTERS],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        from keycare.insights.selectors import neglected_accounts

        _require_insights(request, metrics=False)
        return Response(neglected_accounts(actor=request.user, filters=request.query_params))


class VolumeProfitApi(APIView):
    """Revenue against gross profit and contribution after the cost to serve; accounts that
    bring volume without profit are flagged."""

    @extend_schema(parameters=PERIOD, responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from keycare.insights.selectors import volume_profit

        _require_insights(request)
        return Response(volume_profit(actor=request.user, filters=request.query_params))


class ClvApi(APIView):
    """Predictive customer value (BG/NBD and Gamma-Gamma on the order book): per account
    P(alive), expected orders and expected revenue over the next 12 months."""

    @extend_schema(
        parameters=[
            OpenApiParameter("province", str, description="only accounts of this region"),
            OpenApiParameter("industry", str, description="only accounts of this industry"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        from keycare.insights.selectors import clv_analysis

        _require_insights(request, metrics=False)
        return Response(clv_analysis(actor=request.user, filters=request.query_params))
