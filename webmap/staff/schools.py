"""Staff: find a school, edit it (validated as the loader validates), add one, remove one."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from webmap.auth import audit, forbid, rate_limited
from webmap.db import get_session
from webmap.models import SchoolHistory, SchoolRecord
from webmap.staff import bp, data_dir, records
from webmap.staff.fields import field_names, school_fields
from webmap.staff.loading import check_school

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


@bp.route("/schools")
def school_list():
    """Find schools by name, city, ID or state."""
    q = (request.args.get("q") or "").strip()[:200]
    state = (request.args.get("state") or "").strip().upper()[:8]
    query = select(SchoolRecord).where(SchoolRecord.deleted.is_(False))
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                SchoolRecord.name.ilike(like),
                SchoolRecord.school_id.ilike(like),
                SchoolRecord.fields["city"].as_string().ilike(like),
            )
        )
    if state:
        query = query.where(SchoolRecord.state == state)
    found = get_session().scalars(query.order_by(SchoolRecord.name).limit(PAGE_SIZE + 1)).all()
    return render_template(
        "staff/schools.html", schools=found[:PAGE_SIZE], more=len(found) > PAGE_SIZE, q=q, state=state
    )


def _record(record_id: int) -> SchoolRecord:
    record = get_session().get(SchoolRecord, record_id)
    if record is None:
        abort(404, description=f"no school record {record_id}")
    return record


def _form_values() -> dict[str, str]:
    return {name: (request.form.get(name) or "").strip()[:2000] for name in field_names()}


def _render(
    record: SchoolRecord | None,
    values: dict[str, str],
    *,
    error: str = "",
    conflict: str = "",
    status: int = 200,
):  # noqa: ANN202
    history: Sequence[SchoolHistory] = []
    if record is not None and record.id:
        history = (
            get_session()
            .scalars(
                select(SchoolHistory)
                .where(SchoolHistory.record_id == record.id)
                .order_by(SchoolHistory.version.desc())
            )
            .all()
        )
    editable = record is None or g.user.may_edit_state(record.state)
    return (
        render_template(
            "staff/school.html",
            record=record,
            values=values,
            fields=school_fields(),
            history=history,
            error=error,
            conflict=conflict,
            editable=editable,
        ),
        status,
    )


@bp.route("/schools/<int:record_id>")
def school_edit(record_id: int):
    """One school's fields, placement and history."""
    record = _record(record_id)
    return _render(record, dict(record.fields))


#: Saves, adds and removals per person in 15 minutes: a careful editor makes a few dozen.
CHANGE_LIMIT = 300
_CHANGE_ACTIONS = ("school.edit", "school.add", "school.remove", "school.conflict")


@bp.route("/schools/<int:record_id>", methods=["POST"])
@rate_limited(_CHANGE_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def school_save(record_id: int):
    """Save a school: role-checked, validated by the loader, refused on a concurrent change."""
    db = get_session()
    record = _record(record_id)
    values = _form_values()
    if not g.user.may_edit_state(record.state):
        forbid(
            "edit",
            f"school {record.id}",
            state=record.state,
            detail=f"you may not edit schools in {record.state or 'no state'}",
        )
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400, description=f"version={request.form.get('version')!r} is not a whole number")
    check = check_school(values, data_dir())
    if check.reject:
        return _render(record, values, error=f"Not saved: {check.reject}", status=400)
    if not g.user.may_edit_state(check.values.get("state")):
        forbid(
            "edit",
            f"school {record.id}",
            state=check.values.get("state", ""),
            detail=f"you may not move a school to {check.values.get('state') or 'no state'}",
        )
    try:
        before = records.save_edit(db, record, check.values, expected_version=expected, actor=g.user.email)
        db.flush()
    except (records.ConflictError, StaleDataError) as exc:
        db.rollback()
        fresh = _record(record_id)
        message = (
            str(exc)
            if isinstance(exc, records.ConflictError)
            else (
                f"{fresh.name!r} was changed by {fresh.updated_by or 'someone'} while you were saving; "
                "your changes were not saved. Reload it, and make your change again."
            )
        )
        audit("school.conflict", f"school {record_id}", state=fresh.state, after=values, detail=message)
        return _render(fresh, values, conflict=message, status=409)
    audit(
        "school.edit",
        f"school {record.id}",
        state=record.state,
        before=before,
        after=record.fields,
        commit=False,
    )
    db.commit()
    note = f" Loader note: {check.notes}." if check.notes else ""
    flash(f"Saved {record.name} (version {record.version}). Publish to put it on the map.{note}", "info")
    return redirect(url_for("staff.school_edit", record_id=record.id))


@bp.route("/schools/new", methods=["GET", "POST"])
@rate_limited(_CHANGE_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def school_new():
    """Add a school."""
    if request.method == "GET":
        return _render(None, {name: "" for name in field_names()})
    db = get_session()
    values = _form_values()
    check = check_school(values, data_dir())
    if check.reject:
        return _render(None, values, error=f"Not saved: {check.reject}", status=400)
    if not g.user.may_edit_state(check.values.get("state")):
        forbid(
            "add",
            "school",
            state=check.values.get("state", ""),
            detail=f"you may not add schools in {check.values.get('state') or 'no state'}",
        )
    if db.scalar(
        select(SchoolRecord).where(SchoolRecord.school_id == check.school_id, SchoolRecord.deleted.is_(False))
    ):
        return _render(
            None,
            values,
            error=f"Not saved: a school with id {check.school_id!r} is already in the list",
            status=400,
        )
    # One new record; never apply_list, which makes the records *equal* its rows (removing the rest).
    record = records.add_one(db, check.school_id, check.values, source="added", actor=g.user.email)
    audit("school.add", f"school {record.id}", state=record.state, after=record.fields, commit=False)
    db.commit()
    flash(f"Added {record.name}. Publish to put it on the map.", "info")
    return redirect(url_for("staff.school_edit", record_id=record.id))


@bp.route("/schools/<int:record_id>/remove", methods=["POST"])
@rate_limited(_CHANGE_ACTIONS, "STAFF_CHANGE_LIMIT", CHANGE_LIMIT)
def school_remove(record_id: int):
    """Remove a school from the list (kept in the history; a rollback brings it back)."""
    db = get_session()
    record = _record(record_id)
    if not g.user.may_edit_state(record.state):
        forbid(
            "remove",
            f"school {record.id}",
            state=record.state,
            detail=f"you may not remove schools in {record.state or 'no state'}",
        )
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400, description=f"version={request.form.get('version')!r} is not a whole number")
    if record.version != expected:
        return _render(
            record,
            dict(record.fields),
            conflict=f"{record.name!r} changed since you opened it; not removed.",
            status=409,
        )
    records.remove(db, record, actor=g.user.email)
    audit("school.remove", f"school {record.id}", state=record.state, before=record.fields, commit=False)
    db.commit()
    flash(f"Removed {record.name}. Publish to take it off the map.", "info")
    return redirect(url_for("staff.school_list"))
