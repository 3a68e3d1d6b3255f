"""Staff: accounts (admins only): list, add, disable and enable."""

from __future__ import annotations

import logging

from flask import abort, flash, g, redirect, render_template, request, url_for

from webmap import accounts
from webmap.auth import admin_required, audit, rate_limited
from webmap.db import get_session
from webmap.models import ROLES, StaffSession, User
from webmap.staff import bp

logger = logging.getLogger(__name__)


@bp.route("/users", methods=["GET", "POST"])
@admin_required("manage accounts")
@rate_limited(("user.add", "user.disable", "user.enable"), "STAFF_ACCOUNT_LIMIT", 50)
def user_list():
    """List accounts; add one."""
    db = get_session()
    error, status = "", 200
    if request.method == "POST":
        form = request.form
        try:
            user = accounts.add_user(
                db,
                form.get("email", ""),
                form.get("password", ""),
                form.get("role", ""),
                form.get("states", ""),
            )
        except accounts.AccountError as exc:
            db.rollback()
            error, status = str(exc), 400
        else:
            audit("user.add", user.email, after=accounts.describe(user))
            flash(f"Added {user.role} {user.email}.", "info")
            return redirect(url_for("staff.user_list"))
    return render_template(
        "staff/users.html", users=accounts.list_users(db), roles=ROLES, error=error
    ), status


@bp.route("/users/<int:user_id>/<any(disable, enable):action>", methods=["POST"])
@admin_required("manage accounts")
@rate_limited(("user.add", "user.disable", "user.enable"), "STAFF_ACCOUNT_LIMIT", 50)
def user_toggle(user_id: int, action: str):
    """Disable (signing them out everywhere) or enable an account."""
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404, description=f"no account {user_id}")
    if user.id == g.user.id and action == "disable":
        abort(400, description="you cannot disable your own account; ask another admin")
    before = accounts.describe(user)
    user.disabled = action == "disable"
    if user.disabled:
        db.query(StaffSession).filter(StaffSession.user_id == user.id).delete()
    audit(f"user.{action}", user.email, before=before, after=accounts.describe(user))
    flash(f"{user.email} is {action}d.", "info")
    return redirect(url_for("staff.user_list"))


@bp.route("/password", methods=["GET", "POST"])
@rate_limited(("user.password", "user.password_refused"), "STAFF_ACCOUNT_LIMIT", 50)
def password():
    """Change one's own password (the current one is asked again); other sessions end."""
    error, status = "", 200
    if request.method == "POST":
        db = get_session()
        current = request.form.get("current", "")
        new = request.form.get("new", "")
        if not accounts.verify_password(g.user.password_hash, current):
            error, status = "The current password is wrong; nothing was changed.", 400
            audit("user.password_refused", g.user.email, detail="wrong current password")
        elif new != request.form.get("again", ""):
            error, status = "The two new passwords differ; nothing was changed.", 400
        else:
            try:
                accounts.set_password(db, g.user, new)
            except accounts.AccountError as exc:
                error, status = str(exc), 400
            else:
                from webmap.auth import begin_session  # a fresh session id for this browser

                begin_session(g.user)
                audit("user.password", g.user.email)
                flash("Your password is changed; your other sessions were signed out.", "info")
                return redirect(url_for("staff.home"))
    return render_template("staff/password.html", error=error), status
