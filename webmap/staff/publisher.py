"""Publish and rollback in the background: one at a time across every process, progress in the database.

A publish writes a snapshot of the school records as the data folder's
school list and builds through today's pipeline (:func:`geo.build.run_build`),
which switches ``current`` atomically; every app process picks the new build
up on its next request (webmap/data.py). A failed build leaves the current
one serving and the error on the job. No Flask here.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from geo import build as pipeline
from geo import store
from geo.school_list import SchoolList
from webmap.db import session_scope
from webmap.models import AuditEvent, PublishedBuild, PublishJob, PublishLock, utcnow
from webmap.staff import records

logger = logging.getLogger(__name__)

#: A running job that has not reported progress for this long is taken to be dead (its process
#: was killed); a new publish may then take the lock. A sample build reports every few seconds.
STALE_AFTER = dt.timedelta(minutes=10)
#: The name the snapshot gets in the data folder's inputs and in the build folder.
SNAPSHOT_NAME = "schools.csv"
BUILD_LIST_NAME = "school_list.csv"
ORIGIN = "staff database"


class PublishBusyError(Exception):
    """Another publish or rollback is running."""


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Return ``value`` as an aware UTC datetime (SQLite gives naive ones back)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def running_job(session: Session) -> PublishJob | None:
    """Return the job holding the publish lock, if any."""
    lock = session.get(PublishLock, 1)
    return session.get(PublishJob, lock.job_id) if lock and lock.job_id else None


def last_published_at(session: Session) -> dt.datetime | None:
    """Return when the live list was last made from the records: a publish's snapshot or a rollback."""
    from sqlalchemy import func

    times = [
        session.scalar(select(func.max(PublishedBuild.published_at))),
        session.scalar(
            select(func.max(PublishJob.finished_at)).where(
                PublishJob.kind == "rollback", PublishJob.status == "succeeded"
            )
        ),
    ]
    known = [u for u in (as_utc(t) for t in times if t is not None) if u is not None]
    return max(known) if known else None


def _rowcount(result: Any) -> int:
    """Rows an UPDATE matched (SQLAlchemy types ``execute`` as a plain Result)."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


def _acquire(url: str, kind: str, actor: str) -> int:
    with session_scope(url) as session:
        job = PublishJob(kind=kind, status="running", started_by=actor, progress="queued")
        session.add(job)
        session.flush()
        job_id = job.id
        taken = _rowcount(
            session.execute(
                update(PublishLock)
                .where(PublishLock.id == 1, PublishLock.job_id.is_(None))
                .values(job_id=job_id)
            )
        )
        if not taken:
            holder = running_job(session)
            stale = holder is None or (utcnow() - (as_utc(holder.heartbeat_at) or utcnow()) > STALE_AFTER)
            if stale:
                if holder is not None:
                    holder.status, holder.error = (
                        "failed",
                        "abandoned: its process stopped reporting progress",
                    )
                    holder.finished_at = utcnow()
                holder_id = holder.id if holder else None
                taken = _rowcount(
                    session.execute(
                        update(PublishLock)
                        .where(PublishLock.id == 1, PublishLock.job_id == holder_id)
                        .values(job_id=job_id)
                    )
                )
            if not taken:
                session.rollback()
                who = f" by {holder.started_by}" if holder else ""
                msg = (
                    f"a {holder.kind if holder else 'publish'} is already running (job "
                    f"{holder.id if holder else '?'}{who}); wait for it to finish"
                )
                raise PublishBusyError(msg)
    return job_id


def _release(url: str, job_id: int) -> None:
    with session_scope(url) as session:
        session.execute(update(PublishLock).where(PublishLock.job_id == job_id).values(job_id=None))


def _progress(url: str, job_id: int):  # noqa: ANN202
    def report(line: str) -> None:
        logger.info("publish job %d: %s", job_id, line)
        with session_scope(url) as session:
            job = session.get(PublishJob, job_id)
            if job is not None:
                job.progress = line[:2000]
                job.heartbeat_at = utcnow()

    return report


def _counts(report: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    keys = ("rows", "loaded", "merged", "rejected")
    return {k: report.get(k) for k in keys} | {"schools": manifest.get("row_counts", {}).get("schools")}


def build_from_records(url: str, root: Path, *, actor: str, kind: str, progress, **build_options) -> str:  # noqa: ANN001
    """Snapshot the records, build from the snapshot, and record the build.

    Returns the new build's id. On failure the current build, and its school
    list, keep serving.
    """
    with session_scope(url) as session:
        # The publish time is the snapshot's: an edit saved while the build runs is still pending after it.
        snapshot_at = utcnow()
        active = records.active_rows(session)
        plain = records.snapshot_csv(active)
        with_ids = records.snapshot_with_ids(active)
    progress(f"snapshot of {len(active):,} school records")
    from webmap.staff.loading import reference_for

    # The reference layers stay in memory between publishes: that is most of a build's reading time.
    build_options.setdefault("reference", reference_for(root))
    # The snapshot is handed to the build, which keeps it in its own folder: it comes into force
    # only when that build is published, so a failed or killed publish changes nothing (geo.school_list).
    snapshot = SchoolList(data=plain, name=f"{ORIGIN}.csv", suffix=".csv")
    summary = pipeline.run_build(root, force=True, schools=snapshot, progress=progress, **build_options)
    (summary.build_dir / BUILD_LIST_NAME).write_bytes(plain)
    with session_scope(url) as session:
        session.add(
            PublishedBuild(
                build_id=summary.build_dir.name,
                published_by=actor,
                kind=kind,
                is_sample=bool(summary.manifest.get("is_sample")),
                counts=_counts(summary.load_report, summary.manifest),
                school_list=with_ids,
                published_at=snapshot_at,
            )
        )
    return summary.build_dir.name


def _audit(
    url: str, action: str, actor: str, target: str, *, before=None, after=None, detail: str = ""
) -> None:  # noqa: ANN001
    with session_scope(url) as session:
        session.add(
            AuditEvent(
                actor=actor, action=action, target=target, before=before, after=after, detail=detail[:4000]
            )
        )


def _finish(url: str, job_id: int, *, build_id: str = "", error: str = "") -> None:
    with session_scope(url) as session:
        job = session.get(PublishJob, job_id)
        if job is None:  # deleted under us: nothing left to record
            return
        job.status = "failed" if error else "succeeded"
        job.error = error[:4000]
        job.build_id = build_id
        job.finished_at = utcnow()
        if not error:
            job.progress = f"published build {build_id}"


def _run_job(
    url: str, root: Path, job_id: int, actor: str, kind: str, target: str | None, options: dict
) -> None:
    progress = _progress(url, job_id)
    try:
        previous = _current_build_id(root)
        if kind == "rollback":
            build_id = _rollback(url, root, target, actor=actor, progress=progress, options=options)
        else:
            build_id = build_from_records(url, root, actor=actor, kind=kind, progress=progress, **options)
    except Exception as exc:  # the job reports every failure; the current build keeps serving
        logger.exception("publish job %d failed", job_id)
        error = f"{type(exc).__name__}: {exc}" if not str(exc).startswith("build failed") else str(exc)
        _finish(url, job_id, error=error)
        _audit(url, f"{kind}.failed", actor, f"job {job_id}", detail=error)
    else:
        _finish(url, job_id, build_id=build_id)
        _audit(
            url,
            f"{kind}.done",
            actor,
            f"build {build_id}",
            before={"build": previous},
            after={"build": build_id},
        )
    finally:
        _release(url, job_id)


def _current_build_id(root: Path) -> str | None:
    try:
        return store.current_build_dir(root).name
    except Exception:  # no build yet
        return None


def _rollback(url: str, root: Path, target: str | None, *, actor: str, progress, options: dict) -> str:  # noqa: ANN001
    """Make build ``target``'s list the records and the live build again (re-using its folder if kept)."""
    with session_scope(url) as session:
        chosen = session.scalar(select(PublishedBuild).where(PublishedBuild.build_id == target))
        if chosen is None:
            msg = f"build {target!r} is not in the publish history"
            raise LookupError(msg)
        result = records.restore_build(session, chosen, actor=actor)
    progress(f"school records restored to build {target}: {result.as_dict()}")
    folder = root / "builds" / str(target)
    if (folder / store.MANIFEST_NAME).exists() and (folder / BUILD_LIST_NAME).exists():
        store.publish(root, folder)  # its list, kept in the folder, comes back into force with it
        progress(f"build {target} is current again")
        return str(target)
    progress(f"build {target} was pruned; rebuilding its list")
    return build_from_records(url, root, actor=actor, kind="rollback", progress=progress, **options)


def start(
    url: str,
    root: Path,
    *,
    actor: str,
    kind: str = "publish",
    target: str | None = None,
    wait: bool = False,
    **options: Any,
) -> int:
    """Start a publish (or a rollback to build ``target``) in a background thread; return the job id.

    Raises
    ------
    PublishBusyError
        When another publish or rollback holds the lock.
    """
    job_id = _acquire(url, kind, actor)
    args = (url, root, job_id, actor, kind, target, options)
    if wait:
        _run_job(*args)
    else:
        threading.Thread(target=_run_job, args=args, name=f"csmap-publish-{job_id}", daemon=True).start()
    return job_id


def wait_for(url: str, job_id: int, timeout: float = 300.0) -> PublishJob:
    """Block until job ``job_id`` finishes (tests, the CLI); return it."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(url) as session:
            job = session.get(PublishJob, job_id)
            if job is None:
                msg = f"no publish job {job_id}"
                raise LookupError(msg)
            if job.status != "running" or time.monotonic() > deadline:
                session.expunge(job)
                return job
        time.sleep(0.2)


def adopt_current_build(url: str, root: Path, *, actor: str) -> str | None:
    """Seed empty records from the current build's list and record that build in the history.

    Called on first use, so that the school list staff edit is the one the
    map shows (the generated sample on a fresh install).
    """
    with session_scope(url) as session:
        if records.count_records(session):
            return None
    return record_build(url, root, store.current_build_dir(root), actor=actor, kind="adopted")


def record_build(url: str, root: Path, build_dir: Path, *, actor: str, kind: str) -> str:
    """Make the records equal the schools of ``build_dir`` and add it to the publish history.

    For builds made outside the workspace: the current build on first use
    (``adopted``), and ``csmap load`` (``csmap load``), so that the next
    publish builds the list that is live.
    """
    schools = store.read_table(build_dir, "schools")
    rows = records.fields_from_schools(schools)
    manifest = store.read_manifest(build_dir)
    source = "sample" if manifest.get("is_sample") else f"{kind} (build {build_dir.name})"
    with session_scope(url) as session:
        result = records.apply_list(session, rows, source=source, actor=actor)
        session.flush()
        active = records.active_rows(session)
        plain = records.snapshot_csv(active)
        if session.scalar(select(PublishedBuild).where(PublishedBuild.build_id == build_dir.name)) is None:
            session.add(
                PublishedBuild(
                    build_id=build_dir.name,
                    published_by=actor or "csmap",
                    kind=kind,
                    is_sample=bool(manifest.get("is_sample")),
                    counts=_counts(manifest.get("load_report", {}), manifest),
                    school_list=records.snapshot_with_ids(active),
                    # The time it joined the history, after the records were imported: nothing is pending.
                    published_at=utcnow(),
                )
            )
        session.add(
            AuditEvent(
                actor=actor,
                action="records.seed" if kind == "adopted" else "records.load",
                target=f"build {build_dir.name}",
                after=result.as_dict(),
                detail=f"school records set from build {build_dir.name} ({source})",
            )
        )
    if not (build_dir / BUILD_LIST_NAME).exists():
        # Keep the list beside the build, as publishes do, so a rollback can re-use the folder.
        tmp = build_dir / f".{BUILD_LIST_NAME}.{os.getpid()}.tmp"
        tmp.write_bytes(plain)
        os.replace(tmp, build_dir / BUILD_LIST_NAME)
    return build_dir.name
