"""The executive sponsor programme (高层互动): each key account can have an executive sponsor
(the "chief account manager", 首席客户经理: an account team member in the executive sponsor
role); the playbook's executive visit cadence says how often an executive meets the
account (e.g. strategic accounts: each quarter).

- `sponsored_accounts`: an executive's own page — the accounts they sponsor, with the next
  executive visit due (and the days overdue), the coverage score and the service health of
  each (SLA compliance, open breached and escalated tickets, CSAT);
- `executive_overdue_report`: the key accounts with no executive contact within their
  cadence, and those with no sponsor at all (flagged).

Both read set-based: a fixed number of queries whatever the number of accounts."""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django.db.models import Case, Count, DateField, Exists, F, OuterRef, Prefetch, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import AccountTeamRole, AccountTier, AccountType
from keycare.accounts.models import Account, AccountTeamMember
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.service.choices import OPEN_STATUSES, SlaState
from keycare.service.models import SlaAlert, Ticket, TicketRating
from keycare.users.models import User

from .cadences import CadenceStatus, cadence_statuses, last_executive_contact
from .choices import ActivityKind
from .coverage import (
    Coverage,
    Rows,
    account_owners,
    by_account_value,
    coverage_for_accounts,
    engagement_may_view,
    executives,
    key_accounts,
    with_account_value,
)
from .models import AccountCoverage

#: The period of the service figures: the last twelve months, as on the account 360 page.
HEALTH_DAYS = 365


# --- service health ----------------------------------------------------------------------------


@dataclass
class ServiceHealth:
    resolved: int = 0
    sla_compliance: float | None = None
    open: int = 0
    breached: int = 0
    escalated: int = 0
    ratings: int = 0
    csat: float | None = None


def service_health(
    *, actor: User, account_ids: list[int], now: dt.datetime | None = None
) -> dict[int, ServiceHealth]:
    """{account id: its service health} over the tickets the actor sees: open tickets with
    a breached SLA and those escalated to the executives (as of now), and over the last
    twelve months the SLA compliance of the resolved tickets and CSAT — the service
    dashboard's own roll-up, grouped by account. Three grouped queries."""
    # the service dashboard's roll-up (SLA met % and CSAT by a key), here by account
    from keycare.service.dashboard import _rollup

    if not account_ids:
        return {}
    now = now or timezone.now()
    since = now - dt.timedelta(days=HEALTH_DAYS)
    tickets = restrict(Ticket.objects.filter(account_id__in=account_ids), actor, "view")
    breached = Q(response_sla=SlaState.BREACHED) | Q(resolution_sla=SlaState.BREACHED)
    escalated = Exists(
        SlaAlert.objects.filter(ticket_id=OuterRef("pk"), level=SlaAlert.Level.ESCALATED)
    )
    health = {pk: ServiceHealth() for pk in account_ids}
    for row in (
        tickets.filter(status__in=OPEN_STATUSES)
        .values("account_id")
        .annotate(
            open=Count("id"),
            breached=Count("id", filter=breached),
            escalated=Count("id", filter=Q(escalated)),
        )
        .order_by()
    ):
        h = health[row["account_id"]]
        h.open, h.breached, h.escalated = row["open"], row["breached"], row["escalated"]
    resolved = tickets.filter(resolved_at__gte=since).order_by()
    ratings = TicketRating.objects.filter(
        ticket__in=tickets.values("pk"), rated_at__gte=since, score__isnull=False
    ).order_by()
    for account_id, figures in _rollup(resolved, ratings, "account").items():
        h = health[account_id]
        h.resolved, h.sla_compliance = figures["resolved"], figures["sla_compliance"]
        h.ratings, h.csat = figures["ratings"], figures["csat"]
    return health


# --- executive cadence -----------------------------------------------------------------------


@dataclass
class ExecutiveCadence:
    """The executive visit cadence of an account: the most urgent of its playbook's
    executive visit items (None: its playbook asks for none)."""

    status: CadenceStatus | None
    #: the last executive contact at the account, whether or not its playbook asks for one
    last_contact_at: dt.datetime | None = None

    @property
    def due_on(self) -> dt.date | None:
        return self.status.due_on if self.status else None

    @property
    def overdue_days(self) -> int:
        return self.status.overdue_days if self.status else 0

    @property
    def last_done_at(self) -> dt.datetime | None:
        if self.status is not None and self.status.last_done_at is not None:
            return self.status.last_done_at
        return self.last_contact_at

    @property
    def every_days(self) -> int | None:
        return self.status.item.every_days if self.status else None

    @property
    def missed(self) -> bool:
        """No executive contact within the cadence: never, or overdue."""
        return self.status is not None and (self.status.never_done or self.status.is_overdue)


def executive_cadences(accounts: list[Account], today: dt.date) -> dict[int, ExecutiveCadence]:
    statuses: dict[int, list[CadenceStatus]] = defaultdict(list)
    for status in cadence_statuses(accounts=accounts, today=today):
        if status.item.kind == ActivityKind.EXECUTIVE_VISIT:
            statuses[status.account_id].append(status)
    last = last_executive_contact([a.pk for a in accounts]) if accounts else {}
    return {
        a.pk: ExecutiveCadence(
            min(statuses[a.pk], key=lambda s: (s.due_on, s.item.position, s.item.pk))
            if statuses.get(a.pk)
            else None,
            last_contact_at=last.get(a.pk),
        )
        for a in accounts
    }


def _sponsors(account_ids: list[int]) -> dict[int, list[User]]:
    sponsors: dict[int, list[User]] = defaultdict(list)
    for member in (
        AccountTeamMember.objects.filter(
            account_id__in=account_ids, role=AccountTeamRole.EXECUTIVE_SPONSOR
        )
        .select_related("user")
        .order_by("user__username", "id")
    ):
        sponsors[member.account_id].append(member.user)
    return sponsors


# --- my sponsored accounts ---------------------------------------------------------------


@dataclass
class SponsoredAccount:
    account: Account
    executive: ExecutiveCadence
    coverage: Coverage
    health: ServiceHealth

    @property
    def coverage_score(self) -> int:
        return self.coverage.score


def sponsored_accounts(*, actor: User, today: dt.date | None = None) -> list[SponsoredAccount]:
    """The accounts the actor sponsors (their account team role), the most overdue
    executive visit first, then the next due, then by account value. Staff only (others:
    none). A fixed number of queries."""
    if not engagement_may_view(actor):
        return []
    today = today or timezone.localdate()
    mine = AccountTeamMember.objects.filter(user=actor, role=AccountTeamRole.EXECUTIVE_SPONSOR)
    accounts = list(
        by_account_value(
            with_account_value(
                restrict(Account.objects.filter(pk__in=mine.values("account_id")), actor, "view"),
                today,
            ).select_related("owner")
        )
    )
    ids = [a.pk for a in accounts]
    cadence = executive_cadences(accounts, today)
    coverage = coverage_for_accounts(account_ids=ids, today=today)
    health = service_health(actor=actor, account_ids=ids)
    rows = [SponsoredAccount(account=a, executive=cadence[a.pk], coverage=coverage[a.pk],
                             health=health[a.pk]) for a in accounts]  # fmt: skip
    rank = {a.pk: i for i, a in enumerate(accounts)}
    far = dt.date.max
    rows.sort(key=lambda r: (-r.executive.overdue_days, r.executive.due_on or far,
                             rank[r.account.pk]))  # fmt: skip
    return rows


# --- the executive overdue report ------------------------------------------------------------


class SponsorFilter(django_filters.ModelChoiceFilter):
    """The accounts an executive sponsors (their team role, not any team membership); chosen
    by name on the page, by id in the API."""

    def filter(self, qs, value):
        if not value:
            return qs
        sponsors = AccountTeamMember.objects.filter(
            user=value, role=AccountTeamRole.EXECUTIVE_SPONSOR
        )
        return qs.filter(pk__in=sponsors.values("account_id"))


class ExecutiveOverdueFilterSet(django_filters.FilterSet):
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), field_name="owner", queryset=lambda request: account_owners()
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=AccountTier.choices)
    account_type = django_filters.ChoiceFilter(label=_("Account type"), choices=AccountType.choices)
    province = django_filters.CharFilter(label=_("Region"), field_name="province")
    sponsor = SponsorFilter(
        label=_("Executive sponsor"), field_name="team__user", queryset=lambda request: executives()
    )

    class Meta:
        model = Account
        fields = []


@dataclass
class StoredExecutiveCadence:
    """The executive visit cadence as stored in `AccountCoverage` (computed by the coverage
    tick; the days overdue counted from `today`)."""

    every_days: int | None
    last_done_at: dt.datetime | None
    stored_due_on: dt.date | None
    today: dt.date

    @property
    def status(self) -> bool | None:
        """Truthy when the account's playbook asks for an executive visit."""
        return True if self.every_days is not None else None

    @property
    def never_done(self) -> bool:
        return self.every_days is not None and self.last_done_at is None

    @property
    def due_on(self) -> dt.date | None:
        if self.every_days is None:
            return None
        return self.today if self.last_done_at is None else self.stored_due_on

    @property
    def overdue_days(self) -> int:
        due = self.due_on
        return max(0, (self.today - due).days) if due is not None else 0

    @property
    def missed(self) -> bool:
        return self.every_days is not None and (self.never_done or self.overdue_days > 0)


@dataclass
class ExecutiveOverdueRow:
    account: Account
    sponsors: list[User]
    executive: StoredExecutiveCadence
    flags: list[str] = field(default_factory=list)

    @property
    def no_sponsor(self) -> bool:
        return not self.sponsors


def _overdue_row(account: Account, today: dt.date) -> ExecutiveOverdueRow:
    try:
        figures = account.coverage_figures
    except AccountCoverage.DoesNotExist:
        figures = None  # not computed yet: no cadence known
    cadence = StoredExecutiveCadence(
        every_days=figures.executive_every_days if figures else None,
        last_done_at=figures.executive_last_at if figures else None,
        stored_due_on=figures.executive_due_on if figures else None,
        today=today,
    )
    row = ExecutiveOverdueRow(account=account, executive=cadence,
                              sponsors=[m.user for m in account.sponsor_members])  # fmt: skip
    if cadence.missed:
        row.flags.append("missed")
    if row.no_sponsor:
        row.flags.append("no_sponsor")
    return row


def executive_overdue_report(
    *, actor: User, filters: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> Rows:
    """The key accounts the actor sees (filtered by owner, tier, type, region, sponsor)
    with no executive contact within their cadence — never, or overdue — and those with no
    executive sponsor at all (flagged `no_sponsor`; `missed` for the cadence), the most
    overdue first (never visited before overdue), then by account value. The cadence is the
    stored one (`AccountCoverage`, refreshed by the coverage tick and after each activity);
    filtered, sorted and paginated in SQL: a page reads three queries (the count, the page,
    the sponsors)."""
    today = today or timezone.localdate()
    accounts = key_accounts(actor=actor)
    if not engagement_may_view(actor):
        accounts = accounts.none()
    accounts = filter_queryset(ExecutiveOverdueFilterSet, filters, accounts)
    sponsor = AccountTeamMember.objects.filter(
        account_id=OuterRef("pk"), role=AccountTeamRole.EXECUTIVE_SPONSOR
    )
    has_cadence = Q(coverage_figures__executive_every_days__isnull=False)
    never = has_cadence & Q(coverage_figures__executive_last_at__isnull=True)
    overdue = has_cadence & Q(coverage_figures__executive_last_at__isnull=False,
                              coverage_figures__executive_due_on__lt=today)  # fmt: skip
    accounts = (
        accounts.annotate(has_sponsor=Exists(sponsor))
        .filter(never | overdue | Q(has_sponsor=False))
        .annotate(
            never_rank=Case(When(never, then=Value(0)), default=Value(1)),
            overdue_since=Case(
                When(overdue, then=F("coverage_figures__executive_due_on")),
                default=Value(today),
                output_field=DateField(),
            ),
        )
        .order_by(
            "never_rank",
            "overdue_since",
            F("value_gross_profit").desc(nulls_last=True),
            F("value_revenue").desc(nulls_last=True),
            "name",
            "id",
        )
        .prefetch_related(
            Prefetch(
                "team",
                queryset=AccountTeamMember.objects.filter(role=AccountTeamRole.EXECUTIVE_SPONSOR)
                .select_related("user")
                .order_by("user__username", "id"),
                to_attr="sponsor_members",
            )
        )
    )
    return Rows(accounts.select_related("coverage_figures"), lambda a: _overdue_row(a, today))
