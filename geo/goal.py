"""Progress to the national goal: 25,000 Community Schools reaching 10,000,000 children.

The Coalition for Community Schools' stated goal (issue 14) is the default;
``CSMAP_GOAL_SCHOOLS`` and ``CSMAP_GOAL_CHILDREN`` (or the app's
``GOAL_SCHOOLS`` / ``GOAL_CHILDREN`` settings) change it (docs/METRICS.md,
"Progress to the national goal").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

#: The Coalition's public goal: 25,000 Community Schools reaching 10,000,000 children.
DEFAULT_GOAL_SCHOOLS = 25_000
DEFAULT_GOAL_CHILDREN = 10_000_000


def goal_targets(settings: Mapping[str, Any]) -> tuple[int, int]:
    """Return (schools, children) of the goal from settings, else the defaults.

    Parameters
    ----------
    settings : mapping
        ``GOAL_SCHOOLS`` / ``GOAL_CHILDREN`` (an app config) or ``CSMAP_GOAL_SCHOOLS`` /
        ``CSMAP_GOAL_CHILDREN`` (the environment); a value that is not a positive
        whole number is logged and ignored.
    """
    out = []
    for name, default in (("SCHOOLS", DEFAULT_GOAL_SCHOOLS), ("CHILDREN", DEFAULT_GOAL_CHILDREN)):
        value = settings.get(f"GOAL_{name}", settings.get(f"CSMAP_GOAL_{name}"))
        try:
            number = int(str(value).replace(",", "").replace("_", "")) if value is not None else default
        except ValueError:
            number = 0
        if number <= 0:
            logger.warning(
                "goal %s=%r is not a positive whole number; using %d", name.lower(), value, default
            )
            number = default
        out.append(number)
    return out[0], out[1]


def goal_progress(national: Mapping[str, Any], *, schools: int, children: int) -> dict[str, Any]:
    """Return the count, the children within reach and the share of each goal.

    Parameters
    ----------
    national : mapping
        The national metrics (``community_schools``, ``children_within_reach``).
    schools, children : int
        The goal.

    Returns
    -------
    dict
        ``schools``, ``children_within_reach``, ``goal_schools``, ``goal_children``,
        ``schools_share`` and ``children_share`` (0-1, may exceed 1).
    """
    count = int(national.get("community_schools") or 0)
    reach = float(national.get("children_within_reach") or 0.0)
    return {
        "schools": count,
        "children_within_reach": reach,
        "goal_schools": schools,
        "goal_children": children,
        "schools_share": count / schools,
        "children_share": reach / children,
    }
