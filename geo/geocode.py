"""The offline geocoding chain: given coordinates, ZIP centroid, city gazetteer, state.

Every step is a vectorized join over the whole list, never a loop over rows:

1. **Given coordinates** are validated: numeric (decimal degrees, a decimal
   comma, or degrees-minutes-seconds with N/S/E/W), in range, not (0, 0).
   A point outside its stated state is tried swapped (lat/lon exchanged) and
   with the longitude's sign flipped; a fix that lands in the stated state
   is applied with a note. A point more than 1 km outside its stated state
   is kept and flagged. A point more than 1 km from every state and
   territory (at sea or abroad) is dropped for the address when the row has
   one, else the row is rejected.
2. **ZIP centroid** (ZCTA internal point, else the ``zipcodes`` point).
3. **City and state** from the GeoNames gazetteer (most populous match),
   then from the ZIP table's city names (mean of the city's ZIP points).
4. **Online** (optional, ``census`` or ``nominatim``): rows with a street
   address not yet placed at street precision (geo/geocode_online.py).
5. **State**: a point inside the state polygon, flagged; the row's only
   location.

Rows with nothing usable are rejected with the reason in words.
docs/SCHOOLS.md documents the chain for users.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.enrich import distance_to_state_km, nearest_state, polygon_at
from geo.errors import CsmapError, InvalidParameterError
from geo.reference import Reference, normalize_place

logger = logging.getLogger(__name__)

PRECISIONS = ("given", "street", "zip", "city", "state")
METHODS = (
    "given",
    "given-swapped",
    "given-fixed",
    "census",
    "nominatim",
    "zip-centroid",
    "gazetteer",
    "state-centroid",
)
#: A given point farther than this outside its stated state is flagged (issue #3).
OUTSIDE_STATE_KM = 1.0
#: Canada's extent in lon/lat (Natural Resources Canada: 141°W-52.6°W, 41.7°N-83.1°N);
#: Canadian schools have no province polygons here, so this is their plausibility test.
CANADA_BBOX = (-141.01, 41.67, -52.61, 83.12)
_RANK = {p: i for i, p in enumerate(PRECISIONS)}
ONLINE_PROVIDERS = ("census", "nominatim")

#: Degrees, optionally minutes and seconds, optionally a hemisphere letter.
_DMS = (
    r"^\s*([NSEWnsew])?\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:°|º|d|deg)?\s*(?:(\d+(?:[.,]\d+)?)\s*(?:'|′|m|min)\s*)?"
    r"(?:(\d+(?:[.,]\d+)?)\s*(?:\"|″|''|s|sec)\s*)?([NSEWnsew])?\s*$"
)


def parse_degrees(text: pd.Series) -> pd.Series:
    """Return decimal degrees from text; NaN where the text is not a coordinate.

    Accepts ``-73.95``, a decimal comma ``-73,95``, a spreadsheet's leading
    apostrophe, and degrees-minutes-seconds such as ``73°57'W`` (S and W are
    negative).
    """
    cleaned = text.astype("str").str.strip().str.lstrip("'")
    number = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    rest = number.isna() & (cleaned != "")
    if rest.any():
        parts = cleaned[rest].str.extract(_DMS)
        degrees = pd.to_numeric(parts[1].str.replace(",", ".", regex=False), errors="coerce")
        minutes = pd.to_numeric(parts[2].str.replace(",", ".", regex=False), errors="coerce").fillna(0.0)
        seconds = pd.to_numeric(parts[3].str.replace(",", ".", regex=False), errors="coerce").fillna(0.0)
        value = degrees.abs() + minutes / 60.0 + seconds / 3600.0
        hemisphere = parts[0].fillna(parts[4]).str.upper()
        negative = hemisphere.isin(["S", "W"]).to_numpy() | (degrees < 0).to_numpy()
        value = value.where(~negative, -value)
        bad_minutes = (minutes >= 60) | (seconds >= 60)
        number.loc[rest] = value.where(~bad_minutes).astype("float64").to_numpy()
    return number


class _Notes:
    """Accumulates ``; ``-joined notes per row without a Python loop over rows."""

    def __init__(self, n: int) -> None:
        self.text = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, note: Any) -> None:
        """Add ``note`` to ``mask``'s rows: a str, a full-length array, or a callable of row positions."""
        if not mask.any():
            return
        if callable(note):
            value = np.asarray(note(np.flatnonzero(mask)), dtype=object)
        else:
            value = note[mask] if isinstance(note, np.ndarray) else note
        old = self.text[mask]
        self.text[mask] = np.where(old == "", value, old + "; " + value)


def _quote(values: pd.Series, limit: int = 40) -> np.ndarray:
    text = values.astype("str")
    text = text.where(text.str.len() <= limit, text.str[:limit] + "…")
    quoted_text: np.ndarray = ("'" + text + "'").to_numpy(dtype=object)
    return quoted_text


def _fmt(values: np.ndarray, digits: int = 1) -> np.ndarray:
    return np.char.mod(f"%.{digits}f", values.astype(float)).astype(object)


def _plausible(
    lon: np.ndarray, lat: np.ndarray, state: np.ndarray, canada: np.ndarray, states: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Return (ok, state at point): in the stated state, any state if none stated, Canada for CA rows."""
    found = polygon_at(lon, lat, states, "stusps")
    stated = pd.notna(state) & (state != "")
    west, south, east, north = CANADA_BBOX
    in_canada = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north) & pd.isna(found)
    ok = np.where(canada, in_canada, np.where(stated, found == state, pd.notna(found)))
    return ok.astype(bool), found


def _given(fields: pd.DataFrame, reference: Reference, out: dict[str, np.ndarray], notes: _Notes) -> None:
    """Validate given coordinates and fill ``out`` for the accepted rows; note why others were not."""
    n = len(fields)
    lat = parse_degrees(fields["lat"]).to_numpy(dtype=float, na_value=np.nan)
    lon = parse_degrees(fields["lon"]).to_numpy(dtype=float, na_value=np.nan)
    given = ((fields["lat"] != "") | (fields["lon"] != "")).to_numpy(dtype=bool)
    state = fields["state"].to_numpy(dtype=object)
    canada = (fields["country"] == "CA").to_numpy(dtype=bool)
    numeric = np.isfinite(lat) & np.isfinite(lon)

    def quoted(prefix: str, suffix: str) -> Callable[[np.ndarray], np.ndarray]:
        def text(rows: np.ndarray) -> np.ndarray:
            pair = _quote(fields["lat"].iloc[rows]) + ", " + _quote(fields["lon"].iloc[rows])
            message: np.ndarray = prefix + "(" + pair + ")" + suffix
            return message

        return text

    notes.add(given & ~numeric, quoted("coordinates ", " are not numbers"))
    zero = numeric & (lat == 0) & (lon == 0)
    notes.add(zero, "coordinates (0, 0) are a placeholder, not a location")
    usable = numeric & ~zero
    in_range = usable & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    swap_range = usable & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)

    ok = np.zeros(n, dtype=bool)
    found = np.full(n, None, dtype=object)
    rows = np.flatnonzero(in_range)
    ok[rows], found[rows] = _plausible(lon[rows], lat[rows], state[rows], canada[rows], reference.states)
    accepted = ok.copy()
    # numpy's stubs refuse None as a branch of np.where; at run time it makes an object array.
    method = np.where(accepted, "given", None).astype(object)  # type: ignore[call-overload]
    final_lat, final_lon = np.where(accepted, lat, np.nan), np.where(accepted, lon, np.nan)
    # Swapped lat/lon, and a lost minus sign on the longitude (the commonest
    # spreadsheet errors), each accepted only if it lands where the row says it is.
    alternatives = (
        ("given-swapped", swap_range, lon, lat, "latitude and longitude were swapped; fixed"),
        ("given-fixed", in_range, lat, -lon, "longitude sign was wrong; fixed"),
        (
            "given-fixed",
            swap_range,
            lon,
            -lat,
            "latitude and longitude were swapped and the longitude sign was wrong; fixed",
        ),
    )
    for name, valid, alt_lat, alt_lon, note in alternatives:
        rows = np.flatnonzero(valid & ~accepted)
        if len(rows) == 0:
            continue
        alt_ok, _ = _plausible(alt_lon[rows], alt_lat[rows], state[rows], canada[rows], reference.states)
        hit = rows[alt_ok]
        accepted[hit] = True
        method[hit] = name
        final_lat[hit], final_lon[hit] = alt_lat[hit], alt_lon[hit]
        mask = np.zeros(n, dtype=bool)
        mask[hit] = True
        notes.add(mask, note)

    # Points in range that are not where the row says: measure how far off they are.
    off = in_range & ~accepted
    if off.any():
        rows = np.flatnonzero(off)
        stated = pd.notna(state[rows]) & (state[rows] != "") & ~canada[rows]
        to_stated = np.full(len(rows), np.nan)
        to_stated[stated] = distance_to_state_km(
            lon[rows][stated], lat[rows][stated], state[rows][stated], reference.states
        )
        near_code, to_nearest = nearest_state(lon[rows], lat[rows], reference.states)
        here = found[rows]
        inside_some = pd.notna(here)
        close_to_stated = stated & (to_stated <= OUTSIDE_STATE_KM)
        on_land = inside_some | (to_nearest <= OUTSIDE_STATE_KM)
        keep = close_to_stated | on_land
        flag = keep & ~close_to_stated
        where = np.where(
            inside_some, "it lies in " + here.astype(str), "nearest state " + near_code.astype(str)
        )
        text = np.where(
            canada[rows],
            "point is not in Canada (" + where + ")",
            np.where(
                stated,
                "point is "
                + _fmt(to_stated)
                + " km outside the stated state "
                + state[rows].astype(str)
                + " ("
                + where
                + ")",
                "",
            ),
        )
        kept_rows = rows[keep]
        accepted[kept_rows] = True
        method[kept_rows] = "given"
        final_lat[kept_rows], final_lon[kept_rows] = lat[kept_rows], lon[kept_rows]
        mask = np.zeros(n, dtype=bool)
        mask[rows[flag & (text != "")]] = True
        full_text = np.full(n, "", dtype=object)
        full_text[rows] = text
        notes.add(mask, full_text)
        out["outside_state"][rows[flag & (text != "")]] = True
        at_sea = np.zeros(n, dtype=bool)
        at_sea[rows[~keep]] = True
        notes.add(
            at_sea,
            quoted(
                "coordinates ", " are more than 1 km from every US state and territory (at sea or abroad)"
            ),
        )
        out["at_sea"] |= at_sea
    out_of_range = usable & ~in_range & ~accepted
    notes.add(out_of_range, quoted("coordinates ", " are out of range"))
    out["lat"][accepted], out["lon"][accepted] = final_lat[accepted], final_lon[accepted]
    out["method"][accepted] = method[accepted]
    out["precision"][accepted] = "given"


def _assign(
    out: dict[str, np.ndarray],
    rows: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    method: str | np.ndarray,
    precision: str | np.ndarray,
) -> None:
    out["lat"][rows], out["lon"][rows] = lat, lon
    out["method"][rows], out["precision"][rows] = method, precision


def _zip_step(fields: pd.DataFrame, reference: Reference, out: dict[str, np.ndarray], notes: _Notes) -> None:
    todo = (
        pd.isna(out["method"])
        & (fields["zip"].str.len() == 5).to_numpy(dtype=bool)
        & fields["zip"].str.isdigit().to_numpy(dtype=bool)
    )
    if not todo.any():
        return
    table = reference.zip_points.drop_duplicates("zip")
    wanted = pd.DataFrame({"zip": fields["zip"].to_numpy()[todo], "row": np.flatnonzero(todo)})
    hit = wanted.merge(table[["zip", "state", "lat", "lon"]], on="zip", how="inner")
    hit = hit[hit["lat"].notna() & hit["lon"].notna()]
    rows = hit["row"].to_numpy()
    _assign(out, rows, hit["lat"].to_numpy(float), hit["lon"].to_numpy(float), "zip-centroid", "zip")
    stated = fields["state"].to_numpy(dtype=object)[rows]
    other = (
        (stated != "") & pd.notna(hit["state"].to_numpy()) & (hit["state"].to_numpy(dtype=object) != stated)
    )
    mask = np.zeros(len(fields), dtype=bool)
    mask[rows[other]] = True
    odd = hit[other]
    text = np.full(len(fields), "", dtype=object)
    text[rows[other]] = (
        "ZIP "
        + odd["zip"].astype("str")
        + " is in "
        + odd["state"].astype("str")
        + ", not the stated "
        + pd.Series(stated[other], dtype="str", index=odd.index)
    ).to_numpy(dtype=object)
    notes.add(mask, text)
    out["zip_state_mismatch"] |= mask
    missed = todo & pd.isna(out["method"])
    notes.add(missed, lambda rows: "ZIP " + _quote(fields["zip"].iloc[rows]) + " is not in the ZIP table")


def city_table(reference: Reference) -> pd.DataFrame:
    """Return one point per (normalized city, state): the gazetteer's most populous place, else ZIP points.

    The ZIP table's city names (USPS) cover places too small for the
    gazetteer (fewer than 1,000 people) and USPS names the gazetteer spells
    differently ("New York" for "New York City"); their point is the mean of
    the city's ZIP points.
    """
    gazetteer = reference.gazetteer
    first = gazetteer.drop_duplicates(["city_norm", "state"], keep="first")
    places = pd.DataFrame(
        {
            "city_norm": first["city_norm"],
            "state": first["state"],
            "lat": first["lat"],
            "lon": first["lon"],
            "source": "gazetteer",
        }
    )
    zips = reference.zip_points.dropna(subset=["city", "state", "lat", "lon"])
    by_city = (
        zips.assign(city_norm=normalize_place(zips["city"]))
        .groupby(["city_norm", "state"], as_index=False)[["lat", "lon"]]
        .mean()
    )
    by_city["source"] = "zip-cities"
    both = pd.concat([places, by_city], ignore_index=True)
    both = both[both["city_norm"] != ""]
    return both.drop_duplicates(["city_norm", "state"], keep="first").reset_index(drop=True)


def _city_step(fields: pd.DataFrame, reference: Reference, out: dict[str, np.ndarray], notes: _Notes) -> None:
    has_city = (fields["city"] != "").to_numpy(dtype=bool)
    todo = pd.isna(out["method"]) & has_city
    if not todo.any():
        return
    city_norm = normalize_place(fields["city"][todo])
    wanted = pd.DataFrame(
        {
            "city_norm": city_norm.to_numpy(),
            "state": fields["state"].to_numpy()[todo],
            "country": fields["country"].to_numpy()[todo],
            "row": np.flatnonzero(todo),
        }
    )
    table = city_table(reference)
    hit = wanted[wanted["state"] != ""].merge(table, on=["city_norm", "state"], how="inner")
    # A Canadian city with no province: the most populous Canadian place of that name.
    canadian = reference.gazetteer[reference.gazetteer["country"] == "CA"].drop_duplicates("city_norm")
    loose = wanted[(wanted["state"] == "") & (wanted["country"] == "CA")].merge(
        canadian[["city_norm", "lat", "lon"]], on="city_norm", how="inner"
    )
    hit = pd.concat([hit, loose.assign(source="gazetteer")], ignore_index=True)
    rows = hit["row"].to_numpy()
    _assign(out, rows, hit["lat"].to_numpy(float), hit["lon"].to_numpy(float), "gazetteer", "city")
    mask = np.zeros(len(fields), dtype=bool)
    mask[rows[(hit["source"] == "zip-cities").to_numpy()]] = True
    notes.add(mask, "city placed at the mean of its ZIP points")
    missed = todo & pd.isna(out["method"])

    def not_found(rows: np.ndarray) -> np.ndarray:
        state = fields["state"].iloc[rows].astype("str")
        where = np.where(state != "", " in " + state, "").astype(object)
        message: np.ndarray = "city " + _quote(fields["city"].iloc[rows]) + " not found" + where
        return message

    notes.add(missed, not_found)


def _online_step(
    fields: pd.DataFrame,
    out: dict[str, np.ndarray],
    notes: _Notes,
    *,
    provider: str,
    cache_path: Path,
    base_url: str | None,
    user_agent: str | None,
    progress: bool,
    info: dict[str, Any],
) -> None:
    from geo.geocode_online import geocode_online

    rank = pd.Series(out["precision"]).map(_RANK).fillna(len(PRECISIONS)).to_numpy()
    todo = (fields["address"] != "").to_numpy(dtype=bool) & (rank > _RANK["street"])
    info["online"] = {"provider": provider, "asked": int(todo.sum()), "matched": 0}
    if not todo.any():
        return
    rows = np.flatnonzero(todo)
    zip_code = fields["zip"].where(fields["zip"] != "", fields["zip_raw"])
    # The street part of a one-line address ("12 Main St, Springfield, IL 62701"), when it was split.
    street = fields["street"] if "street" in fields.columns else fields["address"]
    addresses = pd.DataFrame(
        {
            "key": rows.astype(str),
            "street": street.to_numpy()[rows],
            "city": fields["city"].to_numpy()[rows],
            "state": fields["state"].to_numpy()[rows],
            "zip": zip_code.to_numpy()[rows],
        }
    )
    try:
        found = geocode_online(
            addresses,
            provider=provider,
            cache_path=cache_path,
            base_url=base_url,
            user_agent=user_agent,
            progress=progress,
        )
    except CsmapError as exc:
        message = f"online geocoding ({provider}) failed, offline results kept: {exc}"
        logger.warning(message)
        info["warnings"].append(message)
        return
    found_rank = found["precision"].map(_RANK).fillna(len(PRECISIONS)).to_numpy()
    better = (
        (found["status"] == "match").to_numpy(dtype=bool)
        & np.isfinite(found["lat"].to_numpy(float))
        & np.isfinite(found["lon"].to_numpy(float))
        & (found_rank < rank[rows])
    )
    hit = rows[better]
    _assign(
        out,
        hit,
        found["lat"].to_numpy(float)[better],
        found["lon"].to_numpy(float)[better],
        provider,
        found["precision"].to_numpy(dtype=object)[better],
    )
    out["online"][hit] = True
    info["online"]["matched"] = int(better.sum())


def _state_step(
    fields: pd.DataFrame, reference: Reference, out: dict[str, np.ndarray], notes: _Notes
) -> None:
    state = fields["state"].to_numpy(dtype=object)
    todo = pd.isna(out["method"]) & (state != "")
    if not todo.any():
        return
    codes = pd.unique(state[todo])
    states = reference.states[reference.states["stusps"].isin(codes)]
    points = states.set_index("stusps").geometry.representative_point()
    table = pd.DataFrame({"state": points.index, "lat": points.y.to_numpy(), "lon": points.x.to_numpy()})
    # A province: its most populous gazetteer place.
    provinces = reference.gazetteer[reference.gazetteer["country"] == "CA"].drop_duplicates("state")
    table = pd.concat([table, provinces[["state", "lat", "lon"]]], ignore_index=True).drop_duplicates("state")
    wanted = pd.DataFrame({"state": state[todo], "row": np.flatnonzero(todo)})
    hit = wanted.merge(table, on="state", how="inner")
    rows = hit["row"].to_numpy()
    _assign(out, rows, hit["lat"].to_numpy(float), hit["lon"].to_numpy(float), "state-centroid", "state")
    mask = np.zeros(len(fields), dtype=bool)
    mask[rows] = True
    notes.add(mask, "only the state is known: placed at a point inside it, not at the school")


def geocode_schools(
    fields: pd.DataFrame,
    reference: Reference,
    *,
    online: str | None = None,
    cache_path: Path | None = None,
    base_url: str | None = None,
    user_agent: str | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Place each school: given coordinates, ZIP centroid, gazetteer, online (optional), state.

    Parameters
    ----------
    fields : DataFrame
        Normalized text columns (``""`` when empty): ``lat``, ``lon``,
        ``address``, ``city``, ``state`` (USPS or Canadian code), ``zip``
        (5-digit ZIP or Canadian postal code), ``zip_raw`` (as given),
        ``country`` (US/CA). Not modified.
    reference : Reference
        ``states`` polygons, ``zip_points`` and ``gazetteer``.
    online : {"census", "nominatim"}, optional
        Turn on an online provider for rows with a street address that the
        offline steps placed coarser than street precision.
    cache_path, base_url, user_agent, progress
        Passed to :func:`geo.geocode_online.geocode_online`.

    Returns
    -------
    DataFrame
        Aligned with ``fields``: ``lat``, ``lon``, ``geocode_method``,
        ``precision``, ``geocode_note``, ``reject_reason`` (NA unless the
        row cannot be placed) and the boolean flags ``outside_state``,
        ``at_sea``, ``zip_state_mismatch``, ``online``.
    dict
        ``warnings`` (list of str) and, with ``online``, the provider's counts.
    """
    if online not in (None, *ONLINE_PROVIDERS):
        msg = f"unknown online geocoder {online!r}; expected one of {ONLINE_PROVIDERS!r}"
        raise InvalidParameterError("online", msg)
    if online is not None and cache_path is None:
        msg = f"online geocoding ({online!r}) needs a cache_path for its SQLite cache"
        raise InvalidParameterError("cache_path", msg)
    n = len(fields)
    fields = fields.reset_index(drop=True)
    out: dict[str, np.ndarray] = {
        "lat": np.full(n, np.nan),
        "lon": np.full(n, np.nan),
        "method": np.full(n, None, dtype=object),
        "precision": np.full(n, None, dtype=object),
        "outside_state": np.zeros(n, dtype=bool),
        "at_sea": np.zeros(n, dtype=bool),
        "zip_state_mismatch": np.zeros(n, dtype=bool),
        "online": np.zeros(n, dtype=bool),
    }
    info: dict[str, Any] = {"warnings": []}
    notes = _Notes(n)
    _given(fields, reference, out, notes)
    _zip_step(fields, reference, out, notes)
    _city_step(fields, reference, out, notes)
    if online is not None and cache_path is not None:  # checked above: online needs a cache_path
        _online_step(
            fields,
            out,
            notes,
            provider=online,
            cache_path=cache_path,
            base_url=base_url,
            user_agent=user_agent,
            progress=progress,
            info=info,
        )
    _state_step(fields, reference, out, notes)
    # A Canadian postal code cannot be placed offline (no open table ships here).
    postal = (fields["country"] == "CA").to_numpy(dtype=bool) & (fields["zip"] != "").to_numpy(dtype=bool)
    notes.add(postal & pd.isna(out["method"]), "Canadian postal codes cannot be geocoded offline")

    placed = pd.notna(out["method"])
    nothing = ~placed & (notes.text == "")
    notes.add(nothing, "no coordinates, ZIP, city and state, or state to place it by")
    reason = np.where(  # type: ignore[call-overload]  # None in np.where: see _given
        placed, None, "cannot place the school: " + notes.text.astype(str)
    ).astype(object)
    # The notes of placed rows are their geocode_note.
    note = np.where(placed, notes.text, "")
    frame = pd.DataFrame(
        {
            "lat": out["lat"],
            "lon": out["lon"],
            "geocode_method": pd.array(out["method"], dtype="str"),
            "precision": pd.array(out["precision"], dtype="str"),
            "geocode_note": pd.array(note, dtype="str"),
            "reject_reason": pd.array(reason, dtype="str"),
            "outside_state": out["outside_state"],
            "at_sea": out["at_sea"] & placed,
            "zip_state_mismatch": out["zip_state_mismatch"] & placed,
            "online": out["online"],
        }
    )
    logger.info(
        "geocoded %d of %d rows: %s",
        int(placed.sum()),
        n,
        frame["precision"].value_counts(dropna=True).to_dict(),
    )
    return frame, info
