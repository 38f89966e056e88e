"""Apply a FilterSet inside a selector; invalid filter input is an error, not ignored."""

from collections.abc import Mapping
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict


def filter_queryset(
    filterset_class: type[django_filters.FilterSet],
    data: Mapping[str, Any] | None,
    queryset: QuerySet,
) -> QuerySet:
    if not data:
        return queryset
    # Unknown keys are ignored (pagination, HTMX and format parameters share the query string);
    # an empty value means "no filter" (what an untouched form select sends).
    data = _without_empty(data)
    filterset = filterset_class(data=data, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(
            {field: [str(e) for e in errors] for field, errors in filterset.errors.items()}
        )
    return filterset.qs


def _without_empty(data: Mapping[str, Any]) -> QueryDict:
    cleaned = QueryDict(mutable=True)
    getlist = data.getlist if hasattr(data, "getlist") else lambda k: _as_list(data[k])
    for key in data:
        values = [v for v in getlist(key) if v not in ("", None)]
        if values:
            cleaned.setlist(key, values)
    return cleaned


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]
