"""Apply a FilterSet inside a selector; invalid filter input is an error, not ignored."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone


class ChoicesFilter(django_filters.MultipleChoiceFilter):
    """Several values of one of the row's own (or to-one) fields, without the DISTINCT that
    django-filter adds to multiple choices by default: DISTINCT makes the database compare
    and sort every matching row, all columns, before the page is cut, instead of walking an
    index in order (the open-ticket queue by due time went from a sort of every open ticket
    to an ordered index scan). Use MultipleChoiceFilter itself across to-many relations."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


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


PERIOD_KEYS = ("period_from", "period_to")
MAX_PERIOD_DAYS = 3700  # about ten years


#: No business system holds orders from before this; earlier dates are typing errors.
EARLIEST_DATE = dt.date(1990, 1, 1)


def period_from_filters(
    filters: Mapping[str, Any] | None, *, default: tuple[Any, Any]
) -> tuple[Any, Any]:
    """The period a page or endpoint was asked for (`period_from`, `period_to`, ISO dates),
    else `default`: a clear error for a bad date, an inverted range or more than ten years."""
    from django.utils.translation import gettext as _

    values = dict(zip(PERIOD_KEYS, default, strict=True))
    errors = {}
    for key in PERIOD_KEYS:
        raw = (filters or {}).get(key)
        if raw in (None, ""):
            continue
        try:
            values[key] = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            errors[key] = [_("Enter a date as YYYY-MM-DD.")]
    if errors:
        raise ValidationError(errors)
    start, end = values["period_from"], values["period_to"]
    latest = dt.date(timezone.localdate().year + 1, 12, 31)
    if start < EARLIEST_DATE or end > latest:
        raise ValidationError({"period_from": [
            _("Choose dates from %(earliest)s to %(latest)s.")
            % {"earliest": EARLIEST_DATE.isoformat(), "latest": latest.isoformat()}
        ]})  # fmt: skip
    if start > end:
        raise ValidationError({"period_to": [_("The period ends before it starts.")]})
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"period_from": [_("Choose a period of at most ten years.")]})
    return start, end


def trailing_twelve_months(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The default period: the twelve months up to and including today."""
    end = today or timezone.localdate()
    try:
        start = end.replace(year=end.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        start = end.replace(year=end.year - 1, day=28) + dt.timedelta(days=1)
    return start, end


def exact_values(
    filters: Mapping[str, Any] | None,
    lengths: Mapping[str, int],
    messages: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The exact-value filters asked for (`lengths`: key → the field's max length): a value
    no row has simply matches nothing, but input no field could hold (too long, control
    characters) is an error — `messages[key]` (may use %(n)d, the length) or a generic one."""
    from django.utils.translation import gettext as _

    chosen, errors = {}, {}
    for key, max_length in lengths.items():
        value = str((filters or {}).get(key) or "").strip()
        if len(value) > max_length or not value.isprintable():
            message = (messages or {}).get(key) or _("Choose a value from the list.")
            errors[key] = [message % {"n": max_length} if "%(n)" in message else message]
        elif value:
            chosen[key] = value
    if errors:
        raise ValidationError(errors)
    return chosen
