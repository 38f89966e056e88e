"""API of concession requests (优惠申请): the lists (all the user sees, their own, their
approval queue), the profit simulation before asking, submitting, one request with its
approval chain and events, and the decisions (approve, reject, withdraw).

Who: key account managers, service managers, executives and administrators (service
engineers and portal users take no part: a 403). Requesters see their own requests,
approvers their queue, executives and administrators all; a request the user does not see
is a 404. The services decide who may decide which step (nobody their own request)."""

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from keycare.accounts.models import Account
from keycare.profitability.choices import (
    ApprovalLevel,
    ConcessionKind,
    ConcessionStatus,
    StepStatus,
)
from keycare.profitability.concessions import (
    REQUEST_ROLES,
    breach_text,
    concession_approve,
    concession_reject,
    concession_simulate,
    concession_submit,
    concession_withdraw,
    may_decide,
    note_text,
)
from keycare.profitability.filters import ConcessionFilterSet
from keycare.profitability.models import Concession, ConcessionEvent, ConcessionStep
from keycare.profitability.selectors import BOXES, concession_get, concession_list

from .mixins import NameField, SchemaOnlyFilterBackend
from .profitability import number


class TakesPartInConcessions(permissions.BasePermission):
    """Those who may request or decide concessions; others are refused before any input is
    read or any row looked up."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and user.has_role(*REQUEST_ROLES)


# --- output ----------------------------------------------------------------------------------


class SimulationFiguresSerializer(serializers.Serializer):
    revenue = number()
    discounts = number()
    gross_profit = number()
    gross_margin = number(allow_null=True)
    cost_to_serve = number()
    contribution = number()
    contribution_margin = number(allow_null=True)


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class BreachSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text=gettext_lazy("the policy's limit"))
    limit = number()
    value = number(help_text=gettext_lazy("the value the concession would reach"))
    message = serializers.SerializerMethodField(help_text=gettext_lazy(
        "the breach in the reader's language"))  # fmt: skip

    def get_message(self, breach) -> str:
        # rebuilt for each reader: the stored one is in the requester's language
        return breach_text(breach["code"], breach.get("limit"), breach.get("value"))


class SimulationNoteSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    message = serializers.SerializerMethodField()

    def get_message(self, note) -> str:  # in the reader's language
        return note_text(note["code"], note.get("day"))


class SimulationSerializer(serializers.Serializer):
    """The profit simulation (测算利润空间) of the trailing twelve months."""

    period = serializers.ListField(child=serializers.DateField(), read_only=True,
                                   help_text=gettext_lazy("first and last day"))  # fmt: skip
    amount = number(help_text=gettext_lazy("the concession's value"))
    before = SimulationFiguresSerializer(read_only=True)
    after = SimulationFiguresSerializer(read_only=True)
    policy = PolicyRefSerializer(read_only=True, allow_null=True)
    granted_so_far = serializers.DictField(child=number(), read_only=True, help_text=gettext_lazy(
        "what the account (or, for a gift, the contact) was already granted in the period"))  # fmt: skip
    breaches = BreachSerializer(many=True, read_only=True)
    notes = SimulationNoteSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "how the P&L will count it where that differs from the simulation"))  # fmt: skip
    within_policy = serializers.BooleanField(read_only=True)
    chain = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=gettext_lazy(
        "the approval levels it would need, lowest first (none within policy)"))  # fmt: skip


class ConcessionStepSerializer(serializers.ModelSerializer):
    decided_by_name = NameField(source="decided_by")

    class Meta:
        model = ConcessionStep
        fields = [
            "position",
            "level",
            "status",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields


class ConcessionEventSerializer(serializers.ModelSerializer):
    actor_name = NameField(source="actor")
    level = serializers.ChoiceField(choices=ApprovalLevel.choices, allow_blank=True, read_only=True,
                                    help_text=gettext_lazy("the step decided; empty for the others"))  # fmt: skip

    class Meta:
        model = ConcessionEvent
        fields = ["kind", "actor", "actor_name", "at", "level", "comment", "data"]
        read_only_fields = fields


class ConcessionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.__str__", read_only=True)
    contact_name = NameField(source="contact.name", default=None)
    breaches = BreachSerializer(many=True, read_only=True)
    steps = ConcessionStepSerializer(many=True, read_only=True)

    class Meta:
        model = Concession
        fields = [
            "id", "number", "account", "account_name", "kind", "kind_label", "status",
            "status_label", "requested_by", "requested_by_name", "requested_at", "effective_date",
            "reason", "amount", "order_reference", "list_amount", "cost_amount", "discount_pct",
            "hours", "visits", "months", "contact", "contact_name", "ticket", "equipment",
            "policy", "within_policy", "breaches", "current_step", "decided_at", "version", "steps",
        ]  # fmt: skip
        read_only_fields = fields


class ConcessionActionsSerializer(serializers.Serializer):
    approve = serializers.BooleanField(read_only=True)
    reject = serializers.BooleanField(read_only=True)
    withdraw = serializers.BooleanField(read_only=True)


class ConcessionDetailSerializer(ConcessionSerializer):
    policy_name = NameField(source="policy.name", default=None)
    ticket_number = NameField(source="ticket.number", default=None)
    equipment_name = NameField(source="equipment")
    simulation = SimulationSerializer(read_only=True, help_text=gettext_lazy(
        "the simulation and policy check it was submitted on"))  # fmt: skip
    events = ConcessionEventSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField(help_text=gettext_lazy(
        "what the user may do with it now"))  # fmt: skip

    class Meta(ConcessionSerializer.Meta):
        fields = [*ConcessionSerializer.Meta.fields, "policy_name", "ticket_number",
                  "equipment_name", "simulation", "events", "actions"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ConcessionActionsSerializer)
    def get_actions(self, concession) -> dict:
        user = self.context["request"].user
        pending = concession.status == ConcessionStatus.PENDING
        step = next((s for s in concession.steps.all() if s.status == StepStatus.WAITING), None)
        decide = pending and step is not None and may_decide(user, concession, step)
        return {"approve": decide, "reject": decide,
                "withdraw": pending and concession.requested_by_id == user.pk}  # fmt: skip


# --- input -----------------------------------------------------------------------------------


def _decimal(help_text=None) -> serializers.DecimalField:
    # the ranges are the service's (per kind, in the user's language)
    return serializers.DecimalField(max_digits=16, decimal_places=2, required=False,
                                    allow_null=True, help_text=help_text)  # fmt: skip


def _integer(help_text=None) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, help_text=help_text)


def _id(help_text=None) -> serializers.IntegerField:
    # an id a database column holds: anything larger is a 400, never the driver's overflow
    return serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                    max_value=2**63 - 1, help_text=help_text)  # fmt: skip


class ConcessionInputSerializer(serializers.Serializer):
    """Shapes input only; what each kind needs, its value and the policy check are the
    service's. Discount: list_amount, discount_pct, cost_amount (order_reference);
    free_service: hours and/or visits; extended_warranty: months, amount, equipment;
    goodwill_parts, sla_penalty_waiver: amount; gift: amount, contact. Only the kind's
    fields are read."""

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    kind = serializers.ChoiceField(choices=ConcessionKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    effective_date = serializers.DateField(required=False, allow_null=True, help_text=gettext_lazy(
        "default: today; from 90 days ago to a year ahead"))  # fmt: skip
    order_reference = serializers.CharField(max_length=40, required=False, allow_blank=True,
                                            help_text=gettext_lazy("the quote or order number"))  # fmt: skip
    list_amount = _decimal(gettext_lazy("the list value the discount is on"))
    discount_pct = _decimal()
    cost_amount = _decimal(gettext_lazy(
        "the standard cost, to check the line margin (required for a discount)"))  # fmt: skip
    hours = _decimal(gettext_lazy("free service hours"))
    visits = _integer(gettext_lazy("free visits"))
    months = _integer(gettext_lazy("months of extended warranty"))
    amount = _decimal(gettext_lazy("the value (every kind but a discount and free service)"))
    contact = _id(gettext_lazy("who receives the gift (a contact of the account)"))
    ticket = _id(gettext_lazy("a ticket of the account"))
    equipment = _id(gettext_lazy(
        "equipment of the account (required for an extended warranty)"))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            # an account the user does not see is not a valid choice
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


#: The longest decision comment (the web form holds the same limit).
COMMENT_MAX = 2000


class DecisionSerializer(serializers.Serializer):
    """Approve or reject: at the version read."""

    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=COMMENT_MAX,
                                    help_text=gettext_lazy("required to reject"))  # fmt: skip
    version = serializers.IntegerField(help_text=gettext_lazy(
        "the version you read; a stale one is a 409 and nothing changes"))  # fmt: skip


class WithdrawSerializer(DecisionSerializer):
    """Withdraw: the version read is optional."""

    comment = serializers.CharField(required=False, allow_blank=True, default="",
                                    max_length=COMMENT_MAX)  # fmt: skip
    version = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy(
        "the version you read (optional); a stale one is a 409 and nothing changes"))  # fmt: skip


# --- the resource ----------------------------------------------------------------------------


class ConcessionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Concession requests. List: `box` (all the user sees, mine, inbox: waiting for a
    decision the user may take) and the filters status, kind, account, requested_by,
    within_policy, period_from, period_to (effective date), q (number, account, order
    reference), ordering (requested_at, amount, effective_date, number; `-` descending).
    Within policy a request is granted at once; beyond it, it waits for each step of its
    approval chain."""

    permission_classes = [TakesPartInConcessions]
    serializer_class = ConcessionSerializer
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = ConcessionFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Concession]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Concession.objects.none()
        params = self.request.query_params
        return concession_list(
            actor=self.request.user, filters=params, box=params.get("box") or "all"
        )

    def _get(self, pk) -> Concession:
        return concession_get(actor=self.request.user, pk=int(pk))  # not seen: a 404

    def _detail(self, pk, *, status_code: int = status.HTTP_200_OK) -> Response:
        serializer = ConcessionDetailSerializer(
            self._get(pk), context=self.get_serializer_context()
        )
        return Response(serializer.data, status=status_code)

    def _input(self, request) -> tuple[Account, str, dict]:
        serializer = ConcessionInputSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = {k: v for k, v in serializer.validated_data.items() if v is not None}
        return data.pop("account"), data.pop("kind"), data

    @extend_schema(
        parameters=[OpenApiParameter("box", str, enum=list(BOXES), description="all (default)")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ConcessionInputSerializer, responses={201: ConcessionDetailSerializer})
    def create(self, request):
        """Submit a request (the account row is locked, so two requests at once are checked
        against each other's grants)."""
        account, kind, data = self._input(request)
        reason = data.pop("reason", "")
        effective_date = data.pop("effective_date", None)
        concession = concession_submit(actor=request.user, account=account, kind=kind, data=data,
                                       reason=reason, effective_date=effective_date)  # fmt: skip
        return self._detail(concession.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=ConcessionInputSerializer, responses=SimulationSerializer)
    @action(detail=False, methods=["post"])
    def simulate(self, request):
        """What the request would do to the account's P&L of the trailing twelve months, the
        policy it falls under, the limits it would exceed and the approval chain it would
        need. Changes nothing."""
        account, kind, data = self._input(request)
        data.pop("reason", None)
        effective_date = data.pop("effective_date", None)
        simulation = concession_simulate(actor=request.user, account=account, kind=kind,
                                         data=data, effective_date=effective_date)  # fmt: skip
        return Response(SimulationSerializer(simulation).data)

    @extend_schema(responses=ConcessionDetailSerializer)
    def retrieve(self, request, pk=None):
        """One request with its approval steps, its events and what the user may do now."""
        return self._detail(pk)

    def _decision(self, request, pk, service, serializer_class=DecisionSerializer) -> Response:
        concession = self._get(pk)  # a 404 before anything is said about the input
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        service(actor=request.user, concession=concession, comment=serializer.validated_data["comment"],
                expected_version=serializer.validated_data.get("version"))  # fmt: skip
        return self._detail(pk)

    @extend_schema(request=DecisionSerializer, responses=ConcessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the waiting step (a level at or above it; not one's own request, not a
        second step of one request); the last approval grants the concession."""
        return self._decision(request, pk, concession_approve)

    @extend_schema(request=DecisionSerializer, responses=ConcessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject at the waiting step, saying why (`comment`); the request ends there."""
        return self._decision(request, pk, concession_reject)

    @extend_schema(request=WithdrawSerializer, responses=ConcessionDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The requester withdraws a request that is still waiting."""
        return self._decision(request, pk, concession_withdraw, WithdrawSerializer)
