"""Census submissions in the database: store one, count an address's, decide one (no Flask here).

A decision (approve as new, merge into a school, reject) first moves the
submission out of "pending" with a conditional UPDATE (``WHERE status =
'pending' AND version = <read>``) and only then touches the school records,
in the same transaction. Two staff deciding at once: the second UPDATE
matches no row (PostgreSQL re-checks the WHERE after the first commits;
SQLite lets one writer in at a time), so it raises :class:`AlreadyDecidedError`
and adds nothing: one wins, and there is never a double record.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from webmap.models import SchoolRecord, Submission, utcnow
from webmap.staff import records

logger = logging.getLogger(__name__)

STATUSES = ("pending", "approved", "merged", "rejected")


class AlreadyDecidedError(Exception):
    """The submission was decided by someone else (or changed) since it was read."""


class DuplicateSchoolError(Exception):
    """Approving as new would add a school id that is already on the list."""


def add(
    session: Session,
    values: Mapping[str, str],
    *,
    address: str,
    placed: Mapping[str, Any] | None,
    correction_of: str = "",
) -> Submission:
    """Store one checked census answer as a pending submission; return it (flushed, with its id)."""
    submission = Submission(
        address=address[:64],
        status="pending",
        state=str(values.get("state", ""))[:8],
        name=str(values.get("name", ""))[:600],
        fields=dict(values),
        placed=dict(placed) if placed else None,
        correction_of=correction_of[:80],
        decided_by="",
        decision_note="",
        version=1,
    )
    session.add(submission)
    session.flush()
    return submission


def count_from(session: Session, address: str, since: dt.datetime) -> int:
    """Return how many submissions ``address`` made after ``since``."""
    query = select(func.count()).where(Submission.address == address, Submission.created_at > since)
    return session.scalar(query) or 0


def _claim(
    session: Session, submission_id: int, expected_version: int, status: str, actor: str, note: str
) -> None:
    """Move a pending submission to ``status`` (a decision's first write), or raise AlreadyDecidedError."""
    result = session.execute(
        update(Submission)
        .where(
            Submission.id == submission_id,
            Submission.status == "pending",
            Submission.version == expected_version,
        )
        .values(
            status=status,
            decided_by=actor,
            decided_at=utcnow(),
            decision_note=note[:4000],
            version=Submission.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    matched = int(result.rowcount) if isinstance(result, CursorResult) else 0
    if matched != 1:
        session.rollback()
        fresh = session.get(Submission, submission_id)
        if fresh is not None:
            session.refresh(fresh)
        who = f" by {fresh.decided_by}" if fresh is not None and fresh.decided_by else ""
        state = fresh.status if fresh is not None else "gone"
        msg = f"submission {submission_id} was already decided{who} (now {state}); nothing was changed"
        raise AlreadyDecidedError(msg)


def approve_as_new(
    session: Session,
    submission_id: int,
    *,
    expected_version: int,
    school_id: str,
    values: Mapping[str, str],
    actor: str,
) -> SchoolRecord:
    """Approve a submission as a new school record with the loader's ``values``; return the record.

    Raises
    ------
    AlreadyDecidedError
        Someone decided it first.
    DuplicateSchoolError
        A school with ``school_id`` is already on the list (merge instead).
    """
    _claim(session, submission_id, expected_version, "approved", actor, f"approved as new school {school_id}")
    taken = session.scalar(
        select(SchoolRecord.id).where(SchoolRecord.school_id == school_id, SchoolRecord.deleted.is_(False))
    )
    if taken is not None:
        session.rollback()
        msg = f"a school with id {school_id!r} is already on the list (record {taken}); merge into it instead"
        raise DuplicateSchoolError(msg)
    record = records.add_one(
        session, school_id, values, source=f"census submission {submission_id}", actor=actor
    )
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(record_id=record.id)
        .execution_options(synchronize_session=False)
    )
    return record


def merge_into(
    session: Session,
    submission_id: int,
    record: SchoolRecord,
    *,
    expected_version: int,
    expected_record_version: int,
    values: Mapping[str, str],
    taken: list[str],
    actor: str,
) -> dict[str, str]:
    """Merge a submission into ``record``: ``values`` are the record's new fields (``taken`` from the answer).

    Returns the record's fields before the merge. Raises AlreadyDecidedError,
    or :class:`webmap.staff.records.ConflictError` when the record changed since it was read.
    """
    note = f"merged into school {record.school_id}: took {', '.join(taken) or 'nothing'}"
    _claim(session, submission_id, expected_version, "merged", actor, note)
    before = records.save_edit(session, record, values, expected_version=expected_record_version, actor=actor)
    record.source = f"census submission {submission_id} (merged)"
    session.flush()
    session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(record_id=record.id)
        .execution_options(synchronize_session=False)
    )
    return before


def reject(session: Session, submission_id: int, *, expected_version: int, reason: str, actor: str) -> None:
    """Reject a submission with ``reason`` (kept; never shown publicly)."""
    _claim(session, submission_id, expected_version, "rejected", actor, reason)
