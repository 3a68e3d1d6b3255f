"""The schema of a school list: its fields, the header spellings recognized for each, the output columns.

:func:`resolve_columns` maps a file's headers to the fields through
:data:`SYNONYMS` (docs/SCHOOLS.md lists them for users) and refuses a list
with no name or no location columns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from geo.errors import SchoolDataError

#: The fields of a school list. ``name`` is required, plus a location:
#: latitude and longitude, or a ZIP, a street address, or city and state.
FIELDS = (
    "name",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "lat",
    "lon",
    "nces_id",
    "district",
    "grades",
    "lead_partner",
    "year_started",
    "nces_locale",
    "is_sample",
)

#: Header spellings recognized for each field, best first. Headers are compared
#: after folding case, accents and punctuation ("ZIP Code" -> "zip_code").
#: NCES Common Core of Data names (SCH_NAME, LSTREET1, LCITY, LSTATE, LZIP,
#: NCESSCH, LEA_NAME, ULOCALE, LAT, LON) are included so CCD extracts load as is.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "school_name",
        "name",
        "school",
        "schoolname",
        "name_of_school",
        "sch_name",
        "community_school",
        "community_school_name",
        "campus",
        "campus_name",
        "site_name",
        "site",
        "institution_name",
        "school_site",
    ),
    "address": (
        "address",
        "street_address",
        "street",
        "address_1",
        "address1",
        "address_line_1",
        "street_address_1",
        "physical_address",
        "location_address",
        "site_address",
        "lstreet1",
        "street1",
        "addr",
        "school_address",
    ),
    "city": ("city", "town", "city_town", "municipality", "locality", "lcity", "school_city"),
    "state": (
        "state",
        "st",
        "state_code",
        "state_abbr",
        "state_abbreviation",
        "stusps",
        "lstate",
        "state_province",
        "province",
        "state_or_province",
        "school_state",
    ),
    "zip": (
        "zip",
        "zip_code",
        "zipcode",
        "zip5",
        "postal_code",
        "postcode",
        "post_code",
        "lzip",
        "zip_postal_code",
        "postal",
        "school_zip",
    ),
    "country": ("country", "country_code", "nation"),
    # Coordinates from a GeoJSON/GeoPackage geometry come first: they are the file's own location.
    "lat": ("geometry_lat", "latitude", "lat", "y", "lat_dd", "latitude_dd", "point_y", "school_latitude"),
    "lon": (
        "geometry_lon",
        "longitude",
        "lon",
        "lng",
        "long",
        "x",
        "lon_dd",
        "longitude_dd",
        "point_x",
        "school_longitude",
    ),
    "nces_id": (
        "nces_id",
        "ncesid",
        "nces_school_id",
        "ncessch",
        "nces",
        "nces_number",
        "school_id_nces",
        "nces_sch_id",
    ),
    "district": ("district", "school_district", "district_name", "lea_name", "leaname", "lea"),
    "grades": ("grades", "grade_span", "grades_served", "grade_levels", "grade_range", "grade", "grade_band"),
    "lead_partner": (
        "lead_partner",
        "lead_partner_agency",
        "lead_partner_organization",
        "partner",
        "lead_agency",
        "lead_organization",
        "community_partner",
        "partner_organization",
    ),
    "year_started": (
        "year_started",
        "start_year",
        "year_began",
        "year_launched",
        "year_joined",
        "started",
        "year",
    ),
    "nces_locale": (
        "nces_locale",
        "locale_code",
        "nces_locale_code",
        "locale",
        "ulocale",
        "urban_centric_locale",
    ),
    "is_sample": ("is_sample", "sample"),
}

#: Column holding each row's number in the file (see :func:`geo.school_files.read_school_file`).
SOURCE_ROW = "source_row"
#: Internal header names for a vector file's geometry (first in the lat/lon synonyms).
GEOMETRY_LAT, GEOMETRY_LON = "geometry_lat", "geometry_lon"

#: Columns of the ``schools`` layer, in order (docs/SCHEMA.md), before geometry.
SCHOOL_COLUMNS = (
    "school_id",
    "name",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "nces_id",
    "district",
    "grades",
    "lead_partner",
    "year_started",
    "nces_locale",
    "lat",
    "lon",
    "geocode_method",
    "precision",
    "geocode_note",
    "statefp",
    "county_fips",
    "zcta",
    "locale4",
    "locale",
    "locale_source",
    "source_rows",
    "is_sample",
)


def header_key(header: Any) -> str:
    """Return the comparison key of a header: ASCII-folded, lower case, ``_`` for punctuation."""
    folded = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")


#: The field of each recognized header key (:func:`header_key` of a synonym).
FIELD_BY_KEY = {key: name for name, keys in SYNONYMS.items() for key in keys}


def resolve_columns(headers: Sequence[str], columns: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return ``{field: header}`` for the headers of a school list.

    Parameters
    ----------
    headers : sequence of str
        The file's headers, as found.
    columns : mapping, optional
        Explicit ``{field: header}`` mappings (CLI ``--column FIELD=HEADER``);
        they win over the synonyms.

    Raises
    ------
    SchoolDataError
        For an unknown field or header in ``columns``, a missing ``name``
        column, or no location columns; the message lists the headers found.
    """
    found = [str(h) for h in headers if str(h) != SOURCE_ROW]
    mapping: dict[str, str] = {}
    for field_name, header in (columns or {}).items():
        canonical = FIELD_BY_KEY.get(header_key(field_name), field_name if field_name in FIELDS else None)
        if canonical is None:
            msg = f"unknown field {field_name!r} in a column mapping; fields are {', '.join(FIELDS)}"
            raise SchoolDataError(msg)
        match = (
            header
            if header in found
            else next((h for h in found if header_key(h) == header_key(header)), None)
        )
        if match is None:
            msg = f"column mapping {field_name}={header!r}: no such header; headers found: {found!r}"
            raise SchoolDataError(msg)
        mapping[canonical] = match
    taken = set(mapping.values())
    by_key: dict[str, str] = {}
    for header in found:
        by_key.setdefault(header_key(header), header)
    for field_name, keys in SYNONYMS.items():
        if field_name in mapping:
            continue
        for key in keys:
            synonym = by_key.get(key)
            if synonym is not None and synonym not in taken:
                mapping[field_name] = synonym
                taken.add(synonym)
                break
    _require_columns(mapping, found)
    return {name: mapping[name] for name in FIELDS if name in mapping}


def _require_columns(mapping: Mapping[str, str], found: list[str]) -> None:
    hint = "map one with --column FIELD=HEADER (docs/SCHOOLS.md lists the recognized headers)"
    if "name" not in mapping:
        msg = (
            f"missing required column 'name' (a school name, e.g. 'School Name'); headers found: {found!r}; "
            f"{hint}"
        )
        raise SchoolDataError(msg)
    for one, other, label in (("lat", "lon", "longitude"), ("lon", "lat", "latitude")):
        if one in mapping and other not in mapping:
            msg = (
                f"missing column {other!r} ({label}): the file has {mapping[one]!r} but no {label}; "
                f"headers found: {found!r}; {hint}"
            )
            raise SchoolDataError(msg)
    if not ({"lat", "zip", "address"} & mapping.keys() or {"city", "state"} <= mapping.keys()):
        msg = (
            "missing location columns: need latitude and longitude, or a ZIP, a street address, or city "
            f"and state; headers found: {found!r}; {hint}"
        )
        raise SchoolDataError(msg)
