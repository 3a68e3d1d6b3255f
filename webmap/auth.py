"""Sign-in for staff: sessions, CSRF, throttling, ``login_required`` and roles (flaskr's shape).

The cookie (Flask's signed session, named ``csmap_staff``) carries a random
session id; the ``staff_sessions`` table keeps its SHA-256, so signing out or
disabling an account ends the session on the server. The id is new at every
sign-in. Every state-changing request under ``/staff`` needs the session's
CSRF token. Failed sign-ins are throttled per account and per address.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from webmap import accounts
from webmap.db import get_session
from webmap.models import AuditEvent, LoginAttempt, StaffSession, User, utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/staff")

#: OWASP's authentication cheat sheet: throttle after a few failures; the issue fixes 5 in 15 minutes.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
#: A session unused this long, or older than the absolute limit, is signed out.
IDLE_LIMIT = dt.timedelta(hours=8)
ABSOLUTE_LIMIT = dt.timedelta(hours=24)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def client_address() -> str:
    """Return the client's address as the app sees it (put ProxyFix in front behind a proxy)."""
    return (request.remote_addr or "unknown")[:64]


def audit(
    action: str,
    target: str = "",
    *,
    state: str = "",
    before: Any = None,
    after: Any = None,
    detail: str = "",
    commit: bool = True,
) -> None:
    """Record an audit event for the signed-in user (or the address, when nobody is signed in)."""
    db = get_session()
    user = g.get("user")
    db.add(
        AuditEvent(
            actor=user.email if user is not None else "",
            address=client_address(),
            action=action,
            target=target[:200],
            state=(state or "")[:8],
            before=before,
            after=after,
            detail=detail[:4000],
        )
    )
    if commit:
        db.commit()


def csrf_token() -> str:
    """Return this session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def forbid(action: str, target: str = "", *, state: str = "", detail: str = "") -> None:
    """Audit a forbidden action and answer 403 with ``detail``."""
    audit("forbidden", target, state=state, after={"attempted": action}, detail=detail)
    abort(403, description=detail or f"you may not {action}")


def login_required(view: Callable) -> Callable:
    """Send a visitor who is not signed in to the sign-in page."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(**kwargs)

    return wrapped


def admin_required(action: str) -> Callable[[Callable], Callable]:
    """Allow only admins; anyone else gets 403 (audited) for ``action``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(**kwargs: Any):
            if not g.user.is_admin:
                forbid(action, request.path, detail=f"only an admin may {action}")
            return view(**kwargs)

        return wrapped

    return decorate


def too_many(message: str, template: str = "error.html", **context: Any):  # noqa: ANN201
    """Return a 429 page with ``Retry-After`` (the 15-minute window)."""
    page = render_template(template, status=429, title="Too Many Requests", message=message, **context)
    response = current_app.make_response((page, 429))
    response.headers["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
    return response


def rate_limited(actions: tuple[str, ...], config_key: str, default: int) -> Callable[[Callable], Callable]:
    """Answer 429 when the signed-in user did ``actions`` ``limit`` times in the last 15 minutes.

    The audit log is the counter, so the limit holds across app processes.
    ``app.config[config_key]`` overrides the ``default`` limit.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(**kwargs: Any):
            if request.method in UNSAFE_METHODS and g.get("user") is not None:
                limit = int(current_app.config.get(config_key, default))
                done = get_session().scalar(
                    select(func.count()).where(
                        AuditEvent.actor == g.user.email,
                        AuditEvent.action.in_(actions),
                        AuditEvent.at > utcnow() - FAILURE_WINDOW,
                    )
                )
                if (done or 0) >= limit:
                    audit(
                        "rate_limited",
                        request.path,
                        detail=f"more than {limit} x {'/'.join(actions)} in 15 minutes",
                    )
                    return too_many(f"you did this {limit} times in the last 15 minutes; wait a few minutes")
            return view(**kwargs)

        return wrapped

    return decorate


def _load_user() -> None:
    g.user = None
    if not request.path.startswith("/staff"):
        return
    sid = session.get("sid")
    if not sid:
        return
    db = get_session()
    row = db.get(StaffSession, _hash(sid))
    now = utcnow()
    if (
        row is None
        or now - _aware(row.last_seen_at) > IDLE_LIMIT
        or now - _aware(row.created_at) > ABSOLUTE_LIMIT
    ):
        if row is not None:
            db.delete(row)
            db.commit()
        session.pop("sid", None)
        return
    user = db.get(User, row.user_id)
    if user is None or user.disabled:
        session.pop("sid", None)
        return
    if now - _aware(row.last_seen_at) > dt.timedelta(minutes=1):
        row.last_seen_at = now
        db.commit()
    g.user = user


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or not request.path.startswith("/staff"):
        return
    if request.routing_exception is not None:
        return  # a 404 or 405 (with its Allow header) answers before any staff work
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        audit(
            "csrf.refused", request.path, detail=f"{request.method} {request.path} without a valid csrf_token"
        )
        abort(
            400,
            description="the form's csrf_token is missing or does not match this session; "
            "reload the page and try again",
        )


def _database_error(exc: SQLAlchemyError):  # noqa: ANN202
    logger.exception("staff database error on %s", request.path)
    message = (
        "the staff database is not ready or not reachable; an operator should run 'csmap db upgrade' "
        "(docs/STAFF.md)"
    )
    return render_template("error.html", status=503, title="Service Unavailable", message=message), 503


class StaffSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened for ``/staff`` only.

    Public pages never read or set a cookie, and the secret key
    (``$CSMAP_SECRET_KEY``, else ``DATA_DIR/secret_key``) is read or made on
    the first staff request, not when the app is created.
    """

    def open_session(self, app: Flask, request):  # noqa: ANN001, ANN201
        """Open the session of a staff request; None (a null session) elsewhere."""
        if not request.path.startswith("/staff"):
            return None
        if not app.secret_key:
            from pathlib import Path

            from webmap.db import secret_key

            app.secret_key = secret_key(Path(app.config["DATA_DIR"]))
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Configure the session cookie and load the signed-in user before each staff request."""
    # Only /staff touches the session, so public pages never set a cookie.
    app.config["SESSION_COOKIE_NAME"] = "csmap_staff"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("SECURE_COOKIES", "")).lower() in ("1", "true")
    app.session_interface = StaffSessionInterface()
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.after_request(_no_store)
    app.register_error_handler(SQLAlchemyError, _database_error)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.register_blueprint(bp)


def _throttled(email: str, address: str) -> bool:
    since = utcnow() - FAILURE_WINDOW
    db = get_session()
    failed = LoginAttempt.succeeded.is_(False) & (LoginAttempt.at > since)
    by_email = db.scalar(select(func.count()).where(failed, LoginAttempt.email == email)) or 0
    by_address = db.scalar(select(func.count()).where(failed, LoginAttempt.address == address)) or 0
    return by_email >= MAX_FAILURES or by_address >= MAX_FAILURES


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/staff") and not target.startswith("//"):
        return target
    return url_for("staff.home")


def _no_store(response):  # noqa: ANN001, ANN202
    """Keep every staff response out of caches and search engines (error pages included)."""
    if request.path.startswith("/staff"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form; sign in with e-mail and password."""
    error = ""
    status = 200
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()[:320]
        password = request.form.get("password") or ""
        address = client_address()
        if _throttled(email, address):
            audit("login.throttled", email, detail=f"more than {MAX_FAILURES} failed sign-ins in 15 minutes")
            return too_many(
                "Too many failed sign-ins for this account or address. Wait 15 minutes.",
                "staff/login.html",
                error="Too many failed sign-ins for this account or address. Wait 15 minutes.",
                email=email,
            )
        db = get_session()
        # Attempts older than a day no longer count for anything.
        db.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - dt.timedelta(days=1)))
        user = accounts.find_user(db, email)
        ok = accounts.verify_password(user.password_hash if user else None, password)
        ok = ok and user is not None and not user.disabled
        db.add(LoginAttempt(email=email, address=address, succeeded=ok))
        if ok:
            begin_session(user)
            audit("login", user.email)
            return redirect(_safe_next(request.args.get("next")))
        audit("login.failed", email, detail="wrong e-mail or password, or the account is disabled")
        error, status = "Wrong e-mail or password.", 401
    return render_template("staff/login.html", error=error, email=email), status


def begin_session(user: User) -> None:
    """Start a fresh session: a new id and CSRF token (the old ones are dropped), and the user on ``g``."""
    db = get_session()
    old = session.get("sid")
    if old:
        db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(old)))
    # Sign-in is a good moment to sweep sessions that can no longer be used.
    db.execute(
        delete(StaffSession).where(
            or_(
                StaffSession.last_seen_at < utcnow() - IDLE_LIMIT,
                StaffSession.created_at < utcnow() - ABSOLUTE_LIMIT,
            )
        )
    )
    session.clear()
    sid = secrets.token_urlsafe(32)
    db.add(StaffSession(id_hash=_hash(sid), user_id=user.id))
    user.last_login_at = utcnow()
    session["sid"] = sid
    session["csrf"] = secrets.token_urlsafe(32)
    g.user = user


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out: the session row is deleted, so the cookie is worthless from now on."""
    sid = session.get("sid")
    if sid:
        db = get_session()
        db.execute(delete(StaffSession).where(StaffSession.id_hash == _hash(sid)))
        if g.get("user") is not None:
            audit("logout", g.user.email, commit=False)
        db.commit()
    session.clear()
    return redirect(url_for("auth.login"))
