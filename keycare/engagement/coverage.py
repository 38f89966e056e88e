"""Buying-centre coverage (与关键人物互动 — 找对人比说对话更重要) and coach paths.

For each account: its key persons by buying role (a contact's role at that account: their
main account's role, or the role of their membership), whether a decision maker is known,
when each key person was last met and by whom of ours (`touches`: one meaning of "last
met" everywhere), whether there is a coach, the relationship strength per role, how many of
its people were engaged within the settings' window (`key_person_days`), a score 0–100
(`calculations.coverage_score`) and the flags: single-threaded, no decision maker known,
decision makers not met in the window (each with the coach path to them), no coach.

The coach path runs over the account's org chart (reports to) and introduced-by links
(a contact or a colleague of ours who introduced someone), both ways, from the people we
know well (relationship ≥ 4, or a coach, or a colleague who introduced someone) to each
decision maker not met in the window (`calculations.coach_path`).

Everything is read set-based: `coverage_for_accounts` answers for any number of accounts
in a fixed number of queries (memberships, contacts with their last touch, colleagues,
the settings row)."""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import django_filters
from django.db.models import Case, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from keycare.accounts.choices import (
    AccountStatus,
    AccountTier,
    AccountType,
    BuyingRole,
    DecisionStyle,
)
from keycare.accounts.models import Account, Contact, ContactAccount
from keycare.core.exceptions import PermissionDeniedError
from keycare.core.filtering import filter_queryset, trailing_twelve_months
from keycare.core.scoping import restrict, user_can, user_can_any
from keycare.insights.models import AccountMetric, MetricScope
from keycare.users.choices import STAFF_ROLES, Role
from keycare.users.models import User

from .calculations import KEY_ROLES, KNOWN_WELL, coach_path, coverage_score, undirected
from .choices import PainStatus
from .filters import open_next_step_q
from .models import AccountCoverage, Activity, EngagementSettings, Pain
from .touches import annotate_touches, last_touches

DEFAULT_KEY_PERSON_DAYS = 90

FLAG_SINGLE_THREADED = "single_threaded"
FLAG_NO_DECISION_MAKER = "no_decision_maker_known"
FLAG_UNCOVERED = "uncovered_decision_makers"
FLAG_NO_COACH = "no_coach"
FLAG_NONE_ENGAGED = "none_engaged"
FLAGS = {
    FLAG_SINGLE_THREADED: _("Single-threaded: only one contact engaged"),
    FLAG_NONE_ENGAGED: _("Nobody engaged recently"),
    FLAG_NO_DECISION_MAKER: _("No decision maker known"),
    FLAG_UNCOVERED: _("Decision makers not met"),
    FLAG_NO_COACH: _("No coach"),
}

_ROLE_LABELS = dict(BuyingRole.choices)
_STYLE_LABELS = dict(DecisionStyle.choices)


def engagement_may_view(actor: Any) -> bool:
    """Engagement is the company's own work on the customer's people: staff only."""
    return bool(getattr(actor, "is_authenticated", False)) and actor.has_role(*STAFF_ROLES)


def require_engagement_view(actor: Any) -> None:
    if not engagement_may_view(actor):
        raise PermissionDeniedError(
            _("You do not have permission to do this."), extra={"code": "permission_denied"}
        )


#: Key persons, whom the account team must keep meeting (the reminders, the service link):
#: a buying-centre person (a known role at the account) in one of these roles there, or of
#: at least this influence (1–5).
KEY_PERSON_ROLES = (
    BuyingRole.DECISION_MAKER,
    BuyingRole.INFLUENCER,
    BuyingRole.TECHNICAL_EVALUATOR,
    BuyingRole.COACH,
)
KEY_PERSON_INFLUENCE = 4


def is_key_person(*, role: str | None, influence: int | None) -> bool:
    """Whether someone of this buying role at an account (their role there: the main
    account's, or their membership's) and this influence is a key person of that account."""
    if role in KEY_PERSON_ROLES:
        return True
    return role in KEY_ROLES and (influence or 0) >= KEY_PERSON_INFLUENCE


def key_person_days() -> int:
    """The window in which a person counts as met (the settings row; one query)."""
    days = EngagementSettings.objects.filter(pk=1).values_list("key_person_days", flat=True)
    return next(iter(days), None) or DEFAULT_KEY_PERSON_DAYS


def window_start(today: dt.date, days: int) -> dt.datetime:
    """The first moment of the window: a touch on or after this counts as met."""
    start = dt.datetime.combine(today - dt.timedelta(days=days), dt.time.min)
    return timezone.make_aware(start)


# --- account value ------------------------------------------------------------------------


def with_account_value(queryset: QuerySet[Account], today: dt.date | None = None) -> QuerySet:
    """Accounts with their value from the stored metrics (no computation on a page view):
    `value_gross_profit` and `value_revenue` of their own latest metrics row — the trailing
    twelve months when stored, else the latest period (as the insights pages pick it)."""
    start, end = trailing_twelve_months(today or timezone.localdate())
    this_period_first = Case(
        When(Q(period_start=start, period_end=end), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    latest = AccountMetric.objects.filter(account=OuterRef("pk"), scope=MetricScope.OWN).order_by(
        this_period_first.desc(), "-period_end", "-computed_at"
    )
    return queryset.annotate(
        value_gross_profit=Subquery(latest.values("gross_profit")[:1]),
        value_revenue=Subquery(latest.values("revenue")[:1]),
    )


def by_account_value(queryset: QuerySet) -> QuerySet:
    """Highest value first (gross profit, then revenue); accounts without metrics last."""
    return queryset.order_by(
        F("value_gross_profit").desc(nulls_last=True),
        F("value_revenue").desc(nulls_last=True),
        "name",
        "id",
    )


# --- what coverage is made of ----------------------------------------------------------------


@dataclass
class KeyPerson:
    contact_id: int
    account_id: int
    name: str
    title: str
    role: str
    relationship: int
    influence: int
    decision_style: str
    last_touch_at: dt.datetime | None
    met_in_window: bool
    #: who of ours took part in the last activity with them (owner first); account_coverage only
    met_by: list = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return str(_ROLE_LABELS.get(self.role, self.role))

    @property
    def style_label(self) -> str:
        return str(_STYLE_LABELS.get(self.decision_style, self.decision_style))


@dataclass
class PathNode:
    kind: str  # "contact" or "colleague"
    id: int
    name: str
    title: str = ""
    #: a contact's decision style (how to ask them: their style guidance)
    decision_style: str = ""

    @property
    def node_id(self) -> str:
        """The id of the node on the relationship map ("c12": a contact, "u3": a colleague)."""
        return f"{'c' if self.kind == 'contact' else 'u'}{self.id}"


@dataclass
class CoachPath:
    """The way to a decision maker: from someone we know well (first) to them (last)."""

    target_id: int
    nodes: list[PathNode]

    @property
    def first_to_ask(self) -> PathNode:
        return self.nodes[0]

    @property
    def first_contact(self) -> PathNode | None:
        """The first of their people on the way (the one to meet for the introduction);
        None when a colleague of ours introduced the decision maker directly."""
        return next((n for n in self.nodes[:-1] if n.kind == "contact"), None)

    @property
    def direct(self) -> bool:
        """We know the decision maker well ourselves: meet them, no introduction needed."""
        return len(self.nodes) == 1

    @property
    def node_ids(self) -> list[str]:
        return [n.node_id for n in self.nodes]


@dataclass
class Coverage:
    account_id: int
    window_days: int
    #: the key persons (a known buying role), by role, then influence
    people: list[KeyPerson] = field(default_factory=list)
    #: how many of the account's people (any role) were met within the window
    engaged: int = 0
    #: {uncovered decision maker's contact id: the coach path, or None when nobody reaches them}
    paths: dict[int, CoachPath | None] = field(default_factory=dict)

    @property
    def by_role(self) -> dict[str, list[KeyPerson]]:
        return {role: [p for p in self.people if p.role == role] for role in KEY_ROLES}

    @property
    def decision_makers(self) -> list[KeyPerson]:
        return [p for p in self.people if p.role == BuyingRole.DECISION_MAKER]

    @property
    def decision_maker_known(self) -> bool:
        return bool(self.decision_makers)

    @property
    def decision_makers_met(self) -> int:
        return sum(1 for p in self.decision_makers if p.met_in_window)

    @property
    def uncovered_decision_makers(self) -> list[KeyPerson]:
        return [p for p in self.decision_makers if not p.met_in_window]

    @property
    def has_coach(self) -> bool:
        return any(p.role == BuyingRole.COACH for p in self.people)

    @property
    def roles_covered(self) -> int:
        return len({p.role for p in self.people})

    @property
    def relationship_by_role(self) -> dict[str, Decimal | None]:
        """The mean relationship strength (1–5) of the key persons in each role."""
        out: dict[str, Decimal | None] = {}
        for role, people in self.by_role.items():
            if people:
                mean = Decimal(sum(p.relationship for p in people)) / len(people)
                out[role] = mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            else:
                out[role] = None
        return out

    @property
    def role_rows(self) -> list[dict[str, Any]]:
        """Per buying role: its label, how many key persons hold it, their mean relationship."""
        means = self.relationship_by_role
        return [
            {"role": role, "label": str(_ROLE_LABELS[role]), "people": len(people),
             "relationship": means[role]}
            for role, people in self.by_role.items()
        ]  # fmt: skip

    @property
    def score(self) -> int:
        return coverage_score(
            decision_makers_known=len(self.decision_makers),
            decision_makers_met=self.decision_makers_met,
            has_coach=self.has_coach,
            engaged=self.engaged,
            roles_covered=self.roles_covered,
        )

    @property
    def single_threaded(self) -> bool:
        return self.engaged == 1

    @property
    def no_decision_maker_known(self) -> bool:
        return not self.decision_maker_known

    @property
    def no_coach(self) -> bool:
        return not self.has_coach

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.single_threaded:
            flags.append(FLAG_SINGLE_THREADED)
        if self.engaged == 0:
            flags.append(FLAG_NONE_ENGAGED)
        if self.no_decision_maker_known:
            flags.append(FLAG_NO_DECISION_MAKER)
        if self.uncovered_decision_makers:
            flags.append(FLAG_UNCOVERED)
        if self.no_coach:
            flags.append(FLAG_NO_COACH)
        return flags

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        return [(code, str(FLAGS[code])) for code in self.flags]


# --- set-based coverage ----------------------------------------------------------------------


def _sort_people(people: list[KeyPerson]) -> list[KeyPerson]:
    order = {role: i for i, role in enumerate(KEY_ROLES)}
    return sorted(people, key=lambda p: (order[p.role], -p.influence, p.name, p.contact_id))


def _path_for(*, target: int, all_rows: list[dict], users: Mapping[int, User]) -> CoachPath | None:
    """The coach path to `target` over this account's people (all roles) and colleagues."""
    placed = {row["pk"] for row in all_rows}
    edges = []
    introducers: set[int] = set()
    for row in all_rows:
        node = ("c", row["pk"])
        if row["reports_to_id"] in placed:
            edges.append((node, ("c", row["reports_to_id"])))
        if row["introduced_by_contact_id"] in placed:
            edges.append((node, ("c", row["introduced_by_contact_id"])))
        if row["introduced_by_user_id"] in users:
            introducers.add(row["introduced_by_user_id"])
            edges.append((node, ("u", row["introduced_by_user_id"])))
    well_known = sorted(
        (r for r in all_rows if r["relationship"] >= KNOWN_WELL or r["role"] == BuyingRole.COACH),
        key=lambda r: (-r["relationship"], r["role"] != BuyingRole.COACH, r["pk"]),
    )
    sources = [("c", r["pk"]) for r in well_known] + [("u", pk) for pk in sorted(introducers)]
    found = coach_path(graph=undirected(edges), sources=sources, target=("c", target))
    if found is None:
        return None
    rows = {r["pk"]: r for r in all_rows}
    nodes = [
        PathNode("contact", pk, rows[pk]["name"], rows[pk]["title"], rows[pk]["decision_style"])
        if kind == "c"
        else PathNode("colleague", pk, str(users[pk]))
        for kind, pk in found
    ]
    return CoachPath(target_id=target, nodes=nodes)


def coverage_for_accounts(
    *, account_ids: Iterable[int], today: dt.date | None = None, days: int | None = None
) -> dict[int, Coverage]:
    """{account id: Coverage} for these accounts (the caller has scoped them), with the
    coach path to each decision maker not met in the window. Four queries whatever the
    number of accounts (memberships, contacts with their last touch, the colleagues who
    introduced someone, the settings row — not read when `days` is given)."""
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return {}
    today = today or timezone.localdate()
    days = days or key_person_days()
    since = window_start(today, days)
    memberships = list(
        ContactAccount.objects.filter(account_id__in=ids).values_list(
            "contact_id", "account_id", "buying_role"
        )
    )
    contacts = {
        row["pk"]: row
        for row in annotate_touches(
            Contact.objects.filter(is_active=True).filter(
                Q(account_id__in=ids) | Q(pk__in={m[0] for m in memberships})
            )
        ).values(
            "pk",
            "account_id",
            "name",
            "title",
            "buying_role",
            "relationship",
            "influence",
            "decision_style",
            "reports_to_id",
            "introduced_by_contact_id",
            "introduced_by_user_id",
            "last_touch_at",
        )
    }
    # each person at each account, with their role there (the main account's role wins)
    rows_by_account: dict[int, list[dict]] = defaultdict(list)
    wanted = set(ids)
    for row in contacts.values():
        if row["account_id"] in wanted:
            rows_by_account[row["account_id"]].append({**row, "role": row["buying_role"]})
    for contact_id, account_id, role in memberships:
        row = contacts.get(contact_id)
        if row is not None and row["account_id"] != account_id:
            rows_by_account[account_id].append({**row, "role": role})
    introducer_ids = {r["introduced_by_user_id"] for r in contacts.values()} - {None}
    users = (
        {u.pk: u for u in User.objects.filter(pk__in=introducer_ids, is_active=True)}
        if introducer_ids
        else {}
    )
    result = {}
    for account_id in ids:
        rows = sorted(rows_by_account.get(account_id, []), key=lambda r: r["pk"])
        engaged = 0
        people = []
        for row in rows:
            met = row["last_touch_at"] is not None and row["last_touch_at"] >= since
            engaged += met
            if row["role"] in KEY_ROLES:
                people.append(KeyPerson(
                    contact_id=row["pk"], account_id=account_id, name=row["name"],
                    title=row["title"], role=row["role"], relationship=row["relationship"],
                    influence=row["influence"], decision_style=row["decision_style"],
                    last_touch_at=row["last_touch_at"], met_in_window=met,
                ))  # fmt: skip
        coverage = Coverage(account_id=account_id, window_days=days,
                            people=_sort_people(people), engaged=engaged)  # fmt: skip
        for person in coverage.uncovered_decision_makers:
            coverage.paths[person.contact_id] = _path_for(
                target=person.contact_id, all_rows=rows, users=users
            )
        result[account_id] = coverage
    return result


def account_coverage(*, actor: User, account: Account, today: dt.date | None = None) -> Coverage:
    """One account's coverage for its pages: as `coverage_for_accounts`, with who of ours
    met each key person last (`touches.last_touches`). Staff who see the account only."""
    require_engagement_view(actor)
    if not user_can(actor, "view", account):
        raise Account.DoesNotExist
    coverage = coverage_for_accounts(account_ids=[account.pk], today=today)[account.pk]
    touches = last_touches(p.contact_id for p in coverage.people)
    for person in coverage.people:
        touch = touches.get(person.contact_id)
        person.met_by = touch.by if touch else []
    return coverage


# --- the coverage report -------------------------------------------------------------------


def account_owners() -> QuerySet:
    """Who may own accounts (a filter's choices): the active key account managers."""
    return User.objects.filter(groups__name=Role.KEY_ACCOUNT_MANAGER, is_active=True).order_by(
        "username"
    )


def executives() -> QuerySet:
    """Who may sponsor accounts (a filter's choices): the active executives."""
    return User.objects.filter(groups__name=Role.EXECUTIVE, is_active=True).order_by("username")


class CoverageFilterSet(django_filters.FilterSet):
    """The coverage report of the key accounts: by owner, tier, type and region, and by
    the stored figures (a flag raised, a score below a value: `AccountCoverage`)."""

    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), field_name="owner", queryset=lambda request: account_owners()
    )
    tier = django_filters.ChoiceFilter(label=_("Tier"), choices=AccountTier.choices)
    account_type = django_filters.ChoiceFilter(label=_("Account type"), choices=AccountType.choices)
    province = django_filters.CharFilter(label=_("Region"), field_name="province")
    flag = django_filters.ChoiceFilter(
        label=_("Flag"), choices=list(FLAGS.items()), method="by_flag"
    )
    below = django_filters.NumberFilter(
        label=_("Score below"), method="by_score", min_value=0, max_value=100
    )

    class Meta:
        model = Account
        fields = []

    def by_flag(self, queryset, name, value):
        return queryset.filter(FLAG_FILTERS[value])

    def by_score(self, queryset, name, value):
        return queryset.filter(coverage_figures__score__lt=value)


#: each flag as a filter on the stored figures (`AccountCoverage`, from the account)
FLAG_FILTERS = {
    FLAG_SINGLE_THREADED: Q(coverage_figures__single_threaded=True),
    FLAG_NONE_ENGAGED: Q(coverage_figures__none_engaged=True),
    FLAG_NO_DECISION_MAKER: Q(coverage_figures__decision_maker_known=False),
    FLAG_UNCOVERED: Q(coverage_figures__uncovered_count__gt=0),
    FLAG_NO_COACH: Q(coverage_figures__has_coach=False),
}


def stored_flags(figures: AccountCoverage) -> list[str]:
    """The flags of the stored figures, in the order of `Coverage.flags`."""
    raised = {
        FLAG_SINGLE_THREADED: figures.single_threaded,
        FLAG_NONE_ENGAGED: figures.none_engaged,
        FLAG_NO_DECISION_MAKER: not figures.decision_maker_known,
        FLAG_UNCOVERED: figures.uncovered_count > 0,
        FLAG_NO_COACH: not figures.has_coach,
    }
    return [code for code, on in raised.items() if on]


def key_accounts(*, actor: User) -> QuerySet[Account]:
    """The key accounts (an insights KeyAccount row; lost ones left out) the actor sees,
    with their value."""
    qs = Account.objects.filter(key_account__isnull=False).exclude(status=AccountStatus.LOST)
    qs = restrict(qs, actor, "view")
    return with_account_value(qs).select_related("owner")


class Rows(Sequence):
    """A queryset read page by page as report rows (`wrap` makes a row of each object):
    what the paginators (web and API) slice, so only the page shown is read."""

    def __init__(self, queryset: QuerySet, wrap: Callable[[Any], Any]) -> None:
        self.queryset, self.wrap = queryset, wrap

    def count(self) -> int:  # type: ignore[override]  # what Paginator calls
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self.wrap(obj) for obj in self.queryset[index]]
        return self.wrap(self.queryset[index])

    def __iter__(self):
        return (self.wrap(obj) for obj in self.queryset)


@dataclass
class StoredCoverage:
    """The stored figures of one account as the report shows them (`AccountCoverage`)."""

    figures: AccountCoverage

    def __getattr__(self, name: str) -> Any:
        return getattr(self.figures, name)

    @property
    def flags(self) -> list[str]:
        return stored_flags(self.figures)

    @property
    def flag_labels(self) -> list[tuple[str, str]]:
        return [(code, str(FLAGS[code])) for code in self.flags]

    @property
    def uncovered_decision_makers(self) -> list[int]:
        return list(self.figures.uncovered_ids)


@dataclass
class CoverageRow:
    account: Account
    coverage: StoredCoverage


def coverage_list(
    *, actor: User, filters: Mapping[str, Any] | None = None, today: dt.date | None = None
) -> Rows:
    """The key accounts the actor sees with their stored coverage (`AccountCoverage`, as of
    its `computed_at`; an account not yet computed shows after the next coverage tick),
    filtered (owner, tier, type, region; a flag; a score below a value), lowest score first,
    then by account value. Filtered, sorted and paginated in SQL: a page reads two queries
    (the count and the page). Customer contacts: none."""
    accounts = key_accounts(actor=actor).filter(coverage_figures__isnull=False)
    if not engagement_may_view(actor):
        accounts = accounts.none()
    accounts = filter_queryset(CoverageFilterSet, filters, accounts)
    accounts = accounts.select_related("coverage_figures").order_by(
        "coverage_figures__score",
        F("value_gross_profit").desc(nulls_last=True),
        F("value_revenue").desc(nulls_last=True),
        "name",
        "id",
    )
    return Rows(
        accounts, lambda a: CoverageRow(account=a, coverage=StoredCoverage(a.coverage_figures))
    )


# --- the account 360 page -----------------------------------------------------------------


def open_next_steps(*, actor: User, account_ids: Iterable[int]) -> QuerySet[Activity]:
    """Open next steps at these accounts (`filters.open_next_step_q`: the one rule), the
    earliest due first (those without a due date last)."""
    return (
        restrict(Activity.objects.filter(account_id__in=list(account_ids)), actor, "view")
        .filter(open_next_step_q())
        .select_related("account", "owner")
        .order_by(F("next_step_due").asc(nulls_last=True), "id")
    )


def account_engagement(
    *, actor: User, account: Account, today: dt.date | None = None, limit: int = 10
) -> dict | None:
    """The engagement section of the account 360 page: coverage with the key persons' last
    touch and who met them, the coach paths, the open next steps and the open pains; None
    for those who may not see engagement (customer contacts). A fixed number of queries."""
    if not engagement_may_view(actor):
        return None
    today = today or timezone.localdate()
    coverage = account_coverage(actor=actor, account=account, today=today)
    steps = list(open_next_steps(actor=actor, account_ids=[account.pk])[:limit])
    for step in steps:
        step.is_overdue = step.next_step_due is not None and step.next_step_due < today
    pains = list(
        restrict(Pain.objects.filter(account=account), actor, "view")
        .filter(status__in=(PainStatus.OPEN, PainStatus.PROPOSED))
        .select_related("raised_by", "owner")
        .order_by("-impact", "-raised_on", "-id")[:limit]
    )
    return {
        "coverage": coverage,
        "next_steps": steps,
        "pains": pains,
        "may_plan": user_can_any(actor, "add", Activity),
    }
