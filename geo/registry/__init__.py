"""The one registry of columns and metrics: name, dtype, label, description, unit and kind.

Every other place that names a column reads it from here: the school-list
schema and header synonyms (:mod:`geo.school_columns`), the figures every
metrics level carries (:mod:`geo.metrics`), the data dictionary and the OGC
API queryables (``webmap.data_dictionary``), the OpenAPI schemas
(``webmap.openapi``), figure labels and kinds (``webmap.figures``), the JSON
API's school fields (``webmap.exports``) and the ``csmap metrics`` tables.
Adding a column is one :class:`Column` in one tuple: the schools in
:mod:`geo.registry.schools`, the metrics and the state, county, locale and
coalitions columns in :mod:`geo.registry.metrics`. Definitions of the figures
are in docs/METRICS.md, of the columns in docs/SCHEMA.md.

The lookups below read this package's tuples when called, so a test can put
a trial column into ``geo.registry.SCHOOLS`` before the rest of the code is
imported (tests/geo/test_registry.py).
"""

from __future__ import annotations

import logging

from geo.registry.column import DTYPES, KINDS, ORIGINS, Column
from geo.registry.metrics import (
    COALITION_STAGE,
    COALITION_STATUS,
    COALITIONS,
    COUNTY_FIGURES,
    COUNTY_IDS,
    COVERAGE_METRICS,
    DESERT_COUNTIES,
    LEVEL_METRICS,
    LOCALE_IDS,
    NATIONAL_METRICS,
    PARTNER_ORGANIZATIONS,
    REPRESENTATION_METRICS,
    REPRESENTATION_SECTION,
    STATE_IDS,
    STATE_METRICS,
)
from geo.registry.records import COMMUNITIES, PARTNER_SCHOOLS, PARTNERS
from geo.registry.schools import IS_SAMPLE_DESCRIPTION, PROVENANCE, SCHOOLS

logger = logging.getLogger(__name__)

__all__ = [
    "COALITIONS",
    "COALITION_STAGE",
    "COALITION_STATUS",
    "COMMUNITIES",
    "COUNTY_FIGURES",
    "COUNTY_IDS",
    "COVERAGE_METRICS",
    "DESERT_COUNTIES",
    "DTYPES",
    "IS_SAMPLE_DESCRIPTION",
    "KINDS",
    "LEVEL_METRICS",
    "LOCALE_IDS",
    "NATIONAL_METRICS",
    "ORIGINS",
    "PARTNERS",
    "PARTNER_ORGANIZATIONS",
    "PARTNER_SCHOOLS",
    "PROVENANCE",
    "REPRESENTATION_METRICS",
    "REPRESENTATION_SECTION",
    "SCHOOLS",
    "STATE_IDS",
    "STATE_METRICS",
    "Column",
    "api_school_columns",
    "columns_by_name",
    "dataset_columns",
    "describe",
    "integer_columns",
    "level_metric_names",
    "metrics",
    "school_fields",
    "school_layer_columns",
    "school_synonyms",
]

# --------------------------------------------------------------------------
# Lookups (read the tuples when called).


def dataset_columns(dataset: str) -> tuple[Column, ...]:
    """Return the columns of a dataset, without provenance.

    Parameters
    ----------
    dataset : str
        ``schools``, ``states``, ``counties``, ``national``, ``locales``, ``coalitions``,
        ``communities``, ``partners`` or ``partner_schools``.

    Raises
    ------
    KeyError
        For an unknown dataset.
    """
    datasets = {
        "schools": SCHOOLS,
        "states": (
            *STATE_IDS,
            COALITION_STATUS,
            COALITION_STAGE,
            *LEVEL_METRICS,
            *STATE_METRICS,
            PARTNER_ORGANIZATIONS,
            *COVERAGE_METRICS,
        ),
        "counties": (*COUNTY_IDS, *LEVEL_METRICS, *COUNTY_FIGURES, *COVERAGE_METRICS),
        "national": (*LEVEL_METRICS, DESERT_COUNTIES, *NATIONAL_METRICS, *COVERAGE_METRICS),
        "locales": (*LOCALE_IDS, *LEVEL_METRICS, *REPRESENTATION_METRICS, *COVERAGE_METRICS),
        "coalitions": COALITIONS,
        "communities": COMMUNITIES,
        "partners": PARTNERS,
        "partner_schools": PARTNER_SCHOOLS,
    }
    if dataset not in datasets:
        msg = f"unknown dataset {dataset!r}; expected one of {sorted(datasets)}"
        raise KeyError(msg)
    return datasets[dataset]


def columns_by_name(dataset: str) -> dict[str, Column]:
    """Return ``{name: Column}`` of a dataset, provenance included (its own entries win)."""
    out = {c.name: c for c in PROVENANCE}
    out.update({c.name: c for c in dataset_columns(dataset)})
    return out


def metrics() -> dict[str, Column]:
    """Return every metric, ``{name: Column}``, in a stable order (figures, tables and the CLI)."""
    return {
        c.name: c
        for c in (
            *LEVEL_METRICS,
            *STATE_METRICS,
            COALITION_STATUS,
            COALITION_STAGE,
            PARTNER_ORGANIZATIONS,
            *COVERAGE_METRICS,
            *REPRESENTATION_METRICS,
            *NATIONAL_METRICS,
        )
    }


def level_metric_names() -> tuple[str, ...]:
    """Return the figures every metrics level carries, in output order."""
    return tuple(c.name for c in LEVEL_METRICS)


def school_fields() -> tuple[str, ...]:
    """Return the fields of a school list (the columns read from the file), in layer order."""
    return tuple(c.name for c in SCHOOLS if c.origin == "input")


def school_synonyms() -> dict[str, tuple[str, ...]]:
    """Return the header spellings recognized for each school-list field, best first."""
    return {c.name: c.synonyms for c in SCHOOLS if c.origin == "input"}


def school_layer_columns() -> tuple[str, ...]:
    """Return the columns of the ``schools`` layer as loaded, in order (before geometry)."""
    return tuple(c.name for c in SCHOOLS if c.origin != "build")


def api_school_columns() -> tuple[Column, ...]:
    """Return the columns of a school in the JSON API, in order."""
    return tuple(c for c in SCHOOLS if c.api)


def integer_columns() -> frozenset[str]:
    """Return the names of every whole-number column (a GeoPackage round trip makes them floats)."""
    everything = (
        *SCHOOLS,
        *metrics().values(),
        *COUNTY_FIGURES,
        *COALITIONS,
        *COMMUNITIES,
        *PARTNERS,
        *PARTNER_SCHOOLS,
    )
    return frozenset(c.name for c in everything if c.dtype == "integer")


def describe(dataset: str, column: str) -> str | None:
    """Return the description of a dataset's column (provenance included), or None when unknown."""
    try:
        found = columns_by_name(dataset).get(column)
    except KeyError:
        return None
    return None if found is None else found.description
