"""The data dictionary of the downloads: every column, its type and meaning.

Descriptions follow docs/SCHEMA.md (schools, states, counties) and
docs/METRICS.md (the coverage and gap figures, defined in geo/metrics.py).
The column lists themselves come from the build's frames at run time, so the
dictionary always matches the files; a column with no description here is
listed with a pointer to the docs, and a test flags it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

logger = logging.getLogger(__name__)

METRICS_DOC = "docs/METRICS.md"

#: Columns every download carries so that each file says what it is (issue #5).
PROVENANCE = {
    "is_sample": "true when the schools are the generated sample, not a real Community Schools list",
    "built_at": "when the build this file comes from was made (ISO 8601, UTC); in GeoJSON once, at the top",
}

SCHOOLS = {
    "school_id": "stable id: nces-<id> when an NCES id exists, else cs-<hash> of the input row",
    "name": "school name, as given",
    "address": "street address, as given",
    "city": "city, as given",
    "state": "state or province as given in the file (USPS / Canadian postal code)",
    "zip": "ZIP or postal code, as given",
    "country": "US or CA",
    "nces_id": "NCES school id, when given",
    "district": "school district, when given",
    "grades": "grades served, as given",
    "lead_partner": "the community school's lead partner organisation, when given",
    "year_started": "year the school became a community school, when given",
    "nces_locale": "NCES locale code 11-43 from the file, when given",
    "lat": "latitude, WGS84 degrees",
    "lon": "longitude, WGS84 degrees",
    "geocode_method": "how the point was found: given, given-swapped, census, nominatim, zip-centroid, "
    "gazetteer or state-centroid",
    "precision": "how precise the point is: given, street, zip, city or state "
    "(zip and coarser are approximate)",
    "geocode_note": "geocoding notes, e.g. 'lat/lon swapped and fixed'",
    "statefp": "state FIPS code of the state the point falls in",
    "stusps": "USPS code of the state the point falls in (point-in-polygon)",
    "county_fips": "county FIPS code (state + county) of the county the point falls in",
    "zcta": "nearest ZIP Code Tabulation Area",
    "locale4": "locale class, NCES-style: city, suburb, town or rural (docs/LOCALE.md)",
    "locale": "locale class rolled up to three: urban, suburban or rural",
    "locale_source": "nces (the file's NCES locale code) or derived (docs/LOCALE.md)",
    "source_rows": "input row numbers, ';'-joined (several when duplicates were merged)",
}

#: The figures at every level (geo/metrics.py METRIC_COLUMNS; definitions in docs/METRICS.md).
METRICS = {
    "community_schools": "number of Community Schools whose point falls in the area",
    "children": "children under 18 (ACS 2022 5-year, by ZCTA)",
    "schools_per_10k_children": "Community Schools per 10,000 children",
    "children_within_reach": "children living in ZCTAs within the locale's reach distance "
    "of a Community School",
    "reach_share": "children_within_reach / children (0-1)",
    "unserved_children": "children not within reach of any Community School",
    "high_poverty_children": "children in high-poverty ZCTAs (20%+ of people below poverty, the Census "
    "'poverty area' definition)",
    "high_poverty_children_within_reach": "high-poverty children within reach of a Community School",
    "high_poverty_reach_share": "high_poverty_children_within_reach / high_poverty_children (0-1)",
    "unserved_high_poverty_children": "high-poverty children not within reach of any Community School",
    "public_schools": "public schools (NCES CCD), when the denominators were given",
    "coverage_share": "community_schools / public_schools, when the denominators were given",
}

STATES = {
    "statefp": "state FIPS code",
    "stusps": "USPS state code",
    "name": "state name",
    "coalition_status": "state Community Schools coalition: existing, developing or none",
    "desert_counties": "counties with 1,000+ children and none within reach of a Community School",
    "rank_unserved_high_poverty": "rank by unserved high-poverty children (1 = the most)",
    **METRICS,
}

COUNTIES = {
    "geoid": "county FIPS code (state + county)",
    "statefp": "state FIPS code",
    "stusps": "USPS state code",
    "name": "county name",
    "nearest_school_miles": "great-circle miles from the county's closest populated ZCTA "
    "to a Community School",
    "is_desert": "true when the county has 1,000+ children and none within reach (a Community School desert)",
    **METRICS,
}

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "schools": {**SCHOOLS, **PROVENANCE},
    "states": {**STATES, **PROVENANCE},
    "counties": {**COUNTIES, **PROVENANCE},
}

TITLES = {
    "schools": "Community Schools (points)",
    "states": "States with coverage and gap metrics (polygons)",
    "counties": "Counties with coverage and gap metrics (polygons)",
}


def column_type(series: pd.Series) -> str:
    """Return a plain type name for a column: boolean, integer, number, text or geometry."""
    if getattr(series, "dtype", None) is not None and str(series.dtype) == "geometry":
        return "geometry"
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "text"


def describe(dataset: str, column: str) -> str:
    """Return the description of one column, or a pointer to the docs when unknown."""
    text = DESCRIPTIONS.get(dataset, {}).get(column)
    if text is None:
        return f"see {METRICS_DOC}"
    return text


def dictionary_rows(frames: Mapping[str, pd.DataFrame]) -> list[dict[str, str]]:
    """Return one row per (dataset, column) of the given export frames.

    Parameters
    ----------
    frames : mapping
        ``{dataset: frame}`` as downloaded; the geometry column is listed as
        ``geometry`` (GeoJSON and GeoPackage only; the CSVs carry lat/lon or none).
    """
    rows = []
    for dataset, frame in frames.items():
        for column in frame.columns:
            if column == "geometry":
                kind = "point" if dataset == "schools" else "polygon"
                rows.append(
                    {
                        "dataset": dataset,
                        "column": "geometry",
                        "type": "geometry",
                        "description": f"{kind}, WGS84 lon/lat (GeoJSON and GeoPackage only)",
                    }
                )
                continue
            rows.append(
                {
                    "dataset": dataset,
                    "column": column,
                    "type": column_type(frame[column]),
                    "description": describe(dataset, column),
                }
            )
    return rows
