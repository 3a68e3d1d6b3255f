"""The coalitions table: one row per state or territory, read from CSV, checked, and mapped.

The table has a documented CSV format (docs/SCHOOLS.md, "Coalitions table"):
a real table put at ``inputs/coalitions.csv`` in the data folder replaces the
generated sample (:func:`geo.sample.sample_coalitions`), which has the same shape.
:func:`read_coalitions` reads and validates a file, :func:`validate_coalitions`
a frame of text columns, and :func:`coalition_areas` dissolves each
coalition's area (a whole state, or a list of its counties) into one polygon.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import registry
from geo.crs import require_same_crs
from geo.errors import SchoolDataError

logger = logging.getLogger(__name__)

STATUSES = ("existing", "developing", "none")
AREA_TYPES = ("state", "counties")
COALITION_COLUMNS = tuple(c.name for c in registry.COALITIONS)


def _state_fips() -> dict[str, str]:
    import us

    return {s.abbr: str(s.fips) for s in (*us.states.STATES_AND_TERRITORIES, us.states.DC)}


def read_coalitions(path: str | Path, *, counties: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Read and validate a coalitions table (CSV; docs/SCHOOLS.md, "Coalitions table").

    Parameters
    ----------
    path : path
        CSV with ``stusps`` and ``status``; optional ``coalition_name``,
        ``area_type`` (state or counties; default counties when
        ``county_fips`` is filled, else state), ``county_fips`` (5-digit
        codes separated by ``;``) and ``is_sample``.
    counties : GeoDataFrame, optional
        When given, every county FIPS must be one of its ``geoid``.

    Returns
    -------
    DataFrame
        :data:`COALITION_COLUMNS`, one row per state and territory (states
        missing from the file get status none), in state FIPS order.

    Raises
    ------
    SchoolDataError
        For an unreadable file, a missing column, or an unknown state,
        status, area type or county FIPS (the message quotes the value).
    """
    from geo.school_columns import header_key
    from geo.school_files import decode_text

    text, _ = decode_text(Path(path)) if Path(path).is_file() else (None, None)
    if text is None:
        msg = f"coalitions table {str(path)!r} does not exist"
        raise SchoolDataError(msg)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, pd.errors.ParserError) as exc:
        msg = f"cannot read coalitions table {str(path)!r}: {exc}"
        raise SchoolDataError(msg) from exc
    raw.columns = [header_key(c) for c in raw.columns]
    raw = raw.rename(columns={"state": "stusps", "state_code": "stusps", "name": "coalition_name"})
    for column in ("stusps", "status"):
        if column not in raw.columns:
            found = list(raw.columns)
            msg = f"coalitions table {str(path)!r} lacks column {column!r}; headers found: {found!r}"
            raise SchoolDataError(msg)
    return validate_coalitions(raw, counties=counties, source=str(path))


def validate_coalitions(
    raw: pd.DataFrame, *, counties: gpd.GeoDataFrame | None = None, source: str = "coalitions table"
) -> pd.DataFrame:
    """Return a clean coalitions table from text columns (see :func:`read_coalitions`)."""
    fips = _state_fips()
    table = pd.DataFrame(
        {c: raw[c].astype("str").str.strip() if c in raw.columns else "" for c in COALITION_COLUMNS}
    )
    table["stusps"] = table["stusps"].str.upper()
    table["status"] = table["status"].str.lower()
    known = set(counties["geoid"]) if counties is not None else None
    for position, row in enumerate(table.itertuples(index=False), start=2):  # one row per state: small
        where = f"{source} row {position}"
        if row.stusps not in fips:
            msg = f"unknown state {row.stusps!r} in {where}"
            raise SchoolDataError(msg)
        if row.status not in STATUSES:
            msg = f"unknown status {row.status!r} for {row.stusps} in {where}; expected one of {STATUSES}"
            raise SchoolDataError(msg)
    duplicated = table["stusps"][table["stusps"].duplicated()]
    if len(duplicated):
        msg = f"state {duplicated.iloc[0]!r} appears more than once in {source}"
        raise SchoolDataError(msg)
    codes = table["county_fips"].str.replace(r"[,\s]+", ";", regex=True).str.strip(";")
    area = table["area_type"].str.lower()
    area = area.where(area != "", np.where(codes != "", "counties", "state"))
    lists = []
    for stusps, status, kind, listed in zip(table["stusps"], table["status"], area, codes, strict=True):
        if kind not in AREA_TYPES:
            msg = f"unknown area_type {kind!r} for {stusps} in {source}; expected one of {AREA_TYPES}"
            raise SchoolDataError(msg)
        members = [c.zfill(5) for c in listed.split(";") if c]
        if kind == "counties" and status != "none" and not members:
            msg = f"{stusps}: area_type 'counties' needs county_fips codes in {source}"
            raise SchoolDataError(msg)
        for code in members:
            if not code.isdigit() or len(code) != 5 or code[:2] != fips[stusps]:
                msg = f"county FIPS {code!r} is not a county of {stusps} (FIPS {fips[stusps]}) in {source}"
                raise SchoolDataError(msg)
            if known is not None and code not in known:
                msg = f"unknown county FIPS {code!r} for {stusps} in {source}"
                raise SchoolDataError(msg)
        lists.append(";".join(members) if kind == "counties" else "")
    truthy = table["is_sample"].str.lower().isin(["true", "t", "yes", "y", "1"])
    out = pd.DataFrame(
        {
            "stusps": table["stusps"],
            "status": table["status"],
            "coalition_name": table["coalition_name"].where(table["coalition_name"] != ""),
            "area_type": pd.Series(area, index=table.index).where(table["status"] != "none"),
            "county_fips": pd.Series(lists, index=table.index).where(lambda s: s != ""),
            "is_sample": truthy.to_numpy(dtype=bool),
        }
    )
    missing = sorted(set(fips) - set(out["stusps"]))
    if missing:
        filler = pd.DataFrame(
            {"stusps": missing, "status": "none", "is_sample": bool(out["is_sample"].all())}
        )
        out = pd.concat([out, filler], ignore_index=True)
    out = (
        out.assign(_fips=out["stusps"].map(fips))
        .sort_values("_fips", ignore_index=True)
        .drop(columns="_fips")
    )
    for column in ("stusps", "status", "coalition_name", "area_type", "county_fips"):
        out[column] = out[column].astype("str")
    return out[list(COALITION_COLUMNS)]


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
        stusps, status, coalition_name, area_type, county_count, is_sample,
        geometry; in the CRS of ``states``.
    """
    require_same_crs(states, counties)
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
    columns = ["stusps", "status", "coalition_name", "area_type", "county_count", "is_sample"]
    if not pieces:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs=states.crs)
    parts = pd.concat(pieces, ignore_index=True)
    dissolved = parts.dissolve(by="coalition", aggfunc="first").sort_index()
    merged = active.loc[dissolved.index, ["stusps", "status", "coalition_name", "area_type", "is_sample"]]
    out = gpd.GeoDataFrame(
        merged.assign(county_count=dissolved["county_count"].to_numpy()),
        geometry=dissolved.geometry.to_numpy(),
        crs=states.crs,
    )
    return out[[*columns, "geometry"]].reset_index(drop=True)
