"""Reads of the gift register (for compliance review): the gifts the actor sees, filtered;
the totals per recipient and calendar year with the limit that applies to them; the
approval queue; the rows of the register's export.

The totals are per calendar year, as a register is read; the limit itself is checked over
the worst twelve months around each gift (services.gifts), so a person can be within the
limit in every calendar year and still have had a gift wait for approval. The "over the
limit" flag is therefore the gifts' own (recorded over their limit), never recomputed."""

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from keycare.accounts.models import Account, Contact, ContactAccount
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict, scope_filter
from keycare.users.choices import Role
from keycare.users.models import User

from ..choices import GiftStatus
from ..filters_events import GIFT_OVER_LIMIT, GiftFilterSet
from ..models import Gift

MONEY = DecimalField(max_digits=14, decimal_places=2)
#: The statuses a gift over its limit can have (filters_events.GIFT_OVER_LIMIT).
OVER_STATUSES = (GiftStatus.PENDING, GiftStatus.APPROVED, GiftStatus.REJECTED)


def _sum(status: str) -> Coalesce:
    return Coalesce(
        Sum("value", filter=Q(status=status), output_field=MONEY),
        Value(Decimal("0"), output_field=MONEY),
    )


def gift_list(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Gift]:
    """The gifts the actor sees (engagement.scopes: those who see the account's orders,
    and who recorded them), newest first; filters: year, account, contact, status,
    over_limit, recorded_by, given_from, given_to, event, q."""
    qs = restrict(Gift.objects.all(), actor, "view").select_related(
        "contact", "account", "requested_by", "decided_by", "event"
    )
    return filter_queryset(GiftFilterSet, filters, qs)


def gift_get(*, actor: User, pk: int) -> Gift:
    return gift_list(actor=actor).select_related("activity").get(pk=pk)


def gift_was_over(gift: Gift) -> bool:
    """Whether the gift was over its limit when recorded (filters_events.GIFT_OVER_LIMIT):
    the register's flag, as the gift's recorded status, limit and year total say."""
    return gift.status in OVER_STATUSES and gift.limit is not None and gift.year_total > gift.limit


def gift_totals(*, actor: User, filters: Mapping[str, Any] | None = None) -> list[dict]:
    """Per recipient and calendar year of the filtered register (calendar-year sums, as a
    register is read — not the limit's twelve months): the gifts given or waiting (not the
    rejected or cancelled), the value approved and waiting, the highest limit recorded with
    the year's gifts (None: none had a limit), how many of them were over their limit when
    recorded (`over_limit`) and `over` when any was — the flag of the gifts themselves, not a
    second reckoning. `account` is the person's main account. One grouped query."""
    rows = list(
        gift_list(actor=actor, filters=filters)
        .order_by()
        .annotate(year=ExtractYear("given_on"))
        .values("year", "contact_id", "contact__name", "contact__account__name")
        .annotate(
            gifts=Count("pk", filter=Q(status__in=(GiftStatus.APPROVED, GiftStatus.PENDING))),
            approved=_sum(GiftStatus.APPROVED),
            pending=_sum(GiftStatus.PENDING),
            top_limit=Max("limit", filter=~Q(status=GiftStatus.CANCELLED)),
            over_limit=Count("pk", filter=GIFT_OVER_LIMIT),
        )
        .order_by("-year", "contact__name", "contact_id")
    )
    cent = Decimal("0.01")
    totals = []
    for row in rows:
        limit = row["top_limit"]
        limit = Decimal(limit).quantize(cent) if limit is not None else None
        totals.append({
            "year": row["year"], "contact_id": row["contact_id"], "contact": row["contact__name"],
            "account": row["contact__account__name"], "gifts": row["gifts"],
            "approved": Decimal(row["approved"]).quantize(cent),
            "pending": Decimal(row["pending"]).quantize(cent), "limit": limit,
            "over_limit": row["over_limit"], "over": row["over_limit"] > 0,
        })  # fmt: skip
    return totals


def gift_approvals(*, actor: User, filters: Mapping[str, Any] | None = None) -> QuerySet[Gift]:
    """The gifts waiting for a decision the actor may take: for executives and
    administrators, those waiting, not their own (an administrator's own too)."""
    qs = gift_list(actor=actor, filters=filters)
    if not actor.has_role(Role.EXECUTIVE, Role.ADMINISTRATOR):
        return qs.none()
    qs = qs.filter(status=GiftStatus.PENDING)
    if not actor.has_role(Role.ADMINISTRATOR):
        qs = qs.exclude(requested_by=actor)
    return qs.order_by("given_on", "pk")


def gift_approval_count(*, actor: User) -> int:
    return gift_approvals(actor=actor).count()


def gift_register_headers() -> list[str]:
    """The register's columns, in the reader's language."""
    return [_("Given on"), _("Recipient"), _("Account"), _("Gift"), _("Occasion"), pgettext("gift", "Value"),
            _("Status"), _("Yearly limit"), _("Year total with it"), _("Over the limit"),
            _("Event"), _("Recorded by"), _("Recorded at"), _("Decided by"), _("Decided at"),
            _("Decision note")]  # fmt: skip


def _local(value):
    # to the second: a register's reader has no use for microseconds
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0) if value else None


def gift_register_rows(gifts: QuerySet[Gift]) -> Iterator[list]:
    """One row per gift (values kept as numbers and dates), for the exports."""
    yes, no = _("Yes"), _("No")
    for g in gifts.iterator(chunk_size=2000):
        over = gift_was_over(g)
        yield [g.given_on, g.contact.name, g.account.name, g.description, g.occasion, g.value,
               g.get_status_display(), g.limit, g.year_total, yes if over else no,
               g.event.name if g.event_id else "", str(g.requested_by), _local(g.created_at),
               str(g.decided_by) if g.decided_by_id else "", _local(g.decided_at),
               g.decision_note]  # fmt: skip


def gift_recordable_accounts(*, actor: User, limit: int = 1000) -> QuerySet[Account]:
    """The accounts the actor may record gifts for (the rule of `gift_may_record`, as a
    queryset), by name, for a select."""
    verdict = scope_filter(Gift, actor, "add")
    if verdict is False:
        return Account.objects.none()
    action = "view" if verdict is True else "change"
    return (
        restrict(Account.objects.all(), actor, action)
        .only("pk", "name")
        .order_by("name", "id")[:limit]
    )


def gift_recipients(*, actor: User, account: Account) -> QuerySet[Contact]:
    """The people of an account (its own and those who also belong to it) still with the
    company, whom the actor sees, by name."""
    others = ContactAccount.objects.filter(account=account).values("contact_id")
    return (
        restrict(Contact.objects.filter(is_active=True), actor, "view")
        .filter(Q(account=account) | Q(pk__in=others))
        .select_related("account")
        .order_by("name", "pk")
    )
