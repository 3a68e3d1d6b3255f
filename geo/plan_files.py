"""A plan's sites as files: one serializer for ``csmap plan`` and the web planner.

Both write the same CSV and GeoJSON for the same plan, so a file saved from
``/plan.csv`` and one written by ``csmap plan`` differ only where the plans do.
Every file says whether the existing schools are the SAMPLE and when the
build was made (the facts :func:`geo.planner_build.add_build_facts` records):
the CSV in ``is_sample`` and ``built_at`` columns, the GeoJSON in an
``is_sample`` property and foreign members (RFC 7946 §6.1).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo.geojson import feature_collection
from geo.planner import Plan
from geo.sample import SAMPLE_NOTICE
from geo.store import csv_safe

logger = logging.getLogger(__name__)


#: Pick columns that count children or areas, written as whole numbers.
WHOLE_NUMBER_COLUMNS = ("gain", "cumulative", "children_newly_reached", "zctas_newly_reached")


def build_facts(plan: Plan) -> dict[str, Any]:
    """Return ``is_sample``, ``built_at`` and ``build_id`` as the plan's assumptions record them."""
    a = plan.assumptions
    return {"is_sample": a.get("is_sample"), "built_at": a.get("built_at"), "build_id": a.get("build_id")}


def picks_table(plan: Plan, facts: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Return the picks with the ``is_sample`` and ``built_at`` columns every download carries.

    Parameters
    ----------
    plan : Plan
        A plan with its build facts (:func:`geo.planner_build.add_build_facts`).
    facts : mapping, optional
        ``is_sample`` and ``built_at`` to use instead of the plan's own.
    """
    facts = build_facts(plan) if facts is None else facts
    picks = plan.picks.copy()
    # Children are whole people: the gains are sums of ACS counts (a fixed-point weight inside the
    # planner), so "12885.0" in a spreadsheet only looks like a measurement (issue 16).
    for column in WHOLE_NUMBER_COLUMNS:
        if column in picks.columns:
            picks[column] = pd.to_numeric(picks[column], errors="coerce").round().astype("Int64")
    return picks.assign(is_sample=facts.get("is_sample"), built_at=facts.get("built_at"))


def plan_csv(plan: Plan, facts: Mapping[str, Any] | None = None) -> bytes:
    """Return the picks as UTF-8 CSV (RFC 4180, CRLF), formula-injection safe, with is_sample and built_at."""
    buffer = io.StringIO()
    csv_safe(picks_table(plan, facts)).to_csv(buffer, index=False, lineterminator="\r\n")
    return buffer.getvalue().encode("utf-8")


def plan_geojson(plan: Plan, *, title: str, facts: Mapping[str, Any] | None = None) -> bytes:
    """Return the picks as an RFC 7946 FeatureCollection with the plan's facts as foreign members.

    Parameters
    ----------
    plan : Plan
        A plan with its build facts.
    title : str
        The collection's ``name``.
    facts : mapping, optional
        ``is_sample``, ``built_at`` and ``build_id`` to use instead of the plan's own.

    Returns
    -------
    bytes
        Points in EPSG:4326, id ``order``; members ``name``, the facts, ``notice``
        (sample only), ``csmap:assumptions``, ``csmap:before`` and ``csmap:after``.
    """
    facts = dict(build_facts(plan) if facts is None else facts)
    picks = plan.picks_geodataframe().assign(is_sample=facts.get("is_sample"))
    members: dict[str, Any] = {"name": title, **facts}
    if facts.get("is_sample"):
        members["notice"] = SAMPLE_NOTICE
    members.update(
        {
            "csmap:assumptions": plan.assumptions,
            "csmap:before": plan.before,
            "csmap:after": plan.after,
        }
    )
    return feature_collection(picks, id_column="order", members=members)
