"""Playbooks: for each account type × tier, how its accounts are engaged — the cadences and
recommended activities (the items: who of ours meets whom of theirs, how, every how many
days) and the service measures, taken from the type's service strategy (Insights) plus the
playbook's own notes. The most specific active playbook applies: (type, tier), then
(type, any tier), then (any type, tier), then (any, any).

Administrators write playbooks (every write checks the scope rule, logs an engagement
event, and a stale `lock_version` is refused); all staff read them. Playbooks generate
suggested activities (`playbook_suggestions`) for the cadences due within a week or
overdue that no planned activity already answers."""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from keycare.accounts.choices import AccountTier, AccountType
from keycare.accounts.models import Account
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.core.services import check_version, require_permission
from keycare.insights.models import ServiceStrategy
from keycare.users.models import User

from .choices import ActivityStatus
from .log import log_event
from .models import Activity, Playbook, PlaybookItem, StyleGuidance

#: What an administrator sets on a playbook, and on each of its items.
PLAYBOOK_FIELDS = ("account_type", "tier", "name", "name_zh", "notes", "notes_zh", "is_active")
ITEM_FIELDS = ("kind", "our_role", "their_role", "every_days", "title", "title_zh", "how",
               "how_zh", "position")  # fmt: skip
#: A cadence due within this many days is suggested (overdue ones always are).
SUGGEST_WITHIN_DAYS = 7
#: How many of their people a suggestion names when the item asks for any key person.
SUGGESTED_PEOPLE = 3


# --- reads ---------------------------------------------------------------------------------


class PlaybookFilterSet(django_filters.FilterSet):
    account_type = django_filters.ChoiceFilter(
        label=gettext_lazy("Account type"), choices=AccountType.choices
    )
    tier = django_filters.ChoiceFilter(label=gettext_lazy("Tier"), choices=AccountTier.choices)
    is_active = django_filters.BooleanFilter(label=gettext_lazy("Active"))

    class Meta:
        model = Playbook
        fields = []


def _items() -> Prefetch:
    return Prefetch("items", queryset=PlaybookItem.objects.order_by("position", "id"))


def playbook_list(
    *, actor: User | None, filters: Mapping[str, Any] | None = None
) -> QuerySet[Playbook]:
    """The playbooks (all staff), each with its items in order."""
    qs = restrict(Playbook.objects.all(), actor, "view")
    qs = filter_queryset(PlaybookFilterSet, filters, qs)
    return (
        qs.select_related("updated_by")
        .prefetch_related(_items())
        .order_by("account_type", "tier", "id")
    )


def playbook_get(*, actor: User | None, pk: int) -> Playbook:
    """Raises Playbook.DoesNotExist when missing or not visible to the actor."""
    return playbook_list(actor=actor).get(pk=pk)


def active_playbooks() -> list[Playbook]:
    """The active playbooks with their items (two queries)."""
    return list(Playbook.objects.filter(is_active=True).prefetch_related(_items()))


def pick_playbook(
    playbooks: Sequence[Playbook], *, account_type: str, tier: str
) -> Playbook | None:
    """The most specific active playbook for a type and tier: (type, tier), (type, any),
    (any, tier), then (any, any)."""
    by_key = {(p.account_type, p.tier): p for p in playbooks if p.is_active}
    for key in ((account_type, tier), (account_type, ""), ("", tier), ("", "")):
        if key in by_key:
            return by_key[key]
    return None


def playbook_for(account: Account, *, playbooks: Sequence[Playbook] | None = None
                 ) -> Playbook | None:  # fmt: skip
    """The playbook that applies to the account (its type and tier)."""
    if playbooks is None:
        playbooks = active_playbooks()
    return pick_playbook(playbooks, account_type=account.account_type or "",
                         tier=account.tier or "")  # fmt: skip


def service_strategies() -> dict[str, ServiceStrategy]:
    """{account type: its service strategy} (one query)."""
    return {s.account_type: s for s in ServiceStrategy.objects.all()}


def playbook_service_measures(
    playbook: Playbook, *, strategies: Mapping[str, ServiceStrategy] | None = None
) -> dict[str, Any]:
    """What the playbook shows as its service measures: the practices of its account
    type's service strategy (none for a playbook of any type) and its own notes, in the
    reader's language. One query (none for any type, or with `strategies` read before)."""
    strategy = None
    if playbook.account_type:
        if strategies is None:
            strategy = ServiceStrategy.objects.filter(account_type=playbook.account_type).first()
        else:
            strategy = strategies.get(playbook.account_type)
    return {
        "strategy": strategy,
        "summary": strategy.summary_text if strategy else "",
        "practices": strategy.practice_list if strategy else [],
        "notes": playbook.measure_list,
    }


# --- writes --------------------------------------------------------------------------------


def _require(actor: User | None, action: str) -> None:
    """Administrators (the scope rule); no actor: the system itself (seeding, imports)."""
    if actor is not None:
        require_permission(actor=actor, action=action, model=Playbook)


def _unknown(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")


def _check_unique(playbook: Playbook) -> None:
    """One playbook per type and tier (said on the tier; a race is caught on save)."""
    same = Playbook.objects.filter(account_type=playbook.account_type, tier=playbook.tier)
    if same.exclude(pk=playbook.pk).exists():
        raise ValidationError({"tier": [_("There is already a playbook for this type and tier.")]})


def _save_playbook(playbook: Playbook) -> None:
    """Save; a playbook for the same type and tier saved meanwhile is a clear error."""
    try:
        with transaction.atomic():
            playbook.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"tier": [_("There is already a playbook for this type and tier.")]}
        ) from exc


def _item(playbook: Playbook, data: Mapping[str, Any], instance: PlaybookItem | None = None
          ) -> PlaybookItem:  # fmt: skip
    _unknown(data, ITEM_FIELDS)
    item = instance or PlaybookItem(playbook=playbook)
    for name, value in data.items():
        setattr(item, name, value)
    item.full_clean(exclude=["playbook"])
    return item


def _touch(playbook: Playbook, actor: User | None) -> None:
    playbook.lock_version += 1
    playbook.updated_by = actor if getattr(actor, "pk", None) else None
    playbook.updated_at = timezone.now()


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list]:
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


@transaction.atomic
def playbook_create(
    *, actor: User | None, data: Mapping[str, Any], items: Iterable[Mapping[str, Any]] = ()
) -> Playbook:
    """A new playbook with its items (administrators)."""
    _require(actor, "add")
    _unknown(data, PLAYBOOK_FIELDS)
    playbook = Playbook(**data)
    playbook.updated_by = actor if getattr(actor, "pk", None) else None
    playbook.full_clean(validate_constraints=False)
    _check_unique(playbook)
    built = [_item(playbook, {"position": position, **row})
             for position, row in enumerate(items)]  # fmt: skip
    _save_playbook(playbook)
    for item in built:
        item.playbook = playbook
        item.save()
    log_event(obj=playbook, action="playbook_created", actor=actor,
              fields={k: getattr(playbook, k) for k in PLAYBOOK_FIELDS},
              items=[i.pk for i in built])  # fmt: skip
    return playbook


def _lock(playbook: Playbook, lock_version: int | None) -> Playbook:
    """The playbook locked for the change, at the edit version read (required: without it
    the stale check could not be made)."""
    if lock_version is None:
        raise ValidationError({"lock_version": [
            _("The edit version is missing: reload the page and make the change again.")
        ]})  # fmt: skip
    locked = Playbook.objects.select_for_update().get(pk=playbook.pk)
    check_version(instance=locked, expected=lock_version, field="lock_version")
    return locked


@transaction.atomic
def playbook_update(
    *,
    actor: User | None,
    playbook: Playbook,
    data: Mapping[str, Any],
    lock_version: int | None,
    items: Iterable[Mapping[str, Any]] | None = None,
) -> Playbook:
    """Change a playbook (administrators); an edit based on a stale `lock_version` is
    refused. With `items`, they replace the playbook's items: a row with the `id` of one of
    its items changes it, a row without adds one, items left out are removed."""
    _require(actor, "change")
    playbook = _lock(playbook, lock_version)
    _unknown(data, PLAYBOOK_FIELDS)
    before = {k: getattr(playbook, k) for k in PLAYBOOK_FIELDS}
    for name, value in data.items():
        setattr(playbook, name, value)
    playbook.full_clean(validate_constraints=False)
    _check_unique(playbook)
    item_changes = None
    if items is not None:
        item_changes = _replace_items(playbook, list(items))
    _touch(playbook, actor)
    _save_playbook(playbook)
    log_event(obj=playbook, action="playbook_updated", actor=actor,
              changes=_changes(before, {k: getattr(playbook, k) for k in PLAYBOOK_FIELDS}),
              items=item_changes)  # fmt: skip
    return playbook


def _replace_items(playbook: Playbook, rows: list[Mapping[str, Any]]) -> dict[str, list[int]]:
    current = {item.pk: item for item in playbook.items.all()}
    kept, added, built = set(), [], []
    for position, row in enumerate(rows):
        row = dict(row)
        pk = row.pop("id", None)
        row.setdefault("position", position)
        if pk is not None:
            if pk not in current:
                raise ValidationError(
                    {"items": [_("Item %(id)s is not an item of this playbook.") % {"id": pk}]}
                )
            kept.add(pk)
            built.append(_item(playbook, row, current[pk]))
        else:
            built.append(_item(playbook, row))
    removed = sorted(set(current) - kept)
    PlaybookItem.objects.filter(pk__in=removed).delete()
    for item in built:
        is_new = item.pk is None
        item.save()
        if is_new:
            added.append(item.pk)
    return {"kept": sorted(kept), "added": added, "removed": removed}


@transaction.atomic
def playbook_delete(*, actor: User | None, playbook: Playbook, lock_version: int | None = None
                    ) -> None:  # fmt: skip
    """Remove a playbook and its items (administrators). Activities planned from its items
    keep their record; the next most specific playbook applies to its accounts."""
    _require(actor, "delete")
    playbook = _lock(playbook, lock_version)
    log_event(obj=playbook, action="playbook_deleted", actor=actor,
              fields={k: getattr(playbook, k) for k in PLAYBOOK_FIELDS})  # fmt: skip
    playbook.delete()


@transaction.atomic
def playbook_item_add(
    *, actor: User | None, playbook: Playbook, data: Mapping[str, Any],
    lock_version: int | None = None,
) -> PlaybookItem:  # fmt: skip
    """Add an item to a playbook (administrators; the playbook's version is checked and
    moves on)."""
    _require(actor, "change")
    playbook = _lock(playbook, lock_version)
    data = dict(data)
    if "position" not in data:
        data["position"] = (max((i.position for i in playbook.items.all()), default=-1)) + 1
    item = _item(playbook, data)
    item.save()
    _touch(playbook, actor)
    playbook.save(update_fields=["lock_version", "updated_by", "updated_at"])
    log_event(obj=playbook, action="playbook_item_added", actor=actor, item=item.pk,
              fields={k: getattr(item, k) for k in ITEM_FIELDS})  # fmt: skip
    return item


@transaction.atomic
def playbook_item_update(
    *, actor: User | None, item: PlaybookItem, data: Mapping[str, Any],
    lock_version: int | None = None,
) -> PlaybookItem:  # fmt: skip
    """Change an item (administrators; its playbook's version is checked and moves on)."""
    _require(actor, "change")
    playbook = _lock(item.playbook, lock_version)
    item = PlaybookItem.objects.get(pk=item.pk)
    before = {k: getattr(item, k) for k in ITEM_FIELDS}
    item = _item(playbook, data, item)
    item.save()
    _touch(playbook, actor)
    playbook.save(update_fields=["lock_version", "updated_by", "updated_at"])
    log_event(obj=playbook, action="playbook_item_updated", actor=actor, item=item.pk,
              changes=_changes(before, {k: getattr(item, k) for k in ITEM_FIELDS}))  # fmt: skip
    return item


@transaction.atomic
def playbook_item_remove(*, actor: User | None, item: PlaybookItem,
                         lock_version: int | None = None) -> None:  # fmt: skip
    """Remove an item (administrators; its playbook's version is checked and moves on)."""
    _require(actor, "change")
    playbook = _lock(item.playbook, lock_version)
    fields = {k: getattr(item, k) for k in ITEM_FIELDS}
    pk = item.pk
    PlaybookItem.objects.filter(pk=pk, playbook=playbook).delete()
    _touch(playbook, actor)
    playbook.save(update_fields=["lock_version", "updated_by", "updated_at"])
    log_event(obj=playbook, action="playbook_item_removed", actor=actor, item=pk,
              fields=fields)  # fmt: skip


# --- suggestions ---------------------------------------------------------------------------


@dataclass
class SuggestedPerson:
    contact_id: int
    name: str
    title: str
    role: str
    role_label: str
    decision_style: str
    style_label: str
    met_in_window: bool
    last_touch_at: dt.datetime | None
    #: how to deal with them (风格矩阵), from the administrators' style guidance
    guidance: StyleGuidance | None


@dataclass
class Suggestion:
    """A suggested activity: which account, which playbook item (its cadence status), whom
    to meet and how (their style guidance), and why (`reason`)."""

    account: Account
    status: Any  # cadences.CadenceStatus
    people: list[SuggestedPerson] = field(default_factory=list)
    #: a planned activity of this kind is already scheduled at the account
    already_planned: bool = False
    reason: str = ""

    @property
    def item(self) -> PlaybookItem:
        return self.status.item


def style_guidance_map() -> dict[str, StyleGuidance]:
    """{decision style: its guidance}, every style (one query; the administrators' texts,
    the seeded ones where a row is missing)."""
    from .selectors.programme import style_guidance_all

    return style_guidance_all()


def _whom(item: PlaybookItem, coverage, guidance: Mapping[str, StyleGuidance]
          ) -> list[SuggestedPerson]:  # fmt: skip
    """Their people the item asks for (its role; blank: the most influential key persons),
    those not met in the window first."""
    people = [p for p in coverage.people if not item.their_role or p.role == item.their_role]
    people.sort(key=lambda p: (p.met_in_window, -p.influence, p.name, p.contact_id))
    if not item.their_role:
        people = people[:SUGGESTED_PEOPLE]
    return [
        SuggestedPerson(
            contact_id=p.contact_id,
            name=p.name,
            title=p.title,
            role=p.role,
            role_label=p.role_label,
            decision_style=p.decision_style,
            style_label=p.style_label,
            met_in_window=p.met_in_window,
            last_touch_at=p.last_touch_at,
            guidance=guidance.get(p.decision_style),
        )
        for p in people
    ]


def playbook_suggestions(
    *,
    actor: User,
    accounts: Iterable[Account],
    today: dt.date,
    statuses: list | None = None,
    coverage: Mapping[int, Any] | None = None,
    guidance: Mapping[str, StyleGuidance] | None = None,
    include_planned: bool = False,
) -> list[Suggestion]:
    """For each cadence due within a week or overdue at these accounts (the caller scoped
    them) with no planned activity of that kind already scheduled there, a suggested
    activity: the account, the item, whom to meet (their people in the item's role) with
    each one's style guidance, and why. In the order of `accounts` (e.g. by value), the
    most overdue first. `statuses`, `coverage` and `guidance` may be passed when the caller
    already read them; otherwise a fixed number of queries (the cadences, the coverage, the
    planned activities, the guidance). `include_planned` keeps the cadences already answered
    by a planned activity, marked."""
    from .cadences import cadence_reason, cadence_statuses
    from .coverage import coverage_for_accounts

    accounts = list(accounts)
    if not accounts:
        return []
    if statuses is None:
        statuses = cadence_statuses(accounts=accounts, today=today)
    due = [s for s in statuses if s.due_within(today, SUGGEST_WITHIN_DAYS)]
    if not due:
        return []
    if coverage is None:
        coverage = coverage_for_accounts(account_ids=[a.pk for a in accounts], today=today)
    if guidance is None:
        guidance = style_guidance_map()
    planned = set(
        restrict(
            Activity.objects.filter(
                account_id__in=sorted({s.account_id for s in due}),
                status=ActivityStatus.PLANNED,
                kind__in=sorted({s.item.kind for s in due}),
            ),
            actor,
            "view",
        )
        .values_list("account_id", "kind")
        .distinct()
    )
    rank = {a.pk: i for i, a in enumerate(accounts)}
    by_pk = {a.pk: a for a in accounts}
    suggestions = []
    for status in sorted(due, key=lambda s: (rank[s.account_id], -s.overdue_days, s.due_on,
                                             s.item.position, s.item.pk)):  # fmt: skip
        already = (status.account_id, status.item.kind) in planned
        if already and not include_planned:
            continue
        suggestions.append(Suggestion(
            account=by_pk[status.account_id], status=status,
            people=_whom(status.item, coverage[status.account_id], guidance),
            already_planned=already, reason=cadence_reason(status, today),
        ))  # fmt: skip
    return suggestions
