"""The planner's settings and provenance taken from a build's manifest.

``csmap plan`` and the web planner (``/plan``, ``/api/plan``) both plan on the
current build; these two functions make them read the same options and state
the same facts, so the command line and the web give the same answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from geo.planner import DEFAULT_POVERTY_THRESHOLD, SAMPLE_NOTE, Plan

logger = logging.getLogger(__name__)


def build_planner_options(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Return the reach and poverty threshold a build was made with (``manifest.options``).

    Parameters
    ----------
    manifest : mapping
        The build's ``manifest.json``.

    Returns
    -------
    dict
        ``reach_miles`` (None for the defaults of :func:`geo.reach.reach_table`,
        else a number or a table by locale class) and ``poverty_threshold``
        (the build's, else 0.20), ready to pass to :func:`geo.planner.plan_sites`.
    """
    options = manifest.get("options") or {}
    threshold = options.get("poverty_threshold")
    return {
        "reach_miles": options.get("reach_miles"),
        "poverty_threshold": DEFAULT_POVERTY_THRESHOLD if threshold is None else threshold,
    }


def add_build_facts(plan: Plan, manifest: Mapping[str, Any], build_id: str) -> Plan:
    """Record the build in ``plan.assumptions``: its sample flag, id and time; return the plan.

    ``build_id`` is the build folder's name, which is the build's id (the
    manifest's own copy can predate the folder's rename on publishing). The
    manifest's ``is_sample`` wins over the flag the planner guessed from
    the schools' column, and a sample build always carries the SAMPLE note.
    The plan is changed in place (its assumptions are a plain dict).
    """
    assumptions = plan.assumptions
    if "is_sample" in manifest:
        assumptions["is_sample"] = bool(manifest["is_sample"])
        if manifest["is_sample"] and not any("SAMPLE" in note for note in assumptions["notes"]):
            assumptions["notes"].append(SAMPLE_NOTE)
    assumptions["build_id"] = build_id
    assumptions["built_at"] = manifest.get("built_at")
    return plan
