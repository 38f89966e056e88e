"""API of profitability: the account P&L with its cost to serve by driver, one account's P&L,
the whale curve, the four reports, the activity-based cost rates, the concession policies and
the approval thresholds. Everything here is for those who may see orders (administrators,
executives, service managers, key account managers for their own accounts; not service
engineers, not the portal); rates, policies and thresholds are written by administrators."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.accounts.choices import AccountTier, AccountType
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.profitability.choices import CostDriver, PnlDriver
from keycare.profitability.models import ConcessionPolicy, CostRate, ProfitabilitySettings
from keycare.profitability.pnl import (
    GROUPINGS,
    account_pnl,
    pnl_may_view,
    pnl_report,
    whale_curve_report,
)
from keycare.profitability.policies import (
    policy_create,
    policy_delete,
    policy_list,
    policy_update,
    profitability_settings_get,
    profitability_settings_update,
)
from keycare.profitability.rates import cost_rate_create, cost_rate_list, cost_rate_withdraw
from keycare.profitability.reports import (
    REPORT_GROUPINGS,
    below_floor_accounts,
    concessions_report,
    flagged_order_lines,
    over_policy_accounts,
)
from keycare.users.choices import Role

from .mixins import NameField
from .pagination import PageNumberPagination

# --- who may ---------------------------------------------------------------------------------


class MaySeeProfitability(permissions.BasePermission):
    """Margins, costs, rates and policies: for those who may see orders (a 403 for service
    engineers and portal users, before any input is read)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and pnl_may_view(user)


class AdministratorsWrite(permissions.BasePermission):
    """Reads for everyone the view lets in; writes for administrators only, refused before
    the input is looked at (a 403, not a 400)."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated) and request.user.has_role(
            Role.ADMINISTRATOR
        )


#: The largest id a database column holds.
ID_MAX = 2**63 - 1
PROFITABILITY = [MaySeeProfitability]
ADMIN_WRITES = [MaySeeProfitability, AdministratorsWrite]


def _choice(params, name: str, choices) -> None:
    """A query parameter the domain reads leniently is checked here: unknown is a 400."""
    value = params.get(name)
    if value not in (None, "") and value not in choices:
        raise ValidationError({name: [_("Choose a value from the list.")]})


def _whole_number(params, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationError({name: [_("Enter a whole number.")]}) from None
    if not minimum <= value <= maximum:
        raise ValidationError(
            {
                name: [
                    _("Enter a number from %(min)s to %(max)s.") % {"min": minimum, "max": maximum}
                ]
            }
        )
    return value


def _account_param(request) -> Account | None:
    """An optional `account` query parameter: a visible account (else a 404); not an id a
    database column holds: a 400, as the concession filters answer it."""
    pk = _whole_number(request.query_params, "account", default=0, minimum=1, maximum=ID_MAX)
    return account_get(actor=request.user, pk=pk) if pk else None


# --- schema parameters ------------------------------------------------------------------------

PERIOD = [
    OpenApiParameter("period_from", OpenApiTypes.DATE, description="first day (default: a year ago)"),
    OpenApiParameter("period_to", OpenApiTypes.DATE, description="last day (default: today)"),
]  # fmt: skip
ACCOUNT_FILTERS = [
    OpenApiParameter("province", str, description="only accounts of this region (exact)"),
    OpenApiParameter("industry", str, description="only accounts of this industry (exact)"),
    OpenApiParameter("tier", str, enum=AccountTier.values, description="only accounts of this tier"),
    OpenApiParameter("account_type", str, enum=AccountType.values,
                     description="only accounts of this type"),
]  # fmt: skip


# --- output shapes ------------------------------------------------------------------------------


def money(**kwargs) -> serializers.DecimalField:
    """An amount or a percentage, as a string with two decimals like the rest of the API."""
    return serializers.DecimalField(max_digits=None, decimal_places=2, read_only=True, **kwargs)


def number(**kwargs) -> serializers.DecimalField:
    """A limit or value as the domain computed it (hours, visits, months, % or money)."""
    return serializers.DecimalField(max_digits=None, decimal_places=None, read_only=True, **kwargs)


class PnlDriversSerializer(serializers.Serializer):
    """The cost to serve by driver."""

    service_labour = money(help_text=PnlDriver.SERVICE_LABOUR.label)
    parts = money(help_text=PnlDriver.PARTS.label)
    travel = money(help_text=PnlDriver.TRAVEL.label)
    field_visits = money(help_text=PnlDriver.FIELD_VISITS.label)
    warranty = money(help_text=PnlDriver.WARRANTY.label)
    engagement = money(help_text=PnlDriver.ENGAGEMENT.label)
    concessions = money(help_text=PnlDriver.CONCESSIONS.label)


class PnlSerializer(serializers.Serializer):
    """list value − discounts − rebates = revenue; revenue − cost of goods = gross profit;
    gross profit − cost to serve = contribution. Margins in % of revenue (null without)."""

    list_value = money()
    discounts = money()
    rebates = money()
    revenue = money()
    cost_of_goods = money()
    gross_profit = money()
    gross_margin = money(allow_null=True)
    cost_to_serve = money()
    drivers = PnlDriversSerializer(read_only=True)
    contribution = money()
    contribution_margin = money(allow_null=True)
    orders = serializers.IntegerField(read_only=True)
    tickets = serializers.IntegerField(read_only=True)
    visits = serializers.IntegerField(read_only=True)


class LossReasonSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=gettext_lazy(
        '"below_cost" or a cost driver'))  # fmt: skip
    label = serializers.SerializerMethodField()
    value = money()
    share = money(allow_null=True, help_text=gettext_lazy("share of the cost to serve, in percent"))

    def get_label(self, reason) -> str:
        code = reason["code"]
        if code in PnlDriver.values:
            return str(PnlDriver(code).label)
        return _("Sold below cost") if code == "below_cost" else code


class PnlRowSerializer(PnlSerializer):
    key = serializers.JSONField(read_only=True, help_text=gettext_lazy(
        "the account's or group's id, the tier, type or region, or the key account manager's id"))  # fmt: skip
    label = serializers.CharField(read_only=True)
    accounts = serializers.IntegerField(read_only=True)
    account_id = serializers.IntegerField(read_only=True, allow_null=True)
    reasons = LossReasonSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "why it loses money (empty when it does not)"))  # fmt: skip


class PnlReportSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    next = serializers.URLField(read_only=True, allow_null=True)
    previous = serializers.URLField(read_only=True, allow_null=True)
    results = PnlRowSerializer(many=True, read_only=True)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    group_by = serializers.CharField(read_only=True)
    total = PnlSerializer(read_only=True)
    loss_makers = serializers.IntegerField(read_only=True)


class AccountPnlSerializer(serializers.Serializer):
    account = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    own = PnlSerializer(read_only=True)
    group = PnlSerializer(read_only=True, help_text=gettext_lazy(
        "with the branches the user sees"))  # fmt: skip
    has_branches = serializers.BooleanField(read_only=True)
    reasons = LossReasonSerializer(many=True, read_only=True)


class WhalePointSerializer(serializers.Serializer):
    rank = serializers.IntegerField(read_only=True)
    account_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    revenue = money()
    contribution = money()
    cumulative = money()
    cumulative_pct = money(allow_null=True)


class WhaleCurveSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    level = serializers.CharField(read_only=True)
    points = WhalePointSerializer(many=True, read_only=True)
    all_points = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "the number of points before downsampling"))  # fmt: skip
    total = money()
    peak = money()
    peak_pct = money(allow_null=True)
    peak_rank = serializers.IntegerField(read_only=True)
    accounts = serializers.IntegerField(read_only=True)
    loss_makers = serializers.IntegerField(read_only=True)
    destroyed = money(help_text=gettext_lazy("the profit the loss-making accounts destroy"))
    loss_making_accounts = PnlRowSerializer(many=True, read_only=True)


# --- the P&L ---------------------------------------------------------------------------------


class PnlListApi(APIView):
    """The period's P&L (客户损益) per account, or per group, tier, type, region or key
    account manager (`group_by`), with the cost to serve by driver and, for a loss, the
    reasons; sorted by contribution, highest first (`order=asc`: the loss-makers first).
    The rows are paginated; `total` is over all of them."""

    permission_classes = PROFITABILITY

    @extend_schema(
        operation_id="profitability_pnl",
        parameters=[*PERIOD, *ACCOUNT_FILTERS,
                    OpenApiParameter("group_by", str, enum=list(GROUPINGS), description="account (default)"),
                    OpenApiParameter("order", str, enum=["desc", "asc"], description="by contribution"),
                    OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses=PnlReportSerializer,
    )  # fmt: skip
    def get(self, request):
        _choice(request.query_params, "order", ("asc", "desc"))
        report = pnl_report(actor=request.user, filters=request.query_params)
        paginator = PageNumberPagination()
        rows = paginator.paginate_queryset(report.pop("rows"), request, view=self)
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": rows,
            **report,
        }
        return Response(PnlReportSerializer(body).data)


class AccountPnlApi(APIView):
    """One account's P&L for the period: its own and with its branches (`group`), and why
    it loses money. An account the user does not see is a 404."""

    permission_classes = PROFITABILITY

    @extend_schema(operation_id="profitability_account_pnl", parameters=PERIOD,
                   responses=AccountPnlSerializer)  # fmt: skip
    def get(self, request, pk: int):
        account = account_get(actor=request.user, pk=pk)
        result = account_pnl(actor=request.user, account=account, filters=request.query_params)
        return Response(
            AccountPnlSerializer({"account": account.pk, "name": account.name, **result}).data
        )


class WhaleCurveApi(APIView):
    """The whale curve (鲸鱼曲线): cumulative contribution from the most to the least
    profitable account (or group), its peak and where it is reached, and the accounts that
    destroy profit, largest losses first, with their reasons. `points` caps the curve's
    points (the peak is always kept)."""

    permission_classes = PROFITABILITY

    @extend_schema(
        operation_id="profitability_whale_curve",
        parameters=[*PERIOD, *ACCOUNT_FILTERS,
                    OpenApiParameter("level", str, enum=["account", "group"], description="account (default)"),
                    OpenApiParameter("points", int, description="at most this many points, 10–2000 (500)")],
        responses=WhaleCurveSerializer,
    )  # fmt: skip
    def get(self, request):
        _choice(request.query_params, "level", ("account", "group"))
        points = _whole_number(
            request.query_params, "points", default=500, minimum=10, maximum=2000
        )
        curve = whale_curve_report(
            actor=request.user, filters=request.query_params, max_points=points
        )
        return Response(WhaleCurveSerializer(curve).data)


# --- reports ---------------------------------------------------------------------------------


class GroupedRowSerializer(serializers.Serializer):
    key = serializers.JSONField(read_only=True, help_text=gettext_lazy(
        "the account, approver or requester id, the kind, or the month (YYYY-MM); null for "
        "concessions granted within policy"))  # fmt: skip
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True)
    amount = money()


class CountAmountSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True)
    amount = money()


class ConcessionsReportSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    by = serializers.CharField(read_only=True)
    rows = GroupedRowSerializer(many=True, read_only=True)
    total = CountAmountSerializer(read_only=True)


#: Limits counted in whole numbers (the others are money, hours or %, to the cent).
COUNT_LIMITS = {"max_free_visits", "max_extended_warranty_months"}


class LimitSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=gettext_lazy("the policy's limit"))
    limit = number()
    value = number()
    message = serializers.CharField(read_only=True)

    def to_representation(self, item):
        # one form whatever the database returns for a sum (SQLite: 12000, PostgreSQL: 12000.00)
        data = super().to_representation(item)
        places = Decimal("1") if item["code"] in COUNT_LIMITS else Decimal("0.01")
        for key in ("limit", "value"):
            if item.get(key) is not None:
                data[key] = f"{Decimal(item[key]).quantize(places):f}"
        return data


class OverPolicyRowSerializer(serializers.Serializer):
    account_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    policy = serializers.CharField(read_only=True)
    total = money()
    exceeded = LimitSerializer(many=True, read_only=True)


class OverPolicyGiftSerializer(serializers.Serializer):
    contact_id = serializers.IntegerField(read_only=True)
    contact = serializers.CharField(read_only=True)
    account_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    limit = money()
    value = money()
    message = serializers.CharField(read_only=True)


class OverPolicySerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    rows = OverPolicyRowSerializer(many=True, read_only=True)
    gifts = OverPolicyGiftSerializer(many=True, read_only=True)


class BelowFloorRowSerializer(serializers.Serializer):
    account_id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    owner_id = serializers.IntegerField(read_only=True, allow_null=True)
    policy = serializers.CharField(read_only=True)
    revenue = money()
    gross_margin = money(allow_null=True)
    contribution = money()
    contribution_margin = money(allow_null=True)
    below = LimitSerializer(many=True, read_only=True)


class BelowFloorSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    rows = BelowFloorRowSerializer(many=True, read_only=True)


class FlaggedLineSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="line.pk", read_only=True)
    line_number = serializers.IntegerField(source="line.line_number", read_only=True)
    line_type = serializers.CharField(source="line.line_type", read_only=True)
    description = serializers.CharField(source="line.description", read_only=True)
    product = serializers.IntegerField(source="line.product_id", read_only=True, allow_null=True)
    product_code = serializers.CharField(source="line.product.code", read_only=True, default=None)
    order = serializers.IntegerField(source="order.pk", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    order_date = serializers.DateField(source="order.order_date", read_only=True)
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    list_amount = money(source="line.list_amount")
    discount_amount = money(source="line.discount_amount")
    net_amount = money(source="line.net_amount")
    cost_amount = money(source="line.cost_amount")
    discount_pct = money(allow_null=True)
    margin_pct = money(allow_null=True)
    policy = serializers.CharField(read_only=True, allow_null=True, help_text=gettext_lazy(
        "the policy that applies to the account"))  # fmt: skip
    why = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=gettext_lazy(
        "the policy limits the line breaks"))  # fmt: skip


class FlaggedLinesSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    rows = FlaggedLineSerializer(many=True, read_only=True)
    more = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "more lines than the 500 shown"))  # fmt: skip


class ConcessionsReportApi(APIView):
    """Concessions granted in the period (by effective date), grouped `by` account, kind,
    approver (who gave the final approval; those granted within policy as one row), month or
    requester, with their count and value."""

    permission_classes = PROFITABILITY

    @extend_schema(
        operation_id="profitability_report_concessions",
        parameters=[*PERIOD, OpenApiParameter("by", str, enum=list(REPORT_GROUPINGS),
                                              description="account (default)")],
        responses=ConcessionsReportSerializer,
    )  # fmt: skip
    def get(self, request):
        report = concessions_report(actor=request.user, filters=request.query_params)
        return Response(ConcessionsReportSerializer(report).data)


class OverPolicyReportApi(APIView):
    """Accounts whose concessions of the period add up to more than their policy allows
    (free hours and visits, goodwill parts, penalties waived), and contacts whose gifts
    exceed the per-contact limit."""

    permission_classes = PROFITABILITY

    @extend_schema(operation_id="profitability_report_over_policy", parameters=PERIOD,
                   responses=OverPolicySerializer)  # fmt: skip
    def get(self, request):
        return Response(
            OverPolicySerializer(
                over_policy_accounts(actor=request.user, filters=request.query_params)
            ).data
        )


class BelowFloorReportApi(APIView):
    """Accounts with revenue whose gross margin or margin after the cost to serve in the
    period is below their policy's floor, lowest margin first."""

    permission_classes = PROFITABILITY

    @extend_schema(operation_id="profitability_report_below_floor",
                   parameters=[*PERIOD, *ACCOUNT_FILTERS], responses=BelowFloorSerializer)  # fmt: skip
    def get(self, request):
        return Response(
            BelowFloorSerializer(
                below_floor_accounts(actor=request.user, filters=request.query_params)
            ).data
        )


class FlaggedLinesReportApi(APIView):
    """Product and service lines of the period whose discount is above the policy's maximum
    or whose margin is below the line floor, on orders without a granted discount concession
    for that order number (flagged, not blocked), newest first; at most 500."""

    permission_classes = PROFITABILITY

    @extend_schema(
        operation_id="profitability_report_flagged_lines",
        parameters=[*PERIOD, *ACCOUNT_FILTERS,
                    OpenApiParameter("account", int, description="only this account's orders")],
        responses=FlaggedLinesSerializer,
    )  # fmt: skip
    def get(self, request):
        account = _account_param(request)
        report = flagged_order_lines(
            actor=request.user, filters=request.query_params, account=account
        )
        return Response(FlaggedLinesSerializer(report).data)


# --- cost rates ------------------------------------------------------------------------------


class CostRateSerializer(serializers.ModelSerializer):
    created_by_name = NameField(source="created_by")
    withdrawable = serializers.SerializerMethodField(help_text=gettext_lazy(
        "not in effect yet, so it may still be withdrawn"))  # fmt: skip

    class Meta:
        model = CostRate
        fields = ["id", "driver", "valid_from", "rate", "pool_cost", "capacity", "note",
                  "created_by", "created_by_name", "created_at", "withdrawable"]  # fmt: skip
        read_only_fields = fields

    def get_withdrawable(self, rate) -> bool:
        from django.utils import timezone

        return rate.valid_from > timezone.localdate()


class CostRateInputSerializer(serializers.Serializer):
    """Shapes input only; the rules (the rate or the pool and its capacity, after the
    driver's latest rate) are the service's."""

    driver = serializers.ChoiceField(choices=CostDriver.choices)
    valid_from = serializers.DateField()
    rate = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    pool_cost = serializers.DecimalField(max_digits=16, decimal_places=2, required=False, allow_null=True,
                                         help_text=gettext_lazy("the yearly cost of the resource pool"))  # fmt: skip
    capacity = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True,
                                        help_text=gettext_lazy("its practical capacity (hours, visits or tickets)"))  # fmt: skip
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CostRateListApi(generics.ListAPIView):
    """The activity-based cost rates (作业成本费率) with their history, per driver, newest
    first (`driver` for one). POST (administrators) adds a rate from a day after the
    driver's latest one: the rate, or the pool's cost and its practical capacity (the rate is
    then their quotient); past periods keep the rates they were costed with."""

    permission_classes = ADMIN_WRITES
    serializer_class = CostRateSerializer

    @extend_schema(parameters=[OpenApiParameter("driver", str, enum=CostDriver.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return CostRate.objects.none()
        return cost_rate_list(
            actor=self.request.user, driver=self.request.query_params.get("driver")
        )

    @extend_schema(request=CostRateInputSerializer, responses={201: CostRateSerializer})
    def post(self, request):
        serializer = CostRateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate = cost_rate_create(actor=request.user, **serializer.validated_data)
        rate = cost_rate_list(actor=request.user).get(pk=rate.pk)
        return Response(CostRateSerializer(rate).data, status=status.HTTP_201_CREATED)


class CostRateDetailApi(APIView):
    """One rate; DELETE (administrators) withdraws a rate not in effect yet (one in effect
    stays, for the record: a 400)."""

    permission_classes = ADMIN_WRITES

    @extend_schema(responses=CostRateSerializer)
    def get(self, request, pk: int):
        return Response(CostRateSerializer(cost_rate_list(actor=request.user).get(pk=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        cost_rate_withdraw(actor=request.user, rate=cost_rate_list(actor=request.user).get(pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- concession policies and thresholds ---------------------------------------------------


class ConcessionPolicySerializer(serializers.ModelSerializer):
    # empty: any tier or type (the default policy has both empty)
    tier = serializers.ChoiceField(choices=AccountTier.choices, allow_blank=True, read_only=True,
                                   help_text=gettext_lazy("empty: any tier"))  # fmt: skip
    account_type = serializers.ChoiceField(choices=AccountType.choices, allow_blank=True,
                                           read_only=True, help_text=gettext_lazy("empty: any type"))  # fmt: skip

    class Meta:
        model = ConcessionPolicy
        fields = ["id", "name", "tier", "account_type", "max_discount_pct", "min_line_margin_pct",
                  "min_period_margin_pct", "min_contribution_margin_pct", "max_free_service_hours",
                  "max_free_visits", "max_goodwill_parts_value", "max_extended_warranty_months",
                  "max_penalty_waiver_value", "gift_limit_per_contact", "is_active", "lock_version",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields


def _pct(**kwargs):
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, **kwargs
    )


def _amount(**kwargs):
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, **kwargs
    )


class ConcessionPolicyInputSerializer(serializers.Serializer):
    """Shapes input only (null: no limit); the ranges and the one policy per tier and type
    are checked by the model and the service."""

    name = serializers.CharField(max_length=100)
    tier = serializers.ChoiceField(choices=AccountTier.choices, required=False, allow_blank=True,
                                   help_text=gettext_lazy("empty: any tier"))  # fmt: skip
    account_type = serializers.ChoiceField(choices=AccountType.choices, required=False, allow_blank=True,
                                           help_text=gettext_lazy("empty: any type"))  # fmt: skip
    max_discount_pct = _pct()
    min_line_margin_pct = _pct()
    min_period_margin_pct = _pct()
    min_contribution_margin_pct = _pct()
    max_free_service_hours = serializers.DecimalField(max_digits=8, decimal_places=2, required=False,
                                                      allow_null=True)  # fmt: skip
    max_free_visits = serializers.IntegerField(required=False, allow_null=True)
    max_goodwill_parts_value = _amount()
    max_extended_warranty_months = serializers.IntegerField(required=False, allow_null=True)
    max_penalty_waiver_value = _amount()
    gift_limit_per_contact = _amount()
    is_active = serializers.BooleanField(required=False)


class ConcessionPolicyUpdateSerializer(ConcessionPolicyInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    lock_version = serializers.IntegerField(help_text=gettext_lazy(
        "the edit version you read; a stale one is a 409 and nothing is saved"))  # fmt: skip


class ConcessionPolicyListApi(generics.ListAPIView):
    """The concession policies (优惠政策): how far concessions may go per tier and account
    type (the most specific active one applies; an empty limit is no limit). POST
    (administrators) adds one; one policy per tier and type (a 400 otherwise)."""

    permission_classes = ADMIN_WRITES
    serializer_class = ConcessionPolicySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return ConcessionPolicy.objects.none()
        return policy_list(actor=self.request.user)

    @extend_schema(
        request=ConcessionPolicyInputSerializer, responses={201: ConcessionPolicySerializer}
    )
    def post(self, request):
        serializer = ConcessionPolicyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = policy_create(actor=request.user, data=serializer.validated_data)
        return Response(ConcessionPolicySerializer(policy_list(actor=request.user).get(pk=policy.pk)).data,
                        status=status.HTTP_201_CREATED)  # fmt: skip


class ConcessionPolicyDetailApi(APIView):
    """One policy; PATCH (administrators, with the `lock_version` read) changes it, DELETE
    removes it. Concessions already decided keep the policy check they were decided on."""

    permission_classes = ADMIN_WRITES

    def _get(self, request, pk: int) -> ConcessionPolicy:
        return policy_list(actor=request.user).get(pk=pk)

    @extend_schema(responses=ConcessionPolicySerializer)
    def get(self, request, pk: int):
        return Response(ConcessionPolicySerializer(self._get(request, pk)).data)

    @extend_schema(request=ConcessionPolicyUpdateSerializer, responses=ConcessionPolicySerializer)
    def patch(self, request, pk: int):
        policy = self._get(request, pk)
        serializer = ConcessionPolicyUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        policy = policy_update(
            actor=request.user, policy=policy, data=data, lock_version=lock_version
        )
        return Response(ConcessionPolicySerializer(self._get(request, policy.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        policy_delete(actor=request.user, policy=self._get(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThresholdsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProfitabilitySettings
        fields = ["service_manager_above", "executive_above", "service_manager_share",
                  "executive_share", "lock_version"]  # fmt: skip
        read_only_fields = fields


class ThresholdsInputSerializer(serializers.Serializer):
    """Shapes input only (leave a field out to keep it); the ranges and their order are
    checked by the model."""

    service_manager_above = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False
    )
    executive_above = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    service_manager_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    executive_share = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    lock_version = serializers.IntegerField(help_text=gettext_lazy(
        "the edit version you read; a stale one is a 409 and nothing is saved"))  # fmt: skip


class ThresholdsApi(APIView):
    """The approval chain's thresholds: a concession beyond its policy goes to the key
    account manager; above `service_manager_above` (or `service_manager_share` % of the
    account's contribution) also to a service manager; above `executive_above` (or
    `executive_share` %, or when it would turn the contribution negative) also to an
    executive. PATCH: administrators, with the `lock_version` read."""

    permission_classes = ADMIN_WRITES

    @extend_schema(operation_id="concession_thresholds_retrieve", responses=ThresholdsSerializer)
    def get(self, request):
        return Response(ThresholdsSerializer(profitability_settings_get()).data)

    @extend_schema(operation_id="concession_thresholds_update", request=ThresholdsInputSerializer,
                   responses=ThresholdsSerializer)  # fmt: skip
    def patch(self, request):
        serializer = ThresholdsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        row = profitability_settings_update(
            actor=request.user, data=data, lock_version=lock_version
        )
        return Response(ThresholdsSerializer(row).data)
