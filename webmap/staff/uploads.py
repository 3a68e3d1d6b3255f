"""Staff: upload a list, read the loader's dry-run report, correct the mapping, then publish."""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from webmap.auth import audit, rate_limited
from webmap.db import get_session
from webmap.models import Upload
from webmap.staff import bp, data_dir, records
from webmap.staff.builds import start_job
from webmap.staff.fields import field_names
from webmap.staff.loading import dry_run

logger = logging.getLogger(__name__)

#: The largest list accepted (the Coalition's ~5,600 schools are well under 5 MB as CSV).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _upload(upload_id: int) -> Upload:
    upload = get_session().get(Upload, upload_id)
    if upload is None:
        abort(404, description=f"no upload {upload_id}")
    return upload


def _check(upload: Upload) -> None:
    result = dry_run(upload.content, upload.filename, dict(upload.columns or {}), data_dir())
    upload.report = result.as_json()
    upload.error = result.error
    upload.status = "failed" if result.error else "checked"


#: Each dry run reads a whole list; 30 in 15 minutes is far above what a person does by hand.
UPLOAD_LIMIT = 30
_UPLOAD_ACTIONS = ("upload.check", "upload.mapping")


@bp.route("/uploads", methods=["GET", "POST"])
@rate_limited(_UPLOAD_ACTIONS, "STAFF_UPLOAD_LIMIT", UPLOAD_LIMIT)
def upload_list():
    """Show the upload form and recent uploads; a POST runs the dry run and shows its report."""
    db = get_session()
    if request.method == "POST":
        file = request.files.get("file")
        if file is None or not file.filename:
            abort(400, description="choose a file: the form field 'file' is empty")
        limit = current_app.config.get("STAFF_UPLOAD_MAX_BYTES", MAX_UPLOAD_BYTES)
        content = file.read(limit + 1)
        if len(content) > limit:
            abort(413, description=f"{file.filename!r} is larger than {limit // (1024 * 1024)} MB")
        upload = Upload(filename=file.filename[:300], content=content, columns={}, uploaded_by=g.user.email)
        _check(upload)
        db.add(upload)
        db.flush()
        audit("upload.check", f"upload {upload.id}", after=_summary(upload), commit=False)
        db.commit()
        return redirect(url_for("staff.upload_report", upload_id=upload.id))
    recent = db.scalars(select(Upload).order_by(Upload.id.desc()).limit(20)).all()
    return render_template("staff/uploads.html", uploads=recent)


def _summary(upload: Upload) -> dict:
    report = (upload.report or {}).get("report", {})
    return {
        "file": upload.filename,
        "status": upload.status,
        "error": upload.error,
        "columns": upload.columns,
        **{k: report.get(k) for k in ("rows", "loaded", "merged", "rejected")},
    }


@bp.route("/uploads/<int:upload_id>")
def upload_report(upload_id: int):
    """Show the dry-run report of an upload."""
    upload = _upload(upload_id)
    return render_template("staff/upload.html", upload=upload, doc=upload.report or {}, fields=field_names())


@bp.route("/uploads/<int:upload_id>/columns", methods=["POST"])
@rate_limited(_UPLOAD_ACTIONS, "STAFF_UPLOAD_LIMIT", UPLOAD_LIMIT)
def upload_columns(upload_id: int):
    """Correct the column mapping and run the dry run again."""
    upload = _upload(upload_id)
    if upload.status == "applied":
        abort(
            409, description=f"upload {upload_id} was already published; upload the file again to change it"
        )
    headers = set((upload.report or {}).get("headers", []))
    columns = {}
    for name in field_names():
        header = (request.form.get(f"column-{name}") or "").strip()
        if header:
            if headers and header not in headers:
                abort(400, description=f"column-{name}={header!r} is not a header of {upload.filename!r}")
            columns[name] = header
    before = dict(upload.columns or {})
    upload.columns = columns
    _check(upload)
    audit(
        "upload.mapping",
        f"upload {upload.id}",
        before={"columns": before},
        after=_summary(upload),
        commit=False,
    )
    get_session().commit()
    return redirect(url_for("staff.upload_report", upload_id=upload.id))


@bp.route("/uploads/<int:upload_id>/publish", methods=["POST"])
def upload_publish(upload_id: int):
    """Make the upload the school list (an editor's: within their states) and publish it."""
    db = get_session()
    upload = _upload(upload_id)
    if upload.status != "checked":
        abort(
            409, description=f"upload {upload_id} is {upload.status}; only a checked upload can be published"
        )
    result = dry_run(upload.content, upload.filename, dict(upload.columns or {}), data_dir())
    if result.error or not result.rows:
        abort(
            400, description=f"upload {upload_id} loads no school: {result.error or 'every row was rejected'}"
        )
    states = None if g.user.is_admin else g.user.state_list
    applied = records.apply_list(
        db, result.rows, source=f"upload {upload.id} ({upload.filename})", actor=g.user.email, states=states
    )
    upload.status = "applied"
    audit("upload.apply", f"upload {upload.id}", after=applied.as_dict(), commit=False)
    db.commit()
    skipped = f", {len(applied.skipped)} left out (other states)" if applied.skipped else ""
    flash(
        f"Upload {upload.id} is the school list now: {applied.added} added, {applied.updated} changed, "
        f"{applied.removed} removed, {applied.unchanged} unchanged{skipped}.",
        "info",
    )
    return start_job("publish")
