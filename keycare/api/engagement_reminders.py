"""API of the notification list: the user's own reminders (unread first; filters `status`
= unread | read, `kind`), one reminder, the unread count, and marking read — one
(`POST /reminders/{id}/read/`), several or all (`POST /reminders/read/` with `ids` or
`all`). Staff only (a portal user: 403; anonymous: 401). Another user's reminder is a 404
and is never marked. Title and body are in the reader's language."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DrfValidationError
from rest_framework.response import Response

from keycare.engagement.filters_reminders import ReminderFilterSet
from keycare.engagement.models import Reminder
from keycare.engagement.reminders import reminder_mark_read
from keycare.engagement.selectors.reminders import (
    reminder_entries,
    reminder_list,
    reminders_may_view,
    unread_count,
)

from .mixins import NameField, SchemaOnlyFilterBackend

ID_MAX = 2**63 - 1


class IsStaff(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return reminders_may_view(request.user)


class ReminderSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    title = serializers.SerializerMethodField(help_text=gettext_lazy("in the reader's language"))
    body = serializers.SerializerMethodField(help_text=gettext_lazy("in the reader's language"))
    account_name = NameField(source="account")
    contact_name = NameField(source="contact")
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Reminder
        fields = ["id", "kind", "kind_label", "title", "body", "link", "account", "account_name",
                  "contact", "contact_name", "activity", "due_on", "created_at", "read_at",
                  "unread"]  # fmt: skip
        read_only_fields = fields

    def _text(self, reminder) -> tuple[str, str]:
        return self.context.get("texts", {}).get(reminder.pk, ("", ""))

    def get_title(self, reminder) -> str:
        return self._text(reminder)[0]

    def get_body(self, reminder) -> str:
        return self._text(reminder)[1]

    @extend_schema_field(serializers.BooleanField())
    def get_unread(self, reminder) -> bool:
        return reminder.read_at is None


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=ID_MAX), required=False,
        max_length=1000, help_text=gettext_lazy("the reminders to mark read (one's own; others are ignored)"),
    )  # fmt: skip
    all = serializers.BooleanField(required=False, default=False,
                                   help_text=gettext_lazy("mark every unread reminder read"))  # fmt: skip

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise DrfValidationError({"ids": [_("Choose the reminders to mark as read.")]})
        return attrs


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(
        help_text=gettext_lazy("how many were unread and are now read")
    )
    unread = serializers.IntegerField(help_text=gettext_lazy("how many are still unread"))


class UnreadSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class ReminderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The user's own reminders, unread first, newest first."""

    permission_classes = [IsStaff]
    serializer_class = ReminderSerializer
    filter_backends = [SchemaOnlyFilterBackend]
    filterset_class = ReminderFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return Reminder.objects.none()
        filters = self.request.query_params if self.action == "list" else None
        return reminder_list(actor=self.request.user, filters=filters)

    def _context(self, reminders) -> dict:
        entries = reminder_entries(actor=self.request.user, reminders=reminders)
        return {**self.get_serializer_context(), "texts": {e.reminder.pk: (e.title, e.body)
                                                          for e in entries}}  # fmt: skip

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        serializer = ReminderSerializer(page, many=True, context=self._context(page))
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        reminder = self.get_object()
        return Response(ReminderSerializer(reminder, context=self._context([reminder])).data)

    @extend_schema(request=None, responses=ReminderSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this reminder read (already read: unchanged)."""
        reminder = self.get_object()  # another's: a 404
        reminder_mark_read(actor=request.user, reminder_ids=[reminder.pk])
        reminder = self.get_queryset().get(pk=reminder.pk)
        return Response(ReminderSerializer(reminder, context=self._context([reminder])).data)

    @extend_schema(
        request=MarkReadSerializer, responses=MarkedSerializer, operation_id="reminders_read_many"
    )
    @action(detail=False, methods=["post"], url_path="read", url_name="read-many")
    def read_many(self, request):
        """Mark several (`ids`) or all (`all`: true) of one's unread reminders read."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        marked = reminder_mark_read(actor=request.user, reminder_ids=data.get("ids"),
                                    all_unread=data.get("all", False))  # fmt: skip
        return Response({"marked": marked, "unread": unread_count(actor=request.user)})

    @extend_schema(responses=UnreadSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        """How many of one's reminders are unread (the top bar's badge)."""
        return Response({"unread": unread_count(actor=request.user)})
