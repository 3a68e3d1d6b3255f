"""A column of the registry: name, dtype, description, label, kind and unit (see :mod:`geo.registry`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Value types, JSON Schema's names (the data dictionary says "text" for "string").
DTYPES = ("string", "integer", "number", "boolean")
#: How a value is read and shown: ``count`` (whole people or schools), ``share``
#: (0-1, shown as %), ``rate`` (per 10,000 children), ``ratio``, ``rank``,
#: ``miles``, ``degrees``, ``code`` (an identifier or class) or ``text``.
KINDS = ("count", "share", "rate", "ratio", "rank", "miles", "degrees", "code", "text", "flag", "date")
#: Where a schools column comes from: the school list itself (``input``: it has
#: header synonyms), the loader (``load``) or the build (``build``).
ORIGINS = ("input", "load", "build")


@dataclass(frozen=True)
class Column:
    """One column of a layer, table or download, or one metric.

    Attributes
    ----------
    name : str
        The column name in every file and answer.
    dtype : str
        One of :data:`DTYPES`.
    description : str
        What the value means (the data dictionary's text).
    label : str
        Short human label for pages and legends; "" means the name, capitalized.
    kind : str
        One of :data:`KINDS`: how figures format it.
    unit : str or None
        The unit, when the value has one ("miles", "children", "share 0-1").
    nullable : bool
        Whether a value may be missing (null in JSON).
    required : bool
        Whether every API record carries it (OpenAPI ``required``).
    enum : tuple of str
        The allowed values, when closed.
    synonyms : tuple of str
        Header spellings of a school-list field, best first (``origin="input"`` only).
    origin : str
        One of :data:`ORIGINS` (schools only).
    api : bool
        Whether the JSON API serves it (``source_rows`` is bookkeeping, left to the downloads).
    header : str or None
        Short header for the ``csmap metrics`` text tables.
    section : str or None
        Anchor of the definition in docs/METRICS.md when it is a section rather
        than the table row named after the column.
    """

    name: str
    dtype: str
    description: str
    label: str = ""
    kind: str = "text"
    unit: str | None = None
    nullable: bool = True
    required: bool = False
    enum: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    origin: str = "load"
    api: bool = True
    header: str | None = None
    section: str | None = None

    def __post_init__(self) -> None:
        """Refuse a dtype, kind or origin outside the vocabularies."""
        for value, allowed, what in (
            (self.dtype, DTYPES, "dtype"),
            (self.kind, KINDS, "kind"),
            (self.origin, ORIGINS, "origin"),
        ):
            if value not in allowed:
                msg = f"column {self.name!r}: unknown {what} {value!r}; expected one of {allowed}"
                raise ValueError(msg)

    @property
    def title(self) -> str:
        """Return the label, or the name made readable when no label is given."""
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def anchor(self) -> str:
        """Return the fragment of the column's definition in /docs/METRICS."""
        return self.section or self.name

    def json_schema(self, *, describe: bool = True) -> dict[str, Any]:
        """Return the column's OpenAPI 3.0 schema (type, nullable, enum, description)."""
        schema: dict[str, Any] = {"type": self.dtype}
        if self.nullable:
            schema["nullable"] = True
        if self.enum:
            schema["enum"] = [*self.enum, None] if self.nullable else list(self.enum)
        if describe and self.description:
            schema["description"] = self.description
        return schema


def text_column(name: str, description: str, **options: Any) -> Column:
    """Return a text column (``dtype="string"``); ``options`` are :class:`Column` fields."""
    return Column(name, "string", description, **options)


def count_column(name: str, label: str, description: str, **options: Any) -> Column:
    """Return a never-missing count of children (or ``unit=``) as a number."""
    options.setdefault("unit", "children" if "children" in name else None)
    return Column(name, "number", description, label=label, kind="count", nullable=False, **options)


def share_column(name: str, label: str, description: str, **options: Any) -> Column:
    """Return a share 0-1 (null when its denominator is 0), shown as %."""
    return Column(name, "number", description, label=label, kind="share", unit="share 0-1", **options)
