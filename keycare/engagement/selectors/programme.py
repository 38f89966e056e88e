"""Reads of the programme data of engagement: the style matrix guidance (风格矩阵) and the 2×2
chart of an account's key persons, the reference customers (参观考察) with how often each
was used, set-based, and a reference's visits in a year (for the over-use warning)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from keycare.accounts.choices import DecisionStyle
from keycare.accounts.models import Contact
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, user_can_any
from keycare.users.models import User

from ..choices import ActivityKind, ActivityStatus, VisitDestination
from ..defaults import STYLE_GUIDANCE
from ..filters import ReferenceFilter
from ..models import Activity, ReferenceCustomer, StyleGuidance

# --- the style matrix --------------------------------------------------------------------

#: The 2×2 grid: the top row decides by asserting, the bottom by asking; the left column
#: looks at facts and results, the right at people.
MATRIX_ROWS = (
    (DecisionStyle.LEADER, DecisionStyle.INFLUENCER),
    (DecisionStyle.CHECKER, DecisionStyle.FOLLOWER),
)
MATRIX_AXES = {
    "top": pgettext_lazy("style matrix axis", "Tells: decides fast"),
    "bottom": pgettext_lazy("style matrix axis", "Asks: decides with care"),
    "left": pgettext_lazy("style matrix axis", "Facts and results"),
    "right": pgettext_lazy("style matrix axis", "People and relationships"),
}


def _default_guidance(style: str) -> StyleGuidance:
    """The seeded text of a style, unsaved (when an installation has lost its row)."""
    for code, summary, summary_zh, tips, tips_zh in STYLE_GUIDANCE:
        if code == style:
            return StyleGuidance(style=code, summary=summary, summary_zh=summary_zh, tips=tips,
                                 tips_zh=tips_zh)  # fmt: skip
    return _default_guidance(DecisionStyle.UNKNOWN)


def style_guidance_all() -> dict[str, StyleGuidance]:
    """{style: guidance} for every decision style, in one query (the guidance is read by all
    staff; every style has one, seeded when missing from the database)."""
    rows = {g.style: g for g in StyleGuidance.objects.all()}
    return {style: rows.get(style) or _default_guidance(style) for style in DecisionStyle.values}


def style_guidance_for(style: str | None) -> StyleGuidance:
    """How to deal with a person of this style (an unknown or empty style: the guidance of
    "unknown")."""
    style = style if style in DecisionStyle.values else DecisionStyle.UNKNOWN
    row = StyleGuidance.objects.filter(style=style).first()
    return row or _default_guidance(style)


def style_guidance_list(*, actor: User) -> list[StyleGuidance]:
    """The guidance of every style in the matrix order (leader, influencer, checker,
    follower, unknown), for the page that shows and edits it."""
    if not user_can_any(actor, "view", StyleGuidance):
        return []
    rows = style_guidance_all()
    return [rows[s] for s in DecisionStyle.values]


@dataclass
class StyleCell:
    style: str
    label: str
    guidance: StyleGuidance
    contacts: list = field(default_factory=list)


@dataclass
class StyleMatrix:
    """An account's key persons on the 2×2 grid (`rows`), and those whose style is not
    known yet (`unknown`), with the guidance of each cell."""

    rows: list[list[StyleCell]]
    unknown: StyleCell
    axes: dict
    total: int

    @property
    def placed(self) -> int:
        return self.total - len(self.unknown.contacts)


def style_matrix(*, contacts: Iterable[Contact]) -> StyleMatrix:
    """Place the contacts on the matrix by decision style, the most influential first in
    each cell. One query (the guidance) whatever the number of contacts; the contacts are
    the caller's (already scoped and fetched)."""
    guidance = style_guidance_all()
    labels = dict(DecisionStyle.choices)
    cells = {
        style: StyleCell(style=style, label=str(labels[style]), guidance=guidance[style])
        for style in DecisionStyle.values
    }
    people = sorted(contacts, key=lambda c: (-(c.influence or 0), c.name, c.pk))
    for contact in people:
        style = contact.decision_style if contact.decision_style in cells else "unknown"
        cells[style].contacts.append(contact)
    rows = [[cells[style] for style in row] for row in MATRIX_ROWS]
    return StyleMatrix(rows=rows, unknown=cells[DecisionStyle.UNKNOWN], axes=MATRIX_AXES,
                       total=len(people))  # fmt: skip


# --- reference customers -----------------------------------------------------------------


def reference_visits() -> QuerySet[Activity]:
    """The visits to reference customers that count against their limit: planned or done
    (a cancelled one does not)."""
    return Activity.objects.filter(
        kind=ActivityKind.SITE_VISIT, destination=VisitDestination.REFERENCE,
        reference_account__isnull=False,
    ).exclude(status=ActivityStatus.CANCELLED)  # fmt: skip


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of the year and of the next, in the local time zone."""
    tz = timezone.get_current_timezone()
    return (dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz))


def _visit_at():
    return Coalesce("done_at", "planned_at", output_field=DateTimeField())


def reference_visits_in_year(*, account_id: int, year: int, exclude: int | None = None) -> int:
    """How many visits to this reference customer fall in the year (by their date: done
    on, else planned for), not counting activity `exclude`."""
    start, end = year_bounds(year)
    return (
        reference_visits()
        .filter(reference_account_id=account_id)
        .exclude(pk=exclude or 0)
        .annotate(visit_at=_visit_at())
        .filter(visit_at__gte=start, visit_at__lt=end)
        .count()
    )


def reference_visit_limit(reference: ReferenceCustomer) -> int:
    from ..services.programme import engagement_settings_get

    return reference.max_visits_per_year or engagement_settings_get().reference_visits_per_year


def annotate_usage(qs: QuerySet[ReferenceCustomer], *, today: dt.date | None = None) -> QuerySet:
    """Adds `visits_this_year`, `visits_total`, `last_used` (the latest visit done) and
    `visit_limit` (its own or the settings'), as correlated subqueries (no extra rows); a
    reference is over-used when `visits_this_year > visit_limit`."""
    from ..services.programme import engagement_settings_get

    today = today or timezone.localdate()
    start, end = year_bounds(today.year)
    visits = reference_visits().filter(reference_account=OuterRef("account"))

    def count(q: QuerySet) -> Subquery:
        return Subquery(
            q.order_by().values("reference_account").annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        )

    this_year = visits.annotate(visit_at=_visit_at()).filter(visit_at__gte=start, visit_at__lt=end)
    last = (
        visits.filter(status=ActivityStatus.DONE)
        .order_by()
        .values("reference_account")
        .annotate(m=Max("done_at"))
        .values("m")
    )
    default_limit = engagement_settings_get().reference_visits_per_year
    return qs.annotate(
        visits_this_year=Coalesce(count(this_year), Value(0)),
        visits_total=Coalesce(count(visits), Value(0)),
        last_used=Subquery(last, output_field=DateTimeField()),
        visit_limit=Coalesce("max_visits_per_year", Value(default_limit)),
    )


def reference_customer_list(
    *, actor: User, filters: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> QuerySet[ReferenceCustomer]:
    """The reference customers the actor sees (all staff), with their usage figures."""
    qs = restrict(ReferenceCustomer.objects.all(), actor, "view")
    qs = annotate_usage(qs, today=today).select_related("account", "consent_by", "updated_by")
    return filter_queryset(ReferenceFilter, filters, qs).order_by("account__name", "id")


def reference_customer_get(*, actor: User, pk: int) -> ReferenceCustomer:
    """One reference customer with its usage (DoesNotExist when not seen)."""
    return reference_customer_list(actor=actor).get(pk=pk)


def reference_choices(*, actor: User) -> QuerySet[ReferenceCustomer]:
    """The references a visit may go to now: consent given and available, with usage."""
    return reference_customer_list(actor=actor).filter(consent=True, available=True)
