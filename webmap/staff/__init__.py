"""The staff workspace under ``/staff/``: lists, schools, builds, audit log and accounts.

Every route needs a signed-in user (:mod:`webmap.auth`); every response is
``Cache-Control: no-store`` and ``noindex``; every change is audited.
docs/STAFF.md is the staff's guide.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, current_app, g, redirect, request, url_for
from sqlalchemy import select

from webmap.db import get_session
from webmap.models import SchoolRecord

logger = logging.getLogger(__name__)

bp = Blueprint("staff", __name__, url_prefix="/staff")

_seeded: set[str] = set()


def database_url() -> str:
    """Return the app's database URL."""
    return current_app.config["DATABASE_URL"]


def data_dir() -> Path:
    """Return the app's data folder."""
    return Path(current_app.config["DATA_DIR"])


@bp.before_request
def require_sign_in():
    """Send visitors who are not signed in to the sign-in page; seed the records on first use."""
    if g.get("user") is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    url = database_url()
    if not current_app.testing:
        from webmap.staff.loading import warm_in_background

        warm_in_background(data_dir())
    if url not in _seeded:
        if get_session().scalar(select(SchoolRecord.id).limit(1)) is None:
            from webmap.staff.publisher import adopt_current_build

            try:
                adopt_current_build(url, data_dir(), actor=g.user.email)
            except Exception as exc:  # no build yet: the pages say so; records come with the first upload
                logger.warning("could not import the current build's list: %s", exc)
                return None
        _seeded.add(url)
    return None


def init_app(app) -> None:  # noqa: ANN001
    """Register the staff blueprint with its views."""
    from webmap.staff import (  # noqa: F401  (routes)
        audit_log,
        builds,
        manifest,
        record_tables,
        schools,
        submissions,
        uploads,
        users,
    )

    app.register_blueprint(bp)
