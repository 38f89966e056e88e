"""The published reference figures of the insights arithmetic, and its properties."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keycare.insights.calculations import (
    gini,
    hhi,
    pareto,
    pyramid,
    spearman,
    top_n_share,
    top_share,
)


def test_pareto_reference_vector_with_cutoffs_70_90():
    values = {"a": 27_000, "b": 24_000, "c": 18_000, "d": 16_000, "e": 6_000, "f": 5_000,
              "g": 4_000}  # fmt: skip
    rows = pareto(values, cutoffs=(70, 90))
    assert [(r.key, r.abc) for r in rows] == [
        ("a", "A"), ("b", "A"), ("c", "A"), ("d", "A"), ("e", "B"), ("f", "C"), ("g", "C"),
    ]  # fmt: skip
    # the 16k account crosses 70% (69% → 85%), the 6k one crosses 90% (85% → 91%)
    assert [round(r.cumulative) for r in rows] == [27, 51, 69, 85, 91, 96, 100]
    assert round(rows[3].cumulative_before) == 69


def test_pareto_largest_account_is_always_a_and_nonpositive_values_are_c():
    rows = pareto({"big": 99, "small": 1, "loss": -5, "none": 0}, cutoffs=(50, 99.5))
    assert {r.key: r.abc for r in rows} == {"big": "A", "small": "B", "loss": "C", "none": "C"}
    assert pareto({}) == []
    with pytest.raises(ValueError):
        pareto({"a": 1}, cutoffs=(90, 80))


@given(st.dictionaries(st.integers(0, 500), st.integers(1, 10_000), min_size=1, max_size=60),
       st.floats(1, 99), st.floats(0, 1))  # fmt: skip
def test_pareto_class_a_covers_at_least_the_cutoff(values, a_cut, extra):
    b_cut = a_cut + (100 - a_cut) * extra
    rows = pareto(values, cutoffs=(a_cut, b_cut))
    assert rows[0].abc == "A"
    covered = sum(r.share for r in rows if r.abc == "A")
    assert covered >= a_cut - 1e-9
    assert sum(r.share for r in rows if r.abc in "AB") >= b_cut - 1e-9
    order = "ABC"
    assert [order.index(r.abc) for r in rows] == sorted(order.index(r.abc) for r in rows)


def test_concentration_reference_figures():
    assert hhi([30, 30, 20, 20]) == pytest.approx(2600)
    assert hhi([5]) == pytest.approx(10_000)
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)
    assert gini([1, 1, 1, 1]) == pytest.approx(0)
    assert top_n_share([50, 30, 20], 1) == pytest.approx(50)
    assert top_share([40, 30, 10, 10, 5, 5, 0, 0, 0, 0], 0.2) == pytest.approx(70)
    assert hhi([]) is None and gini([]) is None and top_share([]) is None


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert spearman([1, 2, 3, 4], [40, 30, 20, 10]) == pytest.approx(-1)
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert spearman([1, 1, 2], [5, 5, 9]) == pytest.approx(1)  # ties share their rank
    assert spearman([1], [1]) is None


def test_pyramid_by_profit():
    profits = {f"p{i}": 100 - i for i in range(10)} | {"loss": -1, "zero": 0}
    tiers = pyramid(profits, splits=(10, 30))
    # 11 profitable accounts: platinum ceil(1.1) = 2, gold up to ceil(3.3) = 4
    assert [tiers[f"p{i}"] for i in range(10)] == ["platinum", "platinum", "gold", "gold"] + [
        "iron"
    ] * 6
    assert (tiers["loss"], tiers["zero"]) == ("lead", "iron")
    assert pyramid({"only": 5}) == {"only": "platinum"}
