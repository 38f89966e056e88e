"""API of engagement activities (客户互动), the needs and pains log (逃离痛苦,追求快乐) and
the reference customers (参观考察).

Who: the company's staff only (a customer contact gets a 403 on every endpoint). Activities
and pains follow their account: a key account manager sees only their accounts' rows (any
other is a 404); an activity is changed by its owner and by those who may change the
account, a pain by those who may change the account; only administrators remove a pain.
Every change carries the `version` read: a stale one is a 409 and changes nothing."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from keycare.accounts.choices import DecisionStyle, Level
from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.engagement.choices import ActivityKind, PainStatus, VisitDestination
from keycare.engagement.filters import ActivityFilter, PainFilter, ReferenceFilter
from keycare.engagement.models import Activity, ActivityAttachment, Pain, ReferenceCustomer
from keycare.engagement.selectors.activities import activity_get, activity_list
from keycare.engagement.selectors.pains import pain_list_with_links
from keycare.engagement.selectors.programme import reference_customer_list, style_guidance_all
from keycare.engagement.services import activities as activity_services
from keycare.engagement.services import pains as pain_services
from keycare.engagement.services.programme import REFERENCE_FIELDS, reference_customer_set
from keycare.users.models import User

from .mixins import NameField, ScopedViewSet

ID = {"min_value": 1, "max_value": 2**63 - 1}


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, **ID, **kwargs)


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.IntegerField(**ID), required=False,
                                 help_text=help_text)  # fmt: skip


COST_HELP = gettext_lazy(
    "a commercial figure: only for those who may see costs (others neither see nor set it)"
)
VERSION_HELP = gettext_lazy("the version you read; a stale one is a 409 and nothing changes")


def _version(help_text=VERSION_HELP):
    return serializers.IntegerField(min_value=0, help_text=help_text)


# --- output ----------------------------------------------------------------------------------


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    message = serializers.CharField(read_only=True)


class ActivityContactSerializer(serializers.ModelSerializer):
    """One of their people, with how to deal with them (the style guidance)."""

    style_guidance = serializers.SerializerMethodField(
        help_text=gettext_lazy("how to deal with a person of this decision style")
    )

    class Meta:
        model = Contact
        fields = ["id", "name", "title", "buying_role", "decision_style", "style_guidance"]
        read_only_fields = fields

    def get_style_guidance(self, contact) -> str:
        if "style_guidance" not in self.context:  # read once for the whole answer
            self.context["style_guidance"] = style_guidance_all()
        guidance = self.context["style_guidance"]
        row = guidance.get(contact.decision_style) or guidance[DecisionStyle.UNKNOWN]
        return row.summary_text


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]
        read_only_fields = fields


class ActivitySerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    owner_name = NameField(source="owner")
    contacts = ActivityContactSerializer(many=True, read_only=True)
    participants = UserRefSerializer(many=True, read_only=True)
    target_contact_name = NameField(source="target_contact.name", default=None)
    reference_account_name = NameField(source="reference_account.name", default=None)
    next_step_overdue = serializers.BooleanField(read_only=True)
    warnings = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "after a create or change: what to know (e.g. a reference customer over its "
            "yearly limit of visits); the change was made"
        )
    )

    class Meta:
        model = Activity
        fields = [
            "id", "account", "account_name", "kind", "kind_label", "subject", "status",
            "status_label", "planned_at", "duration_minutes", "done_at", "location", "objective",
            "outcome", "next_step", "next_step_due", "next_step_done_at", "next_step_overdue",
            "cost", "owner", "owner_name", "contacts", "participants", "target_contact",
            "target_contact_name", "destination", "reference_account", "reference_account_name",
            "host", "itinerary", "playbook_item", "version", "created_at", "updated_at",
            "warnings",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(WarningSerializer(many=True))
    def get_warnings(self, activity) -> list:
        return list(getattr(activity, "warnings", []))

    def get_fields(self):
        fields = super().get_fields()
        fields["cost"].help_text = COST_HELP
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not may_see_costs(request.user):
            data.pop("cost", None)  # a commercial figure: for those who may see costs
        return data


class ActivityAttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActivityAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "uploaded_by"]
        read_only_fields = fields


class ActivityDetailSerializer(ActivitySerializer):
    attachments = ActivityAttachmentSerializer(many=True, read_only=True)

    class Meta(ActivitySerializer.Meta):
        fields = [*ActivitySerializer.Meta.fields, "attachments"]
        read_only_fields = fields


# --- input -----------------------------------------------------------------------------------


class ActivityChangeSerializer(serializers.Serializer):
    """Shapes input only: what belongs to the account, who may own or take part, and the
    rules of each kind are the service's (errors per field, in the user's language)."""

    kind = serializers.ChoiceField(choices=ActivityKind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    planned_at = serializers.DateTimeField(required=False, allow_null=True)
    done_at = serializers.DateTimeField(required=False, allow_null=True, help_text=gettext_lazy(
        "given on create: an activity logged after the fact (done)"))  # fmt: skip
    duration_minutes = serializers.IntegerField(required=False, min_value=1)
    owner = _id(help_text=gettext_lazy("default: you"))
    contacts = _ids(gettext_lazy("their people met (contacts of the account)"))
    participants = _ids(gettext_lazy("our people (staff users)"))
    target_contact = _id(help_text=gettext_lazy("an introduction: the person it is to reach"))
    objective = serializers.CharField(required=False, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    next_step = serializers.CharField(max_length=300, required=False, allow_blank=True)
    next_step_due = serializers.DateField(required=False, allow_null=True)
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False,
                                    help_text=COST_HELP)  # fmt: skip
    destination = serializers.ChoiceField(choices=VisitDestination.choices, required=False,
                                          allow_blank=True)  # fmt: skip
    reference_account = _id(
        help_text=gettext_lazy("a reference visit: the reference customer's account")
    )
    host = _id()
    itinerary = serializers.CharField(required=False, allow_blank=True)
    playbook_item = _id()


class ActivityCreateSerializer(ActivityChangeSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    kind = serializers.ChoiceField(choices=ActivityKind.choices)
    subject = serializers.CharField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # an account the user does not see is not a choice
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


class ActivityUpdateSerializer(ActivityChangeSerializer):
    version = _version()


class ActivityCompleteSerializer(serializers.Serializer):
    done_at = serializers.DateTimeField()
    outcome = serializers.CharField(allow_blank=True)
    next_step = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                      default="")  # fmt: skip
    next_step_due = serializers.DateField(required=False, allow_null=True, default=None)
    cost = serializers.DecimalField(max_digits=14, decimal_places=2, required=False,
                                    allow_null=True, default=None,
                                    help_text=gettext_lazy("empty: kept as it was"))  # fmt: skip
    version = _version()


class ActivityCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000)
    version = _version()


class VersionSerializer(serializers.Serializer):
    version = _version()


# --- activities ------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(request=ActivityCreateSerializer, responses={201: ActivityDetailSerializer}),
    partial_update=extend_schema(request=ActivityUpdateSerializer, responses=ActivityDetailSerializer),
    retrieve=extend_schema(responses=ActivityDetailSerializer),
)  # fmt: skip
class ActivityViewSet(ScopedViewSet):
    """Engagement activities (客户互动). Filters: q, account, kind, status, owner, participant,
    contact, planned_from, planned_to (dates), overdue (next step overdue), ordering
    (planned_at, done_at, next_step_due, cost). Create plans one (`planned_at`) or logs one
    done (`done_at`); then `complete/`, `cancel/`, `next-step-done/`, each with the
    `version` read."""

    selector = staticmethod(activity_list)
    scoped_model = Activity
    serializer_class = ActivitySerializer
    input_serializer = ActivityCreateSerializer
    filterset_class = ActivityFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]
    scoped_action_map = {"complete": "change", "cancel": "change", "next_step_done": "change"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        qs = super().get_queryset()
        return qs if self.action == "list" else qs.prefetch_related("attachments")

    def _detail(self, activity, *, warnings=None, status_code=status.HTTP_200_OK) -> Response:
        fresh = activity_get(actor=self.request.user, pk=activity.pk)
        fresh.warnings = warnings if warnings is not None else getattr(activity, "warnings", [])
        data = ActivityDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object(), warnings=[])

    def create(self, request, *args, **kwargs):
        data, _version = self._input(request, partial=False)
        account, kind, subject = data.pop("account"), data.pop("kind"), data.pop("subject")
        activity = activity_services.activity_create(
            actor=request.user, account=account, kind=kind, subject=subject, **data
        )
        return self._detail(activity, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        activity = self.get_object()  # 404 / 403 before anything is said about the input
        serializer = ActivityUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": [
                serializers.Field.default_error_messages["required"]]})  # fmt: skip
        version = data.pop("version")
        changed = activity_services.activity_update(actor=request.user, activity=activity,
                                                    data=data, version=version)  # fmt: skip
        return self._detail(changed)

    def _body(self, request, serializer_class) -> dict:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(request=ActivityCompleteSerializer, responses=ActivityDetailSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Record that it was done: when, what came of it, the next step and its cost."""
        activity = self.get_object()
        data = self._body(request, ActivityCompleteSerializer)
        done = activity_services.activity_complete(actor=request.user, activity=activity, **data)
        return self._detail(done)

    @extend_schema(request=ActivityCancelSerializer, responses=ActivityDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a planned activity, saying why."""
        activity = self.get_object()
        data = self._body(request, ActivityCancelSerializer)
        return self._detail(activity_services.activity_cancel(actor=request.user,
                                                              activity=activity, **data))  # fmt: skip

    @extend_schema(request=VersionSerializer, responses=ActivityDetailSerializer)
    @action(detail=True, methods=["post"], url_path="next-step-done")
    def next_step_done(self, request, pk=None):
        """Mark the open next step done."""
        activity = self.get_object()
        data = self._body(request, VersionSerializer)
        return self._detail(activity_services.activity_next_step_done(
            actor=request.user, activity=activity, **data))  # fmt: skip


# --- pains -----------------------------------------------------------------------------------


class PainSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    raised_by_name = NameField(source="raised_by.name", default=None)
    owner_name = NameField(source="owner")
    activities = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tickets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    concessions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Pain
        fields = [
            "id", "account", "account_name", "title", "description", "raised_by",
            "raised_by_name", "impact", "impact_value", "solution", "status", "status_label",
            "owner", "owner_name", "raised_on", "resolved_on", "activities", "tickets",
            "concessions", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class PainChangeSerializer(serializers.Serializer):
    """Shapes input only; the service checks the account's people and links. The link
    fields are the whole set (activities, tickets and concessions of the same account)."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    raised_by = _id(help_text=gettext_lazy("who said it (a contact of the account)"))
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    impact_value = serializers.DecimalField(max_digits=14, decimal_places=2, required=False,
                                            allow_null=True)  # fmt: skip
    solution = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=PainStatus.choices, required=False)
    owner = _id(help_text=gettext_lazy("default: you"))
    raised_on = serializers.DateField(required=False, allow_null=True)
    resolved_on = serializers.DateField(required=False, allow_null=True, help_text=gettext_lazy(
        "set when solved or dropped (default: that day), cleared when open again"))  # fmt: skip
    activities = _ids(gettext_lazy("activities of the same account"))
    tickets = _ids(gettext_lazy("tickets of the same account"))
    concessions = _ids(gettext_lazy("concessions of the same account"))


class PainCreateSerializer(PainChangeSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    title = serializers.CharField(max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


class PainUpdateSerializer(PainChangeSerializer):
    version = _version()


@extend_schema_view(
    create=extend_schema(request=PainCreateSerializer, responses={201: PainSerializer}),
    partial_update=extend_schema(request=PainUpdateSerializer, responses=PainSerializer),
)
class PainViewSet(ScopedViewSet):
    """The needs and pains log. Filters: q, account, status, owner, raised_by, impact_min,
    open, raised_from, raised_to, ordering (raised_on, impact, impact_value). Only
    administrators remove a pain."""

    selector = staticmethod(pain_list_with_links)
    scoped_model = Pain
    serializer_class = PainSerializer
    input_serializer = PainCreateSerializer
    filterset_class = PainFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pain.objects.none()
        return super().get_queryset()

    def perform_service_create(self, data):
        account = data.pop("account")
        return pain_services.pain_create(actor=self.request.user, account=account, **data)

    def partial_update(self, request, *args, **kwargs):
        pain = self.get_object()
        serializer = PainUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError({"version": [
                serializers.Field.default_error_messages["required"]]})  # fmt: skip
        version = data.pop("version")
        pain_services.pain_update(actor=request.user, pain=pain, data=data, version=version)
        return Response(self.get_serializer(self._fresh(pain)).data)

    def perform_service_destroy(self, obj):
        pain_services.pain_delete(actor=self.request.user, pain=obj)


# --- reference customers ---------------------------------------------------------------------


class ReferenceCustomerSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    consent_by_name = NameField(source="consent_by.name", default=None)
    visits_this_year = serializers.IntegerField(read_only=True)
    visits_total = serializers.IntegerField(read_only=True)
    last_used = serializers.DateTimeField(read_only=True, allow_null=True,
                                          help_text=gettext_lazy("the latest visit done"))  # fmt: skip
    visit_limit = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "its own yearly limit, else the engagement settings'"))  # fmt: skip
    over_used = serializers.SerializerMethodField(
        help_text=gettext_lazy("more visits this year than its limit")
    )

    class Meta:
        model = ReferenceCustomer
        fields = [
            "id", "account", "account_name", "consent", "consent_on", "consent_by",
            "consent_by_name", "available", "availability", "showcase", "max_visits_per_year",
            "visits_this_year", "visits_total", "last_used", "visit_limit", "over_used",
            "lock_version", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_over_used(self, reference) -> bool:
        return reference.visits_this_year > reference.visit_limit


class ReferenceChangeSerializer(serializers.Serializer):
    consent = serializers.BooleanField(required=False)
    consent_on = serializers.DateField(required=False, allow_null=True)
    consent_by = _id(help_text=gettext_lazy("who gave the consent (a contact of the account)"))
    available = serializers.BooleanField(required=False)
    availability = serializers.CharField(max_length=200, required=False, allow_blank=True)
    showcase = serializers.CharField(required=False, allow_blank=True)
    max_visits_per_year = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                                   help_text=gettext_lazy("empty: the settings' limit"))  # fmt: skip


class ReferenceCreateSerializer(ReferenceChangeSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["account"].queryset = Account.objects.restrict(request.user, "view")


class ReferenceUpdateSerializer(ReferenceChangeSerializer):
    lock_version = _version()


@extend_schema_view(
    create=extend_schema(request=ReferenceCreateSerializer,
                         responses={201: ReferenceCustomerSerializer}),
    partial_update=extend_schema(request=ReferenceUpdateSerializer,
                                 responses=ReferenceCustomerSerializer),
)  # fmt: skip
class ReferenceCustomerViewSet(ScopedViewSet):
    """Reference customers (参观考察) with how often each was used: visits this year and in
    total, the last one done, the yearly limit and whether it is over it. Filters: q,
    consent, available, over_used. Create marks an account as a reference (once: then
    PATCH it with the `lock_version` read)."""

    selector = staticmethod(reference_customer_list)
    scoped_model = ReferenceCustomer
    serializer_class = ReferenceCustomerSerializer
    input_serializer = ReferenceCreateSerializer
    filterset_class = ReferenceFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReferenceCustomer.objects.none()
        return super().get_queryset()

    def perform_service_create(self, data):
        account = data.pop("account")
        if ReferenceCustomer.objects.filter(account=account).exists():
            raise serializers.ValidationError({"account": [
                _("This account is a reference customer already: change it instead.")]})  # fmt: skip
        return reference_customer_set(actor=self.request.user, account=account, data=data)

    def partial_update(self, request, *args, **kwargs):
        reference = self.get_object()
        serializer = ReferenceUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "lock_version" not in data:
            raise serializers.ValidationError({"lock_version": [
                serializers.Field.default_error_messages["required"]]})  # fmt: skip
        version = data.pop("lock_version")
        reference_customer_set(actor=request.user, account=reference.account,
                               data={k: v for k, v in data.items() if k in REFERENCE_FIELDS},
                               version=version)  # fmt: skip
        return Response(self.get_serializer(self._fresh(reference)).data)
