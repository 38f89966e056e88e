"""The engagement costs in each account's cost to serve (the P&L's engagement driver):
activities done in the period (their own cost: travel, a dinner, a site visit), gifts
approved with their date in the period, and business events held in the period, whose cost
is shared equally among the people who came (each share to the account they came for).
An event nobody was recorded as attending is not put on any account: it stays a company
cost, shown on the event. Three grouped queries, whatever the data size."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, OuterRef, QuerySet, Subquery, Sum

from keycare.profitability.choices import PnlDriver
from keycare.profitability.pnl import cost_source

from .choices import ActivityStatus, EventStatus, GiftStatus, InvitationStatus
from .models import Activity, EventInvitation, Gift

MONEY = DecimalField(max_digits=14, decimal_places=2)


def _in(qs: QuerySet, accounts, field: str = "account_id") -> QuerySet:
    if accounts is None:
        return qs
    if isinstance(accounts, QuerySet):
        return qs.filter(**{f"{field}__in": accounts.values("pk")})
    return qs.filter(**{f"{field}__in": list(accounts)})


def attended_shares(*, start: dt.date, end: dt.date, accounts=None) -> QuerySet:
    """The invitations that bear a share of a held event's cost in the period, each with
    `share` (the event's cost ÷ the number who came)."""
    came = (
        EventInvitation.objects.filter(event=OuterRef("event"), status=InvitationStatus.ATTENDED)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = EventInvitation.objects.filter(
        status=InvitationStatus.ATTENDED,
        event__status=EventStatus.HELD,
        event__starts_at__date__gte=start,
        event__starts_at__date__lte=end,
    ).annotate(
        attendees=Subquery(came),
        share=ExpressionWrapper(F("event__cost") / F("attendees"), output_field=MONEY),
    )
    return _in(qs, accounts)


@cost_source(PnlDriver.ENGAGEMENT)
def engagement_costs(start: dt.date, end: dt.date, accounts) -> dict[int, Decimal]:
    costs: dict[int, Decimal] = defaultdict(Decimal)
    activities = _in(
        Activity.objects.filter(
            status=ActivityStatus.DONE, done_at__date__gte=start, done_at__date__lte=end
        ),
        accounts,
    )
    for pk, total in activities.values("account_id").annotate(s=Sum("cost")).order_by().values_list(
        "account_id", "s"
    ):
        costs[pk] += Decimal(total or 0)
    gifts = _in(
        Gift.objects.filter(status=GiftStatus.APPROVED, given_on__gte=start, given_on__lte=end),
        accounts,
    )
    for pk, total in gifts.values("account_id").annotate(s=Sum("value")).order_by().values_list(
        "account_id", "s"
    ):
        costs[pk] += Decimal(total or 0)
    shares = attended_shares(start=start, end=end, accounts=accounts)
    for pk, total in shares.values("account_id").annotate(s=Sum("share")).order_by().values_list(
        "account_id", "s"
    ):
        costs[pk] += Decimal(total or 0)
    return {pk: value.quantize(Decimal("0.01")) for pk, value in costs.items() if value}
