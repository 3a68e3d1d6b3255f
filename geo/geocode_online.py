"""Optional online geocoders (US Census batch, Nominatim) behind one interface.

Both are off by default: nothing here runs unless a caller asks for a
provider. Requests go through ``geo._http``; this module builds the requests,
parses the answers (pure functions) and keeps an on-disk SQLite cache so that
a re-run asks nothing twice and an interrupted run resumes.

Output rows follow docs/SCHEMA.md: ``method`` is the provider name and
``precision`` is ``street`` for an address-level match, ``zip``/``city``/
``state`` for coarser ones, NA when unmatched.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
from tqdm.auto import tqdm

from geo import __version__, _http
from geo.errors import GeocodeError, InvalidParameterError

logger = logging.getLogger(__name__)

PROVIDERS = ("census", "nominatim")
DEFAULT_BASE_URLS = {
    "census": "https://geocoding.geo.census.gov",
    "nominatim": "https://nominatim.openstreetmap.org",
}
#: The most recent address snapshot (Census Geocoding Services API, "benchmark").
CENSUS_BENCHMARK = "Public_AR_Current"
#: Census Geocoding Services API: a batch file holds at most 10,000 records.
CENSUS_MAX_BATCH = 10_000
#: A full batch can take several minutes to answer; do not cut it short.
CENSUS_TIMEOUT_SECONDS = 600.0
#: OSMF Nominatim usage policy: an absolute maximum of 1 request per second. The
#: pause runs from the end of one answer to the next request (geo/_http.py), so
#: arrivals at the server are more than 1 s apart; the extra 0.1 s is a margin.
NOMINATIM_MIN_DELAY_SECONDS = 1.1
NOMINATIM_TIMEOUT_SECONDS = 30.0
#: Community Schools are in the US; Canadian partner sites are mapped too.
NOMINATIM_COUNTRY_CODES = ("us", "ca")
#: Identifies the project to the providers (Nominatim policy requires it);
#: callers should add a contact, e.g. "community-schools-map/0.1.0 (+ops@example.org)".
DEFAULT_USER_AGENT = f"community-schools-map/{__version__}"
#: Library defaults and sample agents from the geopy docs that Nominatim blocks.
_REFUSED_AGENT_PREFIXES = (
    "geopy",
    "python-requests",
    "python-urllib",
    "my-application",
    "my_app/",
    "my_user_agent",
    "specify_your_app_name_here",
)

INPUT_COLUMNS = ("key", "street", "city", "state", "zip")
OUTPUT_COLUMNS = ("key", "lat", "lon", "method", "precision", "matched_address", "status")
STATUSES = ("match", "no_match", "tie", "error")
_CENSUS_FLAGS = {"Match": "match", "No_Match": "no_match", "Tie": "tie"}


def check_user_agent(user_agent: str | None) -> str:
    """Return the User-Agent to send, refusing empty and library-default agents.

    Parameters
    ----------
    user_agent : str or None
        None gives :data:`DEFAULT_USER_AGENT`.

    Raises
    ------
    InvalidParameterError
        When the agent is blank or a library default/sample agent.
    """
    agent = DEFAULT_USER_AGENT if user_agent is None else user_agent.strip()
    if not agent or agent.lower().startswith(_REFUSED_AGENT_PREFIXES):
        msg = (
            f"user_agent {user_agent!r} does not identify this project; use something like "
            f"{DEFAULT_USER_AGENT + ' (+contact)'!r} (Nominatim usage policy)"
        )
        raise InvalidParameterError("user_agent", msg)
    return agent


def normalize_address(street: str, city: str, state: str, zip_code: str) -> str:
    """Return the cache key of an address: upper case, single spaces, ``|``-joined parts."""
    parts = (street, city, state, zip_code)
    return "|".join(" ".join(part.replace("|", " ").split()).upper() for part in parts)


def census_batch_csv(rows: Iterable[Sequence[str]]) -> bytes:
    """Build a Census batch address file from ``(id, street, city, state, zip)`` rows.

    The file has no header and exactly five columns (Census Geocoding Services
    API, "Batch Geocoding"); fields holding commas are quoted.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        if len(row) != 5:
            msg = f"a Census batch row needs 5 fields (id, street, city, state, zip), got {tuple(row)!r}"
            raise InvalidParameterError("rows", msg)
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def parse_census_batch(text: str) -> pd.DataFrame:
    """Parse a Census batch answer into one row per record.

    Parameters
    ----------
    text : str
        CSV, no header, rows in any order: id, input address, match flag
        (Match / No_Match / Tie), and for matches: match type (Exact /
        Non_Exact), matched address, ``"lon,lat"``, TIGER line id, side.

    Returns
    -------
    pandas.DataFrame
        Columns id, status, lat, lon, precision, matched_address, match_type.
        A match is an interpolated point on an address range: ``street`` precision.

    Raises
    ------
    GeocodeError
        When a row is too short, has an unknown flag or unreadable coordinates.
    """
    records = []
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) < 3 or fields[2] not in _CENSUS_FLAGS:
            msg = f"census geocoder sent a malformed row {number}: {fields[:4]!r}"
            raise GeocodeError(msg)
        record: dict[str, Any] = {
            "id": fields[0].strip(),
            "match_type": None,
            **_unmatched(_CENSUS_FLAGS[fields[2]]),
        }
        if record["status"] == "match":
            if len(fields) < 6:
                msg = f"census geocoder sent a match without coordinates in row {number}: {fields!r}"
                raise GeocodeError(msg)
            # The coordinate field is "x,y": longitude first.
            record["lon"], record["lat"] = _lon_lat(fields[5], number)
            record.update(
                precision="street",
                matched_address=fields[4].strip() or None,
                match_type=fields[3].strip() or None,
            )
        records.append(record)
    frame = pd.DataFrame.from_records(
        records, columns=["id", "status", "lat", "lon", "precision", "matched_address", "match_type"]
    )
    if frame["id"].duplicated().any():
        msg = f"census geocoder answered twice for ids {sorted(frame.loc[frame['id'].duplicated(), 'id'])!r}"
        raise GeocodeError(msg)
    return frame.astype({"lat": "float64", "lon": "float64"})


def _lon_lat(field: str, number: int) -> tuple[float, float]:
    try:
        lon, lat = (float(part) for part in field.split(","))
    except ValueError:
        lon = lat = math.nan
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"census geocoder sent unreadable coordinates {field!r} in row {number}"
        raise GeocodeError(msg)
    return lon, lat


def nominatim_query(street: str, city: str, state: str, zip_code: str) -> dict[str, str]:
    """Return a structured Nominatim query, leaving out empty parts."""
    query = {"street": street, "city": city, "state": state, "postalcode": zip_code}
    return {name: value for name, value in query.items() if value}


def nominatim_precision(raw: Mapping[str, Any]) -> str | None:
    """Map a Nominatim result to street / zip / city / state, or None if coarser than a state.

    Uses ``place_rank`` (Nominatim "Place Ranking": 26-27 streets, 28-30
    houses and POIs, 13-25 cities down to city blocks, 5-12 states and
    counties, below 5 countries) and the postcode class; without a rank,
    it falls back to ``city`` so a match never claims more than it shows.
    """
    if raw.get("type") == "postcode" or raw.get("addresstype") == "postcode":
        return "zip"
    try:
        rank = int(raw["place_rank"])
    except (KeyError, TypeError, ValueError):
        return "city"
    if rank >= 26:
        return "street"
    if rank >= 13:
        return "city"
    if rank >= 5:
        return "state"
    return None


def parse_nominatim(location: Any) -> dict[str, Any]:
    """Turn a geopy ``Location`` (or its ``raw`` dict, or None) into a result row.

    Returns
    -------
    dict
        Keys status, lat, lon, precision, matched_address. A country-level
        hit is reported as ``no_match``: it says nothing about a school.

    Raises
    ------
    GeocodeError
        When the result has no readable lat/lon.
    """
    if location is None:
        return _unmatched("no_match")
    raw = getattr(location, "raw", location)
    if not isinstance(raw, Mapping):
        msg = f"nominatim sent a result that is not an object: {raw!r}"
        raise GeocodeError(msg)
    try:
        lat, lon = float(raw["lat"]), float(raw["lon"])
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"nominatim sent a result without readable lat/lon: {dict(raw)!r}"
        raise GeocodeError(msg) from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"nominatim sent coordinates out of range: lat={lat!r}, lon={lon!r}"
        raise GeocodeError(msg)
    precision = nominatim_precision(raw)
    if precision is None:
        return _unmatched("no_match")
    return {
        "status": "match",
        "lat": lat,
        "lon": lon,
        "precision": precision,
        "matched_address": raw.get("display_name") or None,
    }


def _unmatched(status: str) -> dict[str, Any]:
    return {"status": status, "lat": math.nan, "lon": math.nan, "precision": None, "matched_address": None}


class GeocodeCache:
    """SQLite table of provider answers, keyed by (provider, normalized address).

    Matches, no-matches and ties are remembered; errors are not, so they are
    asked again next time. Each :meth:`put` commits, which is what lets an
    interrupted run resume.
    """

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS geocode_cache (
            provider TEXT NOT NULL,
            address TEXT NOT NULL,
            status TEXT NOT NULL,
            lat REAL,
            lon REAL,
            precision TEXT,
            matched_address TEXT,
            fetched_at TEXT NOT NULL,
            PRIMARY KEY (provider, address)
        )"""
    _FIELDS = ("status", "lat", "lon", "precision", "matched_address")
    #: Stay well under SQLite's limit on host parameters per statement (999 in old builds).
    _CHUNK = 500

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(self.path)
            self._connection.execute(self._SCHEMA)
            self._connection.commit()
        except (OSError, sqlite3.Error) as exc:
            msg = f"geocode cache {str(self.path)!r} cannot be opened: {exc}"
            raise GeocodeError(msg) from exc

    def close(self) -> None:
        """Close the database connection."""
        self._connection.close()

    def get(self, provider: str, addresses: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Return the remembered answers for those addresses that have one."""
        wanted = list(dict.fromkeys(addresses))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), self._CHUNK):
            chunk = wanted[start : start + self._CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT address, {', '.join(self._FIELDS)} FROM geocode_cache "
                f"WHERE provider = ? AND address IN ({marks})",
                [provider, *chunk],
            )
            for address, *values in rows:
                found[address] = dict(zip(self._FIELDS, values, strict=True))
                for coordinate in ("lat", "lon"):
                    if found[address][coordinate] is None:
                        found[address][coordinate] = math.nan
        return found

    def put(self, provider: str, results: Mapping[str, Mapping[str, Any]]) -> None:
        """Remember answers (errors are skipped) and commit at once."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = [
            (
                provider,
                address,
                result["status"],
                _or_none(result["lat"]),
                _or_none(result["lon"]),
                result["precision"],
                result["matched_address"],
                now,
            )
            for address, result in results.items()
            if result["status"] != "error"
        ]
        with self._connection:
            self._connection.executemany(
                "INSERT OR REPLACE INTO geocode_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )


def _or_none(value: float) -> float | None:
    return None if _missing(value) else float(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def geocode_online(
    addresses: pd.DataFrame,
    *,
    provider: str,
    cache_path: Path,
    base_url: str | None = None,
    user_agent: str | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Geocode addresses with an online provider, asking only for what the cache lacks.

    Parameters
    ----------
    addresses : pandas.DataFrame
        Columns key (unique), street, city, state, zip. Not modified.
    provider : {"census", "nominatim"}
        Census batch geocoder (US street addresses) or Nominatim (US and CA,
        at most one request per second).
    cache_path : pathlib.Path
        SQLite file holding earlier answers; created when missing.
    base_url : str, optional
        Server to ask; defaults to :data:`DEFAULT_BASE_URLS`.
    user_agent : str, optional
        Identifies the project to the provider; defaults to :data:`DEFAULT_USER_AGENT`.
    progress : bool
        Show a tqdm progress bar (only when stderr is a terminal).

    Returns
    -------
    pandas.DataFrame
        One row per input row, same order: key, lat, lon (WGS84 degrees; NaN
        when unmatched), method, precision, matched_address, status
        (match / no_match / tie / error).

    Raises
    ------
    InvalidParameterError
        For an unknown provider, a bad base URL or user agent, or bad input.
    GeocodeError
        When the provider fails (HTTP error, timeout, malformed answer). What
        was fetched before the failure is already cached.
    """
    if provider not in PROVIDERS:
        msg = f"unknown geocoding provider {provider!r}; expected one of {PROVIDERS!r}"
        raise InvalidParameterError("provider", msg)
    url = _check_base_url(base_url or DEFAULT_BASE_URLS[provider])
    agent = check_user_agent(user_agent)
    parts = _address_parts(addresses)
    keys = [normalize_address(*row) for row in parts.itertuples(index=False, name=None)]
    parts_by_address = dict(zip(keys, parts.itertuples(index=False, name=None), strict=True))

    cache = GeocodeCache(cache_path)
    with closing(cache):
        results = cache.get(provider, parts_by_address)
        todo = {address: row for address, row in parts_by_address.items() if address not in results}
        # Nothing to ask about: an empty address, or for the Census (which matches
        # street addresses only) an address without a street.
        for address in [
            address for address, row in todo.items() if not any(row) or (provider == "census" and not row[0])
        ]:
            results[address] = _unmatched("no_match")
            del todo[address]
        logger.info(
            "%s: %d distinct addresses, %d from the cache, %d to ask %s",
            provider,
            len(parts_by_address),
            len(parts_by_address) - len(todo),
            len(todo),
            url,
        )
        bar = tqdm(
            total=len(todo),
            desc=f"geocoding ({provider})",
            unit="address",
            disable=not progress or not sys.stderr.isatty(),
        )
        with closing(bar):
            fetch = _fetch_census if provider == "census" else _fetch_nominatim
            for fetched in fetch(todo, url=url, user_agent=agent):
                cache.put(provider, fetched)
                results.update(fetched)
                bar.update(len(fetched))

    frame = pd.DataFrame.from_records(
        [results[address] for address in keys],
        columns=["status", "lat", "lon", "precision", "matched_address"],
    )
    frame.insert(0, "key", addresses["key"].astype("str").to_numpy())
    frame.insert(3, "method", provider)
    frame = frame.astype(
        {
            "lat": "float64",
            "lon": "float64",
            "method": "str",
            "precision": "str",
            "matched_address": "str",
            "status": "str",
        }
    )
    counts = frame["status"].value_counts().to_dict()
    logger.info("%s: %s", provider, ", ".join(f"{count} {status}" for status, count in counts.items()))
    return frame[list(OUTPUT_COLUMNS)]


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        msg = f"base_url {url!r} must look like 'https://host[:port]'"
        raise InvalidParameterError("base_url", msg)
    return url.rstrip("/")


def _address_parts(addresses: pd.DataFrame) -> pd.DataFrame:
    """Return street, city, state, zip as clean strings ('' when missing)."""
    missing = [column for column in INPUT_COLUMNS if column not in addresses.columns]
    if missing:
        msg = f"addresses lack column(s) {missing!r}; expected {list(INPUT_COLUMNS)!r}"
        raise InvalidParameterError("addresses", msg)
    keys = addresses["key"]
    if keys.isna().any() or keys.astype("str").duplicated().any():
        bad = sorted(set(keys[keys.isna() | keys.astype("str").duplicated(keep=False)].astype("str")))
        msg = f"address keys must be unique and present; bad keys: {bad[:10]!r}"
        raise InvalidParameterError("addresses", msg)
    return pd.DataFrame(
        {
            column: [("" if pd.isna(value) else str(value).strip()) for value in addresses[column]]
            for column in INPUT_COLUMNS[1:]
        }
    )


def _fetch_census(
    todo: Mapping[str, tuple[str, ...]], *, url: str, user_agent: str
) -> Iterator[dict[str, dict[str, Any]]]:
    """Yield ``{address: result}`` for each batch of at most :data:`CENSUS_MAX_BATCH` addresses."""
    pending = list(todo.items())
    for start in range(0, len(pending), CENSUS_MAX_BATCH):
        batch = pending[start : start + CENSUS_MAX_BATCH]
        # Ids are positions in the batch: short, unique, and safe in a CSV.
        body = census_batch_csv((str(number), *row) for number, (_, row) in enumerate(batch))
        logger.info("census: sending batch of %d addresses (%d of %d done)", len(batch), start, len(pending))
        answer = parse_census_batch(
            _http.post_census_batch(
                url, body, CENSUS_BENCHMARK, CENSUS_TIMEOUT_SECONDS, user_agent=user_agent
            )
        )
        by_id = {row["id"]: row for row in answer.to_dict("records")}
        unknown = set(by_id) - {str(number) for number in range(len(batch))}
        if unknown:
            msg = f"census geocoder answered for ids it was not sent: {sorted(unknown)[:10]!r}"
            raise GeocodeError(msg)
        fetched: dict[str, dict[str, Any]] = {}
        for number, (address, _) in enumerate(batch):
            row = by_id.get(str(number))
            if row is None:
                logger.warning("census: no answer for address %r; marked 'error'", address)
                fetched[address] = _unmatched("error")
            else:
                fetched[address] = {
                    field: (None if _missing(row[field]) else row[field])
                    for field in ("status", "precision", "matched_address")
                }
                fetched[address].update(lat=float(row["lat"]), lon=float(row["lon"]))
        yield fetched


def _fetch_nominatim(
    todo: Mapping[str, tuple[str, ...]], *, url: str, user_agent: str
) -> Iterator[dict[str, dict[str, Any]]]:
    """Yield ``{address: result}`` one address at a time, at most one request per second."""
    if urlsplit(url).netloc == urlsplit(DEFAULT_BASE_URLS["nominatim"]).netloc and len(todo) > 1000:
        logger.warning(
            "nominatim: %d addresses for the public server; its usage policy discourages "
            "bulk geocoding (about %.1f hours at 1 request/s)",
            len(todo),
            len(todo) / 3600,
        )
    lookup = _http.nominatim_geocoder(
        url,
        user_agent,
        timeout=NOMINATIM_TIMEOUT_SECONDS,
        min_delay_seconds=NOMINATIM_MIN_DELAY_SECONDS,
        country_codes=NOMINATIM_COUNTRY_CODES,
    )
    for address, row in todo.items():
        try:
            result = parse_nominatim(lookup(nominatim_query(*row)))
        except _http.RejectedQuery as exc:
            logger.warning("%s; marked 'error'", exc)
            result = _unmatched("error")
        yield {address: result}
