"""Pure arithmetic of the engagement programme (no ORM): the buying-centre coverage score,
the shortest coach path to a decision maker, and a cadence's due date and overdue days.
The domain modules (coverage, cadences) feed them plain values read set-based."""

import datetime as dt
from collections import deque
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

# --- the coverage score ---------------------------------------------------------------------

#: The buying roles of a buying centre (a contact whose role is "unknown" is not a key person).
KEY_ROLES = (
    "decision_maker",
    "influencer",
    "technical_evaluator",
    "user",
    "coach",
    "gatekeeper",
)

#: The score's parts, 100 in all.
POINTS_DECISION_MAKER_KNOWN = 20
POINTS_DECISION_MAKERS_MET = 30
POINTS_COACH = 15
POINTS_PER_ENGAGED_CONTACT = 5
POINTS_MULTI_THREADING = 20  # four contacts engaged or more
POINTS_ROLES_COVERED = 15

#: A contact "we know well": the relationship strength (1–5) from which they can introduce us.
KNOWN_WELL = 4


def coverage_score(
    *,
    decision_makers_known: int,
    decision_makers_met: int,
    has_coach: bool,
    engaged: int,
    roles_covered: int,
) -> int:
    """The buying-centre coverage score, 0–100:

    - 20 when at least one decision maker is known;
    - 30 × the share of the known decision makers met within the window;
    - 15 when there is a coach (an internal champion);
    - 5 per contact engaged within the window, up to 20 (multi-threading: four or more);
    - 15 × the share of the six buying roles held by at least one key person.

    Rounded half up to a whole number."""
    if min(decision_makers_known, decision_makers_met, engaged, roles_covered) < 0:
        raise ValueError("counts cannot be negative")
    met = min(decision_makers_met, decision_makers_known)
    total = Decimal(0)
    if decision_makers_known:
        total += POINTS_DECISION_MAKER_KNOWN
        total += Decimal(POINTS_DECISION_MAKERS_MET * met) / decision_makers_known
    if has_coach:
        total += POINTS_COACH
    total += min(POINTS_PER_ENGAGED_CONTACT * engaged, POINTS_MULTI_THREADING)
    total += Decimal(POINTS_ROLES_COVERED * min(roles_covered, len(KEY_ROLES))) / len(KEY_ROLES)
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- coach paths ----------------------------------------------------------------------------


def undirected(edges: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, set[Hashable]]:
    """An adjacency dict from edges, each usable both ways (an introduction or a line of the
    org chart runs either way when we ask for help). Self-loops are dropped."""
    graph: dict[Hashable, set[Hashable]] = {}
    for a, b in edges:
        if a == b:
            continue
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    return graph


def coach_path(
    *,
    graph: Mapping[Hashable, Iterable[Hashable]],
    sources: Sequence[Hashable],
    target: Hashable,
) -> list[Hashable] | None:
    """The shortest path from one of `sources` (the people we know well, most preferred
    first) to `target` (a decision maker we have not reached), as the list of nodes from the
    source to the target; None when no source reaches it.

    A breadth-first search from all sources at once. Ties are broken deterministically: of
    the equally short paths, the one from the source that comes first in `sources`, then the
    one whose next steps sort first (nodes must be sortable, e.g. ("c", 12) and ("u", 3)).
    A target that is itself a source is its own path ([target])."""
    seen: set[Hashable] = set()
    parent: dict[Hashable, Hashable | None] = {}
    queue: deque[Hashable] = deque()
    for source in sources:
        if source not in seen:
            seen.add(source)
            parent[source] = None
            queue.append(source)
    while queue:
        node = queue.popleft()
        if node == target:
            path = [node]
            while parent[path[-1]] is not None:
                path.append(parent[path[-1]])
            return path[::-1]
        for neighbour in sorted(graph.get(node, ())):
            if neighbour not in seen:
                seen.add(neighbour)
                parent[neighbour] = node
                queue.append(neighbour)
    return None


# --- cadences -------------------------------------------------------------------------------


def cadence_due(
    *, last_done_on: dt.date | None, every_days: int, today: dt.date
) -> tuple[dt.date, int]:
    """(due on, days overdue) of a cadence met every `every_days` days and last met on
    `last_done_on`: due `every_days` after the last time, or today when never met. Due today
    is not overdue (0); a day later is 1."""
    if every_days < 1:
        raise ValueError("every_days must be at least 1")
    due_on = today if last_done_on is None else last_done_on + dt.timedelta(days=every_days)
    return due_on, max(0, (today - due_on).days)


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week `today` is in."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)
