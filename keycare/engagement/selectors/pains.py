"""Reads of the needs and pains log, scoped to the acting user: the list (per account or
across the accounts seen; one FilterSet for the page and the API) and one pain with the
activities, tickets and concessions linked to it — only those the user sees."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet

from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.profitability.models import Concession
from keycare.service.models import Ticket
from keycare.users.models import User

from ..filters import PainFilter
from ..models import Activity, EngagementLog, Pain


def pain_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Pain]:
    """The pains of the accounts the actor sees, newest first (the impact breaks ties)."""
    qs = restrict(Pain.objects.all(), actor, "view")
    qs = filter_queryset(PainFilter, filters, qs)
    if not (filters or {}).get("ordering"):
        qs = qs.order_by("-raised_on", "-impact", "-id")
    return qs.select_related("account", "raised_by", "owner")


def _links(actor: User) -> list[Prefetch]:
    return [
        Prefetch("activities", queryset=restrict(Activity.objects.all(), actor, "view")
                 .select_related("owner").order_by("-planned_at", "-id")),
        Prefetch("tickets", queryset=restrict(Ticket.objects.all(), actor, "view")
                 .order_by("-opened_at", "-id")),
        Prefetch("concessions", queryset=restrict(Concession.objects.all(), actor, "view")
                 .order_by("-requested_at", "-id")),
    ]  # fmt: skip


def pain_list_with_links(
    *, actor: User, filters: Mapping[str, Any] | None = None
) -> QuerySet[Pain]:
    """The list with the links each pain has (the ones the actor sees), for the API and an
    account's pains log: three more queries whatever the number of pains."""
    return pain_list(actor=actor, filters=filters).prefetch_related(*_links(actor))


def pain_get(*, actor: User, pk: int) -> Pain:
    """One pain with its links (DoesNotExist when not seen)."""
    return pain_list_with_links(actor=actor).get(pk=pk)


def pain_log(*, actor: User, pain: Pain) -> list[EngagementLog]:
    return list(
        restrict(EngagementLog.objects.all(), actor, "view")
        .filter(object_type="pain", object_id=pain.pk)
        .select_related("actor")
        .order_by("at", "id")
    )
