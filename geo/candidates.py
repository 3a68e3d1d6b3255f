"""A user's candidate sites for the expansion planner: read from CSV or GeoJSON, and checked.

A candidate list is CSV (``name,lat,lon``) or GeoJSON points, from a file on
disk (``csmap plan --candidates``) or from bytes in memory (an upload to
``/api/plan``). Either way it comes out as one table: candidate_id, name,
lat, lon and, when given, stusps. Column names are matched case-insensitively,
and every error quotes the file's name and the first rows at fault.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WGS84
from geo.errors import InvalidParameterError, SchoolDataError
from geo.reach import LatLonIndex

logger = logging.getLogger(__name__)

#: Upper bound on a user's candidate list; CELF copes with more, but a web
#: upload of this size is almost certainly a mistake.
MAX_CANDIDATES = 100_000

_LAT_NAMES = ("lat", "latitude", "y")
_LON_NAMES = ("lon", "lng", "long", "longitude", "x")
_NAME_NAMES = ("name", "school_name", "school", "site", "site_name")
_ID_NAMES = ("candidate_id", "id", "school_id", "site_id")
_STATE_NAMES = ("stusps", "state", "usps")


def candidate_sites(candidates: pd.DataFrame | str | Path, zctas: pd.DataFrame) -> pd.DataFrame:
    """Return a user's checked candidate sites, each with a state.

    Parameters
    ----------
    candidates : DataFrame or path
        Sites with lat and lon (optional name, candidate_id, stusps), or a
        file for :func:`read_candidates`.
    zctas : DataFrame
        The ``zctas`` layer (zcta, stusps, lat, lon): a site with no state
        takes the state of its nearest ZCTA point.

    Returns
    -------
    DataFrame
        candidate_id, name, lat, lon, stusps.

    Raises
    ------
    InvalidParameterError
        For a bad frame (``.parameter`` is ``candidates``).
    SchoolDataError
        For a missing or unreadable file.
    """
    if isinstance(candidates, str | Path):
        frame = read_candidates(candidates)
    elif isinstance(candidates, pd.DataFrame):
        frame = _standardize_candidates(candidates, source="candidates", error=_candidates_parameter_error)
    else:
        msg = f"candidates must be a DataFrame or a file path, got {type(candidates).__name__}"
        raise InvalidParameterError("candidates", msg)
    given = frame["stusps"] if "stusps" in frame.columns else pd.Series(pd.NA, frame.index, dtype="string")
    ref = zctas[zctas["lat"].notna() & zctas["lon"].notna()]
    if given.isna().any() and len(ref):
        # The nearest ZCTA point stands in for point-in-polygon: near a border
        # it can name the neighbouring state (the ZIP-centroid caveat).
        index = LatLonIndex(ref["lat"].to_numpy(float), ref["lon"].to_numpy(float))
        _, nearest = index.nearest(frame["lat"].to_numpy(float), frame["lon"].to_numpy(float))
        states = ref["stusps"].astype("string").to_numpy()[nearest[:, 0]]
        given = given.fillna(pd.Series(states, index=frame.index, dtype="string"))
    return frame.assign(stusps=given)


def candidate_rows(candidates: pd.DataFrame, ids: Sequence[str], parameter: str, source: str) -> list[int]:
    """Return the rows of the candidates whose ``candidate_id`` is in ``ids``; raise naming unknown ones.

    Parameters
    ----------
    candidates : DataFrame
        Checked candidate sites (``candidate_id`` column), as the planner holds them.
    ids : sequence of str
        Candidate ids (a planner's ``keep`` or ``exclude``); a repeated id counts once,
        and an id shared by several rows means its first row.
    parameter, source : str
        The parameter's name and the candidates' origin, for the message.

    Returns
    -------
    list of int
        Positional rows, in the order of ``ids``.

    Raises
    ------
    InvalidParameterError
        When some ids are not candidates; every such id is quoted (the first ten).
    """
    wanted = list(dict.fromkeys(str(i).strip() for i in ([ids] if isinstance(ids, str) else ids)))
    if not wanted:
        return []
    known = candidates["candidate_id"].astype(str).to_numpy()
    first = {cid: row for row, cid in reversed(list(enumerate(known)))}
    unknown = [cid for cid in wanted if cid not in first]
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10]) + (
            f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        )
        msg = (
            f"{parameter}: unknown candidate id(s) {shown}; the candidates are {source} "
            "(ids: ZCTA codes for ZCTA points)"
        )
        raise InvalidParameterError(parameter, msg)
    return [first[cid] for cid in wanted]


def _candidates_parameter_error(message: str) -> Exception:
    return InvalidParameterError("candidates", message)


def _find_column(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lookup = {str(c).strip().lower(): c for c in columns}
    return next((lookup[n] for n in names if n in lookup), None)


def _coordinate_problems(
    raw_lat: pd.Series, raw_lon: pd.Series, lat: np.ndarray, lon: np.ndarray, first_line: int
) -> list[str]:
    """Describe the first few rows with unusable coordinates (empty list if none)."""
    not_number = ~(np.isfinite(lat) & np.isfinite(lon))
    with np.errstate(invalid="ignore"):
        out_of_range = ~not_number & ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    problems = []
    for pos in np.flatnonzero(not_number | out_of_range)[:5]:
        where = f"row {pos + first_line}" if first_line else f"feature {pos + 1}"
        if not_number[pos]:
            problems.append(f"{where}: lat/lon {raw_lat.iloc[pos]!r}, {raw_lon.iloc[pos]!r} are not numbers")
        else:
            hint = " (lat and lon swapped?)" if abs(lon[pos]) <= 90 < abs(lat[pos]) else ""
            problems.append(f"{where}: lat/lon {lat[pos]:g}, {lon[pos]:g} out of range{hint}")
    extra = int((not_number | out_of_range).sum()) - len(problems)
    if extra > 0:
        problems.append(f"and {extra} more")
    return problems


def _standardize_candidates(
    frame: pd.DataFrame, *, source: str, error: Any, first_line: int = 2
) -> pd.DataFrame:
    """Return candidate_id, name, lat, lon (and stusps if given), or raise ``error(message)``.

    ``first_line`` is the file line of the first data row (CSV with a header:
    2); 0 numbers rows as GeoJSON features instead.
    """
    lat_col, lon_col = _find_column(frame.columns, _LAT_NAMES), _find_column(frame.columns, _LON_NAMES)
    if lat_col is None or lon_col is None:
        found = [str(c) for c in frame.columns]
        msg = f"{source}: needs lat and lon columns (e.g. name,lat,lon); found {found}"
        raise error(msg)
    if len(frame) == 0:
        raise error(f"{source}: no candidate sites")
    if len(frame) > MAX_CANDIDATES:
        raise error(f"{source}: {len(frame):,} candidate sites; at most {MAX_CANDIDATES:,} are allowed")
    lat = pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(float, na_value=np.nan)
    lon = pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(float, na_value=np.nan)
    problems = _coordinate_problems(frame[lat_col], frame[lon_col], lat, lon, first_line)
    if problems:
        raise error(f"{source}: " + "; ".join(problems))
    numbers = np.arange(1, len(frame) + 1).astype(str)
    name_col, id_col = _find_column(frame.columns, _NAME_NAMES), _find_column(frame.columns, _ID_NAMES)
    names = frame[name_col].astype("string").str.strip().fillna("").to_numpy(object) if name_col else None
    ids = frame[id_col].astype("string").str.strip().fillna("").to_numpy(object) if id_col else None
    default_names = np.char.add("site ", numbers).astype(object)
    default_ids = np.char.add("site-", numbers).astype(object)
    out = pd.DataFrame(
        {
            "candidate_id": np.where(ids != "", ids, default_ids) if ids is not None else default_ids,
            "name": np.where(names != "", names, default_names) if names is not None else default_names,
            "lat": lat,
            "lon": lon,
        }
    )
    out["candidate_id"] = out["candidate_id"].astype("string")
    out["name"] = out["name"].astype("string")
    state_col = _find_column(frame.columns, _STATE_NAMES)
    if state_col is not None:
        states = frame[state_col].astype("string").str.strip().str.upper()
        out["stusps"] = states.replace("", pd.NA).to_numpy()
    return out


def read_candidates(source: str | Path | IO[bytes] | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read a user's candidate sites from CSV (name, lat, lon) or GeoJSON points.

    Column names are matched case-insensitively (lat/latitude, lon/lng/
    longitude, name/school_name, optional id and state). GeoJSON in another
    CRS is reprojected to EPSG:4326; GeoJSON with no CRS is WGS84 (RFC 7946).

    Parameters
    ----------
    source : str, Path, binary file object or bytes
        A ``.csv`` (or ``.txt``) or ``.geojson``/``.json`` file, or its
        content (an upload), read without touching the disk.
    name : str, optional
        The file's name, whose extension says the format; required for a file
        object or bytes, and the default for a path is its own name.

    Returns
    -------
    DataFrame
        candidate_id, name, lat, lon, and stusps when the file has a state column.

    Raises
    ------
    SchoolDataError
        The file is missing, unreadable, lacks lat/lon, or has bad coordinates;
        the message names the file and the problem.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise SchoolDataError(f"candidates file {name!r} does not exist ({path})")
        content: Path | IO[bytes] = path
    else:
        if name is None:
            raise SchoolDataError("a candidates file given as content needs its name (for its extension)")
        content = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    label = f"candidates file {name!r}"
    suffix = Path(name).suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            frame = pd.read_csv(content, dtype=str, encoding="utf-8-sig", skipinitialspace=True)
        except pd.errors.EmptyDataError as exc:
            raise SchoolDataError(f"{label} is empty") from exc
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise SchoolDataError(f"{label} is not a readable CSV: {exc}") from exc
        return _standardize_candidates(frame, source=label, error=SchoolDataError)
    if suffix in (".geojson", ".json"):
        return _read_geojson_candidates(content, label)
    msg = f"{label}: unsupported file type {suffix!r}; use .csv (name,lat,lon) or .geojson points"
    raise SchoolDataError(msg)


def _read_geojson_candidates(content: Path | IO[bytes], label: str) -> pd.DataFrame:
    try:
        frame = gpd.read_file(content, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for malformed files
        raise SchoolDataError(f"{label} is not readable GeoJSON: {exc}") from exc
    if len(frame) == 0:
        raise SchoolDataError(f"{label}: no candidate sites")
    geom = frame.geometry
    bad = geom.isna() | geom.is_empty | (geom.geom_type != "Point")
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        shape = geom.iloc[first]
        kind = "missing" if shape is None or shape.is_empty else shape.geom_type
        msg = f"{label}: every feature must be a Point; feature {first + 1} is {kind} ({int(bad.sum())} such)"
        raise SchoolDataError(msg)
    if frame.crs is not None and not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    table = table.drop(columns=[c for c in table.columns if str(c).lower() in _LAT_NAMES + _LON_NAMES])
    table["lat"], table["lon"] = frame.geometry.y.to_numpy(), frame.geometry.x.to_numpy()
    return _standardize_candidates(table, source=label, error=SchoolDataError, first_line=0)
