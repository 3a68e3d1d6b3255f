"""Fixtures of the staff workspace: a database on SQLite *and* PostgreSQL, a data folder, accounts.

PostgreSQL is the server ``.ci/run`` starts (Debian's cluster, ``pg_ctlcluster``);
``CSMAP_TEST_POSTGRES_URL`` points at a role that may create databases, and
each test gets a database of its own. Without a reachable server the
PostgreSQL half of each test is skipped with the reason, except under CI,
where it fails: CI must never pass on SQLite alone.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.staff.staff_support import ADMIN, EDITOR, EDITOR_STATES, sign_in

POSTGRES_URL = os.environ.get(
    "CSMAP_TEST_POSTGRES_URL", "postgresql+psycopg://csmap:csmap@127.0.0.1:5432/postgres"
)


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'staff.sqlite'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from webmap.db import dispose_engines

    try:
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"csmap_test_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        where = make_url(POSTGRES_URL).render_as_string()
        reason = f"PostgreSQL not reachable at {where}: {exc.__class__.__name__}"
        if _under_ci():
            pytest.fail(f"CI is set and {reason}; .ci/run must start PostgreSQL", pytrace=False)
        pytest.skip(reason)
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    dispose_engines()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def staff_data_dir(built_data_dir: Path, tmp_path: Path) -> Path:
    """A private data folder sharing the session build's files by hard link (cheap to make).

    Builds never change a file in place, so hard links are safe; new builds and files are private.
    """
    target = tmp_path / "data"
    shutil.copytree(built_data_dir, target, symlinks=True, copy_function=os.link)
    return target


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The database, migrated, with an admin and an editor for IL and IN."""
    from webmap import accounts, db

    db.upgrade(database_url)
    with db.session_scope(database_url) as session:
        accounts.add_user(session, ADMIN[0], ADMIN[1], "admin")
        accounts.add_user(session, EDITOR[0], EDITOR[1], "editor", EDITOR_STATES)
    return database_url


@pytest.fixture
def staff_app(migrated_url: str, staff_data_dir: Path):
    """The whole app on the private data folder and database."""
    from webmap import create_app

    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(staff_data_dir),
            "DATABASE_URL": migrated_url,
            "SECRET_KEY": "test key",
        }
    )


@pytest.fixture
def admin_client(staff_app):
    """A test client signed in as the admin."""
    client = staff_app.test_client()
    assert sign_in(client).status_code == 302
    assert client.get("/staff/").status_code == 200  # the first visit imports the current build's list
    return client


@pytest.fixture
def editor_client(staff_app):
    """A test client signed in as the editor of IL and IN."""
    client = staff_app.test_client()
    assert sign_in(client, EDITOR).status_code == 302
    assert client.get("/staff/").status_code == 200
    return client
