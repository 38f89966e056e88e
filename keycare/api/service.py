"""API for tickets (with transition, assign, claim, comments and attachments actions),
attachment downloads, SLA policies, business calendars and NPS surveys."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from keycare.accounts.models import Account, Contact, Equipment, Product
from keycare.accounts.selectors import account_get
from keycare.core.downloads import private_file_response
from keycare.service import selectors, services, surveys, visits
from keycare.service.attachments import INLINE_TYPES, attachments_add
from keycare.service.choices import Channel, Priority, RootCause, TicketStatus, TicketType
from keycare.service.filters import NpsSurveyFilterSet, TicketFilterSet
from keycare.service.models import (
    BusinessCalendar,
    FieldVisit,
    MaintenancePlan,
    NpsSurvey,
    ServiceContract,
    ServiceTeam,
    SlaPolicy,
    SlaTarget,
    StockLocation,
    Ticket,
    TicketAttachment,
    TicketComment,
)
from keycare.users.models import User

from .mixins import NameField, ReadOnlyScopedViewSet, ScopedViewSet
from .permissions import ScopedPermission


class TicketSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    assignee_name = NameField(source="assignee")
    team_name = serializers.CharField(source="team.name", read_only=True, default=None)
    sla_status = serializers.CharField(read_only=True)
    cost_to_serve = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    def to_representation(self, instance):
        # the cost to serve is internal: customers do not see it
        return _hide_costs_from_customers(self, super().to_representation(instance))

    class Meta:
        model = Ticket
        fields = [
            "id", "number", "account", "account_name", "contact", "equipment", "ticket_type",
            "priority", "channel", "subject", "description", "status", "assignee", "assignee_name",
            "team", "team_name", "coverage", "resolution", "root_cause", "sla_policy", "opened_at",
            "first_response_due_at", "resolution_due_at", "first_responded_at", "resolved_at",
            "closed_at", "response_sla", "resolution_sla", "sla_status", "sla_warning",
            "labour_cost", "parts_cost", "travel_cost", "cost_to_serve", "version",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


def _hide_costs_from_customers(serializer, data: dict) -> dict:
    request = serializer.context.get("request")
    if request is not None and request.user.is_portal_user:
        for field in ("labour_cost", "parts_cost", "travel_cost", "cost_to_serve"):
            data.pop(field, None)
    return data


class TicketInputSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    equipment = serializers.PrimaryKeyRelatedField(
        queryset=Equipment.objects.none(), required=False, allow_null=True
    )
    ticket_type = serializers.ChoiceField(choices=TicketType.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(
        queryset=ServiceTeam.objects.none(), required=False, allow_null=True
    )
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    resolution = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.ChoiceField(
        choices=RootCause.choices, required=False, allow_blank=True
    )
    version = serializers.IntegerField(required=False, write_only=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")
            self.fields["contact"].queryset = Contact.objects.restrict(request.user, "view")
            self.fields["equipment"].queryset = Equipment.objects.restrict(request.user, "view")
            self.fields["team"].queryset = ServiceTeam.objects.restrict(request.user, "view")


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    resolution = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.ChoiceField(
        choices=RootCause.choices, required=False, allow_blank=True
    )
    version = serializers.IntegerField(required=False)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), allow_null=True
    )
    version = serializers.IntegerField(required=False)


class CommentSerializer(serializers.ModelSerializer):
    author_name = NameField(source="author")

    class Meta:
        model = TicketComment
        fields = ["id", "author", "author_name", "body", "is_public", "created_at"]
        read_only_fields = ["id", "author", "author_name", "created_at"]


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by_name = NameField(source="uploaded_by")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = ["id", "ticket", "comment", "name", "content_type", "size", "sha256", "is_public",
                  "uploaded_by", "uploaded_by_name", "uploaded_at", "download_url"]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        request = self.context.get("request")
        return reverse("api:attachment-download", args=[obj.pk], request=request)


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False), allow_empty=False
    )
    is_public = serializers.BooleanField(required=False, default=True)


@extend_schema_view(
    create=extend_schema(request=TicketInputSerializer, responses={201: TicketSerializer}),
    partial_update=extend_schema(request=TicketInputSerializer, responses=TicketSerializer),
)
class TicketViewSet(ScopedViewSet):
    """Service tickets (服务工单). Due times are ISO 8601 with offset. Filters: q (number or
    subject), status, open, priority, ticket_type, account, assignee, sla; ordering."""

    selector = staticmethod(selectors.ticket_list)
    scoped_model = Ticket
    serializer_class = TicketSerializer
    input_serializer = TicketInputSerializer
    filterset_class = TicketFilterSet
    scoped_action_map = {
        "transition": "change",
        "assign": "change",
        "claim": "view",
        "comments": "view",
        "attachments": "view",
    }
    # ticket_create sets every field the answer shows and read the rows it names (account,
    # contact, team): one query less on the busiest write
    answer_as_created = True

    def perform_service_create(self, data):
        account = data.pop("account")
        if "channel" not in data:
            data["channel"] = "portal" if self.request.user.is_portal_user else "api"
        if self.request.user.is_portal_user and not data.get("contact"):
            data["contact"] = getattr(self.request.user, "contact", None)
        return services.ticket_create(actor=self.request.user, account=account, **data)

    def perform_service_update(self, obj, data, version):
        services.ticket_update(
            actor=self.request.user, ticket=obj, data=data, expected_version=version
        )

    def perform_service_destroy(self, obj):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("Tickets are closed, not deleted."))

    @extend_schema(request=TransitionSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        ticket = self.get_object()  # 404/403 before saying anything about the input
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        services.ticket_transition(
            actor=request.user, ticket=ticket, status=values["status"],
            expected_version=values.get("version"), resolution=values.get("resolution"),
            root_cause=values.get("root_cause"),
        )  # fmt: skip
        return Response(
            TicketSerializer(
                self._fresh(self.get_object()), context=self.get_serializer_context()
            ).data
        )

    @extend_schema(request=AssignSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        ticket = self.get_object()  # 404/403 before saying anything about the input
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_assign(actor=request.user, ticket=ticket, assignee=data.validated_data["assignee"],
                               expected_version=data.validated_data.get("version"))  # fmt: skip
        return Response(
            TicketSerializer(self._fresh(ticket), context=self.get_serializer_context()).data
        )

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="auto-assign")
    def auto_assign(self, request, pk=None):
        """Assign by the rules: the account's service lead; else in the ticket's service team
        (by default the team of the account's province) the least-loaded engineer whose skills
        match the equipment's product category or the ticket type, else the least-loaded of
        the team; else the least-loaded engineer of the account's own team."""
        ticket = self.get_object()
        services.ticket_auto_assign(actor=request.user, ticket=ticket)
        return Response(
            TicketSerializer(self._fresh(ticket), context=self.get_serializer_context()).data
        )

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        """Take the ticket; 409 when someone else has it."""
        from keycare.core.services import require_permission

        ticket = self.get_object()
        if ticket.assignee_id is None or ticket.assignee_id == request.user.pk:
            require_permission(actor=request.user, action="change", obj=ticket)
        # someone else has it: the service answers with a 409 that names them
        services.ticket_claim(actor=request.user, ticket=ticket)
        return Response(
            TicketSerializer(self._fresh(ticket), context=self.get_serializer_context()).data
        )

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        """Replies (visible to the customer) and internal notes (staff only)."""
        ticket = self.get_object()
        if request.method == "POST":
            data = CommentSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            comment = services.ticket_comment(
                actor=request.user, ticket=ticket, body=data.validated_data["body"],
                is_public=data.validated_data.get("is_public", True),
            )  # fmt: skip
            return Response(CommentSerializer(comment).data, status=201)
        return Response(
            CommentSerializer(
                selectors.ticket_comments(actor=request.user, ticket=ticket), many=True
            ).data
        )

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser],
            filter_backends=[], pagination_class=None)  # fmt: skip
    def attachments(self, request, pk=None):
        """Files (附件) on the ticket; customers see and add only files visible to them.
        POST multipart: one or more `file` parts and `is_public` (default true), all or
        nothing; each file is checked for size, type and content (see the error's `fields`)."""
        ticket = self.get_object()
        context = self.get_serializer_context()
        if request.method == "POST":
            data = AttachmentUploadSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            created = attachments_add(
                actor=request.user, ticket=ticket, uploads=data.validated_data["file"],
                is_public=data.validated_data["is_public"],
            )  # fmt: skip
            return Response(AttachmentSerializer(created, many=True, context=context).data,
                            status=201)  # fmt: skip
        files = selectors.attachment_list(actor=request.user, ticket=ticket)
        return Response(AttachmentSerializer(files, many=True, context=context).data)


class _AnyMediaTypeRenderer(BaseRenderer):
    """Lets a download answer whatever the client accepts; the file itself is a FileResponse
    that no renderer touches, and errors are rendered as JSON."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data, "application/json", renderer_context)


class AttachmentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A ticket's file: its details, and `download/` for the content (the stored type, the
    name in UTF-8). A file the user may not see is a 404."""

    permission_classes = [ScopedPermission]
    scoped_model = TicketAttachment
    serializer_class = AttachmentSerializer

    def get_queryset(self):
        return selectors.attachment_list(actor=self.request.user)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, _AnyMediaTypeRenderer])
    def download(self, request, pk=None):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise NotFound() from None
        return private_file_response(
            handle, filename=attachment.name, content_type=attachment.content_type,
            inline=attachment.content_type in INLINE_TYPES,
        )  # fmt: skip


class SlaTargetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaTarget
        fields = ["priority", "first_response_minutes", "resolution_minutes"]


class SlaPolicySerializer(serializers.ModelSerializer):
    targets = SlaTargetSerializer(many=True, read_only=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "tier",
            "account_type",
            "is_floor",
            "calendar",
            "at_risk_ratio",
            "is_active",
            "targets",
        ]
        read_only_fields = fields


class SlaPolicyViewSet(ReadOnlyScopedViewSet):
    """SLA policies with their targets per priority (working minutes). Maintained in the admin."""

    selector = staticmethod(selectors.sla_policy_list)
    scoped_model = SlaPolicy
    serializer_class = SlaPolicySerializer


class CalendarSerializer(serializers.ModelSerializer):
    days = serializers.SerializerMethodField()

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "name",
            "time_zone",
            "weekly_hours",
            "is_default",
            "covered_from",
            "covered_to",
            "days",
        ]
        read_only_fields = fields

    def get_days(self, obj) -> list[dict]:
        return [{"date": d.date, "kind": d.kind, "name": d.name} for d in obj.days.all()]


class CalendarViewSet(ReadOnlyScopedViewSet):
    """Business calendars: working hours, holidays and extra working days (调休)."""

    selector = staticmethod(selectors.calendar_list)
    scoped_model = BusinessCalendar
    serializer_class = CalendarSerializer


class VisitPartSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    location = serializers.PrimaryKeyRelatedField(queryset=StockLocation.objects.all())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class VisitSerializer(serializers.ModelSerializer):
    engineers = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    parts = VisitPartSerializer(many=True, read_only=True)
    labour_cost = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    total_cost = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = FieldVisit
        fields = ["id", "ticket", "planned_start", "engineers", "status", "checked_in_at", "checked_out_at",
                  "work_done", "labour_hours", "labour_rate", "labour_cost", "travel_cost", "parts_cost",
                  "parts", "total_cost", "signed_off_by", "signed_off_at", "version"]  # fmt: skip
        read_only_fields = fields


class VisitPlanSerializer(serializers.Serializer):
    ticket = serializers.PrimaryKeyRelatedField(queryset=Ticket.objects.none())
    planned_start = serializers.DateTimeField()
    engineers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["ticket"].queryset = Ticket.objects.restrict(request.user, "view")


class VisitCompleteSerializer(serializers.Serializer):
    work_done = serializers.CharField()
    labour_hours = serializers.DecimalField(max_digits=7, decimal_places=2)
    travel_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, default=0
    )
    parts = VisitPartSerializer(many=True, required=False, default=list)
    signed_off_by = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False)


@extend_schema_view(
    create=extend_schema(request=VisitPlanSerializer, responses={201: VisitSerializer})
)
class VisitViewSet(ScopedViewSet):
    """Field visits (上门服务): plan with POST, then `check-in/` and `complete/` (parts, labour,
    travel, customer sign-off). Filter: ticket."""

    selector = staticmethod(selectors.visit_list)
    scoped_model = FieldVisit
    serializer_class = VisitSerializer
    input_serializer = VisitPlanSerializer
    http_method_names = ["get", "post", "head", "options"]
    scoped_action_map = {"check_in": "view", "complete": "view"}

    def perform_service_create(self, data):
        return visits.visit_plan(actor=self.request.user, **data)

    @extend_schema(request=None, responses=VisitSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        visit = visits.visit_check_in(actor=request.user, visit=self.get_object())
        return Response(VisitSerializer(self._fresh(visit)).data)

    @extend_schema(request=VisitCompleteSerializer, responses=VisitSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        visit = self.get_object()  # 404/403 before saying anything about the input
        data = VisitCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version", None)
        visit = visits.visit_complete(
            actor=request.user, visit=visit, expected_version=version, **values
        )
        return Response(VisitSerializer(self._fresh(visit)).data)


class ContractSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    equipment = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    usage = serializers.SerializerMethodField()

    class Meta:
        model = ServiceContract
        fields = ["id", "number", "account", "account_name", "equipment", "starts_on", "ends_on", "sla_policy",
                  "included_visits", "included_hours", "renewal_reminder_days", "reminded_at", "usage"]  # fmt: skip
        read_only_fields = fields

    def get_usage(self, obj) -> dict:
        from keycare.service.contracts import contract_usage

        usage = contract_usage(obj)
        return {"visits_used": usage["visits_used"], "hours_used": str(usage["hours_used"]),
                "visits_left": usage["visits_left"]}  # fmt: skip


class ContractViewSet(ReadOnlyScopedViewSet):
    """Service contracts (服务合同) with their usage. Filter: account. Maintained in the admin."""

    selector = staticmethod(selectors.contract_list)
    scoped_model = ServiceContract
    serializer_class = ContractSerializer


class MaintenancePlanSerializer(serializers.ModelSerializer):
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = MaintenancePlan
        fields = ["id", "equipment", "contract", "interval_months", "next_due", "lead_days", "last_ticket",
                  "is_active", "is_overdue"]  # fmt: skip
        read_only_fields = fields


class MaintenancePlanViewSet(ReadOnlyScopedViewSet):
    """Preventive maintenance plans; the minute tick opens their tickets ahead of time."""

    selector = staticmethod(selectors.maintenance_plan_list)
    scoped_model = MaintenancePlan
    serializer_class = MaintenancePlanSerializer


class ServiceTeamMemberSerializer(serializers.Serializer):
    user = serializers.IntegerField(source="user_id")
    name = serializers.CharField(source="user.__str__")
    skills = serializers.ListField(child=serializers.CharField())


class ServiceTeamSerializer(serializers.ModelSerializer):
    members = ServiceTeamMemberSerializer(source="memberships", many=True, read_only=True)

    class Meta:
        model = ServiceTeam
        fields = ["id", "name", "manager", "provinces", "is_active", "members"]
        read_only_fields = fields


class ServiceTeamViewSet(ReadOnlyScopedViewSet):
    """Service teams (服务团队) with the provinces they cover and their engineers' skills, as
    the assignment rules use them. Maintained in the admin."""

    selector = staticmethod(selectors.service_team_list)
    scoped_model = ServiceTeam
    serializer_class = ServiceTeamSerializer


class ServiceDashboardApi(APIView):
    """The service dashboard's figures (the same function as the web page), for the tickets
    the user may see; accepts the ticket list's filters (e.g. `?priority=P1&assignee=3`)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from keycare.service.dashboard import service_dashboard

        if request.user.is_portal_user:
            raise PermissionDenied()
        return Response(service_dashboard(actor=request.user, filters=request.query_params))


class MailInApi(APIView):
    """Inbound email: POST one RFC 822 message as the request body (Content-Type
    message/rfc822). For a mail gateway's account (administrator or service manager)."""

    parser_classes = []

    @extend_schema(request={"message/rfc822": OpenApiTypes.BINARY}, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        from keycare.service.mail_in import mail_in_process

        if not request.user.has_role("administrator", "service_manager"):
            raise PermissionDenied()
        result = mail_in_process(request.body)
        return Response(
            {"action": result.action, "ticket": result.ticket.pk if result.ticket else None,
             "number": result.ticket.number if result.ticket else None},
            status=201 if result.action == "created" else 200,
        )  # fmt: skip


class NpsSurveySerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, default=None)
    sent_by_name = NameField(source="sent_by")
    category = serializers.SerializerMethodField()

    class Meta:
        model = NpsSurvey
        # never the token (nor its hash): the link is only ever in the contact's mail
        fields = ["id", "account", "account_name", "contact", "contact_name", "email", "sent_at",
                  "expires_at", "responded_at", "score", "category", "comment", "sent_by",
                  "sent_by_name"]  # fmt: skip
        read_only_fields = fields

    def get_category(self, obj) -> str | None:
        """promoter (9–10), passive (7–8), detractor (0–6); null before an answer."""
        from keycare.service.calculations import nps_category

        return nps_category(obj.score)


class NpsSurveySendSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")
            self.fields["contact"].queryset = Contact.objects.restrict(request.user, "view")


class NpsAccountSendSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


class NpsAccountSentSerializer(serializers.Serializer):
    sent = serializers.IntegerField()


class NpsSummaryQuerySerializer(serializers.Serializer):
    account = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class NpsSummarySerializer(serializers.Serializer):
    nps = serializers.FloatField(allow_null=True)
    responses = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    sent = serializers.IntegerField()


@extend_schema_view(
    create=extend_schema(request=NpsSurveySendSerializer, responses={201: NpsSurveySerializer})
)
class NpsSurveyViewSet(ScopedViewSet):
    """NPS surveys (净推荐值调查), for staff who see the account. POST surveys one contact of an
    account (at most once every KEYCARE_NPS_INTERVAL_MONTHS; the one-time link goes by mail),
    `send-account/` every eligible contact of an account, `summary/` the figures (an account
    with its branches). Filters: account, group (an account and its branches), contact,
    answered, tier."""

    selector = staticmethod(surveys.nps_survey_list)
    scoped_model = NpsSurvey
    serializer_class = NpsSurveySerializer
    input_serializer = NpsSurveySendSerializer
    filterset_class = NpsSurveyFilterSet
    http_method_names = ["get", "post", "head", "options"]
    scoped_action_map = {"send_account": "add", "summary": "view"}

    def perform_service_create(self, data):
        survey, _token = surveys.nps_survey_send(
            actor=self.request.user, account=data["account"], contact=data["contact"]
        )
        return survey

    @extend_schema(request=NpsAccountSendSerializer, responses=NpsAccountSentSerializer)
    @action(detail=False, methods=["post"], url_path="send-account")
    def send_account(self, request):
        """Survey every eligible contact of the account (active, with an email, not surveyed
        within the interval); answers how many surveys were sent."""
        data = NpsAccountSendSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        sent = surveys.nps_surveys_send_for_account(
            actor=request.user, account=data.validated_data["account"]
        )
        return Response({"sent": sent})

    @extend_schema(
        parameters=[
            OpenApiParameter("account", int, description="an account, with its branches"),
            OpenApiParameter("since", OpenApiTypes.DATE, description="first day (answers)"),
            OpenApiParameter("until", OpenApiTypes.DATE, description="last day, included"),
        ],
        responses=NpsSummarySerializer,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def summary(self, request):
        """NPS with promoters, passives and detractors of the answers, and the surveys sent."""
        query = NpsSummaryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        account = None
        if "account" in values:
            account = account_get(actor=request.user, pk=values["account"])  # 404 if not seen
        return Response(
            surveys.nps_summary(actor=request.user, account=account,
                                since=values.get("since"), until=values.get("until"))
        )  # fmt: skip
