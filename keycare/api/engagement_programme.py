"""API of the engagement programme: buying-centre coverage of the key accounts with the coach
paths (与关键人物互动), the playbooks with their cadences, "My week" and the executive sponsor
programme (高层互动: my sponsored accounts, the executive overdue report).

Who: the company's staff only (a customer contact gets a 403 on every endpoint). Coverage
and the reports follow the accounts (a key account manager: their own; an account they do
not see is a 404); the sponsored accounts are the actor's own; playbooks are read by all
staff and written by administrators, each change with the `lock_version` read (a stale one
is a 409 and nothing changes)."""

from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from keycare.accounts.choices import AccountTeamRole, AccountTier, AccountType, BuyingRole
from keycare.accounts.models import Account
from keycare.accounts.selectors import account_get
from keycare.engagement.choices import ActivityKind
from keycare.engagement.coverage import CoverageFilterSet, account_coverage, coverage_list
from keycare.engagement.models import Playbook
from keycare.engagement.playbooks import (
    PlaybookFilterSet,
    playbook_create,
    playbook_delete,
    playbook_list,
    playbook_service_measures,
    playbook_update,
    service_strategies,
)
from keycare.engagement.selectors.my_week import my_week
from keycare.engagement.sponsors import (
    ExecutiveOverdueFilterSet,
    executive_overdue_report,
    sponsored_accounts,
)

from .mixins import SchemaOnlyFilterBackend
from .pagination import PageNumberPagination
from .permissions import ScopedPermission


class EngagementStaff(permissions.BasePermission):
    """The company's staff; customer contacts are refused before any input is read."""

    def has_permission(self, request, view) -> bool:
        from keycare.engagement.coverage import engagement_may_view

        return engagement_may_view(request.user)


STAFF = [permissions.IsAuthenticated, EngagementStaff]


# --- shared output ---------------------------------------------------------------------------


class ProgrammeUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class StyleGuidanceTextSerializer(serializers.Serializer):
    """How to deal with a person of this decision style (风格矩阵), in the reader's language."""

    style = serializers.CharField(read_only=True)
    summary = serializers.CharField(source="summary_text", read_only=True)
    tips = serializers.ListField(source="tip_list", child=serializers.CharField(), read_only=True)


class CoachPathNodeSerializer(serializers.Serializer):
    kind = serializers.CharField(
        read_only=True, help_text=gettext_lazy('"contact" (theirs) or "colleague" (ours)')
    )
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CoachPathSerializer(serializers.Serializer):
    """The shortest way from someone we know well to a decision maker not met in the window:
    the nodes from the first person to ask to the decision maker."""

    target = serializers.IntegerField(source="target_id", read_only=True,
                                      help_text=gettext_lazy("the decision maker (contact id)"))  # fmt: skip
    nodes = CoachPathNodeSerializer(many=True, read_only=True)
    first_to_ask = CoachPathNodeSerializer(read_only=True)
    first_contact = CoachPathNodeSerializer(read_only=True, allow_null=True, help_text=gettext_lazy(
        "the first of their people on the way (whom the introduction meets); null when a "
        "colleague of ours introduced the decision maker"))  # fmt: skip
    direct = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "we know the decision maker well ourselves: meet them, no introduction needed"))  # fmt: skip


# --- coverage --------------------------------------------------------------------------------


class CoveragePersonSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact_id", read_only=True)
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    role = serializers.CharField(
        read_only=True, help_text=gettext_lazy("their buying role at this account")
    )
    role_label = serializers.CharField(read_only=True)
    relationship = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("1–5: how well we know them")
    )
    influence = serializers.IntegerField(read_only=True)
    decision_style = serializers.CharField(read_only=True)
    last_met_at = serializers.DateTimeField(source="last_touch_at", read_only=True, allow_null=True)
    met_in_window = serializers.BooleanField(read_only=True)
    met_by = ProgrammeUserSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "who of ours took part in the last activity with them (owner first)"))  # fmt: skip


class CoverageFiguresSerializer(serializers.Serializer):
    score = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "0–100: 20 a decision maker known, 30 × the share of decision makers met in the "
        "window, 15 a coach, 5 per person engaged up to 20, 15 × the share of the six "
        "buying roles covered"))  # fmt: skip
    window_days = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "a person counts as met when touched within these days"))  # fmt: skip
    engaged = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("their people met in the window")
    )
    decision_maker_known = serializers.BooleanField(read_only=True)
    decision_makers_met = serializers.IntegerField(read_only=True)
    has_coach = serializers.BooleanField(read_only=True)
    roles_covered = serializers.IntegerField(read_only=True)
    relationship_by_role = serializers.DictField(
        child=serializers.DecimalField(max_digits=3, decimal_places=1, allow_null=True),
        read_only=True, help_text=gettext_lazy("the mean relationship strength of the key persons per role"),
    )  # fmt: skip
    flags = serializers.ListField(child=serializers.CharField(), read_only=True, help_text=gettext_lazy(
        "single_threaded, none_engaged, no_decision_maker_known, uncovered_decision_makers, "
        "no_coach"))  # fmt: skip
    uncovered_decision_makers = serializers.SerializerMethodField(
        help_text=gettext_lazy("the decision makers not met in the window (contact ids)")
    )

    def get_uncovered_decision_makers(self, coverage) -> list[int]:
        return [p.contact_id for p in coverage.uncovered_decision_makers]


class StoredCoverageFiguresSerializer(CoverageFiguresSerializer):
    """The stored figures of the coverage report (`AccountCoverage`)."""

    computed_at = serializers.DateTimeField(read_only=True, help_text=gettext_lazy(
        "when these figures were computed (the report is as of then; refreshed hourly and "
        "after each activity)"))  # fmt: skip

    def get_uncovered_decision_makers(self, coverage) -> list[int]:
        return list(coverage.uncovered_decision_makers)


class CoverageSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner = serializers.IntegerField(source="account.owner_id", read_only=True, allow_null=True)
    tier = serializers.CharField(source="account.tier", read_only=True)
    account_type = serializers.CharField(source="account.account_type", read_only=True)
    coverage = CoverageFiguresSerializer(read_only=True)


class CoachPathEntrySerializer(serializers.Serializer):
    decision_maker = serializers.IntegerField(read_only=True, help_text=gettext_lazy("contact id"))
    path = CoachPathSerializer(read_only=True, allow_null=True)


class CoverageDetailFiguresSerializer(CoverageFiguresSerializer):
    people = CoveragePersonSerializer(
        many=True, read_only=True, help_text=gettext_lazy("the key persons")
    )
    coach_paths = serializers.SerializerMethodField(help_text=gettext_lazy(
        "for each decision maker not met: the coach path, or null when nobody we know "
        "reaches them"))  # fmt: skip

    @extend_schema_field(CoachPathEntrySerializer(many=True))
    def get_coach_paths(self, coverage) -> list:
        entries = [{"decision_maker": pk, "path": path} for pk, path in coverage.paths.items()]
        return CoachPathEntrySerializer(entries, many=True).data


class CoverageDetailSerializer(CoverageSerializer):
    coverage = CoverageDetailFiguresSerializer(read_only=True)


class CoverageRowSerializer(CoverageSerializer):
    coverage = StoredCoverageFiguresSerializer(read_only=True)


class CoverageListApi(generics.ListAPIView):
    """The key accounts the user sees with their buying-centre coverage, lowest score
    first. Filters: owner, tier, account_type, province, flag, below (a score)."""

    permission_classes = STAFF
    serializer_class = CoverageRowSerializer
    pagination_class = PageNumberPagination
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = CoverageFilterSet

    def get_queryset(self):  # the schema generator reads the model here
        return Account.objects.none()

    def list(self, request, *args, **kwargs):
        rows = coverage_list(actor=request.user, filters=request.query_params)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(CoverageRowSerializer(page, many=True).data)


class CoverageDetailApi(APIView):
    """One account's coverage: its key persons with when they were last met and by whom,
    and the coach path to each decision maker not met (any account the user sees)."""

    permission_classes = STAFF

    @extend_schema(responses=CoverageDetailSerializer)
    def get(self, request, pk: int):
        account = account_get(actor=request.user, pk=pk)
        coverage = account_coverage(actor=request.user, account=account)
        return Response(CoverageDetailSerializer({"account": account, "coverage": coverage}).data)


# --- playbooks -----------------------------------------------------------------------------


class PlaybookItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=ActivityKind.choices, read_only=True)
    our_role = serializers.ChoiceField(choices=AccountTeamRole.choices, read_only=True)
    their_role = serializers.CharField(
        read_only=True, help_text=gettext_lazy("a buying role; empty: any key person")
    )
    every_days = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    title_zh = serializers.CharField(read_only=True)
    how = serializers.CharField(read_only=True)
    how_zh = serializers.CharField(read_only=True)
    position = serializers.IntegerField(read_only=True)


class ServiceMeasuresSerializer(serializers.Serializer):
    summary = serializers.CharField(
        read_only=True, help_text=gettext_lazy("the type's service strategy")
    )
    practices = serializers.ListField(child=serializers.CharField(), read_only=True,
                                      help_text=gettext_lazy("the type's service strategy practices"))  # fmt: skip
    notes = serializers.ListField(child=serializers.CharField(), read_only=True,
                                  help_text=gettext_lazy("the playbook's own measures"))  # fmt: skip


class PlaybookSerializer(serializers.ModelSerializer):
    account_type = serializers.CharField(read_only=True, help_text=gettext_lazy("empty: any type"))
    tier = serializers.CharField(read_only=True, help_text=gettext_lazy("empty: any tier"))
    items = PlaybookItemSerializer(many=True, read_only=True)
    service_measures = serializers.SerializerMethodField()
    updated_by = ProgrammeUserSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Playbook
        fields = ["id", "account_type", "tier", "name", "name_zh", "notes", "notes_zh",
                  "is_active", "items", "service_measures", "lock_version", "updated_by",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ServiceMeasuresSerializer)
    def get_service_measures(self, playbook) -> dict:
        if "strategies" not in self.context:  # read once for the whole list
            self.context["strategies"] = service_strategies()
        strategies = self.context["strategies"]
        measures = playbook_service_measures(playbook, strategies=strategies)
        return ServiceMeasuresSerializer(measures).data


class PlaybookItemInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1, help_text=gettext_lazy(
        "on a change: the item kept (and changed); leave out for a new item"))  # fmt: skip
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    our_role = serializers.ChoiceField(choices=AccountTeamRole.choices,
                                       default=AccountTeamRole.KEY_ACCOUNT_MANAGER)  # fmt: skip
    their_role = serializers.ChoiceField(
        choices=[c for c in BuyingRole.choices if c[0] != BuyingRole.UNKNOWN], required=False,
        allow_blank=True, default="", help_text=gettext_lazy("empty: any key person"),
    )  # fmt: skip
    every_days = serializers.IntegerField(min_value=1, max_value=3660)
    title = serializers.CharField(max_length=200)
    title_zh = serializers.CharField(max_length=200)
    how = serializers.CharField(required=False, allow_blank=True, default="")
    how_zh = serializers.CharField(required=False, allow_blank=True, default="")
    position = serializers.IntegerField(required=False, min_value=0, max_value=32767)


class PlaybookInputSerializer(serializers.Serializer):
    """Shapes input only; the one playbook per type and tier and the items are checked by
    the service. `items` on a change replaces the playbook's items."""

    account_type = serializers.ChoiceField(choices=AccountType.choices, required=False,
                                           allow_blank=True, help_text=gettext_lazy("empty: any type"))  # fmt: skip
    tier = serializers.ChoiceField(choices=AccountTier.choices, required=False, allow_blank=True,
                                   help_text=gettext_lazy("empty: any tier"))  # fmt: skip
    name = serializers.CharField(max_length=100)
    name_zh = serializers.CharField(max_length=100)
    notes = serializers.CharField(required=False, allow_blank=True)
    notes_zh = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    items = PlaybookItemInputSerializer(many=True, required=False)


class PlaybookUpdateSerializer(PlaybookInputSerializer):
    name = serializers.CharField(max_length=100, required=False)
    name_zh = serializers.CharField(max_length=100, required=False)
    lock_version = serializers.IntegerField(min_value=0, help_text=gettext_lazy(
        "the edit version you read; a stale one is a 409 and nothing is saved"))  # fmt: skip


@extend_schema_view(
    create=extend_schema(request=PlaybookInputSerializer, responses={201: PlaybookSerializer}),
    partial_update=extend_schema(request=PlaybookUpdateSerializer, responses=PlaybookSerializer),
    destroy=extend_schema(
        parameters=[
            OpenApiParameter(
                "lock_version",
                OpenApiTypes.INT,
                description=("the edit version you read; a stale one is a 409"),
            )
        ],
        responses={204: None},
    ),
)
class PlaybookViewSet(viewsets.ModelViewSet):
    """The playbooks (all staff read them): per account type × tier, the cadences and
    recommended activities (items) and the service measures (the type's service strategy
    and the playbook's notes). Administrators create, change (PATCH with `lock_version`;
    `items` replaces the items) and remove them."""

    permission_classes = [permissions.IsAuthenticated, EngagementStaff, ScopedPermission]
    scoped_model = Playbook
    serializer_class = PlaybookSerializer
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = PlaybookFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Playbook.objects.none()
        filters = self.request.query_params if self.action == "list" else None
        return playbook_list(actor=self.request.user, filters=filters)

    def _fresh(self, playbook):
        return Response(
            self.get_serializer(playbook_list(actor=self.request.user).get(pk=playbook.pk)).data
        )

    def create(self, request, *args, **kwargs):
        serializer = PlaybookInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        items = [dict(i) for i in data.pop("items", [])]
        for item in items:
            item.pop("id", None)
        playbook = playbook_create(actor=request.user, data=data, items=items)
        response = self._fresh(playbook)
        response.status_code = status.HTTP_201_CREATED
        return response

    def partial_update(self, request, *args, **kwargs):
        playbook = self.get_object()
        serializer = PlaybookUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lock_version = data.pop("lock_version")
        items = data.pop("items", None)
        playbook = playbook_update(
            actor=request.user, playbook=playbook, data=data, lock_version=lock_version,
            items=[dict(i) for i in items] if items is not None else None,
        )  # fmt: skip
        return self._fresh(playbook)

    def destroy(self, request, *args, **kwargs):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        playbook = self.get_object()
        raw = request.query_params.get("lock_version", request.data.get("lock_version"))
        if raw in (None, ""):
            raise ValidationError({"lock_version": [
                _("The edit version is missing: reload the page and make the change again.")
            ]})  # fmt: skip
        try:
            lock_version = int(raw)
        except (TypeError, ValueError):
            raise ValidationError({"lock_version": [_("Enter a whole number.")]}) from None
        playbook_delete(actor=request.user, playbook=playbook, lock_version=lock_version)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- My week -------------------------------------------------------------------------------


class WeekActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    kind = serializers.CharField(read_only=True)
    subject = serializers.CharField(read_only=True)
    planned_at = serializers.DateTimeField(read_only=True, allow_null=True)
    owner = ProgrammeUserSerializer(read_only=True)
    contacts = serializers.SerializerMethodField()

    def get_contacts(self, activity) -> list[str]:
        return [c.name for c in activity.contacts.all()]


class WeekNextStepSerializer(serializers.Serializer):
    activity = serializers.IntegerField(source="pk", read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    subject = serializers.CharField(read_only=True)
    next_step = serializers.CharField(read_only=True)
    next_step_due = serializers.DateField(read_only=True)
    owner = ProgrammeUserSerializer(read_only=True)


class SuggestedPersonSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact_id", read_only=True)
    name = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)
    decision_style = serializers.CharField(read_only=True)
    met_in_window = serializers.BooleanField(read_only=True)
    last_met_at = serializers.DateTimeField(source="last_touch_at", read_only=True, allow_null=True)
    guidance = StyleGuidanceTextSerializer(read_only=True, allow_null=True)


class WeekCadenceSerializer(serializers.Serializer):
    """A playbook cadence due within a week or overdue: the suggested activity (whom to
    meet, how, why), or `already_planned`."""

    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    playbook_item = serializers.IntegerField(source="item.pk", read_only=True)
    kind = serializers.CharField(source="item.kind", read_only=True)
    title = serializers.CharField(source="item.title_text", read_only=True)
    how = serializers.CharField(source="item.how_text", read_only=True)
    every_days = serializers.IntegerField(source="item.every_days", read_only=True)
    last_done_at = serializers.DateTimeField(source="status.last_done_at", read_only=True,
                                             allow_null=True)  # fmt: skip
    due_on = serializers.DateField(source="status.due_on", read_only=True)
    overdue_days = serializers.IntegerField(source="status.overdue_days", read_only=True)
    responsible_user_ids = serializers.ListField(source="status.responsible_user_ids",
                                                 child=serializers.IntegerField(), read_only=True)  # fmt: skip
    already_planned = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True)
    people = SuggestedPersonSerializer(many=True, read_only=True)


class WeekUncoveredSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    contact = serializers.IntegerField(source="person.contact_id", read_only=True)
    name = serializers.CharField(source="person.name", read_only=True)
    title = serializers.CharField(source="person.title", read_only=True)
    last_met_at = serializers.DateTimeField(source="person.last_touch_at", read_only=True,
                                            allow_null=True)  # fmt: skip
    guidance = StyleGuidanceTextSerializer(read_only=True, allow_null=True)
    path = CoachPathSerializer(read_only=True, allow_null=True)
    first_guidance = StyleGuidanceTextSerializer(read_only=True, allow_null=True, help_text=gettext_lazy(
        "how to ask the first person on the path"))  # fmt: skip


class WeekReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    kind = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True, allow_null=True)
    due_on = serializers.DateField(read_only=True, allow_null=True)
    link = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class MyWeekSerializer(serializers.Serializer):
    today = serializers.DateField(read_only=True)
    week_start = serializers.DateField(read_only=True)
    week_end = serializers.DateField(read_only=True)
    window_days = serializers.IntegerField(read_only=True)
    planned = WeekActivitySerializer(many=True, read_only=True)
    overdue_next_steps = WeekNextStepSerializer(many=True, read_only=True)
    cadences = WeekCadenceSerializer(many=True, read_only=True)
    uncovered = WeekUncoveredSerializer(many=True, read_only=True)
    reminders = WeekReminderSerializer(many=True, read_only=True)


class MyWeekApi(APIView):
    """ "My week" (read only): across the accounts the user owns or is on the team of, this
    week's planned activities (Monday to Sunday), the overdue next steps, the playbook
    cadences due within a week or overdue with the suggested activity, the decision makers
    not met with the coach path to them, and the unread reminders — ordered by account
    value, highest first."""

    permission_classes = STAFF

    @extend_schema(responses=MyWeekSerializer)
    def get(self, request):
        return Response(MyWeekSerializer(my_week(actor=request.user)).data)


# --- the executive sponsor programme ------------------------------------------------------


class ServiceHealthSerializer(serializers.Serializer):
    resolved = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("in the last twelve months")
    )
    sla_compliance = serializers.FloatField(read_only=True, allow_null=True,
                                            help_text=gettext_lazy("percentage of the resolved tickets within SLA"))  # fmt: skip
    open = serializers.IntegerField(read_only=True)
    breached = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("open tickets with a breached SLA")
    )
    escalated = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "open tickets escalated to the executives"))  # fmt: skip
    ratings = serializers.IntegerField(read_only=True)
    csat = serializers.FloatField(read_only=True, allow_null=True)


class ExecutiveCadenceSerializer(serializers.Serializer):
    every_days = serializers.IntegerField(read_only=True, allow_null=True, help_text=gettext_lazy(
        "null: the account's playbook asks for no executive visit"))  # fmt: skip
    last_contact_at = serializers.DateTimeField(source="last_done_at", read_only=True,
                                                allow_null=True)  # fmt: skip
    due_on = serializers.DateField(read_only=True, allow_null=True)
    overdue_days = serializers.IntegerField(read_only=True)
    missed = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "no executive contact within the cadence (never, or overdue)"))  # fmt: skip


class SponsoredAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    tier = serializers.CharField(source="account.tier", read_only=True)
    account_type = serializers.CharField(source="account.account_type", read_only=True)
    executive_visit = ExecutiveCadenceSerializer(source="executive", read_only=True)
    coverage_score = serializers.IntegerField(read_only=True)
    coverage_flags = serializers.ListField(source="coverage.flags", child=serializers.CharField(),
                                           read_only=True)  # fmt: skip
    service_health = ServiceHealthSerializer(source="health", read_only=True)


class SponsoredAccountsApi(APIView):
    """The accounts the user sponsors as executive sponsor (首席客户经理), the most overdue
    executive visit first: the next visit due, the coverage score and the service health
    (SLA compliance, open breached and escalated tickets, CSAT)."""

    permission_classes = STAFF

    @extend_schema(responses=SponsoredAccountSerializer(many=True))
    def get(self, request):
        rows = sponsored_accounts(actor=request.user)
        return Response(SponsoredAccountSerializer(rows, many=True).data)


class ExecutiveOverdueSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    owner = serializers.IntegerField(source="account.owner_id", read_only=True, allow_null=True)
    sponsors = ProgrammeUserSerializer(many=True, read_only=True)
    executive_visit = ExecutiveCadenceSerializer(source="executive", read_only=True)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True,
                                  help_text=gettext_lazy('"missed" (the cadence), "no_sponsor"'))  # fmt: skip


class ExecutiveOverdueApi(generics.ListAPIView):
    """The key accounts with no executive contact within their cadence, and those with no
    executive sponsor (flagged). Filters: owner, tier, account_type, province, sponsor."""

    permission_classes = STAFF
    serializer_class = ExecutiveOverdueSerializer
    pagination_class = PageNumberPagination
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = ExecutiveOverdueFilterSet

    def get_queryset(self):  # the schema generator reads the model here
        return Account.objects.none()

    def list(self, request, *args, **kwargs):
        rows = executive_overdue_report(actor=request.user, filters=request.query_params)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ExecutiveOverdueSerializer(page, many=True).data)
