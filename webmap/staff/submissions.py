"""Staff: moderate the census answers (``/staff/submissions``): approve as new, merge, or reject.

Each submission shows its likely duplicates in the current list
(:func:`geo.census_duplicates.likely_duplicates`). Editors act only in their
states; every action is audited and rate-limited; two staff deciding at once
cannot both win (webmap/submissions.py). An approved school joins the school
records and reaches the map at the next publish, at once when
``AUTO_PUBLISH_SUBMISSIONS`` is on (docs/STAFF.md).
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from geo.census import CENSUS_FIELDS, choice_label, school_values
from geo.census_duplicates import likely_duplicates
from webmap import submissions
from webmap.auth import audit, forbid, rate_limited
from webmap.db import get_session
from webmap.models import SchoolRecord, Submission
from webmap.staff import bp, data_dir, database_url, records
from webmap.staff.loading import check_school

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
#: Decisions per person in 15 minutes: a moderator working through a backlog makes a few dozen.
DECISION_LIMIT = 200
_DECISION_ACTIONS = ("submission.approve", "submission.merge", "submission.reject", "submission.conflict")


def _current_list() -> pd.DataFrame:
    """Return the active school records with a place: the build's point, else the record's own lat/lon."""
    rows = get_session().execute(
        select(SchoolRecord.id, SchoolRecord.school_id, SchoolRecord.name, SchoolRecord.fields).where(
            SchoolRecord.deleted.is_(False)
        )
    )
    frame = pd.DataFrame(
        [
            {
                "record_id": r.id,
                "school_id": r.school_id,
                "name": r.name,
                "nces_id": (r.fields or {}).get("nces_id", ""),
                "lat": (r.fields or {}).get("lat", ""),
                "lon": (r.fields or {}).get("lon", ""),
            }
            for r in rows
        ],
        columns=["record_id", "school_id", "name", "nces_id", "lat", "lon"],
    )
    try:
        from webmap.data import get_data

        built = get_data().schools
        points = pd.DataFrame(
            {
                "school_id": built["school_id"].astype("str"),
                "b_lat": built.geometry.y,
                "b_lon": built.geometry.x,
            }
        ).drop_duplicates("school_id")
        frame = frame.merge(points, on="school_id", how="left")
        frame["lat"] = frame["b_lat"].fillna(pd.to_numeric(frame["lat"], errors="coerce"))
        frame["lon"] = frame["b_lon"].fillna(pd.to_numeric(frame["lon"], errors="coerce"))
    except Exception as exc:  # no build: only the records' own coordinates
        logger.info("no build for the duplicate check: %s", exc)
    # Schools approved since the last publish are in no build yet: where their answer was placed.
    placed = {
        record_id: where
        for record_id, where in get_session().execute(
            select(Submission.record_id, Submission.placed).where(
                Submission.record_id.is_not(None), Submission.placed.is_not(None)
            )
        )
    }
    if placed:
        lat = pd.to_numeric(frame["lat"], errors="coerce")
        lon = pd.to_numeric(frame["lon"], errors="coerce")
        known = frame["record_id"].map(lambda r: placed.get(r) or {})
        frame["lat"] = lat.fillna(known.map(lambda p: p.get("lat")).astype("float64"))
        frame["lon"] = lon.fillna(known.map(lambda p: p.get("lon")).astype("float64"))
    return frame


def _duplicates(submission: Submission, current: pd.DataFrame) -> list[dict[str, Any]]:
    placed = submission.placed or {}
    school = {"name": submission.name, "nces_id": submission.fields.get("nces_id", ""), **placed}
    found = likely_duplicates(school, current)
    ids = dict(zip(current["school_id"], current["record_id"], strict=False))
    out = [dict(row, record_id=int(ids[row["school_id"]])) for row in found.to_dict("records")]
    if submission.correction_of and submission.correction_of in ids:
        if not any(d["school_id"] == submission.correction_of for d in out):
            name = current.loc[current["school_id"] == submission.correction_of, "name"].iloc[0]
            out.insert(
                0,
                {
                    "school_id": submission.correction_of,
                    "name": name,
                    "reason": "the school this answer corrects",
                    "name_score": float("nan"),
                    "distance_km": float("nan"),
                    "record_id": int(ids[submission.correction_of]),
                },
            )
    return out


@bp.route("/submissions")
def submission_list():
    """List the census answers, filtered by status and state, with their likely duplicates."""
    status = (request.args.get("status") or "pending").strip().lower()
    if status not in (*submissions.STATUSES, "all"):
        abort(400, description=f"status={status!r} is not one of {', '.join(submissions.STATUSES)}, all")
    state = (request.args.get("state") or "").strip().upper()[:8]
    query = select(Submission)
    if status != "all":
        query = query.where(Submission.status == status)
    if state:
        query = query.where(Submission.state == state)
    found = get_session().scalars(query.order_by(Submission.id.desc()).limit(PAGE_SIZE + 1)).all()
    current = _current_list()
    rows = [(s, _duplicates(s, current) if s.status == "pending" else []) for s in found[:PAGE_SIZE]]
    return render_template(
        "staff/submissions.html",
        rows=rows,
        more=len(found) > PAGE_SIZE,
        status=status,
        state=state,
        statuses=submissions.STATUSES,
    )


def _submission(submission_id: int) -> Submission:
    found = get_session().get(Submission, submission_id)
    if found is None:
        abort(404, description=f"no submission {submission_id}")
    return found


def _render(submission: Submission, *, error: str = "", status: int = 200):  # noqa: ANN202
    current = _current_list()
    duplicates = _duplicates(submission, current) if submission.status == "pending" else []
    session = get_session()
    candidates = []
    for dup in duplicates[:5]:
        record = session.get(SchoolRecord, dup["record_id"])
        if record is not None:
            candidates.append((dup, record))
    return (
        render_template(
            "staff/submission.html",
            s=submission,
            fields=CENSUS_FIELDS,
            choice_label=choice_label,
            candidates=candidates,
            submitted=school_values(submission.fields),
            editable=g.user.may_edit_state(submission.state),
            error=error,
        ),
        status,
    )


@bp.route("/submissions/<int:submission_id>")
def submission_view(submission_id: int):
    """One census answer: every field, where it was placed, its likely duplicates and the actions."""
    return _render(_submission(submission_id))


def _decision_start(submission_id: int, verb: str) -> tuple[Submission, int]:
    submission = _submission(submission_id)
    if not g.user.may_edit_state(submission.state):
        forbid(
            verb,
            f"submission {submission.id}",
            state=submission.state,
            detail=f"you may not {verb} submissions in {submission.state or 'no state'}",
        )
    try:
        expected = int(request.form.get("version", ""))
    except ValueError:
        abort(400, description=f"version={request.form.get('version')!r} is not a whole number")
    return submission, expected


def _already(submission_id: int, exc: Exception):  # noqa: ANN202
    get_session().rollback()
    fresh = _submission(submission_id)
    audit("submission.conflict", f"submission {submission_id}", state=fresh.state, detail=str(exc))
    return _render(fresh, error=str(exc), status=409)


def _outside_changes() -> list[str]:
    """Return the states outside the editor's of the changes waiting (an editor may not publish them)."""
    from webmap.staff import publisher

    if g.user.is_admin:
        return []
    states = records.changed_states_since(get_session(), publisher.last_published_at(get_session()))
    return sorted(s or "no state" for s in states if s not in g.user.state_list)


def _after_change(message: str):  # noqa: ANN202
    if current_app.config.get("AUTO_PUBLISH_SUBMISSIONS"):
        from webmap.staff import publisher

        outside = _outside_changes()
        if outside:  # the rule of Builds' "Publish now": an editor publishes only their states' changes
            flash(
                f"{message} Not published at once: changes in {', '.join(outside)} are waiting too; "
                "ask an admin to publish.",
                "error",
            )
            return redirect(url_for("staff.submission_list"))
        try:
            job = publisher.start(database_url(), data_dir(), actor=g.user.email, kind="publish")
        except publisher.PublishBusyError as exc:
            audit("publish.refused", "auto publish", detail=str(exc))
            flash(f"{message} It could not be published at once ({exc}); publish it from Builds.", "error")
        else:
            audit("publish.start", f"job {job}", after={"job": job, "auto": True})
            flash(f"{message} Publishing now (job {job}).", "info")
    else:
        flash(f"{message} Publish (Builds) to put it on the map.", "info")
    return redirect(url_for("staff.submission_list"))


@bp.route("/submissions/<int:submission_id>/approve", methods=["POST"])
@rate_limited(_DECISION_ACTIONS, "STAFF_CHANGE_LIMIT", DECISION_LIMIT)
def submission_approve(submission_id: int):
    """Approve a census answer as a new school of the list."""
    submission, expected = _decision_start(submission_id, "approve")
    check = check_school(school_values(submission.fields), data_dir())
    if check.reject:
        return _render(submission, error=f"Not approved: the loader refuses it: {check.reject}", status=400)
    db = get_session()
    try:
        record = submissions.approve_as_new(
            db,
            submission.id,
            expected_version=expected,
            school_id=check.school_id,
            values=check.values,
            actor=g.user.email,
        )
    except (submissions.AlreadyDecidedError, submissions.DuplicateSchoolError) as exc:
        return _already(submission_id, exc)
    audit(
        "submission.approve",
        f"submission {submission_id}",
        state=record.state,
        after={"record": record.id, "school_id": record.school_id, **record.fields},
        commit=False,
    )
    db.commit()
    return _after_change(f"Approved {record.name} as a new school (record {record.id}).")


@bp.route("/submissions/<int:submission_id>/merge", methods=["POST"])
@rate_limited(_DECISION_ACTIONS, "STAFF_CHANGE_LIMIT", DECISION_LIMIT)
def submission_merge(submission_id: int):
    """Merge a census answer into an existing school, taking the fields ticked one by one."""
    submission, expected = _decision_start(submission_id, "merge")
    db = get_session()
    try:
        record = db.get(SchoolRecord, int(request.form.get("record_id", "")))
        record_version = int(request.form.get("record_version", ""))
    except ValueError:
        abort(
            400, description=f"record_id={request.form.get('record_id')!r} and record_version must be numbers"
        )
    if record is None or record.deleted:
        abort(404, description=f"no school record {request.form.get('record_id')!r} on the list")
    if not g.user.may_edit_state(record.state):
        forbid(
            "merge",
            f"school {record.id}",
            state=record.state,
            detail=f"you may not change schools in {record.state or 'no state'}",
        )
    submitted = school_values(submission.fields)
    taken = [name for name in request.form.getlist("take") if name in submitted]
    merged = dict(record.fields) | {name: submitted[name] for name in taken}
    if {"address", "city", "state", "zip"} & set(taken):
        merged["lat"], merged["lon"] = "", ""  # a new address is placed afresh
    check = check_school(merged, data_dir())
    if check.reject:
        return _render(
            submission, error=f"Not merged: the loader refuses the result: {check.reject}", status=400
        )
    try:
        before = submissions.merge_into(
            db,
            submission.id,
            record,
            expected_version=expected,
            expected_record_version=record_version,
            values=check.values,
            taken=taken,
            actor=g.user.email,
        )
        db.flush()
    except (submissions.AlreadyDecidedError, records.ConflictError, StaleDataError) as exc:
        return _already(submission_id, exc)
    audit(
        "submission.merge",
        f"submission {submission_id}",
        state=record.state,
        before=before,
        after={"record": record.id, "took": taken, **record.fields},
        commit=False,
    )
    db.commit()
    return _after_change(f"Merged into {record.name} (took {', '.join(taken) or 'nothing'}).")


@bp.route("/submissions/<int:submission_id>/reject", methods=["POST"])
@rate_limited(_DECISION_ACTIONS, "STAFF_CHANGE_LIMIT", DECISION_LIMIT)
def submission_reject(submission_id: int):
    """Reject a census answer with a reason (required; kept, never public)."""
    submission, expected = _decision_start(submission_id, "reject")
    reason = (request.form.get("reason") or "").strip()[:2000]
    if not reason:
        return _render(submission, error="Not rejected: give a reason (reason is empty)", status=400)
    db = get_session()
    try:
        submissions.reject(db, submission.id, expected_version=expected, reason=reason, actor=g.user.email)
    except submissions.AlreadyDecidedError as exc:
        return _already(submission_id, exc)
    audit(
        "submission.reject",
        f"submission {submission_id}",
        state=submission.state,
        detail=reason,
        commit=False,
    )
    db.commit()
    flash(f"Rejected submission {submission_id}.", "info")
    return redirect(url_for("staff.submission_list"))
