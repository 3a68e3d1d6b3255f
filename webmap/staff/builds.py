"""Staff: the dashboard, the build history, Publish now, Rollback, and a job's progress."""

from __future__ import annotations

import logging

from flask import abort, flash, g, jsonify, redirect, render_template, url_for
from sqlalchemy import func, select

from geo import store
from webmap.auth import audit, forbid, rate_limited
from webmap.db import get_session
from webmap.models import PublishedBuild, PublishJob, SchoolHistory, SchoolRecord
from webmap.staff import bp, data_dir, database_url, publisher, record_tables, records

logger = logging.getLogger(__name__)


def _current_build_id() -> str | None:
    try:
        return store.current_build_dir(data_dir()).name
    except Exception:  # no build yet
        return None


def _pending_changes() -> int:
    last = publisher.last_published_at(get_session())
    query = select(func.count()).select_from(SchoolHistory)
    if last is not None:
        query = query.where(SchoolHistory.changed_at > last)
    return get_session().scalar(query) or 0


@bp.route("/")
def home():
    """Show the dashboard: the live build, the records, what is waiting to be published."""
    db = get_session()
    active = db.scalar(select(func.count()).select_from(SchoolRecord).where(SchoolRecord.deleted.is_(False)))
    return render_template(
        "staff/home.html",
        current=_current_build_id(),
        records=active or 0,
        pending=_pending_changes(),
        records_pending=record_tables.changed_since_live(data_dir()),
        job=publisher.running_job(db),
    )


@bp.route("/builds")
def build_list():
    """Show the build history with Publish now and Rollback; refreshes itself while a job runs."""
    db = get_session()
    history = db.scalars(select(PublishedBuild).order_by(PublishedBuild.published_at.desc()).limit(100)).all()
    jobs = db.scalars(select(PublishJob).order_by(PublishJob.id.desc()).limit(10)).all()
    current = _current_build_id()
    kept = (
        {p.name for p in (data_dir() / "builds").glob("*") if p.is_dir()}
        if (data_dir() / "builds").exists()
        else set()
    )
    return render_template(
        "staff/builds.html",
        history=history,
        jobs=jobs,
        running=publisher.running_job(db),
        current=current,
        kept=kept,
        pending=_pending_changes(),
    )


@bp.route("/builds/jobs/<int:job_id>")
def job_status(job_id: int):
    """Return a job's status and progress as JSON (the builds page shows the same)."""
    job = get_session().get(PublishJob, job_id)
    if job is None:
        abort(404, description=f"no publish job {job_id}")
    return jsonify(
        {
            "id": job.id,
            "kind": job.kind,
            "status": job.status,
            "progress": job.progress,
            "error": job.error,
            "build_id": job.build_id,
        }
    )


def start_job(kind: str, target: str | None = None):  # noqa: ANN201
    """Start a publish or rollback; a busy lock answers 409 with the running job named."""
    try:
        job_id = publisher.start(database_url(), data_dir(), actor=g.user.email, kind=kind, target=target)
    except publisher.PublishBusyError as exc:
        audit(f"{kind}.refused", target or "", detail=str(exc))
        flash(str(exc), "error")
        return redirect(url_for("staff.build_list")), 303
    audit(f"{kind}.start", target or f"job {job_id}", after={"job": job_id, "target": target})
    flash(f"{kind.capitalize()} started (job {job_id}); progress shows below.", "info")
    return redirect(url_for("staff.build_list"))


#: Publishes and rollbacks per person in 15 minutes (each is a whole build; only one runs at a time).
BUILD_LIMIT = 20
_BUILD_ACTIONS = ("publish.start", "rollback.start", "publish.refused", "rollback.refused")


@bp.route("/builds/publish", methods=["POST"])
@rate_limited(_BUILD_ACTIONS, "STAFF_BUILD_LIMIT", BUILD_LIMIT)
def publish_now():
    """Publish the records now; an editor only when every change waiting is in their states."""
    if not g.user.is_admin:
        last = publisher.last_published_at(get_session())
        states = records.changed_states_since(get_session(), last)
        outside = sorted(s or "no state" for s in states if s not in g.user.state_list)
        if outside:
            forbid(
                "publish",
                "publish",
                state=outside[0] if outside[0] != "no state" else "",
                detail="changes waiting to be published include schools outside your states: "
                f"{', '.join(outside)}; ask an admin to publish",
            )
    return start_job("publish")


@bp.route("/builds/<build_id>/rollback", methods=["POST"])
@rate_limited(_BUILD_ACTIONS, "STAFF_BUILD_LIMIT", BUILD_LIMIT)
def rollback(build_id: str):
    """Roll the map, the API and the records back to an earlier build (admins only)."""
    if not g.user.is_admin:
        forbid("roll back", f"build {build_id}", detail="only an admin may roll back: it changes every state")
    if get_session().scalar(select(PublishedBuild).where(PublishedBuild.build_id == build_id)) is None:
        abort(404, description=f"build {build_id!r} is not in the publish history")
    return start_job("rollback", build_id)
