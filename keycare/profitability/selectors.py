"""Reads of concessions, scoped to the acting user: the lists (mine, my approval queue,
all I may see), one request with its chain and events."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from keycare.accounts.scopes import team_account_ids
from keycare.core.filtering import filter_queryset
from keycare.core.scoping import restrict
from keycare.users.models import User

from . import calculations as calc
from .choices import LEVEL_ORDER, ApprovalLevel, ConcessionStatus, StepStatus
from .concessions import actor_level, request_scope_action
from .filters import ConcessionFilterSet
from .models import Concession, ConcessionEvent, ConcessionStep

BOXES = ("all", "mine", "inbox")


def _inbox(qs: QuerySet, actor: User) -> QuerySet:
    """The requests waiting for a decision the actor may take: the waiting step's level is at
    or below theirs, not their own request, no step of it already decided by them, and a
    key account manager only for the accounts they manage."""
    level = actor_level(actor)
    if level is None:
        return qs.none()
    allowed = LEVEL_ORDER[: calc.level_rank(level) + 1]
    waiting = ConcessionStep.objects.filter(
        concession=OuterRef("pk"), status=StepStatus.WAITING, position=OuterRef("current_step"),
        level__in=allowed,
    )  # fmt: skip
    qs = qs.filter(Exists(waiting), status=ConcessionStatus.PENDING).exclude(requested_by=actor)
    qs = qs.exclude(
        Exists(ConcessionStep.objects.filter(concession=OuterRef("pk"), decided_by=actor))
    )
    if level == ApprovalLevel.KEY_ACCOUNT_MANAGER:
        qs = qs.filter(Q(account__owner=actor) | Q(account__in=team_account_ids(actor)))
    return qs


def concession_list(*, actor: User, filters: Mapping[str, Any] | None = None,
                    box: str = "all") -> QuerySet[Concession]:  # fmt: skip
    if box not in BOXES:
        raise ValidationError({"box": [_("Choose all, mine or the approval queue.")]})
    qs = restrict(Concession.objects.all(), actor, "view")
    if box == "mine":
        qs = qs.filter(requested_by=actor)
    elif box == "inbox":
        qs = _inbox(qs, actor)
    qs = qs.select_related("account", "requested_by", "contact").prefetch_related(
        Prefetch(
            "steps",
            queryset=ConcessionStep.objects.select_related("decided_by").order_by("position"),
        )
    )
    return filter_queryset(ConcessionFilterSet, filters, qs)


def concession_requestable_accounts(*, actor: User, limit: int = 1000) -> QuerySet:
    """The accounts the actor may ask a concession for (the rule of
    `concession_may_request`, as a queryset), by name, for a select."""
    from keycare.accounts.models import Account

    action = request_scope_action(actor)
    if action is None:
        return Account.objects.none()
    return (
        restrict(Account.objects.all(), actor, action)
        .only("pk", "name")
        .order_by("name", "id")[:limit]
    )


def concession_inbox_count(*, actor: User) -> int:
    return _inbox(restrict(Concession.objects.all(), actor, "view"), actor).count()


def concession_get(*, actor: User, pk: int) -> Concession:
    """One request with its steps and events (Http404 through DoesNotExist when not seen)."""
    return (
        restrict(Concession.objects.all(), actor, "view")
        .select_related("account", "requested_by", "contact", "ticket", "equipment", "policy")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ConcessionStep.objects.select_related("decided_by").order_by("position"),
            ),
            Prefetch(
                "events",
                queryset=ConcessionEvent.objects.select_related("actor").order_by("at", "id"),
            ),
        )
        .get(pk=pk)
    )
