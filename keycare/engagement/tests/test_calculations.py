"""The pure arithmetic of the engagement programme: the coverage score, the shortest coach
path on a small hand-built graph, and a cadence's due date and days overdue."""

import datetime as dt

import pytest

from keycare.engagement.calculations import (
    cadence_due,
    coach_path,
    coverage_score,
    undirected,
    week_of,
)

# --- the coverage score ---------------------------------------------------------------------


def test_an_account_with_nobody_scores_zero():
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=False,
                          engaged=0, roles_covered=0) == 0  # fmt: skip


def test_full_coverage_scores_one_hundred():
    assert coverage_score(decision_makers_known=2, decision_makers_met=2, has_coach=True,
                          engaged=6, roles_covered=6) == 100  # fmt: skip


def test_each_part_of_the_score():
    # a decision maker known but not met: 20; one met of two: 20 + 15
    assert coverage_score(decision_makers_known=1, decision_makers_met=0, has_coach=False,
                          engaged=0, roles_covered=0) == 20  # fmt: skip
    assert coverage_score(decision_makers_known=2, decision_makers_met=1, has_coach=False,
                          engaged=0, roles_covered=0) == 35  # fmt: skip
    # a coach: 15; multi-threading 5 a contact up to 20
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=True,
                          engaged=0, roles_covered=0) == 15  # fmt: skip
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=False,
                          engaged=3, roles_covered=0) == 15  # fmt: skip
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=False,
                          engaged=9, roles_covered=0) == 20  # fmt: skip
    # roles: 15 × covered / 6, rounded half up (1 role: 2.5 → 3; 3 roles: 7.5 → 8)
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=False,
                          engaged=0, roles_covered=1) == 3  # fmt: skip
    assert coverage_score(decision_makers_known=0, decision_makers_met=0, has_coach=False,
                          engaged=0, roles_covered=3) == 8  # fmt: skip


def test_a_single_threaded_account_with_its_decision_maker_met():
    # 20 + 30 (1 of 1 met) + 0 + 5 (one contact) + 15 × 1/6 = 57.5 → 58
    assert coverage_score(decision_makers_known=1, decision_makers_met=1, has_coach=False,
                          engaged=1, roles_covered=1) == 58  # fmt: skip


def test_a_third_of_the_decision_makers_met():
    # 20 + 30/3 + 15 + 10 + 15 × 4/6 = 65
    assert coverage_score(decision_makers_known=3, decision_makers_met=1, has_coach=True,
                          engaged=2, roles_covered=4) == 65  # fmt: skip


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        coverage_score(decision_makers_known=-1, decision_makers_met=0, has_coach=False,
                       engaged=0, roles_covered=0)  # fmt: skip


# --- coach paths ----------------------------------------------------------------------------

C = lambda pk: ("c", pk)  # noqa: E731 - a contact node
U = lambda pk: ("u", pk)  # noqa: E731 - a colleague node


@pytest.fixture
def org():
    """    boss(1, the decision maker)
          /        \\
     cto(2)      cfo(3)
       |            |
    eng(4)       acct(5)        coach(6) introduced acct(5); our colleague u9 introduced eng(4)
                                 cfo(3) also introduced lab(7); 8 stands alone
    """
    edges = [
        (C(2), C(1)), (C(3), C(1)),  # reports to the boss
        (C(4), C(2)), (C(5), C(3)),
        (C(6), C(5)),  # coach introduced the accountant
        (U(9), C(4)),  # our colleague introduced the engineer
        (C(3), C(7)),  # the CFO introduced the lab head
    ]  # fmt: skip
    graph = undirected(edges)
    graph[C(8)] = set()
    return graph


def test_the_shortest_path_wins(org):
    # from the coach: 6 → 5 → 3 → 1 (three steps); from the colleague: u9 → 4 → 2 → 1 (three)
    # from the engineer: 4 → 2 → 1 (two): the shortest
    assert coach_path(graph=org, sources=[C(6), U(9), C(4)], target=C(1)) == [C(4), C(2), C(1)]


def test_ties_go_to_the_source_given_first(org):
    assert coach_path(graph=org, sources=[C(6), U(9)], target=C(1)) == [C(6), C(5), C(3), C(1)]
    assert coach_path(graph=org, sources=[U(9), C(6)], target=C(1)) == [U(9), C(4), C(2), C(1)]


def test_ties_from_one_source_go_to_the_next_step_that_sorts_first():
    # two equally short ways from 1 to 4: through 2 or through 3
    graph = undirected([(C(1), C(3)), (C(1), C(2)), (C(3), C(4)), (C(2), C(4))])
    assert coach_path(graph=graph, sources=[C(1)], target=C(4)) == [C(1), C(2), C(4)]


def test_edges_run_both_ways(org):
    # the lab head was introduced by the CFO, who reports to the boss: 7 → 3 → 1
    assert coach_path(graph=org, sources=[C(7)], target=C(1)) == [C(7), C(3), C(1)]


def test_an_unreachable_target_has_no_path(org):
    assert coach_path(graph=org, sources=[C(6), U(9)], target=C(8)) is None
    assert coach_path(graph=org, sources=[], target=C(1)) is None
    assert coach_path(graph=org, sources=[C(8)], target=C(1)) is None


def test_a_target_we_know_well_is_its_own_path(org):
    assert coach_path(graph=org, sources=[C(6), C(1)], target=C(1)) == [C(1)]


def test_undirected_drops_self_loops():
    assert undirected([(C(1), C(1)), (C(1), C(2))]) == {C(1): {C(2)}, C(2): {C(1)}}


# --- cadences -------------------------------------------------------------------------------

TODAY = dt.date(2026, 5, 20)


def test_due_today_is_not_overdue_a_day_later_is():
    assert cadence_due(last_done_on=dt.date(2026, 4, 20), every_days=30, today=TODAY) == (
        dt.date(2026, 5, 20), 0,
    )  # fmt: skip
    assert cadence_due(last_done_on=dt.date(2026, 4, 19), every_days=30, today=TODAY) == (
        dt.date(2026, 5, 19), 1,
    )  # fmt: skip
    assert cadence_due(last_done_on=dt.date(2026, 4, 21), every_days=30, today=TODAY) == (
        dt.date(2026, 5, 21), 0,
    )  # fmt: skip


def test_never_done_is_due_now():
    assert cadence_due(last_done_on=None, every_days=90, today=TODAY) == (TODAY, 0)


def test_a_quarter_overdue():
    assert cadence_due(last_done_on=dt.date(2025, 11, 1), every_days=90, today=TODAY) == (
        dt.date(2026, 1, 30), 110,
    )  # fmt: skip


def test_a_cadence_needs_at_least_a_day():
    with pytest.raises(ValueError):
        cadence_due(last_done_on=None, every_days=0, today=TODAY)


def test_the_week_runs_monday_to_sunday():
    assert week_of(dt.date(2026, 5, 20)) == (dt.date(2026, 5, 18), dt.date(2026, 5, 24))
    assert week_of(dt.date(2026, 5, 18)) == (dt.date(2026, 5, 18), dt.date(2026, 5, 24))
    assert week_of(dt.date(2026, 5, 24)) == (dt.date(2026, 5, 18), dt.date(2026, 5, 24))
