"""The school fields staff see and edit, read from the column registry (geo.registry).

The names, their order and their labels are the registry's school-list fields, so a
column declared there appears in the edit form with no change here. Only the
form's hints (how to type a value) live here, as they are guidance for the form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from geo import registry

logger = logging.getLogger(__name__)

#: How to type each value in the edit form; a field with no hint shows none.
_HINTS = {
    "name": "required",
    "state": "USPS code or name, e.g. IL",
    "zip": "5 digits",
    "country": "US or CA; empty means US",
    "lat": "decimal degrees; empty to place from the address",
    "lon": "decimal degrees; empty to place from the address",
    "nces_id": "12 digits",
    "grades": "e.g. K-8",
    "year_started": "e.g. 2019",
    "nces_locale": "11-43; empty to derive it",
    "is_sample": "true for the generated sample",
}


@dataclass(frozen=True)
class SchoolField:
    """One editable field: its loader name, a label and a hint."""

    name: str
    label: str
    hint: str


def school_fields() -> tuple[SchoolField, ...]:
    """Return the editable school fields, in the registry's order, with their labels."""
    columns = registry.columns_by_name("schools")
    return tuple(
        SchoolField(name, columns[name].title, _HINTS.get(name, "")) for name in registry.school_fields()
    )


def field_names() -> tuple[str, ...]:
    """Return the names of :func:`school_fields`."""
    return tuple(field.name for field in school_fields())
