"""Row accounting for the movement's record tables: coalitions, communities, partners and links.

Each record table is a build input kept as a CSV in the data folder
(``inputs/<table>.csv``; docs/RECORDS.md). A table the Coalition already keeps
comes in through ``csmap records import TABLE FILE``, which accounts for every
row as the school loader does: **loaded**, **merged** into an earlier row with
the same key (its non-empty fields fill the earlier row's empty ones), or
**rejected** with a reason that quotes the bad value. Nothing is dropped
silently: ``loaded + merged + rejected == rows``.

The readers here are pure (frames in, frames out): :func:`account_rows` takes
a frame of text columns and a per-row check, so the staff workspace can feed
the same checks from its database. Only :func:`read_record_csv` touches a file.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import SchoolDataError

logger = logging.getLogger(__name__)

#: The row number of a rejected row in its file (1 = the header, so data starts at 2).
SOURCE_ROW = "source_row"
#: Words read as true in a yes/no column (case-insensitive); "" and anything else is false.
TRUTHY = frozenset({"true", "t", "yes", "y", "1", "x"})

#: A row check: the row's text fields in, the clean row out, or a reason string for a reject.
RowCheck = Callable[[dict[str, str]], "dict[str, Any] | str"]


class RowRejected(ValueError):
    """Raised by a row check to reject the row; the message is the reason."""


@dataclass
class RecordImport:
    """A checked record table and the account of every input row.

    Attributes
    ----------
    table : DataFrame
        The clean rows, one per key, in first-seen order.
    rejects : DataFrame
        ``source_row``, ``reason`` and the row's original fields.
    report : dict
        ``table``, ``rows``, ``loaded``, ``merged``, ``rejected`` and ``reasons``
        (reject counts by reason, with the value quoted).
    """

    table: pd.DataFrame
    rejects: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)

    def strict(self) -> pd.DataFrame:
        """Return the table, or raise SchoolDataError naming the first reject or merged duplicate."""
        if len(self.rejects):
            first = self.rejects.iloc[0]
            msg = f"{first['reason']} (row {first[SOURCE_ROW]} of {self.report.get('source', 'the table')})"
            raise SchoolDataError(msg)
        if self.report.get("merged"):
            dup = self.report["duplicates"][0]
            msg = f"{dup} appears more than once in {self.report.get('source', 'the table')}"
            raise SchoolDataError(msg)
        return self.table


def is_true(text: str) -> bool:
    """Return True for a yes-like word (:data:`TRUTHY`)."""
    return str(text).strip().lower() in TRUTHY


def read_record_csv(path: str | Path, *, what: str) -> pd.DataFrame:
    """Read a record table's CSV as text columns with normalized headers.

    Parameters
    ----------
    path : path
        The CSV (UTF-8, UTF-16 with a BOM, Windows-1252 or Latin-1).
    what : str
        The table's name, for messages.

    Raises
    ------
    SchoolDataError
        For a missing or unreadable file.
    """
    from geo.school_columns import header_key
    from geo.school_files import decode_text

    source = Path(path)
    if not source.is_file():
        msg = f"{what} table {str(path)!r} does not exist"
        raise SchoolDataError(msg)
    text, _ = decode_text(source)
    try:
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (ValueError, pd.errors.ParserError) as exc:
        msg = f"cannot read {what} table {str(path)!r}: {exc}"
        raise SchoolDataError(msg) from exc
    raw.columns = [header_key(c) for c in raw.columns]
    return raw


def rename_synonyms(raw: pd.DataFrame, synonyms: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Rename the first header found among each field's synonyms to the field's name."""
    renames: dict[str, str] = {}
    for name, spellings in synonyms.items():
        if name in raw.columns:
            continue
        found = next((s for s in spellings if s in raw.columns and s not in renames), None)
        if found is not None:
            renames[found] = name
    return raw.rename(columns=renames)


def require_columns(raw: pd.DataFrame, columns: Sequence[str], *, what: str, source: str) -> None:
    """Raise SchoolDataError when a required column is missing (the message lists the headers found)."""
    for column in columns:
        if column not in raw.columns:
            msg = f"{what} table {source!r} lacks column {column!r}; headers found: {list(raw.columns)!r}"
            raise SchoolDataError(msg)


def account_rows(
    raw: pd.DataFrame,
    check: RowCheck,
    *,
    key: Sequence[str],
    columns: Sequence[str],
    table: str,
    source: str,
) -> RecordImport:
    """Check every row, merge rows with equal keys and reject the rest with a reason.

    Parameters
    ----------
    raw : DataFrame
        Text columns, one row per input row (file order).
    check : callable
        ``check(fields) -> clean row``; raises :class:`RowRejected` (or returns a
        string) to reject the row with that reason.
    key : sequence of str
        The clean columns that identify a record; a later row with an equal key
        is merged into the first one: it fills the first row's empty fields.
    columns : sequence of str
        The clean table's columns, in order.
    table, source : str
        The table's name and where the rows come from (for the report).

    Returns
    -------
    RecordImport
    """
    kept: dict[tuple[Any, ...], dict[str, Any]] = {}
    rejects: list[dict[str, Any]] = []
    merged: list[str] = []
    records = raw.astype(str).to_dict("records") if len(raw) else []
    for position, fields in enumerate(records, start=2):  # row 1 is the header
        stripped = {k: str(v).strip() for k, v in fields.items()}
        try:
            clean = check(stripped)
        except RowRejected as exc:
            clean = str(exc)
        if isinstance(clean, str):
            rejects.append({SOURCE_ROW: position, "reason": clean, **fields})
            continue
        ident = tuple(clean.get(k) for k in key)
        if ident in kept:
            first = kept[ident]
            for name, value in clean.items():
                if _empty(first.get(name)) and not _empty(value):
                    first[name] = value
            merged.append(", ".join(f"{k} {v!r}" for k, v in zip(key, ident, strict=True)))
            continue
        kept[ident] = clean
    out = pd.DataFrame(list(kept.values()), columns=list(columns))
    reject_frame = pd.DataFrame(rejects, columns=[SOURCE_ROW, "reason", *raw.columns])
    reasons = reject_frame["reason"].value_counts().to_dict() if len(reject_frame) else {}
    report: dict[str, Any] = {
        "table": table,
        "source": source,
        "rows": len(records),
        "loaded": len(out),
        "merged": len(merged),
        "rejected": len(reject_frame),
        "reasons": {str(k): int(v) for k, v in reasons.items()},
        "duplicates": merged[:20],
    }
    if report["loaded"] + report["merged"] + report["rejected"] != report["rows"]:  # pragma: no cover
        msg = f"row accounting of {table} does not add up: {report}"
        raise AssertionError(msg)
    logger.info(
        "%s: %d rows -> %d loaded, %d merged, %d rejected",
        table,
        report["rows"],
        report["loaded"],
        report["merged"],
        report["rejected"],
    )
    return RecordImport(out, reject_frame, report)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value == ""


def split_list(text: str) -> list[str]:
    """Split a ``;``-separated list (commas and pipes too), dropping blanks."""
    return [p.strip() for p in str(text).replace("|", ";").replace(",", ";").split(";") if p.strip()]


def as_text_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Give ``columns`` the ``str`` dtype (missing values stay missing), as the build's layers have."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = out[column].astype("str")
    return out
