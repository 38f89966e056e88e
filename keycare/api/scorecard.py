"""API of the value scorecard: the ranking with explanations, one account's explanation and
judgements, the single-metric and big-order comparisons, key account designation, and the
scorecard configuration (versions, criteria, qualitative criteria). Reads are for those who
may see orders (key account managers: their own accounts); configuration for
administrators; designation for executives and administrators."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.insights import scorecard as services
from keycare.insights.models import QualitativeCriterion, Scorecard
from keycare.insights.scorecard_selectors import (
    account_score_get,
    big_order_analysis,
    criterion_rows,
    key_account_overview,
    scorecard_ranking,
    single_metric_analysis,
)
from keycare.insights.selectors import insights_period

from .insights import PERIOD, _require_insights

SCORECARD = OpenApiParameter(
    "scorecard", int, description="a published version's id (default: the one in use)"
)


def _account(request, pk: int) -> Account:
    try:
        return account_get(actor=request.user, pk=pk)
    except Account.DoesNotExist:
        raise NotFound() from None


def _scorecard(pk: int) -> Scorecard:
    try:
        return Scorecard.objects.get(pk=pk)
    except Scorecard.DoesNotExist:
        raise NotFound() from None


def _version(scorecard: Scorecard) -> dict:
    return {"id": scorecard.pk, "name": scorecard.name, "version": scorecard.version,
            "status": scorecard.status, "grade_a": float(scorecard.grade_a),
            "grade_b": float(scorecard.grade_b), "proposals": scorecard.proposals,
            "notes": scorecard.notes, "lock_version": scorecard.lock_version,
            "published_at": scorecard.published_at.isoformat() if scorecard.published_at else None,
            "criteria": criterion_rows(scorecard)}  # fmt: skip


class ScorecardRankingApi(APIView):
    """The value scorecard (客户价值计分卡): every visible account's score (0–100), grade and
    rank for the period, each explained criterion by criterion (raw value, points, weight,
    weighted points)."""

    @extend_schema(
        parameters=[*PERIOD, SCORECARD,
                    OpenApiParameter("grade", str, enum=["A", "B", "C"], description="one grade")],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        _require_insights(request)
        return Response(scorecard_ranking(actor=request.user, filters=request.query_params))


class AccountScoreApi(APIView):
    """One account's score explained (404 when it has none for the period)."""

    @extend_schema(
        operation_id="insights_account_score", parameters=[*PERIOD, SCORECARD],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request, pk: int):
        _require_insights(request)
        explained = account_score_get(
            actor=request.user, account=_account(request, pk), filters=request.query_params
        )
        if explained is None:
            raise NotFound()
        return Response(explained)


class JudgementsSerializer(serializers.Serializer):
    scores = serializers.DictField(
        child=serializers.IntegerField(allow_null=True, min_value=1, max_value=10),
        help_text="criterion key → 1–10, or null to clear",
    )
    notes = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=300),
                                  required=False)  # fmt: skip


class JudgementsApi(APIView):
    """The account team's 1–10 judgements of an account's qualitative criteria."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        _require_insights(request, metrics=False)
        account = _account(request, pk)
        return Response({
            s.criterion.key: {"score": s.score, "note": s.note, "scored_at": s.scored_at.isoformat(),
                              "scored_by": str(s.scored_by or "")}
            for s in account.qualitative_scores.select_related("criterion", "scored_by")
        })  # fmt: skip

    @extend_schema(request=JudgementsSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, pk: int):
        _require_insights(request, metrics=False)
        account = _account(request, pk)
        serializer = JudgementsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.qualitative_scores_set(
            actor=request.user, account=account, scores=serializer.validated_data["scores"],
            notes=serializer.validated_data.get("notes"),
        )  # fmt: skip
        return self.get(request, pk)


class SingleMetricApi(APIView):
    """Ranking by one metric alone (单一指标) against the scorecard: Spearman's rank
    correlation and the accounts it misjudges (overrated / overlooked)."""

    @extend_schema(
        parameters=[*PERIOD, SCORECARD,
                    OpenApiParameter("metric", str, enum=list(services.METRICS),
                                     description="the metric (revenue)")],
        responses=OpenApiTypes.OBJECT,
    )  # fmt: skip
    def get(self, request):
        _require_insights(request)
        return Response(single_metric_analysis(actor=request.user, filters=request.query_params))


class BigOrderApi(APIView):
    """ "A big order is not a big account" (误区3): largest order against value."""

    @extend_schema(parameters=[*PERIOD, SCORECARD], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        _require_insights(request)
        return Response(big_order_analysis(actor=request.user, filters=request.query_params))


class DesignationSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    reason = serializers.CharField(max_length=300)
    period_from = serializers.DateField(
        required=False, help_text="the scores' period (default: the last twelve months)"
    )
    period_to = serializers.DateField(required=False)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class KeyAccountsApi(APIView):
    """Key accounts (大客户) with their current score, the scorecard's proposals and the
    record of decisions; POST designates one (executives and administrators)."""

    @extend_schema(parameters=[*PERIOD, SCORECARD], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        _require_insights(request)
        return Response(key_account_overview(actor=request.user, filters=request.query_params))

    @extend_schema(request=DesignationSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        _require_insights(request)
        serializer = DesignationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        account = _account(request, data["account"])
        start, end = insights_period(
            {k: data[k].isoformat() for k in ("period_from", "period_to") if k in data}
        )
        key = services.key_account_designate(
            actor=request.user, account=account, reason=data["reason"], start=start, end=end
        )
        return Response(
            {"account": key.account_id, "reason": key.reason, "by_hand": key.by_hand,
             "score": float(key.score) if key.score is not None else None},
            status=status.HTTP_201_CREATED,
        )  # fmt: skip


class KeyAccountRemoveApi(APIView):
    """An account is no longer a key account (with the reason)."""

    @extend_schema(request=ReasonSerializer, responses={204: None})
    def post(self, request, pk: int):
        _require_insights(request, metrics=False)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.key_account_remove(actor=request.user, account=_account(request, pk),
                                    reason=serializer.validated_data["reason"])  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


class CriterionInputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='a metric, or "q:<qualitative key>"')
    weight = serializers.DecimalField(max_digits=5, decimal_places=2)
    normalisation = serializers.ChoiceField(choices=["minmax", "percentile", "thresholds", "range"])
    higher_is_better = serializers.BooleanField(required=False, allow_null=True, default=None)
    parameters = serializers.JSONField(required=False, default=list,
                                       help_text="thresholds [[bound, points], …]; range [low, high]")  # fmt: skip


class ScorecardInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    grade_a = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    grade_b = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
    proposals = serializers.IntegerField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    criteria = CriterionInputSerializer(many=True, required=False)
    lock_version = serializers.IntegerField(required=False)


class ScorecardListApi(APIView):
    """Every version of the scorecard with its criteria; POST opens the draft (a copy of the
    newest version, or the existing draft) for administrators."""

    @extend_schema(operation_id="insights_scorecards_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        _require_insights(request, metrics=False)
        versions = Scorecard.objects.prefetch_related("criteria__qualitative")
        return Response([_version(v) for v in versions])

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        _require_insights(request, metrics=False)
        draft = services.scorecard_draft(actor=request.user)
        return Response(_version(draft), status=status.HTTP_201_CREATED)


class ScorecardDetailApi(APIView):
    """One version; PATCH changes a draft (criteria replace the list; weights sum to 100;
    `lock_version` guards against overwriting someone else's edit)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk: int):
        _require_insights(request, metrics=False)
        return Response(_version(_scorecard(pk)))

    @extend_schema(request=ScorecardInputSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request, pk: int):
        _require_insights(request, metrics=False)
        scorecard = _scorecard(pk)
        serializer = ScorecardInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        criteria = data.pop("criteria", None)
        lock_version = data.pop("lock_version", None)
        scorecard = services.scorecard_update(
            actor=request.user, scorecard=scorecard, data=data, criteria=criteria,
            lock_version=lock_version,
        )  # fmt: skip
        return Response(_version(scorecard))


class ScorecardPublishApi(APIView):
    """Publish a draft: it becomes the version in use; the previous one is retired."""

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, pk: int):
        _require_insights(request, metrics=False)
        scorecard = _scorecard(pk)
        return Response(
            _version(services.scorecard_publish(actor=request.user, scorecard=scorecard))
        )


class QualitativeCriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualitativeCriterion
        fields = ["key", "name", "name_zh", "guidance", "guidance_zh"]


class QualitativeCriteriaApi(APIView):
    """The judgements the account teams score 1–10; administrators add new ones."""

    @extend_schema(responses=QualitativeCriterionSerializer(many=True))
    def get(self, request):
        _require_insights(request, metrics=False)
        return Response(
            QualitativeCriterionSerializer(QualitativeCriterion.objects.all(), many=True).data
        )

    @extend_schema(
        request=QualitativeCriterionSerializer, responses={201: QualitativeCriterionSerializer}
    )
    def post(self, request):
        _require_insights(request, metrics=False)
        serializer = QualitativeCriterionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        criterion = services.qualitative_criterion_create(
            actor=request.user, **serializer.validated_data
        )
        return Response(
            QualitativeCriterionSerializer(criterion).data, status=status.HTTP_201_CREATED
        )
