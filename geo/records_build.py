"""The build's records stage: communities, partners and their links, from inputs/ or the sample.

Each record table is a build input in the data folder (``inputs/<table>.csv``,
written by ``csmap records import``); with none, the sample schools get the
labelled sample records (:mod:`geo.sample_records`), and a real school list
gets empty tables (sample partners linked to sample schools would mean
nothing there). The build publishes each table as a layer and a CSV, and adds
two state metrics: ``coalition_stage`` and ``partner_organizations``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.communities import (
    community_areas,
    community_school_links,
    import_communities,
)
from geo.communities import with_school_counts as community_counts
from geo.partners import import_partner_schools, import_partners, partners_per_state
from geo.partners import with_school_counts as partner_counts
from geo.records import read_record_csv
from geo.registry.metrics import COALITION_STAGES

logger = logging.getLogger(__name__)

#: The record tables in build order, each ``inputs/<name>.csv``.
RECORD_TABLES = ("coalitions", "communities", "partners", "partner_schools")


def record_file(root: Path, table: str) -> Path | None:
    """Return ``root/inputs/<table>.csv`` when it exists (None: the sample's, or empty)."""
    path = Path(root) / "inputs" / f"{table}.csv"
    return path if path.exists() else None


@dataclass
class Records:
    """The published record tables of one build."""

    communities: pd.DataFrame
    community_areas: gpd.GeoDataFrame
    community_schools: pd.DataFrame
    partners: pd.DataFrame
    partner_schools: pd.DataFrame
    report: dict[str, Any]


def build_records(
    root: Path, schools: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, *, is_sample: bool
) -> Records:
    """Read or make the communities and partner tables and link them to ``schools``.

    Parameters
    ----------
    root : Path
        The data folder (its ``inputs/``).
    schools : GeoDataFrame
        The build's schools layer (``school_id``, ``stusps``, ``county_fips``, ``district``, points).
    counties : GeoDataFrame
        County polygons (``geoid``) in the CRS of ``schools``, for the community areas.
    is_sample : bool
        Whether the schools are the sample (then the sample records stand in for missing tables).
    """
    from geo.sample_records import sample_communities, sample_partners

    report: dict[str, Any] = {}
    path = record_file(root, "communities")
    if path is not None:
        result = import_communities(
            read_record_csv(path, what="communities"), counties=counties, source=path.name
        )
        communities, report["communities"] = result.table, result.report
    elif is_sample:
        communities = sample_communities(schools, counties)
    else:
        communities = import_communities(pd.DataFrame({"name": [], "stusps": []})).table
    links = community_school_links(communities, schools)
    communities = community_counts(communities, links)
    areas = community_areas(communities, counties, schools.to_crs(counties.crs), links)

    partners_path, links_path = record_file(root, "partners"), record_file(root, "partner_schools")
    if partners_path is not None or links_path is not None or not is_sample:
        partners = (
            import_partners(read_record_csv(partners_path, what="partners"), source=partners_path.name)
            if partners_path is not None
            else import_partners(pd.DataFrame({"name": []}))
        )
        report["partners"] = partners.report
        partner_table = partners.table
        if links_path is not None:
            linked = import_partner_schools(
                read_record_csv(links_path, what="partner_schools"),
                partner_ids=set(partner_table["partner_id"]),
                school_ids=set(schools["school_id"]),
                source=links_path.name,
            )
            partner_links, report["partner_schools"] = linked.table, linked.report
        else:
            partner_links = import_partner_schools(pd.DataFrame({"partner_id": [], "school_id": []})).table
    else:
        partner_table, partner_links = sample_partners(schools)
    partner_table = partner_counts(partner_table, partner_links)
    return Records(communities, areas, links, partner_table, partner_links, report)


def coalition_stage_by_state(coalitions: pd.DataFrame) -> pd.Series:
    """Return each state's most advanced coalition stage (none when it has no coalition)."""
    order = ("none", *COALITION_STAGES)
    rank = coalitions["stage"].astype("str").map({s: i for i, s in enumerate(order)}).fillna(0)
    best = rank.groupby(coalitions["stusps"].astype("str")).max().astype(int)
    return best.map(dict(enumerate(order)))


def add_record_metrics(
    states: pd.DataFrame, coalitions: pd.DataFrame | None, records: Records, schools: pd.DataFrame
) -> pd.DataFrame:
    """Return the state metrics with ``coalition_stage`` and ``partner_organizations`` (docs/METRICS.md).

    With no coalitions table (left out beside a real school list), the stage is
    null, "not recorded", as ``coalition_status`` is.
    """
    out = states.copy()
    if coalitions is None:
        stage = pd.Series(None, index=out.index, dtype=object)
    else:
        stage = out["stusps"].map(coalition_stage_by_state(coalitions)).fillna("none").astype(object)
    position = list(out.columns).index("coalition_status") + 1 if "coalition_status" in out.columns else 3
    out.insert(position, "coalition_stage", stage)
    partners = partners_per_state(records.partner_schools, schools)
    out["partner_organizations"] = out["stusps"].map(partners).fillna(0).astype("int64")
    return out
