"""The ticket status workflow, in one place (pure)."""

from django.utils.translation import gettext as _

from keycare.core.exceptions import ApplicationError

from .choices import TicketStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.WAITING_ON_CUSTOMER, S.RESOLVED}),
    S.WAITING_ON_CUSTOMER: frozenset({S.IN_PROGRESS, S.RESOLVED}),
    S.RESOLVED: frozenset({S.CLOSED, S.IN_PROGRESS}),  # in progress again = reopen
    S.CLOSED: frozenset({S.IN_PROGRESS}),  # reopen
}


def allowed_transitions(status: str) -> list[str]:
    return [s for s in S.values if s in TRANSITIONS.get(status, ())]


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, ()):
        raise ApplicationError(
            _("A ticket cannot go from “%(current)s” to “%(target)s”. Allowed: %(allowed)s.")
            % {
                "current": S(current).label,
                "target": S(target).label if target in S.values else target,
                "allowed": "、".join(str(S(s).label) for s in allowed_transitions(current)) or "—",
            },
            extra={"code": "transition_not_allowed", "allowed": allowed_transitions(current)},
        )


def is_reopen(current: str, target: str) -> bool:
    return current in (S.RESOLVED, S.CLOSED) and target == S.IN_PROGRESS
