"""Reads of the business events: the list with each event's invitation counts, one event,
its invitations (those the actor sees: of the accounts they see, or all for the
organiser), the cost per attendee and per account, and the people the actor may invite."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from keycare.accounts.models import Account, Contact
from keycare.accounts.scopes import may_see_costs
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, scope_filter
from keycare.users.models import User

from ..choices import EventStatus, InvitationStatus
from ..costs import split_cents
from ..filters_events import BusinessEventFilterSet, EventInvitationFilterSet
from ..models import BusinessEvent, EventInvitation, VipMember
from .vip import with_effective_level

S = InvitationStatus


def _counted(qs: QuerySet[BusinessEvent]) -> QuerySet[BusinessEvent]:
    def n(*statuses):
        return Count("invitations", filter=Q(invitations__status__in=statuses))

    return qs.annotate(
        invited_count=Count("invitations"), registered_count=n(S.REGISTERED, S.ATTENDED),
        declined_count=n(S.DECLINED), attended_count=n(S.ATTENDED), no_show_count=n(S.NO_SHOW),
    )  # fmt: skip


def event_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[BusinessEvent]:
    """The events (all staff see them), newest first, with the number invited, registered
    (and came), declined, came and did not come; filters: q, status, kind, starts_from,
    starts_to, vip, vip_level, organiser."""
    qs = restrict(BusinessEvent.objects.all(), actor, "view").select_related(
        "organiser", "vip_level"
    )
    ordering = str((filters or {}).get("ordering") or "")
    if "cost" in ordering and not may_see_costs(actor):  # the order would tell the costs
        raise ValidationError({"ordering": [_("You may not order events by their cost.")]})
    # a grouped query drops the model's ordering: say it again
    return filter_queryset(
        BusinessEventFilterSet, filters, _counted(qs).order_by("-starts_at", "-id")
    )


def event_get(*, actor: User, pk: int) -> BusinessEvent:
    return event_list(actor=actor).get(pk=pk)


def vip_member_events(*, actor: User) -> QuerySet[BusinessEvent]:
    """The VIP club's member events (those for members of a level)."""
    return event_list(actor=actor, filters={"vip": "true"})


def event_invitation_list(
    *, actor: User, event: BusinessEvent, filters: Mapping[str, Any] | None = None
) -> QuerySet[EventInvitation]:
    """The event's invitations the actor sees (engagement.scopes), by account and name."""
    qs = (
        restrict(EventInvitation.objects.filter(event=event), actor, "view")
        .select_related("contact", "account", "invited_by")
        .order_by("account__name", "contact__name", "pk")
    )
    return filter_queryset(EventInvitationFilterSet, filters, qs)


def event_changeable_invitation_ids(*, actor: User, event: BusinessEvent) -> set[int]:
    """The invitations the actor may answer or record attendance for (one query)."""
    qs = restrict(EventInvitation.objects.filter(event=event), actor, "change")
    return set(qs.values_list("pk", flat=True))


def event_cost_summary(*, actor: User, event: BusinessEvent) -> dict | None:
    """The event's budget and cost, the cost per person who came, and each account's share
    (those the actor sees by name; the others together), as the P&L counts it once the
    event is held. Two queries. None for who may not see costs (commercial figures:
    keycare.accounts.scopes.may_see_costs)."""
    if not may_see_costs(actor):
        return None
    attended = dict(
        event.invitations.filter(status=S.ATTENDED)
        .values("account_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("account_id", "n")
    )
    came = sum(attended.values())
    cost = Decimal(event.cost or 0)
    shares = split_cents(cost, attended)  # as engagement.costs splits it
    visible = {
        a.pk: a
        for a in restrict(Account.objects.filter(pk__in=list(shares)), actor, "view").only(
            "pk", "name"
        )
    }
    rows = sorted(
        ({"account": visible[pk], "attended": attended.get(pk, 0), "share": share}
         for pk, share in shares.items() if pk in visible),
        key=lambda r: (-r["share"], r["account"].name),
    )  # fmt: skip
    hidden = [pk for pk in shares if pk not in visible]
    per_person = (cost / came).quantize(Decimal("0.01")) if came else None
    budget = Decimal(event.budget) if event.budget is not None else None
    return {
        "cost": cost, "budget": budget,
        "over_budget": budget is not None and cost > budget,
        "budget_left": budget - cost if budget is not None else None,
        "attended": came, "per_attendee": per_person, "accounts": rows,
        "others": {"accounts": len(hidden), "attended": sum(attended.get(pk, 0) for pk in hidden),
                   "share": sum((shares[pk] for pk in hidden), Decimal("0"))},
        "counted": event.status == EventStatus.HELD,
        "company_cost": event.status == EventStatus.HELD and not came and cost > 0,
    }  # fmt: skip


def event_invitable_contacts(
    *, actor: User, event: BusinessEvent, q: str = "", limit: int = 200
) -> QuerySet[Contact]:
    """The people the actor may invite to the event (active, not invited yet): of the
    accounts they may change, or of any account they see when they organise it or are an
    administrator or executive; for a member event, the club's members of its level or
    higher only. By account and name, at most `limit`."""
    qs = restrict(Contact.objects.filter(is_active=True), actor, "view").exclude(
        pk__in=event.invitations.values("contact_id")
    )
    verdict = scope_filter(EventInvitation, actor, "add")
    if verdict is not True and event.organiser_id != actor.pk:
        qs = qs.filter(account__in=restrict(Account.objects.all(), actor, "change").values("pk"))
    if event.vip_level_id is not None:
        members = with_effective_level(VipMember.objects.filter(is_active=True)).filter(
            effective_rank__lte=event.vip_level.rank
        )
        qs = qs.filter(pk__in=members.values("contact_id"))
    if q.strip():
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(account__name__icontains=q.strip()))
    qs = qs.select_related("account").order_by("account__name", "name", "pk")
    # at most `limit`, as a queryset a form can still look a choice up in (a slice cannot)
    return qs.filter(pk__in=Subquery(qs.values("pk")[:limit]))
