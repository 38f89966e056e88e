"""API of the business events (with their invitations, answers, attendance and cost), the
gift register with its approvals, and the VIP club (levels and members).

Who: staff only (a customer contact gets a 403). Events are seen by all staff and changed
by their organiser, executives and administrators; invitations are seen where their
account is seen; gifts by those who see the account's orders (and who recorded them),
decided by executives and administrators; VIP members follow their account. A row the user
does not see is a 404; the services decide the rest (a 403 with the reason). Every edit
names the `version` (or `lock_version`) it read: missing, a 400; stale, a 409; either way
nothing changes. An event's budget, cost, cost per attendee and cost summary are
commercial figures, left out for who may not see costs (service engineers)."""

from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.core.scoping import restrict
from keycare.engagement.choices import EventKind, GiftStatus, InvitationStatus
from keycare.engagement.filters_events import (
    BusinessEventFilterSet,
    GiftFilterSet,
    VipMemberFilterSet,
)
from keycare.engagement.models import (
    Activity,
    BusinessEvent,
    EventInvitation,
    Gift,
    VipLevel,
    VipMember,
)
from keycare.engagement.selectors.events import (
    event_cost_summary,
    event_get,
    event_invitation_list,
    event_list,
)
from keycare.engagement.selectors.gifts import gift_get, gift_list, gift_totals, gift_was_over
from keycare.engagement.selectors.vip import vip_level_list, vip_member_get, vip_member_list
from keycare.engagement.services import events as event_services
from keycare.engagement.services import gifts as gift_services
from keycare.engagement.services import vip as vip_services
from keycare.users.choices import STAFF_ROLES
from keycare.users.models import User

from .mixins import NameField, SchemaOnlyFilterBackend, ScopedViewSet
from .permissions import ScopedPermission

ID = {"min_value": 1, "max_value": 2**63 - 1}


class IsStaff(permissions.BasePermission):
    """The company's own staff: engagement is internal (customer contacts: 403)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated) and user.has_role(*STAFF_ROLES)


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


def money_input(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


VERSION_MISSING = gettext_lazy(
    "Send the version you read (`%(field)s`): without it, someone else's change could be "
    "overwritten."
)


def version_field(required: bool = False, name: str = "version") -> serializers.IntegerField:
    message = VERSION_MISSING % {"field": name}
    return serializers.IntegerField(
        required=required, allow_null=not required, min_value=0,
        error_messages={"required": message, "null": message},
        help_text=gettext_lazy("the version you read; a stale one is a 409 and nothing changes"),
    )  # fmt: skip


def require_version(version, name: str = "version") -> int:
    """An edit names the version it was read at (missing: a 400, nothing changed)."""
    if version is None:
        raise serializers.ValidationError({name: [VERSION_MISSING % {"field": name}]})
    return version


# --- events --------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organiser_name = NameField(source="organiser")
    vip_level_name = NameField(source="vip_level.name_text", default=None)
    invited_count = serializers.IntegerField(read_only=True)
    registered_count = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("registered, and those who came")
    )
    declined_count = serializers.IntegerField(read_only=True)
    attended_count = serializers.IntegerField(read_only=True)
    no_show_count = serializers.IntegerField(read_only=True)
    cost_per_attendee = serializers.SerializerMethodField(
        help_text=gettext_lazy("the actual cost ÷ those who came (null: nobody came)")
    )

    class Meta:
        model = BusinessEvent
        fields = [
            "id", "name", "kind", "kind_label", "status", "status_label", "starts_at", "ends_at",
            "location", "description", "capacity", "budget", "cost", "cost_per_attendee",
            "vip_level", "vip_level_name", "organiser", "organiser_name", "invited_count",
            "registered_count", "declined_count", "attended_count", "no_show_count", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    #: commercial figures: left out for who may not see costs (service engineers)
    money_fields = ("budget", "cost", "cost_per_attendee", "cost_summary")

    def _sees_costs(self) -> bool:
        if "sees_costs" not in self.context:
            request = self.context.get("request")
            self.context["sees_costs"] = bool(request) and may_see_costs(request.user)
        return self.context["sees_costs"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._sees_costs():
            for name in self.money_fields:
                data.pop(name, None)
        return data

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True))
    def get_cost_per_attendee(self, event) -> str | None:
        came = getattr(event, "attended_count", 0)
        if not came:
            return None
        return str((Decimal(event.cost) / came).quantize(Decimal("0.01")))


class AccountShareSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    attended = serializers.IntegerField(read_only=True)
    share = money()


class OtherSharesSerializer(serializers.Serializer):
    accounts = serializers.IntegerField(read_only=True)
    attended = serializers.IntegerField(read_only=True)
    share = money()


class CostSummarySerializer(serializers.Serializer):
    cost = money()
    budget = money(allow_null=True)
    over_budget = serializers.BooleanField(read_only=True)
    budget_left = money(allow_null=True)
    attended = serializers.IntegerField(read_only=True)
    per_attendee = money(allow_null=True)
    accounts = AccountShareSerializer(many=True, read_only=True, help_text=gettext_lazy(
        "each account's share of the cost (the accounts you see)"))  # fmt: skip
    others = OtherSharesSerializer(read_only=True, help_text=gettext_lazy(
        "the accounts you do not see, together"))  # fmt: skip
    counted = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "held: the shares are in the accounts' cost to serve"))  # fmt: skip
    company_cost = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "held with a cost and nobody recorded as coming: on no account"))  # fmt: skip


class EventDetailSerializer(EventSerializer):
    cost_summary = serializers.SerializerMethodField()

    class Meta(EventSerializer.Meta):
        fields = [*EventSerializer.Meta.fields, "cost_summary"]
        read_only_fields = fields

    @extend_schema_field(CostSummarySerializer(allow_null=True))
    def get_cost_summary(self, event) -> dict | None:
        if not self._sees_costs():
            return None
        summary = event_cost_summary(actor=self.context["request"].user, event=event)
        return CostSummarySerializer(summary).data if summary is not None else None


class EventInputSerializer(serializers.Serializer):
    """Shapes input only; the checks (end after start, a member event's level, the
    organiser one of our staff, the places) are the service's."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=EventKind.choices)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    capacity = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                        max_value=1_000_000, help_text=gettext_lazy(
                                            "places (null: no limit)"))  # fmt: skip
    budget = money_input(required=False, allow_null=True)
    cost = money_input(required=False, help_text=gettext_lazy("the actual cost"))
    vip_level = serializers.PrimaryKeyRelatedField(
        queryset=VipLevel.objects.all(), required=False, allow_null=True,
        help_text=gettext_lazy("for a VIP club event: members of this level and above"),
    )  # fmt: skip
    organiser = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False,
        help_text=gettext_lazy("default: you"),
    )  # fmt: skip
    version = version_field()


class InvitationSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    invited_by_name = NameField(source="invited_by")

    class Meta:
        model = EventInvitation
        fields = ["id", "event", "contact", "contact_name", "account", "account_name", "status",
                  "status_label", "invited_by", "invited_by_name", "invited_at", "responded_at",
                  "notes", "version"]  # fmt: skip
        read_only_fields = fields


class InviteeSerializer(serializers.Serializer):
    contact = serializers.IntegerField(**ID)
    account = serializers.IntegerField(required=False, allow_null=True, **ID, help_text=gettext_lazy(
        "the account the person is invited for (default: their main account)"))  # fmt: skip


class InviteSerializer(serializers.Serializer):
    invitations = InviteeSerializer(
        many=True, allow_empty=False, max_length=event_services.MAX_INVITES
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class RespondSerializer(serializers.Serializer):
    invitation = serializers.IntegerField(**ID)
    status = serializers.ChoiceField(choices=[(s, InvitationStatus(s).label)
                                              for s in event_services.ANSWERS])  # fmt: skip
    notes = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = version_field(required=True)


class AttendanceRecordSerializer(serializers.Serializer):
    invitation = serializers.IntegerField(**ID)
    status = serializers.ChoiceField(choices=[(s, InvitationStatus(s).label)
                                              for s in event_services.ATTENDANCE])  # fmt: skip
    version = version_field(required=True)


class AttendanceSerializer(serializers.Serializer):
    records = AttendanceRecordSerializer(many=True, allow_empty=False, max_length=2000)


class HoldSerializer(serializers.Serializer):
    cost = money_input(help_text=gettext_lazy("the actual cost"))
    version = version_field(required=True)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    version = version_field(required=True)


def _valid(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _by_id(model, ids, field: str) -> dict:
    """The rows of these ids (looked up unscoped: the service says what the user may not
    see); an id no row has is a 400."""
    rows = model.objects.in_bulk(set(ids))
    missing = sorted(set(ids) - set(rows))
    if missing:
        raise serializers.ValidationError(
            {field: [_("No such record: %(ids)s.") % {"ids": ", ".join(map(str, missing))}]}
        )
    return rows


class EventViewSet(ScopedViewSet):
    """Business events (商务活动). List filters: q (name, location), status, kind,
    starts_from, starts_to, vip (member events), vip_level, organiser; ordering (starts_at,
    name, cost). The detail adds the cost per attendee and per account. Actions: invite
    (a batch, all or nothing), respond (registered / declined, within the places),
    attendance (once the event has started), hold (with the actual cost), cancel;
    invitations lists the invitations you see."""

    selector = staticmethod(event_list)
    scoped_model = BusinessEvent
    serializer_class = EventSerializer
    input_serializer = EventInputSerializer
    filterset_class = BusinessEventFilterSet
    permission_classes = [IsStaff, ScopedPermission]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"
    # the services decide on each invitation; holding and cancelling change the event
    scoped_action_map = {"invite": "view", "respond": "view", "attendance": "view",
                         "invitations": "view", "hold": "change", "cancel": "change"}  # fmt: skip

    def get_queryset(self) -> QuerySet[BusinessEvent]:
        if getattr(self, "swagger_fake_view", False):
            return BusinessEvent.objects.none()
        return super().get_queryset()

    def perform_service_create(self, data):
        return event_services.event_create(actor=self.request.user, data=data)

    def perform_service_update(self, obj, data, version):
        event_services.event_update(actor=self.request.user, event=obj, data=data,
                                    expected_version=require_version(version))  # fmt: skip

    def _event(self, pk, *, status_code=status.HTTP_200_OK) -> Response:
        event = event_get(actor=self.request.user, pk=int(pk))
        return Response(EventDetailSerializer(event, context=self.get_serializer_context()).data,
                        status=status_code)  # fmt: skip

    @extend_schema(request=EventInputSerializer, responses={201: EventDetailSerializer})
    def create(self, request, *args, **kwargs):
        data, _version = self._input(request, partial=False)
        event = self.perform_service_create(data)
        return self._event(event.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=EventInputSerializer, responses=EventDetailSerializer)
    def partial_update(self, request, *args, **kwargs):
        event = self.get_object()
        data, version = self._input(request, partial=True)
        self.perform_service_update(event, data, version)
        return self._event(event.pk)

    @extend_schema(responses=EventDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        """One event with its cost per attendee and each account's share."""
        event = self.get_object()
        return Response(EventDetailSerializer(event, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[OpenApiParameter("status", str, many=True, enum=InvitationStatus.values),
                    OpenApiParameter("account", int)],
        responses=InvitationSerializer(many=True),
    )  # fmt: skip
    @action(detail=True, methods=["get"])
    def invitations(self, request, pk=None):
        """The event's invitations you see (of the accounts you see; all for its organiser),
        by account and name; filters status, account, contact."""
        event = self.get_object()
        qs = event_invitation_list(actor=request.user, event=event, filters=request.query_params)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(request=InviteSerializer, responses={201: InvitationSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        """Invite people, all or nothing; each for their main account unless `account` names
        another of theirs. A member event takes active members of its level or higher."""
        event = self.get_object()
        data = _valid(InviteSerializer, request)
        rows = data["invitations"]
        ids = {r["contact"] for r in rows}
        # the people the user sees; any other id is the same answer, whether it exists or not
        contacts = restrict(Contact.objects.all(), request.user, "view").in_bulk(ids)
        if len(contacts) != len(ids):
            message = _("Not found among the people you see: %(n)s of those chosen.")
            raise serializers.ValidationError(
                {"invitations": [message % {"n": len(ids) - len(contacts)}]}
            )
        accounts = _by_id(Account, [r["account"] for r in rows if r.get("account")], "invitations")
        invitees = [event_services.Invitee(contacts[r["contact"]], accounts.get(r.get("account")))
                    for r in rows]  # fmt: skip
        created = event_services.event_invite(actor=request.user, event=event, invitees=invitees,
                                              notes=data.get("notes", ""))  # fmt: skip
        fresh = EventInvitation.objects.filter(pk__in=[i.pk for i in created]).select_related(
            "contact", "account", "invited_by").order_by("account__name", "contact__name", "pk")  # fmt: skip
        return Response(InvitationSerializer(fresh, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RespondSerializer, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """Record an invited person's answer: registered (a free place is needed) or
        declined."""
        event = self.get_object()
        data = _valid(RespondSerializer, request)
        invitation = event_invitation_list(actor=request.user, event=event).get(
            pk=data["invitation"]
        )
        event_services.invitation_respond(actor=request.user, invitation=invitation,
                                          status=data["status"], expected_version=data["version"],
                                          notes=data.get("notes"))  # fmt: skip
        invitation = event_invitation_list(actor=request.user, event=event).get(pk=invitation.pk)
        return Response(InvitationSerializer(invitation).data)

    @extend_schema(request=AttendanceSerializer, responses=InvitationSerializer(many=True))
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """Record who came and who did not, once the event has started (all or nothing).
        Answers the event's invitations you see."""
        event = self.get_object()
        data = _valid(AttendanceSerializer, request)
        records = [event_services.Attendance(r["invitation"], r["status"], r["version"])
                   for r in data["records"]]  # fmt: skip
        event_services.event_attendance_record(actor=request.user, event=event, records=records)
        qs = event_invitation_list(actor=request.user, event=event)
        return Response(InvitationSerializer(qs, many=True).data)

    @extend_schema(request=HoldSerializer, responses=EventDetailSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """Mark the event held with its actual cost, once it has started: the cost is
        shared among those who came, in their accounts' cost to serve."""
        event = self.get_object()
        data = _valid(HoldSerializer, request)
        event_services.event_hold(actor=request.user, event=event, cost=data["cost"],
                                  expected_version=data["version"])  # fmt: skip
        return self._event(event.pk)

    @extend_schema(request=CancelSerializer, responses=EventDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a planned event (its invitations stay, for the record)."""
        event = self.get_object()
        data = _valid(CancelSerializer, request)
        event_services.event_cancel(actor=request.user, event=event,
                                    expected_version=data["version"], reason=data["reason"])  # fmt: skip
        return self._event(event.pk)


# --- gifts ---------------------------------------------------------------------------------


class GiftSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    event_name = NameField(source="event.name", default=None)
    requested_by_name = NameField(source="requested_by")
    decided_by_name = NameField(source="decided_by")
    limit = money(allow_null=True, help_text=gettext_lazy(
        "the person's yearly limit when recorded (null: no limit)"))  # fmt: skip
    year_total = money(help_text=gettext_lazy(
        "the person's gifts in the worst twelve months around it, with it"))  # fmt: skip
    over_limit = serializers.SerializerMethodField()

    class Meta:
        model = Gift
        fields = ["id", "contact", "contact_name", "account", "account_name", "description",
                  "occasion", "value", "given_on", "status", "status_label", "event", "event_name",
                  "activity", "limit", "year_total", "over_limit", "requested_by",
                  "requested_by_name", "decided_by", "decided_by_name", "decided_at",
                  "decision_note", "version", "created_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(help_text=gettext_lazy(
        "over its limit when recorded (waiting, or decided after waiting)")))  # fmt: skip
    def get_over_limit(self, gift) -> bool:
        return gift_was_over(gift)


class GiftActionsSerializer(serializers.Serializer):
    approve = serializers.BooleanField(read_only=True)
    reject = serializers.BooleanField(read_only=True)
    cancel = serializers.BooleanField(read_only=True)


class GiftDetailSerializer(GiftSerializer):
    actions = serializers.SerializerMethodField(help_text=gettext_lazy(
        "what you may do with it now"))  # fmt: skip

    class Meta(GiftSerializer.Meta):
        fields = [*GiftSerializer.Meta.fields, "actions"]
        read_only_fields = fields

    @extend_schema_field(GiftActionsSerializer)
    def get_actions(self, gift) -> dict:
        user = self.context["request"].user
        decide = gift_services.gift_may_decide(user, gift)
        return {"approve": decide, "reject": decide,
                "cancel": gift.status == GiftStatus.PENDING and gift.requested_by_id == user.pk}  # fmt: skip


class GiftInputSerializer(serializers.Serializer):
    """Shapes input only; the limit check, the dates and who may record are the service's."""

    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), help_text=gettext_lazy(
        "the recipient"))  # fmt: skip
    value = serializers.DecimalField(max_digits=12, decimal_places=2)
    occasion = serializers.CharField(max_length=200, allow_blank=True)
    description = serializers.CharField(max_length=200, allow_blank=True, help_text=gettext_lazy(
        "what the gift is"))  # fmt: skip
    given_on = serializers.DateField()
    event = serializers.PrimaryKeyRelatedField(
        queryset=BusinessEvent.objects.all(), required=False, allow_null=True,
        help_text=gettext_lazy("given at this event (the person's invitation names the account)"),
    )  # fmt: skip
    activity = serializers.PrimaryKeyRelatedField(
        queryset=Activity.objects.none(), required=False, allow_null=True,
        help_text=gettext_lazy("given at this activity (its account)"),
    )  # fmt: skip
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True,
        help_text=gettext_lazy("the account it is booked to, whose limit applies: the person's "
                               "main account or one they belong to (default: the event's, the "
                               "activity's or the main one)"),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # what the user does not see is not a valid choice
            self.fields["contact"].queryset = restrict(Contact.objects.all(), request.user, "view")
            self.fields["activity"].queryset = restrict(
                Activity.objects.all(), request.user, "view"
            )
            self.fields["account"].queryset = restrict(Account.objects.all(), request.user, "view")


class GiftCheckInputSerializer(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none())
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    given_on = serializers.DateField()
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, allow_null=True,
        help_text=gettext_lazy("the account whose limit applies (default: the main account)"),
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["contact"].queryset = restrict(Contact.objects.all(), request.user, "view")
            self.fields["account"].queryset = restrict(Account.objects.all(), request.user, "view")


class GiftCheckSerializer(serializers.Serializer):
    limit = money(allow_null=True, help_text=gettext_lazy("null: no limit"))
    source = serializers.CharField(read_only=True, allow_null=True, help_text=gettext_lazy(
        "policy, setting or null"))  # fmt: skip
    policy_name = serializers.CharField(read_only=True, allow_null=True)
    given = money(help_text=gettext_lazy(
        "given in the worst twelve months around the date, before this gift"))  # fmt: skip
    year_total = money(help_text=gettext_lazy("with this gift"))
    left = money(allow_null=True)
    over = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "over the limit: it would wait for approval"))  # fmt: skip


class GiftTotalSerializer(serializers.Serializer):
    year = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "the calendar year (the totals are calendar-year sums; the limit itself holds over "
        "any twelve months around each gift)"))  # fmt: skip
    contact_id = serializers.IntegerField(read_only=True)
    contact = serializers.CharField(read_only=True)
    account = serializers.CharField(read_only=True, help_text=gettext_lazy("the main account"))
    gifts = serializers.IntegerField(read_only=True)
    approved = money(help_text=gettext_lazy("approved value in the calendar year"))
    pending = money(help_text=gettext_lazy("value awaiting approval in the calendar year"))
    limit = money(allow_null=True, help_text=gettext_lazy(
        "the highest yearly limit recorded with the year's gifts (null: none)"))  # fmt: skip
    over_limit = serializers.IntegerField(read_only=True, help_text=gettext_lazy(
        "the year's gifts that were over their limit when recorded"))  # fmt: skip
    over = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "one of the year's gifts was over its limit when recorded"))  # fmt: skip


class GiftDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300,
                                 help_text=gettext_lazy("required to reject"))  # fmt: skip
    version = version_field(required=True)


class GiftCancelSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    version = version_field(required=True)


class GiftViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The gift register (礼品登记, for compliance review). List filters: year, account,
    contact, status, over_limit, recorded_by, given_from, given_to, event, q; ordering
    (given_on, value, created_at). A gift within the recipient's yearly limit is approved
    as recorded; over it, it waits for an executive or administrator (approve, reject with
    a note; never one's own, except an administrator); the recorder may cancel it while it
    waits. `totals` gives the register per person and year; `check` the limit before
    recording."""

    permission_classes = [IsStaff, ScopedPermission]
    scoped_model = Gift
    scoped_action_map = {"approve": "view", "reject": "view", "cancel": "view",
                         "check_limit": "add", "totals": "view"}  # fmt: skip
    serializer_class = GiftSerializer
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = GiftFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Gift]:
        if getattr(self, "swagger_fake_view", False):
            return Gift.objects.none()
        return gift_list(actor=self.request.user, filters=self.request.query_params)

    def _detail(self, pk, *, status_code=status.HTTP_200_OK) -> Response:
        gift = gift_get(actor=self.request.user, pk=int(pk))
        return Response(GiftDetailSerializer(gift, context=self.get_serializer_context()).data,
                        status=status_code)  # fmt: skip

    @extend_schema(request=GiftInputSerializer, responses={201: GiftDetailSerializer})
    def create(self, request):
        """Record a gift (approved within the limit, else waiting for approval)."""
        data = _valid(GiftInputSerializer, request, context=self.get_serializer_context())
        gift = gift_services.gift_record(actor=request.user, **data)
        return self._detail(gift.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses=GiftDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(request=GiftCheckInputSerializer, responses=GiftCheckSerializer)
    @action(detail=False, methods=["post"], url_path="check")
    def check_limit(self, request):
        """The recipient's yearly limit, what they were given around the date and the total
        with this gift (changes nothing)."""
        data = _valid(GiftCheckInputSerializer, request, context=self.get_serializer_context())
        check = gift_services.gift_check(contact=data["contact"], value=data["value"],
                                         given_on=data["given_on"], account=data.get("account"),
                                         actor=request.user)  # fmt: skip
        return Response(GiftCheckSerializer(check).data)

    @extend_schema(responses=GiftTotalSerializer(many=True))
    @action(detail=False, methods=["get"])
    def totals(self, request):
        """Per person and calendar year of the filtered register: gifts, approved and
        waiting value, the highest limit recorded with them and how many were over their
        limit when recorded."""
        return Response(GiftTotalSerializer(gift_totals(actor=request.user, filters=request.query_params),
                                            many=True).data)  # fmt: skip

    def _decision(self, request, pk, serializer_class, call) -> Response:
        gift = gift_get(actor=request.user, pk=int(pk))  # not seen: a 404 first
        data = _valid(serializer_class, request)
        call(gift, data)
        return self._detail(pk)

    @extend_schema(request=GiftDecisionSerializer, responses=GiftDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a gift over the limit (executives, administrators; not one's own, except
        an administrator)."""
        return self._decision(request, pk, GiftDecisionSerializer, lambda g, d: gift_services.gift_approve(
            actor=request.user, gift=g, expected_version=d["version"], note=d["note"]))  # fmt: skip

    @extend_schema(request=GiftDecisionSerializer, responses=GiftDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a gift over the limit, saying why (`note`)."""
        return self._decision(request, pk, GiftDecisionSerializer, lambda g, d: gift_services.gift_reject(
            actor=request.user, gift=g, note=d["note"], expected_version=d["version"]))  # fmt: skip

    @extend_schema(request=GiftCancelSerializer, responses=GiftDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The recorder withdraws a gift that still waits."""
        return self._decision(request, pk, GiftCancelSerializer, lambda g, d: gift_services.gift_cancel(
            actor=request.user, gift=g, expected_version=d["version"], note=d["note"]))  # fmt: skip


# --- the VIP club --------------------------------------------------------------------------


class VipLevelSerializer(serializers.ModelSerializer):
    name_text = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "the name in your language"))  # fmt: skip
    benefit_list = serializers.ListField(child=serializers.CharField(), read_only=True,
                                         help_text=gettext_lazy("the benefits in your language"))  # fmt: skip

    class Meta:
        model = VipLevel
        fields = ["id", "code", "name", "name_zh", "name_text", "rank", "tier", "benefits",
                  "benefits_zh", "benefit_list", "lock_version"]  # fmt: skip
        read_only_fields = fields


class VipLevelInputSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=30)
    name = serializers.CharField(max_length=60)
    name_zh = serializers.CharField(max_length=60)
    rank = serializers.IntegerField(min_value=1, max_value=1000, help_text=gettext_lazy(
        "1 is the highest level"))  # fmt: skip
    tier = serializers.ChoiceField(choices=VipLevel._meta.get_field("tier").choices, required=False,
                                   allow_blank=True, help_text=gettext_lazy(
                                       "the tier whose accounts' members get this level"))  # fmt: skip
    benefits = serializers.CharField(required=False, allow_blank=True)
    benefits_zh = serializers.CharField(required=False, allow_blank=True)
    lock_version = version_field(name="lock_version")


class VipLevelViewSet(ScopedViewSet):
    """The VIP club's levels with their benefits (in both languages) and the tier whose
    accounts' members get each; read by all staff, changed by administrators."""

    selector = None
    scoped_model = VipLevel
    serializer_class = VipLevelSerializer
    input_serializer = VipLevelInputSerializer
    permission_classes = [IsStaff, ScopedPermission]
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VipLevel.objects.none()
        return vip_level_list(actor=self.request.user)

    def _fresh(self, obj):
        return vip_level_list(actor=self.request.user).get(pk=obj.pk)

    def _level_input(self, request, partial: bool) -> tuple[dict, int | None]:
        data = dict(_valid(VipLevelInputSerializer, request, partial=partial))
        return data, data.pop("lock_version", None)

    @extend_schema(request=VipLevelInputSerializer, responses={201: VipLevelSerializer})
    def create(self, request, *args, **kwargs):
        data, _lock = self._level_input(request, partial=False)
        level = vip_services.vip_level_create(actor=request.user, data=data)
        return Response(VipLevelSerializer(self._fresh(level)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VipLevelInputSerializer, responses=VipLevelSerializer)
    def partial_update(self, request, *args, **kwargs):
        level = self.get_object()
        data, lock_version = self._level_input(request, partial=True)
        vip_services.vip_level_update(actor=request.user, level=level, data=data,
                                      lock_version=require_version(lock_version, "lock_version"))  # fmt: skip
        return Response(VipLevelSerializer(self._fresh(level)).data)

    def perform_service_destroy(self, obj):
        vip_services.vip_level_delete(actor=self.request.user, level=obj)


class EffectiveLevelSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    rank = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)


class VipMemberSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    account_tier = serializers.CharField(source="account.tier", read_only=True)
    level_override_name = NameField(source="level_override.name_text", default=None)
    effective_level = serializers.SerializerMethodField(help_text=gettext_lazy(
        "the level set by hand, else the level of the account's tier (null: none)"))  # fmt: skip

    class Meta:
        model = VipMember
        fields = ["id", "contact", "contact_name", "account", "account_name", "account_tier",
                  "effective_level", "level_override", "level_override_name", "override_reason",
                  "joined_on", "is_active", "notes", "version", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(EffectiveLevelSerializer(allow_null=True))
    def get_effective_level(self, member) -> dict | None:
        if member.effective_level_id is None:
            return None
        return {"id": member.effective_level_id, "rank": member.effective_rank,
                "name": member.effective_name, "name_zh": member.effective_name_zh}  # fmt: skip


class VipMemberInputSerializer(serializers.Serializer):
    """Shapes input only; the level rule and who may add are the service's."""

    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none())
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.all(), required=False,
                                                 allow_null=True, help_text=gettext_lazy(
                                                     "default: the contact's main account"))  # fmt: skip
    level_override = serializers.PrimaryKeyRelatedField(
        queryset=VipLevel.objects.all(), required=False, allow_null=True,
        help_text=gettext_lazy("a level set by hand (needs override_reason)"),
    )  # fmt: skip
    override_reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    joined_on = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["contact"].queryset = restrict(Contact.objects.all(), request.user, "view")


class VipMemberViewSet(ScopedViewSet):
    """VIP club members (VIP 俱乐部会员): contacts of the accounts you see, with their
    effective level. Filters: q, account, level (the effective one), is_active, overridden;
    ordering (level, joined_on, name). Members are added and changed by those who may change
    the account; DELETE ends the membership (kept, inactive) at `?version=` (required)."""

    selector = staticmethod(vip_member_list)
    scoped_model = VipMember
    serializer_class = VipMemberSerializer
    input_serializer = VipMemberInputSerializer
    filterset_class = VipMemberFilterSet
    permission_classes = [IsStaff, ScopedPermission]
    scoped_action_map = {"destroy": "change"}
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return VipMember.objects.none()
        return super().get_queryset()

    def _fresh(self, obj):
        return vip_member_get(actor=self.request.user, pk=obj.pk)

    def perform_service_create(self, data):
        data.pop("is_active", None)
        return vip_services.vip_member_add(actor=self.request.user, **{k: v for k, v in data.items()
                                                                       if v is not None})  # fmt: skip

    def perform_service_update(self, obj, data, version):
        data.pop("contact", None)
        vip_services.vip_member_update(actor=self.request.user, member=obj, data=data,
                                       expected_version=require_version(version))  # fmt: skip

    @extend_schema(
        parameters=[OpenApiParameter("version", int, required=True)], responses={204: None}
    )
    def destroy(self, request, *args, **kwargs):
        member = self.get_object()
        raw = request.query_params.get("version")
        try:
            version = int(raw) if raw not in (None, "") else None
        except ValueError:
            raise serializers.ValidationError({"version": [_("Enter a whole number.")]}) from None
        vip_services.vip_member_remove(
            actor=request.user, member=member, expected_version=require_version(version)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
