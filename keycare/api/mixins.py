"""Shared pieces of the API views."""

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from .permissions import ScopedPermission


class SelectorQuerysetMixin:
    """`get_queryset` comes from a selector that takes the acting user and the query string,
    so the API list and the web list filter and scope identically (invalid filters are a 400).
    """

    selector = None

    def get_queryset(self):
        filters = self.request.query_params if getattr(self, "action", None) == "list" else None
        return type(self).selector(actor=self.request.user, filters=filters)


class SchemaOnlyFilterBackend(DjangoFilterBackend):
    """Documents the view's FilterSet in the OpenAPI schema; filtering itself already
    happened in the selector, so this backend leaves the queryset as it is."""

    def filter_queryset(self, request, queryset, view):
        return queryset


class ScopedViewSet(SelectorQuerysetMixin, viewsets.ModelViewSet):
    """A resource whose reads come from a selector and whose writes go through services.

    Subclasses set `selector`, `scoped_model`, `serializer_class` (output), `input_serializer`
    and implement `perform_service_create(data)` / `perform_service_update(obj, data, version)`
    / `perform_service_destroy(obj)` as needed."""

    permission_classes = [ScopedPermission]
    filter_backends = [SchemaOnlyFilterBackend]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    input_serializer = None
    #: answer a create with the object the service returned instead of reading it back
    #: through the selector (when the service sets every field the answer shows)
    answer_as_created = False

    def _input(self, request, partial: bool):
        serializer = self.input_serializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        return data, version

    def _fresh(self, obj):
        return type(self).selector(actor=self.request.user).get(pk=obj.pk)

    def create(self, request, *args, **kwargs):
        data, _version = self._input(request, partial=False)
        obj = self.perform_service_create(data)
        if not self.answer_as_created:
            obj = self._fresh(obj)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        data, version = self._input(request, partial=True)
        self.perform_service_update(obj, data, version)
        return Response(self.get_serializer(self._fresh(obj)).data)

    def destroy(self, request, *args, **kwargs):
        self.perform_service_destroy(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_service_create(self, data):
        raise NotImplementedError

    def perform_service_update(self, obj, data, version):
        raise NotImplementedError

    def perform_service_destroy(self, obj):
        raise NotImplementedError


class ReadOnlyScopedViewSet(SelectorQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [ScopedPermission]
    filter_backends = [SchemaOnlyFilterBackend]


class NameField(serializers.CharField):
    """The name (str) of a related row that may be missing: null then. (A source such as
    "created_by.__str__" would answer the method-wrapper of None for a missing row.)"""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, allow_null=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(value)
