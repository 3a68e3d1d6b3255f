"""School records in the database: import a loaded list, edit one school, snapshot, restore.

No Flask here: the CLI, the web views and the background publisher share it.
Every change writes a :class:`~webmap.models.SchoolHistory` row, so each
record keeps its source and history.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from webmap.models import PublishedBuild, SchoolHistory, SchoolRecord, utcnow
from webmap.staff.fields import field_names

logger = logging.getLogger(__name__)

#: Geocoding methods that mean "the file's own coordinates": only those are kept as record fields,
#: so a school placed at a ZIP centroid is placed afresh (and labelled so) by every build.
GIVEN_METHODS = ("given", "given-swapped", "given-fixed")


class ConflictError(Exception):
    """A save based on a version of a record that someone else has changed since."""


@dataclass
class ApplyResult:
    """What importing a list into the records did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts (and skipped rows) as a JSON-ready dict."""
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": self.skipped,
        }


def _text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return repr(value) if not value.is_integer() else str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_from_schools(schools: pd.DataFrame) -> list[tuple[str, dict[str, str]]]:
    """Return ``(school_id, fields)`` for each row of a loaded ``schools`` layer.

    ``lat``/``lon`` are kept only where the list gave them (:data:`GIVEN_METHODS`).
    """
    names = field_names()
    out = []
    for row in schools.drop(columns="geometry", errors="ignore").to_dict("records"):
        given = str(row.get("geocode_method", "")) in GIVEN_METHODS
        values = {}
        for name in names:
            if name in ("lat", "lon") and not given:
                values[name] = ""
            elif name == "is_sample":
                values[name] = "true" if bool(row.get("is_sample")) else ""
            else:
                values[name] = _text(row.get(name))
        out.append((str(row["school_id"]), values))
    return out


def _history(session: Session, record: SchoolRecord, actor: str) -> None:
    _histories(session, [record], actor)


def _histories(session: Session, changed: Sequence[SchoolRecord], actor: str) -> None:
    """Add a history row for each changed record (one flush for all: ids and versions assigned)."""
    if not changed:
        return
    session.flush()
    session.add_all(
        [
            SchoolHistory(
                record_id=record.id,
                version=record.version,
                fields=dict(record.fields),
                deleted=record.deleted,
                source=record.source,
                changed_by=actor,
                changed_at=record.updated_at,
            )
            for record in changed
        ]
    )


def _set(record: SchoolRecord, values: Mapping[str, str], source: str, actor: str) -> None:
    record.fields = dict(values)
    record.name = values.get("name", "")[:600]
    record.state = values.get("state", "")[:8]
    record.source = source[:300]
    record.updated_at = utcnow()
    record.updated_by = actor


def apply_list(
    session: Session,
    rows: Sequence[tuple[str, Mapping[str, str]]],
    *,
    source: str,
    actor: str,
    states: Sequence[str] | None = None,
) -> ApplyResult:
    """Make the records equal ``rows`` (matched by school id), within ``states`` (all when None).

    Rows outside ``states`` are skipped and listed; records in scope that are
    not in ``rows`` are marked removed. Nothing is deleted outright: every
    change is a new version in the history.
    """
    result = ApplyResult()
    in_scope = (lambda state: state in states) if states is not None else (lambda _state: True)
    existing = {r.school_id: r for r in session.scalars(select(SchoolRecord))}
    if not existing:
        return _insert_all(session, rows, source=source, actor=actor, in_scope=in_scope)
    seen: set[str] = set()
    changed: list[SchoolRecord] = []
    for school_id, values in rows:
        if not in_scope(values.get("state", "")):
            result.skipped.append(f"{values.get('name', '')!r} ({values.get('state') or 'no state'})")
            continue
        seen.add(school_id)
        record = existing.get(school_id)
        if record is None:
            record = SchoolRecord(school_id=school_id, deleted=False)
            _set(record, values, source, actor)
            session.add(record)
            result.added += 1
        elif record.fields == dict(values) and not record.deleted:
            result.unchanged += 1
            continue
        else:
            if not in_scope(record.state):
                result.skipped.append(f"{values.get('name', '')!r} (kept in {record.state})")
                continue
            _set(record, values, source, actor)
            record.deleted = False
            result.updated += 1
        changed.append(record)
    for school_id, record in existing.items():
        if school_id not in seen and not record.deleted and in_scope(record.state):
            record.deleted = True
            record.source = source[:300]
            record.updated_at = utcnow()
            record.updated_by = actor
            changed.append(record)
            result.removed += 1
    _histories(session, changed, actor)
    return result


def _insert_all(session: Session, rows, *, source: str, actor: str, in_scope) -> ApplyResult:  # noqa: ANN001
    """Fill an empty table in two statements (the first import of a 5,600-school list), history included."""
    result = ApplyResult()
    now = utcnow()
    values = []
    for school_id, fields in rows:
        if not in_scope(fields.get("state", "")):
            result.skipped.append(f"{fields.get('name', '')!r} ({fields.get('state') or 'no state'})")
            continue
        values.append(
            {
                "school_id": school_id,
                "name": fields.get("name", "")[:600],
                "state": fields.get("state", "")[:8],
                "fields": dict(fields),
                "source": source[:300],
                "deleted": False,
                "version": 1,
                "updated_at": now,
                "updated_by": actor,
            }
        )
    if not values:
        return result
    session.execute(insert(SchoolRecord), values)
    columns = ("record_id", "version", "fields", "deleted", "source", "changed_at", "changed_by")
    copied = select(
        SchoolRecord.id,
        SchoolRecord.version,
        SchoolRecord.fields,
        SchoolRecord.deleted,
        SchoolRecord.source,
        SchoolRecord.updated_at,
        SchoolRecord.updated_by,
    )
    session.execute(insert(SchoolHistory).from_select(columns, copied))
    result.added = len(values)
    return result


def add_one(
    session: Session, school_id: str, values: Mapping[str, str], *, source: str, actor: str
) -> SchoolRecord:
    """Add one school record (with its first history row); every other record is left alone."""
    record = SchoolRecord(school_id=school_id, deleted=False)
    _set(record, values, source, actor)
    session.add(record)
    _history(session, record, actor)
    return record


def save_edit(
    session: Session, record: SchoolRecord, values: Mapping[str, str], *, expected_version: int, actor: str
) -> dict[str, str]:
    """Save new field values for ``record``, refusing when it changed since ``expected_version``.

    Returns the values before the change. The UPDATE also checks the version
    in SQL (the mapper's ``version_id_col``), so two processes saving at once
    cannot both win.
    """
    if record.version != expected_version:
        msg = (
            f"{record.name!r} was changed by {record.updated_by or 'someone'} since you opened it "
            f"(version {record.version}, yours {expected_version}); your changes were not saved. "
            "Reload it, and make your change again."
        )
        raise ConflictError(msg)
    before = dict(record.fields)
    _set(record, values, "edit", actor)
    _history(session, record, actor)
    return before


def remove(session: Session, record: SchoolRecord, *, actor: str) -> None:
    """Mark ``record`` removed (a new version in its history; a rollback or an upload brings it back)."""
    record.deleted = True
    record.source = "removed"
    record.updated_at = utcnow()
    record.updated_by = actor
    _history(session, record, actor)


def active_records(session: Session) -> list[SchoolRecord]:
    """Return the records that are not removed, ordered by id."""
    return list(
        session.scalars(select(SchoolRecord).where(SchoolRecord.deleted.is_(False)).order_by(SchoolRecord.id))
    )


def active_rows(session: Session) -> list:
    """Return ``(school_id, fields)`` rows of the records that are not removed (lighter than objects)."""
    query = select(SchoolRecord.school_id, SchoolRecord.fields).where(SchoolRecord.deleted.is_(False))
    return list(session.execute(query.order_by(SchoolRecord.id)))


def count_records(session: Session) -> int:
    """Return how many records exist (removed ones included)."""
    return session.scalar(select(func.count()).select_from(SchoolRecord)) or 0


def snapshot_csv(records: Iterable[SchoolRecord]) -> bytes:
    """Return the records as a school list (CSV, UTF-8, the loader's field names as headers)."""
    names = field_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([record.fields.get(name, "") for name in names])
    return buffer.getvalue().encode("utf-8")


def rows_from_csv(data: bytes) -> list[tuple[str, dict[str, str]]]:
    """Return ``(school_id, fields)`` pairs of a snapshot, keyed as the records were."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    return [(row.pop("_school_id", ""), row) for row in reader]


def snapshot_with_ids(records: Iterable[SchoolRecord]) -> bytes:
    """Return the records as CSV with a leading ``_school_id`` column (stored with a build, for rollback)."""
    names = field_names()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["_school_id", *names])
    for record in records:
        writer.writerow([record.school_id, *(record.fields.get(name, "") for name in names)])
    return gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0)


def restore_build(session: Session, build: PublishedBuild, *, actor: str) -> ApplyResult:
    """Make the records equal the list ``build`` was made from (a rollback)."""
    rows = rows_from_csv(gzip.decompress(build.school_list))
    return apply_list(session, rows, source=f"rollback to build {build.build_id}", actor=actor)


def changed_states_since(session: Session, since: Any) -> set[str]:
    """Return the states of records changed after ``since`` (before and after the change)."""
    query = select(SchoolHistory.fields, SchoolRecord.state).join(SchoolRecord)
    if since is not None:
        query = query.where(SchoolHistory.changed_at > since)
    states = set()
    for values, state in session.execute(query):
        states.add(state or "")
        states.add((values or {}).get("state", "") or "")
    return states
