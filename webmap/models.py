"""The staff workspace's tables (SQLAlchemy 2 declarative); Alembic owns the schema (webmap/migrations).

Kept free of Flask so that the CLI (``csmap db``, ``csmap user``) and the
background publisher use the very same classes as the web app.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)

ROLES = ("admin", "editor")


def utcnow() -> dt.datetime:
    """Return the current time in UTC (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """The declarative base of every staff table."""


class User(Base):
    """A staff account: an admin, or an editor scoped to some states."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: USPS codes, comma-separated ("IL,IN"); empty for an admin.
    states: Mapped[str] = mapped_column(String(400), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def state_list(self) -> list[str]:
        """The editor's states as a list of USPS codes."""
        return [s for s in self.states.split(",") if s]

    @property
    def is_admin(self) -> bool:
        """True for an admin."""
        return self.role == "admin"

    def may_edit_state(self, state: str | None) -> bool:
        """Return True when this user may change a school in ``state``."""
        return self.is_admin or (bool(state) and state in self.state_list)


class StaffSession(Base):
    """A signed-in browser: the cookie carries a random id, the table its SHA-256."""

    __tablename__ = "staff_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginAttempt(Base):
    """One sign-in attempt, for throttling per account and per address."""

    __tablename__ = "login_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """Who did what, when, to what, with the before and after."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(8), default="", index=True)
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class SchoolRecord(Base):
    """One school of the list, as staff keep it: the loader's input fields, its source and version.

    ``fields`` holds the loader's fields (geo/school_columns.py FIELDS) as
    text; a publish writes them out as the build's school list, so that the
    build places and enriches them through today's pipeline.
    """

    __tablename__ = "school_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(600), index=True)
    state: Mapped[str] = mapped_column(String(8), default="", index=True)
    fields: Mapped[dict] = mapped_column(JSON)
    #: Where the current values came from: "sample", "upload 3 (list.csv, row 12)", "edit", "rollback".
    source: Mapped[str] = mapped_column(String(300), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320), default="")

    # Optimistic concurrency: every UPDATE says "WHERE version = <the version read>".
    __mapper_args__ = {"version_id_col": version}


class SchoolHistory(Base):
    """Every version a school record has had."""

    __tablename__ = "school_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("school_records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(300), default="")
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(320), default="")


class Upload(Base):
    """An uploaded list, its column mapping and its dry-run report."""

    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    columns: Mapped[dict] = mapped_column(JSON, default=dict)
    report: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    #: "checked", "failed", "applied".
    status: Mapped[str] = mapped_column(String(20), default="checked")
    uploaded_by: Mapped[str] = mapped_column(String(320), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PublishedBuild(Base):
    """A build made by a publish (or adopted by a rollback): who, counts and its school list."""

    __tablename__ = "published_builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    build_id: Mapped[str] = mapped_column(String(80), unique=True)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(320), default="")
    kind: Mapped[str] = mapped_column(String(20), default="publish")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The school list the build was made from (gzip CSV), so a rollback can rebuild it when pruned.
    school_list: Mapped[bytes] = mapped_column(LargeBinary)


class PublishJob(Base):
    """A publish or rollback running (or run) in the background, with its progress."""

    __tablename__ = "publish_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="publish")
    status: Mapped[str] = mapped_column(String(20), default="running")
    progress: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    build_id: Mapped[str] = mapped_column(String(80), default="")
    started_by: Mapped[str] = mapped_column(String(320), default="")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PublishLock(Base):
    """One row; ``job_id`` is set while a publish runs, so two never run at once (any process)."""

    __tablename__ = "publish_lock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


Index("ix_school_records_active_state", SchoolRecord.deleted, SchoolRecord.state)


class Submission(Base):
    """A Community Schools Census answer (``/count``), private until staff approve or merge it.

    ``fields`` holds the checked answer (geo.census.CENSUS_FIELDS); ``placed`` where the offline
    geocoder put it. ``status`` goes from "pending" to "approved", "merged" or "rejected" once,
    by a conditional UPDATE (webmap/submissions.py), so two staff deciding at once cannot both win.
    """

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    #: The client address, for the per-address rate limit (webmap/census.py).
    address: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    state: Mapped[str] = mapped_column(String(8), default="", index=True)
    name: Mapped[str] = mapped_column(String(600), default="")
    fields: Mapped[dict] = mapped_column(JSON)
    placed: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: The school id this answer corrects ("Suggest a correction"); "" for a new school.
    correction_of: Mapped[str] = mapped_column(String(80), default="")
    decided_by: Mapped[str] = mapped_column(String(320), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: The reason of a rejection, or what a merge took.
    decision_note: Mapped[str] = mapped_column(Text, default="")
    #: The school record it became or was merged into.
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
