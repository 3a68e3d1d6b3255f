"""The school fields staff see and edit, read from the column definitions in one place.

:func:`school_fields` is the only reader of ``geo.school_columns``; when the
column registry (geo/registry.py) lands, re-point this one function at it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Labels and hints for the edit form; the field names themselves come from the loader's schema.
_LABELS = {
    "name": ("School name", "required"),
    "address": ("Street address", ""),
    "city": ("City", ""),
    "state": ("State", "USPS code or name, e.g. IL"),
    "zip": ("ZIP code", "5 digits"),
    "country": ("Country", "US or CA; empty means US"),
    "lat": ("Latitude", "decimal degrees; empty to place from the address"),
    "lon": ("Longitude", "decimal degrees; empty to place from the address"),
    "nces_id": ("NCES school ID", "12 digits"),
    "district": ("District", ""),
    "grades": ("Grades", "e.g. K-8"),
    "lead_partner": ("Lead partner", ""),
    "year_started": ("Year started", "e.g. 2019"),
    "nces_locale": ("NCES locale code", "11-43; empty to derive it"),
    "is_sample": ("Sample record", "true for the generated sample"),
}


@dataclass(frozen=True)
class SchoolField:
    """One editable field: its loader name, a label and a hint."""

    name: str
    label: str
    hint: str


def school_fields() -> tuple[SchoolField, ...]:
    """Return the editable school fields, in the loader's order (geo/school_columns.py FIELDS)."""
    from geo.school_columns import FIELDS

    return tuple(
        SchoolField(name, *_LABELS.get(name, (name.replace("_", " ").capitalize(), ""))) for name in FIELDS
    )


def field_names() -> tuple[str, ...]:
    """Return the names of :func:`school_fields`."""
    return tuple(field.name for field in school_fields())
