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

from geo import registry
from geo.errors import SchoolDataError

#: The fields of a school list (geo.registry: the schools columns read from the file).
#: ``name`` is required, plus a location: latitude and longitude, or a ZIP, a street
#: address, or city and state.
FIELDS = registry.school_fields()

#: Header spellings recognized for each field, best first (geo.registry; docs/SCHOOLS.md
#: lists them for users). Headers are compared after folding case, accents and
#: punctuation ("ZIP Code" -> "zip_code").
SYNONYMS: dict[str, tuple[str, ...]] = registry.school_synonyms()

#: Column holding each row's number in the file (see :func:`geo.school_files.read_school_file`).
SOURCE_ROW = "source_row"
#: Internal header names for a vector file's geometry (first in the lat/lon synonyms).
GEOMETRY_LAT, GEOMETRY_LON = "geometry_lat", "geometry_lon"

#: Columns of the ``schools`` layer, in order (docs/SCHEMA.md), before geometry.
SCHOOL_COLUMNS = registry.school_layer_columns()


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
