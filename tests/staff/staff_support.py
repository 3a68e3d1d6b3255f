"""Helpers of the staff tests: accounts, CSRF tokens, signing in, the audit log."""

from __future__ import annotations

import re

ADMIN = ("admin@example.org", "admin password 1")
EDITOR = ("editor@example.org", "editor password 1")
EDITOR_STATES = "IL,IN"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client, path: str = "/staff/login") -> str:
    """Return the CSRF token of the session, read from a page's form."""
    response = client.get(path)
    match = CSRF.search(response.get_data(as_text=True))
    assert match, f"no csrf_token in {path} ({response.status_code})"
    return match.group(1)


def sign_in(client, who: tuple[str, str] = ADMIN, *, address: str = "127.0.0.1"):
    """Sign ``client`` in and return the response of the sign-in POST."""
    token = csrf_of(client)
    return client.post(
        "/staff/login",
        data={"email": who[0], "password": who[1], "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


def audit_events(url: str, action: str | None = None) -> list:
    """Return the audit events (optionally of one action), oldest first."""
    from sqlalchemy import select

    from webmap import db
    from webmap.models import AuditEvent

    with db.session_scope(url) as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        events = list(session.scalars(query))
        session.expunge_all()
    return events
