"""Alembic environment: the URL comes from ``webmap.db.alembic_config`` (no alembic.ini)."""

from __future__ import annotations

import logging

from alembic import context

from webmap.db import get_engine
from webmap.models import Base

logger = logging.getLogger(__name__)

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Emit the SQL without a connection (``alembic upgrade --sql``)."""
    context.configure(url=config.attributes["url"], target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the process's engine for the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(config.attributes["url"]).connect() as connection:
        _run(connection)


def _run(connection) -> None:  # noqa: ANN001
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
