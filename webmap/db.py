"""The staff database: one engine and session factory for the app, the CLI and the publisher.

The embedded default is SQLite in the data folder (``staff.sqlite``);
``CSMAP_DATABASE_URL`` (e.g. ``postgresql+psycopg://csmap@/csmap``) selects
PostgreSQL. Alembic owns the schema: :func:`upgrade` (``csmap db upgrade``)
migrates to the newest revision in ``webmap/migrations``. docs/STAFF.md is
the operator's guide.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "CSMAP_DATABASE_URL"
SQLITE_NAME = "staff.sqlite"
SECRET_KEY_ENV = "CSMAP_SECRET_KEY"
SECRET_KEY_FILE = "secret_key"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database_url(data_dir: Path, configured: str | None = None) -> str:
    """Return the database URL: ``configured``, else ``$CSMAP_DATABASE_URL``, else SQLite in ``data_dir``."""
    url = configured or os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / SQLITE_NAME}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001  (DB-API types)
    cursor = dbapi_connection.cursor()
    # WAL lets the public app's readers and a writer work at once; the busy timeout makes a
    # second writer wait rather than fail; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(url: str) -> Engine:
    """Return the process's engine for ``url`` (made once)."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every engine's pooled connections (tests; after a fork)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _after_fork_in_child() -> None:
    # A pooled connection must never be shared by two processes (gunicorn forks after the app is
    # made): the child drops the parent's pool without closing the parent's connections.
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def session_factory(url: str) -> sessionmaker[Session]:
    """Return a session factory bound to the engine of ``url``."""
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on an exception."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str):  # noqa: ANN201  (alembic.config.Config; imported lazily)
    """Return the Alembic configuration for ``url`` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (default the newest)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    logger.info("database %s is at revision %s", redact(url), current_revision(url))


def current_revision(url: str) -> str | None:
    """Return the database's Alembic revision, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_migrated(url: str) -> bool:
    """Return True when the staff tables exist (never creates an SQLite file to find out)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return False
    return inspect(get_engine(url)).has_table("users")


def redact(url: str) -> str:
    """Return ``url`` with any password hidden, for logs and messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def secret_key(data_dir: Path) -> str:
    """Return ``$CSMAP_SECRET_KEY``, else the key generated once into ``data_dir/secret_key`` (mode 0600).

    The key is written whole to a private file, then hard-linked into place (which fails if the
    name exists), so two replicas starting at once agree on one key and neither reads a half-written one.
    """
    env = os.environ.get(SECRET_KEY_ENV)
    if env:
        return env
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
            os.link(draft, path)
            logger.info("generated a secret key in %s (mode 0600)", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        msg = f"the secret key file {path} is empty; delete it to generate a new one"
        raise RuntimeError(msg)
    return key


def init_app(app) -> None:  # noqa: ANN001  (Flask; imported by the caller)
    """Give the app its database URL and session factory; close sessions at teardown.

    The secret key is read (or generated) by :mod:`webmap.auth` on the first staff request.
    """
    from flask import g

    data_dir = Path(app.config["DATA_DIR"])
    url = database_url(data_dir, app.config.get("DATABASE_URL"))
    app.config["DATABASE_URL"] = url
    app.extensions["csmap_db"] = session_factory(url)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_session() -> Session:
    """Return this request's database session (one per request, closed at teardown)."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["csmap_db"]()
    return g.db_session
