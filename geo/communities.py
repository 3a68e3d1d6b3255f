"""Coalition Communities: local initiatives, read from a table, linked to schools and mapped.

A Coalition Community (docs/RECORDS.md, "Coalition Communities") is led by a
school district, county, university, nonprofit, United Way or other
organization, and covers an area: a list of counties, or one school district.
Its schools are the Community Schools in that area (by the county their point
falls in, or by the district the school list names), plus any linked by hand
(``school_ids``). Frames in, frames out: the build, the CLI import and, later,
the staff workspace feed the same functions.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo import registry
from geo.coalitions import check_county_codes, state_fips
from geo.crs import require_same_crs
from geo.records import (
    RecordImport,
    RowCheck,
    RowRejected,
    account_rows,
    as_text_columns,
    is_true,
    rename_synonyms,
    require_columns,
    split_list,
)
from geo.registry.records import COMMUNITY_AREA_TYPES, COMMUNITY_LEAD_TYPES

logger = logging.getLogger(__name__)

COMMUNITY_COLUMNS = tuple(c.name for c in registry.COMMUNITIES)
TEXT_COLUMNS = tuple(c.name for c in registry.COMMUNITIES if c.dtype == "string")
#: Header spellings read as each field (after :func:`geo.school_columns.header_key`).
SYNONYMS = {
    "community_id": ("id", "community"),
    "name": ("community_name", "coalition_community"),
    "stusps": ("state", "state_code", "st"),
    "lead_organization": ("lead", "lead_org", "led_by"),
    "lead_type": ("lead_organization_type", "type", "led_by_type"),
    "county_fips": ("counties", "county_fips_codes", "county_codes"),
    "district": ("school_district", "district_name", "lea_name"),
    "school_ids": ("schools", "linked_schools"),
    "website": ("url", "web_site"),
}
#: Spellings of the lead types (lower case, punctuation as spaces).
LEAD_TYPE_WORDS = {
    "school district": "district",
    "district": "district",
    "lea": "district",
    "county": "county",
    "county government": "county",
    "university": "university",
    "college": "university",
    "higher education": "university",
    "nonprofit": "nonprofit",
    "non profit": "nonprofit",
    "community based organization": "nonprofit",
    "cbo": "nonprofit",
    "united way": "united_way",
    "united_way": "united_way",
    "other": "other",
}
#: A district community is drawn as the hull of its schools, widened by this many metres
#: (one mile), in the equal-area CONUS projection: a district's own boundary is not at hand.
DISTRICT_BUFFER_M = 1609.344
EQUAL_AREA = "EPSG:5070"
_URL = re.compile(r"https?://\S+$", re.IGNORECASE)


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def slug(text: str) -> str:
    """Return a lower-case id fragment of ``text`` (letters, digits and dashes)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _community_check(counties: gpd.GeoDataFrame | None) -> RowCheck:
    fips = state_fips()
    known = set(counties["geoid"]) if counties is not None else None

    def check(row: dict[str, str]) -> dict[str, Any]:
        name = row.get("name", "")
        if not name:
            raise RowRejected("the community has no name")
        stusps = row.get("stusps", "").upper()
        if stusps not in fips:
            raise RowRejected(f"unknown state {row.get('stusps', '')!r} for {name!r}")
        lead_type = LEAD_TYPE_WORDS.get(_words(row.get("lead_type", "")) or "other")
        if lead_type is None:
            raise RowRejected(
                f"unknown lead_type {row['lead_type']!r} for {name!r}; expected one of {COMMUNITY_LEAD_TYPES}"
            )
        codes = [c.zfill(5) for c in split_list(row.get("county_fips", ""))]
        district = row.get("district", "")
        kind = row.get("area_type", "").lower() or ("counties" if codes else "district" if district else "")
        if kind not in COMMUNITY_AREA_TYPES:
            what = f"area_type {row['area_type']!r}" if row.get("area_type") else "no county_fips or district"
            raise RowRejected(f"{what} for {name!r}; the area is a list of counties or a district")
        if kind == "counties" and not codes:
            raise RowRejected(f"{name!r}: area_type 'counties' needs county_fips codes")
        if kind == "district" and not district:
            raise RowRejected(f"{name!r}: area_type 'district' needs the district's name")
        check_county_codes(codes, stusps, fips[stusps], known, owner=repr(name))
        website = row.get("website", "")
        if website and not _URL.match(website):
            raise RowRejected(f"website {website!r} for {name!r} must start with http:// or https://")
        return {
            "community_id": row.get("community_id") or f"c-{stusps.lower()}-{slug(name)}",
            "name": name,
            "stusps": stusps,
            "lead_organization": row.get("lead_organization") or None,
            "lead_type": lead_type,
            "area_type": kind,
            "county_fips": ";".join(codes) if kind == "counties" else None,
            "district": district if kind == "district" else None,
            "school_ids": ";".join(split_list(row.get("school_ids", ""))) or None,
            "website": website or None,
            "school_count": 0,
            "is_sample": is_true(row.get("is_sample", "")),
        }

    return check


def import_communities(
    raw: pd.DataFrame, *, counties: gpd.GeoDataFrame | None = None, source: str = "communities table"
) -> RecordImport:
    """Check a Coalition Communities table row by row, accounting for every row.

    Parameters
    ----------
    raw : DataFrame
        Text columns: ``name``, ``stusps``, ``lead_type`` and ``county_fips`` or
        ``district``; optional ``community_id`` (default ``c-<state>-<name>``),
        ``lead_organization``, ``area_type``, ``school_ids``, ``website``, ``is_sample``.
    counties : GeoDataFrame, optional
        When given, every county FIPS must be one of its ``geoid``.
    source : str
        Where the rows come from, for messages.

    Returns
    -------
    RecordImport
        A repeated ``community_id`` is merged into its first row.
    """
    raw = rename_synonyms(raw, SYNONYMS)
    require_columns(raw, ["name", "stusps"], what="communities", source=source)
    result = account_rows(
        raw,
        _community_check(counties),
        key=["community_id"],
        columns=COMMUNITY_COLUMNS,
        table="communities",
        source=source,
    )
    result.table = _typed(result.table)
    return result


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["school_count"] = pd.to_numeric(out["school_count"]).fillna(0).astype("int64")
    out["is_sample"] = out["is_sample"].astype(bool)
    return as_text_columns(out[list(COMMUNITY_COLUMNS)], TEXT_COLUMNS)


def community_school_links(communities: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Return the community–school links: the schools in each community's area, and those linked by hand.

    Parameters
    ----------
    communities : DataFrame
        :data:`COMMUNITY_COLUMNS`.
    schools : DataFrame
        ``school_id``, ``stusps``, ``county_fips`` and ``district``.

    Returns
    -------
    DataFrame
        ``community_id``, ``school_id`` and ``how`` (area or by hand), one row per pair.
    """
    frames = []
    ids = schools["school_id"].astype("str")
    county = schools["county_fips"].astype("str")
    state = schools["stusps"].astype("str")
    district = schools["district"].astype("str").str.lower().str.strip()
    known = set(ids)
    for row in communities.itertuples(index=False):  # tens to hundreds of communities
        if row.area_type == "counties":
            hit = county.isin(str(row.county_fips).split(";"))
        else:
            hit = (state == row.stusps) & (district == str(row.district).lower().strip())
        frames.append(pd.DataFrame({"community_id": row.community_id, "school_id": ids[hit], "how": "area"}))
        listed = (
            [s for s in split_list(str(row.school_ids or "")) if s in known]
            if pd.notna(row.school_ids)
            else []
        )
        frames.append(pd.DataFrame({"community_id": row.community_id, "school_id": listed, "how": "by hand"}))
    if not frames:
        return pd.DataFrame({"community_id": [], "school_id": [], "how": []}, dtype="str")
    links = pd.concat(frames, ignore_index=True).drop_duplicates(["community_id", "school_id"])
    return links.astype("str").reset_index(drop=True)


def with_school_counts(communities: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Return the communities with ``school_count`` from their links."""
    counts = links.groupby("community_id").size()
    out = communities.copy()
    out["school_count"] = out["community_id"].map(counts).fillna(0).astype("int64")
    return out


def community_areas(
    communities: pd.DataFrame, counties: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, links: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Return one polygon per community: its counties dissolved, or its district's schools' hull.

    Parameters
    ----------
    communities : DataFrame
        :data:`COMMUNITY_COLUMNS`.
    counties : GeoDataFrame
        ``geoid`` polygons.
    schools : GeoDataFrame
        ``school_id`` points, in the CRS of ``counties``.
    links : DataFrame
        From :func:`community_school_links`.

    Returns
    -------
    GeoDataFrame
        The communities' columns (without ``school_ids``) and a polygon each, in the
        CRS of ``counties``; a district community with no placed school is left out.
    """
    require_same_crs(counties, schools)
    by_county = counties.set_index("geoid").geometry
    points = schools.set_index("school_id").geometry
    shapes = []
    for row in communities.itertuples(index=False):
        if row.area_type == "counties":
            codes = [c for c in str(row.county_fips).split(";") if c in by_county.index]
            shapes.append(shapely.union_all(by_county.loc[codes].to_numpy()) if codes else None)
            continue
        mine = links.loc[links["community_id"] == row.community_id, "school_id"]
        found = points.reindex(mine[mine.isin(points.index)]).dropna()
        if found.empty:
            shapes.append(None)
            continue
        projected = gpd.GeoSeries(found.to_numpy(), crs=counties.crs).to_crs(EQUAL_AREA)
        hull = shapely.convex_hull(shapely.union_all(projected.to_numpy())).buffer(DISTRICT_BUFFER_M)
        shapes.append(gpd.GeoSeries([hull], crs=EQUAL_AREA).to_crs(counties.crs).iloc[0])
    out = gpd.GeoDataFrame(
        communities.drop(columns=["school_ids"]).reset_index(drop=True), geometry=shapes, crs=counties.crs
    )
    return out[out.geometry.notna()].reset_index(drop=True)
