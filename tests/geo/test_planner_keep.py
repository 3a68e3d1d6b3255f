"""Keep or exclude a planner's picks and re-run (issue 16, point 8); k capped at the candidates.

The expected picks come from an independent greedy on reach sets computed by
hand (tests.geo.test_planner's haversine), not from geo.max_coverage.
"""

from __future__ import annotations

import numpy as np
import pytest

from geo.errors import InvalidParameterError
from geo.max_coverage import greedy_max_coverage, incidence_matrix
from geo.planner import plan_sites
from tests.geo.test_planner import _random_world, _reach_sets


def _greedy_by_hand(sets: np.ndarray, weights: np.ndarray, k: int, keep: list[int], exclude: list[int]):
    """Kept rows first (in order), then the largest gain, lowest row on ties; excluded never."""
    covered = np.zeros(sets.shape[1], dtype=bool)
    picks = []
    for row in keep:
        picks.append(row)
        covered |= sets[row]
    while len(picks) < k:
        best, best_gain = None, -1.0
        for row in range(sets.shape[0]):
            if row in picks or row in exclude:
                continue
            gain = float(weights[sets[row] & ~covered].sum())
            if gain > best_gain:
                best, best_gain = row, gain
        picks.append(best)
        covered |= sets[best]
    return picks


@pytest.mark.parametrize("seed", range(6))
def test_kept_sites_come_first_and_excluded_never_appear(seed):
    zctas, candidates, schools = _random_world(seed)
    rng = np.random.default_rng(100 + seed)
    rows = rng.permutation(len(candidates))
    keep, exclude = [int(r) for r in rows[:2]], [int(r) for r in rows[2:5]]
    ids = [f"site-{r + 1}" for r in range(len(candidates))]
    plan = plan_sites(
        zctas,
        schools,
        k=5,
        state="KS",
        candidates=candidates,
        keep=[ids[r] for r in keep],
        exclude=[ids[r] for r in exclude],
    )
    covered_before = _reach_sets(zctas, schools).any(axis=0)
    weights = np.where(covered_before, 0, zctas["children"].to_numpy(float))
    expected = _greedy_by_hand(_reach_sets(zctas, candidates), weights, 5, keep, exclude)
    assert plan.picks["candidate_id"].tolist() == [ids[r] for r in expected]
    assert not set(plan.picks["candidate_id"]) & {ids[r] for r in exclude}
    notes = " ".join(plan.assumptions["notes"])
    assert "Kept by request" in notes and "Excluded by request" in notes


def test_without_keep_or_exclude_the_plan_is_unchanged():
    zctas, candidates, schools = _random_world(2)
    plain = plan_sites(zctas, schools, k=4, state="KS", candidates=candidates)
    empty = plan_sites(zctas, schools, k=4, state="KS", candidates=candidates, keep=[], exclude=())
    assert plain.picks.equals(empty.picks) and plain.assumptions == empty.assumptions


def test_excluding_the_first_pick_promotes_the_next_best():
    zctas, candidates, schools = _random_world(4)
    plain = plan_sites(zctas, schools, k=3, state="KS", candidates=candidates)
    first = plain.picks["candidate_id"].iloc[0]
    rerun = plan_sites(zctas, schools, k=3, state="KS", candidates=candidates, exclude=[first])
    assert first not in rerun.picks["candidate_id"].tolist()
    assert rerun.picks["cumulative"].iloc[-1] <= plain.picks["cumulative"].iloc[-1]


def test_k_above_the_candidates_is_capped_and_said():
    zctas, candidates, schools = _random_world(1)
    plan = plan_sites(zctas, schools, k=99, state="KS", candidates=candidates, exclude=["site-1", "site-2"])
    assert len(plan.picks) == len(candidates) - 2 == plan.assumptions["k"]
    assert any(
        "k=99 was asked" in note and f"k={len(candidates) - 2}" in note for note in plan.assumptions["notes"]
    )


@pytest.mark.parametrize(
    ("kwargs", "parameter", "quoted"),
    [
        ({"keep": ["site-1", "nowhere", "zz-9"]}, "keep", ["'nowhere'", "'zz-9'"]),
        ({"exclude": ["site-99"]}, "exclude", ["'site-99'"]),
        ({"keep": ["site-3"], "exclude": ["site-3"]}, "exclude", ["'site-3'"]),
        ({"k": 2, "keep": ["site-1", "site-2", "site-3"]}, "keep", ["3 sites"]),
        ({"exclude": [f"site-{i}" for i in range(1, 13)]}, "exclude", ["12 excluded"]),
    ],
)
def test_bad_keep_or_exclude_is_refused_by_name(kwargs, parameter, quoted):
    zctas, candidates, schools = _random_world(0)
    with pytest.raises(InvalidParameterError) as caught:
        plan_sites(zctas, schools, **{"k": 4, **kwargs}, state="KS", candidates=candidates)
    assert caught.value.parameter == parameter
    for text in quoted:
        assert text in str(caught.value)


def test_selection_core_forces_and_excludes_rows():
    # Row 0 covers everything; forced row 2 and excluded row 0 leave row 1 as the best.
    incidence = incidence_matrix([np.array([0, 1, 2]), np.array([1, 2]), np.array([0])], 3)
    weights = np.array([5, 3, 4])
    picks, gains = greedy_max_coverage(incidence, weights, 2, forced=[2], excluded=[0])
    assert picks.tolist() == [2, 1] and gains.tolist() == [5, 7]
    for method in ("celf", "greedy"):
        picks, gains = greedy_max_coverage(incidence, weights, 2, method=method, excluded=[0])
        assert picks.tolist() == [1, 2] and gains.tolist() == [7, 5]
