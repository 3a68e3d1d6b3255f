"""The planner's target mode: how many new sites, and where, to reach N more children.

"How many new Community Schools, and where, would reach 1,000,000 more
children?" is the greedy plan (:mod:`geo.planner`) read the other way round:
the greedy's picks do not depend on k, so the answer is the smallest k at
which the greedy's cumulative gain reaches N (docs/PLANNER.md, "Target
mode"). When even every candidate with a gain falls short, the answer says so
plainly, with the most the candidates can reach.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import planner
from geo.errors import InvalidParameterError
from geo.max_coverage import greedy_until

logger = logging.getLogger(__name__)

#: The largest target accepted: more than all US children (about 73 million, ACS 2022).
MAX_TARGET_CHILDREN = 100_000_000


@dataclass
class TargetAnswer:
    """The answer of the target mode.

    Attributes
    ----------
    target : float
        N, the children to reach (in the objective's weight).
    reachable : bool
        Whether the candidates can reach N.
    k : int or None
        The smallest k at which the greedy's gain reaches N (None when unreachable).
    most : float
        The most the candidates can reach (every candidate with a gain picked).
    message : str
        The answer in one plain sentence.
    plan : Plan or None
        The plan of the k sites (None when unreachable).
    """

    target: float
    reachable: bool
    k: int | None
    most: float
    message: str
    plan: planner.Plan | None

    def to_json(self) -> dict[str, Any]:
        """Return the answer as JSON (the plan's own document under ``plan``)."""
        return {
            "target_children": self.target,
            "reachable": self.reachable,
            "k": self.k,
            "most_reachable": self.most,
            "message": self.message,
            "plan": self.plan.to_json() if self.plan is not None else None,
        }


def check_target(target: Any) -> float:
    """Return a valid target (a number of children, 1 to :data:`MAX_TARGET_CHILDREN`) or raise."""
    try:
        value = float(target)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            "target_children", f"target_children must be a number, got {target!r}"
        ) from None
    if not np.isfinite(value) or not 1 <= value <= MAX_TARGET_CHILDREN:
        msg = f"target_children must be from 1 to {MAX_TARGET_CHILDREN:,}, got {target!r}"
        raise InvalidParameterError("target_children", msg)
    return value


def plan_to_target(
    zctas: pd.DataFrame,
    schools: pd.DataFrame,
    *,
    target_children: float,
    state: str | None = None,
    objective: str = "unserved",
    candidates: pd.DataFrame | str | Path | None = None,
    reach_miles: Mapping[str, float] | float | None = None,
    poverty_threshold: float = planner.DEFAULT_POVERTY_THRESHOLD,
) -> TargetAnswer:
    """Find the smallest k at which the greedy plan reaches ``target_children`` more children.

    Parameters are those of :func:`geo.planner.plan_sites`, with
    ``target_children`` (N) instead of k; N is counted in the objective's
    weight (all unserved children, or those in high-poverty ZCTAs).

    Returns
    -------
    TargetAnswer

    Raises
    ------
    InvalidParameterError
        For a bad target, state, objective, threshold, reach or candidate list.
    """
    target = check_target(target_children)
    problem = planner._prepare(
        zctas,
        schools,
        state=state,
        objective=objective,
        candidates=candidates,
        reach_miles=reach_miles,
        poverty_threshold=poverty_threshold,
    )
    started = time.perf_counter()
    fixed_target = int(np.ceil(target * planner._FIXED_POINT))
    picks, gains = greedy_until(problem.incidence, problem.objective_w, fixed_target)
    problem.timings["selection"] = time.perf_counter() - started
    total = int(gains.sum())
    most = total / planner._FIXED_POINT
    who = "children" if objective == "unserved" else "high-poverty children"
    if total < fixed_target:
        message = (
            f"The {len(problem.candidates):,} candidate sites in {problem.label} cannot reach "
            f"{target:,.0f} more {who}: all of them together reach at most {most:,.0f}."
        )
        return TargetAnswer(target, False, None, most, message, None)
    plan = planner._finish(problem, picks, method="celf")
    plan.assumptions["target_children"] = target
    k = len(picks)
    sites = f"{k:,} new site{'s' if k != 1 else ''}"
    message = f"{sites} in {problem.label} reach {most:,.0f} more {who} (target {target:,.0f})."
    plan.assumptions["notes"].insert(
        0, f"Target mode: the smallest k at which the greedy's gain reaches {target:,.0f} {who} is {k}."
    )
    return TargetAnswer(target, True, k, most, message, plan)
