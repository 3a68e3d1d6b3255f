"""The planner's target mode against a brute-force search over k (issue 14, point 9)."""

from __future__ import annotations

import numpy as np
import pytest

from geo.errors import InvalidParameterError
from geo.planner import plan_sites
from geo.planner_target import plan_to_target
from tests.geo.test_planner import _random_world


def _brute_force_k(zctas, schools, candidates, target: float) -> int | None:
    """Run the greedy plan for every k and return the first whose gain reaches the target."""
    for k in range(1, len(candidates) + 1):
        plan = plan_sites(zctas, schools, k=k, state="KS", candidates=candidates)
        if plan.picks["gain"].sum() >= target - 1e-9:
            return k
    return None


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("share", [0.05, 0.4, 0.8, 1.0])
def test_target_k_is_the_brute_force_smallest_k(seed, share):
    zctas, candidates, schools = _random_world(seed)
    most = (
        plan_sites(zctas, schools, k=len(candidates), state="KS", candidates=candidates).picks["gain"].sum()
    )
    target = max(1.0, float(np.floor(most * share)))
    answer = plan_to_target(zctas, schools, target_children=target, state="KS", candidates=candidates)
    expected = _brute_force_k(zctas, schools, candidates, target)
    assert answer.reachable and answer.k == expected
    assert answer.plan is not None and len(answer.plan.picks) == expected
    assert answer.plan.picks["gain"].sum() >= target
    assert answer.most == pytest.approx(answer.plan.picks["gain"].sum())


def test_unreachable_target_says_so_plainly():
    zctas, candidates, schools = _random_world(3)
    most = (
        plan_sites(zctas, schools, k=len(candidates), state="KS", candidates=candidates).picks["gain"].sum()
    )
    answer = plan_to_target(zctas, schools, target_children=most + 1, state="KS", candidates=candidates)
    assert not answer.reachable and answer.k is None and answer.plan is None
    assert answer.most == pytest.approx(most)
    assert "cannot reach" in answer.message and f"{most:,.0f}" in answer.message


@pytest.mark.parametrize("bad", [0, -5, "many", float("nan"), 1e12])
def test_bad_target_is_refused_by_name(bad):
    zctas, candidates, schools = _random_world(0)
    with pytest.raises(InvalidParameterError) as caught:
        plan_to_target(zctas, schools, target_children=bad, state="KS", candidates=candidates)
    assert caught.value.parameter == "target_children"
