"""Scratch PostgreSQL databases for tests: make one (optionally from a template), drop it.

The server is the one ``.ci/run`` starts (Debian's cluster, ``pg_ctlcluster``);
``CSMAP_TEST_POSTGRES_URL`` names a role that may create databases. The role is
not a superuser, so ``DROP DATABASE ... WITH (FORCE)`` is not used: it refuses to
end an autovacuum worker that happens to be in the database. A plain ``DROP``
asks autovacuum to leave by itself; the role's own leftover sessions are ended
first, and a busy database is retried for a few seconds.
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

POSTGRES_URL = os.environ.get(
    "CSMAP_TEST_POSTGRES_URL", "postgresql+psycopg://csmap:csmap@127.0.0.1:5432/postgres"
)


def under_ci() -> bool:
    """Whether CI is set: a missing server then fails the test instead of skipping it."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _admin_engine():
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(prefix: str, template: str | None = None) -> tuple[str, str]:
    """Create an empty database (or a copy of ``template``); return (name, URL).

    Skips the calling test when the server is unreachable, or fails it under CI.
    """
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    except Exception as exc:
        where = make_url(POSTGRES_URL).render_as_string()
        reason = f"PostgreSQL not reachable at {where}: {exc.__class__.__name__}: {exc}"
        if under_ci():
            pytest.fail(f"CI is set and {reason}; .ci/run must start PostgreSQL", pytrace=False)
        pytest.skip(reason)
    finally:
        admin.dispose()
    return name, make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str, attempts: int = 20) -> None:
    """End this role's sessions in database ``name`` and drop it, retrying while it is busy."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            for attempt in range(attempts):
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND usename = current_user"
                        " AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                try:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                    return
                except OperationalError:  # "being accessed by other users": try again shortly
                    if attempt == attempts - 1:
                        raise
                    time.sleep(0.25)
    finally:
        admin.dispose()
