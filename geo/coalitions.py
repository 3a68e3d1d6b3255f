"""The state coalitions table: one row per state or territory, read from CSV, checked, and mapped.

Each coalition has a stage of development on the Coalition's rubric
(Exploring, Emerging, Evolving, Expanding), lead organizations, a contact
(published only when marked public), a website and a join link; the old
existing/developing status is migrated to stages (:data:`STAGE_OF_STATUS`) and
kept as a derived column. The table has a documented CSV format (docs/RECORDS.md):
a real table put at ``inputs/coalitions.csv`` in the data folder replaces the
generated sample (:func:`geo.sample.sample_coalitions`), which has the same shape.
:func:`read_coalitions` reads and validates a file, :func:`validate_coalitions`
a frame of text columns, and :func:`coalition_areas` dissolves each
coalition's area (a whole state, or a list of its counties) into one polygon.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo import registry
from geo.crs import require_same_crs
from geo.errors import SchoolDataError
from geo.records import (
    RecordImport,
    RowCheck,
    RowRejected,
    account_rows,
    as_text_columns,
    is_true,
    read_record_csv,
    rename_synonyms,
    require_columns,
    split_list,
)

logger = logging.getLogger(__name__)

#: The Coalition's rubric of state-coalition development, earliest first (docs/RECORDS.md).
STAGES = ("exploring", "emerging", "evolving", "expanding")
#: The old two-value status, kept as a column derived from the stage (the map's outlines read it).
STATUSES = ("existing", "developing", "none")
#: Migration of the old status to a stage (docs/RECORDS.md, "From existing/developing to stages"):
#: a coalition that was "developing" had begun to organize (Emerging); one that was "existing"
#: was established and working (Evolving). Exploring and Expanding are only ever set explicitly.
STAGE_OF_STATUS = {"existing": "evolving", "developing": "emerging", "none": "none"}
#: And back: the two earlier stages count as "developing", the two later as "existing".
STATUS_OF_STAGE = {
    "exploring": "developing",
    "emerging": "developing",
    "evolving": "existing",
    "expanding": "existing",
    "none": "none",
}
AREA_TYPES = ("state", "counties")
COALITION_COLUMNS = tuple(c.name for c in registry.COALITIONS)
#: Columns that hold a contact; blanked in the published table unless ``contact_public``.
CONTACT_COLUMNS = ("contact_name", "contact_email", "contact_phone")
#: Header spellings read as each field (after :func:`geo.school_columns.header_key`).
SYNONYMS = {
    "stusps": ("state", "state_code", "st", "usps"),
    "coalition_name": ("name", "coalition"),
    "lead_organizations": ("lead_organization", "lead_organisations", "lead_orgs", "leads", "lead"),
    "contact_email": ("email", "contact"),
    "contact_public": ("public_contact", "show_contact"),
    "website": ("url", "web_site", "site"),
    "join_url": ("join_link", "join", "join_us"),
    "stage": ("stage_of_development", "development_stage"),
}


def check_county_codes(
    codes: list[str], stusps: str, state_fips_code: str, known: set[str] | None, *, owner: str
) -> None:
    """Raise RowRejected for a code that is not a 5-digit county FIPS of the state (or not known).

    ``owner`` names the row in the message (a state code, or a community's quoted name).
    """
    for code in codes:
        if not code.isdigit() or len(code) != 5 or code[:2] != state_fips_code:
            raise RowRejected(f"county FIPS {code!r} is not a county of {stusps} (FIPS {state_fips_code})")
        if known is not None and code not in known:
            raise RowRejected(f"unknown county FIPS {code!r} for {owner}")


def state_fips() -> dict[str, str]:
    """Return ``{USPS code: state FIPS}`` for the states, DC and the territories."""
    import us

    return {s.abbr: str(s.fips) for s in (*us.states.STATES_AND_TERRITORIES, us.states.DC)}


def read_coalitions(path: str | Path, *, counties: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Read and validate a coalitions table strictly (CSV; docs/RECORDS.md, "State coalitions").

    Parameters
    ----------
    path : path
        CSV with ``stusps`` and ``stage`` (or the old ``status``, migrated by
        :data:`STAGE_OF_STATUS`); optional ``coalition_name``,
        ``lead_organizations`` (``;``-separated), ``contact_name``,
        ``contact_email``, ``contact_phone``, ``contact_public``, ``website``,
        ``join_url``, ``area_type`` (state or counties; default counties when
        ``county_fips`` is filled, else state), ``county_fips`` (5-digit codes
        separated by ``;``) and ``is_sample``.
    counties : GeoDataFrame, optional
        When given, every county FIPS must be one of its ``geoid``.

    Returns
    -------
    DataFrame
        :data:`COALITION_COLUMNS`, one row per state and territory (states
        missing from the file get stage none), in state FIPS order.

    Raises
    ------
    SchoolDataError
        For an unreadable file, a missing column, a repeated state, or an
        unknown state, stage, area type or county FIPS (the message quotes the value).
    """
    raw = read_record_csv(path, what="coalitions")
    return import_coalitions(raw, counties=counties, source=str(path)).strict()


def validate_coalitions(
    raw: pd.DataFrame, *, counties: gpd.GeoDataFrame | None = None, source: str = "coalitions table"
) -> pd.DataFrame:
    """Return a clean coalitions table from text columns, raising on the first bad row."""
    return import_coalitions(raw, counties=counties, source=source).strict()


def _coalition_check(counties: gpd.GeoDataFrame | None) -> RowCheck:
    fips = state_fips()
    known = set(counties["geoid"]) if counties is not None else None

    def check(row: dict[str, str]) -> dict[str, Any]:
        stusps = row.get("stusps", "").upper()
        if stusps not in fips:
            raise RowRejected(f"unknown state {row.get('stusps', '')!r}")
        stage_text = row.get("stage", "").lower()
        status_text = row.get("status", "").lower()
        if stage_text:
            if stage_text not in (*STAGES, "none"):
                raise RowRejected(f"unknown stage {row['stage']!r} for {stusps}; expected one of {STAGES}")
            stage = stage_text
        elif status_text:
            if status_text not in STATUSES:
                raise RowRejected(
                    f"unknown status {row['status']!r} for {stusps}; expected one of {STATUSES}"
                )
            stage = STAGE_OF_STATUS[status_text]
        else:
            stage = "none"
        codes = [c.zfill(5) for c in split_list(row.get("county_fips", ""))]
        kind = row.get("area_type", "").lower() or ("counties" if codes else "state")
        if kind not in AREA_TYPES:
            raise RowRejected(
                f"unknown area_type {row['area_type']!r} for {stusps}; expected one of {AREA_TYPES}"
            )
        if kind == "counties" and stage != "none" and not codes:
            raise RowRejected(f"{stusps}: area_type 'counties' needs county_fips codes")
        check_county_codes(codes, stusps, fips[stusps], known, owner=stusps)
        email = row.get("contact_email", "")
        if email and not _EMAIL.fullmatch(email):
            raise RowRejected(f"contact_email {email!r} for {stusps} is not an email address")
        for column in ("website", "join_url"):
            if row.get(column) and not _URL.match(row[column]):
                raise RowRejected(
                    f"{column} {row[column]!r} for {stusps} must start with http:// or https://"
                )
        active = stage != "none"
        # Names may hold commas ("Boys & Girls Clubs of X, Inc."): only ';' and '|' separate them.
        leads = [p.strip() for p in re.split(r"[;|]", row.get("lead_organizations", "")) if p.strip()]
        return {
            "stusps": stusps,
            "stage": stage,
            "status": STATUS_OF_STAGE[stage],
            "coalition_name": row.get("coalition_name") or None,
            "lead_organizations": "; ".join(leads) or None,
            "contact_name": row.get("contact_name") or None,
            "contact_email": email or None,
            "contact_phone": row.get("contact_phone") or None,
            "contact_public": is_true(row.get("contact_public", "")),
            "website": row.get("website") or None,
            "join_url": row.get("join_url") or None,
            "area_type": kind if active else None,
            "county_fips": ";".join(codes) if kind == "counties" and codes else None,
            "is_sample": is_true(row.get("is_sample", "")),
        }

    return check


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://\S+$", re.IGNORECASE)


def import_coalitions(
    raw: pd.DataFrame, *, counties: gpd.GeoDataFrame | None = None, source: str = "coalitions table"
) -> RecordImport:
    """Check a coalitions table row by row (docs/RECORDS.md), accounting for every row.

    Parameters
    ----------
    raw : DataFrame
        Text columns (headers as :func:`geo.school_columns.header_key` makes them).
    counties : GeoDataFrame, optional
        When given, every county FIPS must be one of its ``geoid``.
    source : str
        Where the rows come from, for messages.

    Returns
    -------
    RecordImport
        One row per state and territory (missing ones get stage none) in FIPS
        order; a repeated state is merged into its first row.

    Raises
    ------
    SchoolDataError
        When ``stusps`` or both ``stage`` and ``status`` are missing.
    """
    raw = rename_synonyms(raw, SYNONYMS)
    require_columns(raw, ["stusps"], what="coalitions", source=source)
    if "stage" not in raw.columns and "status" not in raw.columns:
        require_columns(raw, ["stage"], what="coalitions", source=source)
    result = account_rows(
        raw,
        _coalition_check(counties),
        key=["stusps"],
        columns=COALITION_COLUMNS,
        table="coalitions",
        source=source,
    )
    fips = state_fips()
    out = result.table
    missing = sorted(set(fips) - set(out["stusps"]))
    if missing:
        filler = pd.DataFrame(
            {
                "stusps": missing,
                "stage": "none",
                "status": "none",
                "contact_public": False,
                "is_sample": bool(out["is_sample"].all()) if len(out) else False,
            }
        )
        out = pd.concat([out, filler], ignore_index=True)
    out = (
        out.assign(_fips=out["stusps"].map(fips))
        .sort_values("_fips", ignore_index=True)
        .drop(columns="_fips")
    )
    out["contact_public"] = out["contact_public"].astype(bool)
    out["is_sample"] = out["is_sample"].astype(bool)
    result.table = as_text_columns(out[list(COALITION_COLUMNS)], TEXT_COLUMNS)
    return result


TEXT_COLUMNS = tuple(c.name for c in registry.COALITIONS if c.dtype == "string")


def public_coalitions(coalitions: pd.DataFrame) -> pd.DataFrame:
    """Return the table as published: contacts blanked where ``contact_public`` is false."""
    out = coalitions.copy()
    hidden = ~out["contact_public"].astype(bool)
    for column in CONTACT_COLUMNS:
        if column in out.columns:
            out[column] = out[column].where(~hidden)
    return out


def coalition_areas(
    coalitions: pd.DataFrame, states: gpd.GeoDataFrame, counties: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Return one dissolved polygon per coalition whose status is not none.

    Parameters
    ----------
    coalitions : DataFrame
        :data:`COALITION_COLUMNS`.
    states, counties : GeoDataFrame
        Polygons in one CRS (full-resolution or web-weight).

    Returns
    -------
    GeoDataFrame
        stusps, stage, status, coalition_name, area_type, county_count, is_sample,
        geometry; in the CRS of ``states``.
    """
    require_same_crs(states, counties)
    if "stage" not in coalitions.columns:  # a table from before the stages (docs/RECORDS.md)
        coalitions = coalitions.assign(stage=coalitions["status"].astype("str").map(STAGE_OF_STATUS))
    active = coalitions[coalitions["status"].astype("str") != "none"].reset_index(drop=True)
    pieces = []
    by_state = states.set_index("stusps").geometry
    by_county = counties.set_index("geoid").geometry
    for position, row in active.iterrows():  # at most one row per state
        if row["area_type"] == "counties":
            codes = [c for c in str(row["county_fips"]).split(";") if c]
            unknown = [c for c in codes if c not in by_county.index]
            if unknown:
                msg = f"unknown county FIPS {unknown[0]!r} in the {row['stusps']} coalition"
                raise SchoolDataError(msg)
            shapes = by_county.loc[codes]
        else:
            if row["stusps"] not in by_state.index:
                msg = f"unknown state {row['stusps']!r} in the coalitions table"
                raise SchoolDataError(msg)
            shapes, codes = by_state.loc[[row["stusps"]]], []
        pieces.append(
            gpd.GeoDataFrame(
                {"coalition": position, "county_count": len(codes)},
                index=range(len(shapes)),
                geometry=shapes.to_numpy(),
                crs=states.crs,
            )
        )
    columns = ["stusps", "stage", "status", "coalition_name", "area_type", "county_count", "is_sample"]
    if not pieces:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=states.crs)
    parts = pd.concat(pieces, ignore_index=True)
    dissolved = parts.dissolve(by="coalition", aggfunc="first").sort_index()
    merged = active.loc[dissolved.index, [c for c in columns if c != "county_count"]]
    out = gpd.GeoDataFrame(
        merged.assign(county_count=dissolved["county_count"].to_numpy()),
        geometry=dissolved.geometry.to_numpy(),
        crs=states.crs,
    )
    return out[[*columns, "geometry"]].reset_index(drop=True)
