"""Staff: the audit log, filterable by who, what, target, state and date."""

from __future__ import annotations

import datetime as dt
import logging

from flask import abort, g, render_template, request
from sqlalchemy import or_, select

from webmap.db import get_session
from webmap.models import AuditEvent
from webmap.staff import bp

logger = logging.getLogger(__name__)

PAGE_SIZE = 100


def _date(name: str) -> dt.datetime | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"{name}={value!r} is not a date (YYYY-MM-DD)")
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@bp.route("/audit")
def audit_log():
    """Show the audit log, newest first; an editor sees their own actions and their states' events."""
    filters = {k: (request.args.get(k) or "").strip() for k in ("actor", "action", "target", "state")}
    query = select(AuditEvent)
    if filters["actor"]:
        query = query.where(AuditEvent.actor.contains(filters["actor"].lower()))
    if filters["action"]:
        query = query.where(AuditEvent.action.startswith(filters["action"]))
    if filters["target"]:
        query = query.where(AuditEvent.target.contains(filters["target"]))
    if filters["state"]:
        query = query.where(AuditEvent.state == filters["state"].upper())
    since, until = _date("since"), _date("until")
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until + dt.timedelta(days=1))
    if not g.user.is_admin:
        query = query.where(or_(AuditEvent.actor == g.user.email, AuditEvent.state.in_(g.user.state_list)))
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        abort(400, description=f"page={request.args.get('page')!r} is not a whole number")
    events = (
        get_session()
        .scalars(query.order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
        .all()
    )
    return render_template(
        "staff/audit.html",
        events=events[:PAGE_SIZE],
        more=len(events) > PAGE_SIZE,
        page=page,
        filters=filters | {"since": request.args.get("since", ""), "until": request.args.get("until", "")},
    )
