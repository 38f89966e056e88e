"""API of the account types (大客户分类): the accounts with their type and latest suggestion,
one account's type with its assessments and data signals, assessing (the questionnaire) and
confirming a type, and the service strategies. Reads are for those who may see orders (key
account managers: their own accounts); assessing and confirming for who may change the
account (its key account manager, administrators); strategies are changed by
administrators."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.accounts.choices import AccountType
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.insights import account_types as services
from keycare.insights.account_type_selectors import (
    account_type_assessment_get,
    account_type_assessments,
    account_type_get,
    account_type_overview,
    account_type_signals,
    account_types_visible,
    assessment_data,
    service_strategy_get,
    service_strategy_list,
    strategy_data,
)
from keycare.users.choices import Role

QUESTION_KEYS = ", ".join(services.QUESTION_KEYS)


def _require_types(request) -> None:
    if not account_types_visible(request.user):
        raise PermissionDenied()


def _account(request, pk: int) -> Account:
    try:
        return account_get(actor=request.user, pk=pk)
    except Account.DoesNotExist:
        raise NotFound() from None


def _ensure_metrics() -> None:
    """The trailing twelve months the signals read, computed if they never have been."""
    from keycare.insights.metrics import metrics_ensure, trailing_twelve_months

    start, end = trailing_twelve_months()
    metrics_ensure(start=start, end=end)


class AccountTypesApi(APIView):
    """The visible accounts with their current type, latest suggested type and whether it
    is confirmed, and the number of accounts per type (and without one)."""

    @extend_schema(
        operation_id="insights_types_list",
        parameters=[
            OpenApiParameter("type", str, enum=[*AccountType.values, "none"],
                             description="only accounts of this current type (none: no type yet)"),
            OpenApiParameter("pending", bool,
                             description="only accounts whose latest assessment awaits confirmation"),
        ],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        _require_types(request)
        return Response(account_type_overview(actor=request.user, filters=request.query_params))


def _detail(request, account: Account) -> dict:
    typed = account_type_get(actor=request.user, account=account)
    strategy = typed["strategy"]
    return {
        "account": account.pk,
        "name": account.name,
        "account_type": typed["account_type"],
        "label": typed["label"],
        "set_by_hand": typed["set_by_hand"],
        "confirmation": assessment_data(typed["confirmation"]) if typed["confirmation"] else None,
        "pending": assessment_data(typed["pending"]) if typed["pending"] else None,
        "strategy": strategy_data(strategy) if strategy else None,
        "data": account_type_signals(actor=request.user, account=account),
        "assessments": [assessment_data(a) for a in
                        account_type_assessments(actor=request.user, account=account)],
    }  # fmt: skip


class AccountTypeApi(APIView):
    """One account's type: the confirmation (who, when, why), an assessment awaiting
    confirmation, the type's service strategy, the data signals of the trailing twelve
    months with the points the data rules give, and every assessment, newest first."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        _require_types(request)
        account = _account(request, pk)
        _ensure_metrics()
        return Response(_detail(request, account))


class AssessSerializer(serializers.Serializer):
    answers = serializers.DictField(
        help_text=f"question key → 1 (not at all) … 5 (fully), every question answered: "
        f"{QUESTION_KEYS}"
    )


class AccountTypeAssessApi(APIView):
    """Assess an account: the questionnaire answers with the data signals of the trailing
    twelve months give points per type (each explained) and a suggested type, which a
    person then confirms. The account's type does not change yet."""

    @extend_schema(request=AssessSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        _require_types(request)
        account = _account(request, pk)
        serializer = AssessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assessment = services.account_type_assess(
            actor=request.user, account=account, answers=serializer.validated_data["answers"]
        )
        return Response(assessment_data(assessment), status=status.HTTP_201_CREATED)


class ConfirmSerializer(serializers.Serializer):
    account_type = serializers.CharField(
        help_text="intrinsic, extrinsic or strategic (any of them, not only the suggested)"
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="required when the type differs from the suggested one (at most 300 characters)",
    )  # fmt: skip


class AssessmentConfirmApi(APIView):
    """Confirm the type from an account's latest assessment (the suggestion or another type,
    then with a reason): writes the account's type."""

    @extend_schema(request=ConfirmSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        _require_types(request)
        try:
            assessment = account_type_assessment_get(actor=request.user, pk=pk)
        except ObjectDoesNotExist:
            raise NotFound() from None
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assessment = services.account_type_confirm(
            actor=request.user, assessment=assessment, **serializer.validated_data
        )
        return Response(assessment_data(assessment))


class ServiceStrategiesApi(APIView):
    """The service strategy of each account type (summary and practices, English and
    Chinese; `summary_text` and `practice_list` in the request's language)."""

    @extend_schema(operation_id="insights_service_strategies_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        _require_types(request)
        return Response([strategy_data(s) for s in service_strategy_list(actor=request.user)])


class StrategySerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True)
    summary_zh = serializers.CharField(required=False, allow_blank=True)
    practices = serializers.CharField(required=False, allow_blank=True,
                                      help_text="one practice per line")  # fmt: skip
    practices_zh = serializers.CharField(required=False, allow_blank=True,
                                         help_text="one practice per line")  # fmt: skip
    lock_version = serializers.IntegerField(
        help_text="the lock_version read; a stale one is a 409 and nothing is saved"
    )


class ServiceStrategyApi(APIView):
    """One type's service strategy; PATCH changes it (administrators)."""

    def _get(self, request, account_type: str):
        _require_types(request)
        try:
            return service_strategy_get(actor=request.user, account_type=account_type)
        except ObjectDoesNotExist:
            raise NotFound() from None

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, account_type: str):
        return Response(strategy_data(self._get(request, account_type)))

    @extend_schema(request=StrategySerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request, account_type: str):
        strategy = self._get(request, account_type)
        if not request.user.has_role(Role.ADMINISTRATOR):  # before looking at the input
            raise PermissionDenied()
        serializer = StrategySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        strategy = services.service_strategy_update(
            actor=request.user, strategy=strategy, data=data, lock_version=lock_version
        )
        return Response(strategy_data(strategy))
