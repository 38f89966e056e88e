"""Shared pieces of the API views."""

from django_filters.rest_framework import DjangoFilterBackend


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
