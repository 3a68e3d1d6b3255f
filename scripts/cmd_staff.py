"""``csmap db`` and ``csmap user``: migrate the staff database and manage staff accounts.

docs/STAFF.md is the operator's guide.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scripts.common import data_dir_option, resolve_data_dir


def _url(data_dir: Path | None) -> str:
    from webmap import db

    return db.database_url(resolve_data_dir(data_dir))


def _ready(url: str) -> None:
    from webmap import db

    if not db.is_migrated(url):
        msg = f"the staff database {db.redact(url)} has no tables yet; run 'csmap db upgrade' first"
        raise click.ClickException(msg)


@click.group("db")
def db_group() -> None:
    """Manage the staff database (SQLite in the data folder, or $CSMAP_DATABASE_URL)."""


@db_group.command("upgrade")
@data_dir_option
def db_upgrade(data_dir: Path | None) -> None:
    """Create or migrate the staff database to the newest schema (safe to run again)."""
    from sqlalchemy.exc import SQLAlchemyError

    from webmap import db

    url = _url(data_dir)
    try:
        db.upgrade(url)
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot migrate {db.redact(url)}: {exc.__class__.__name__}: {exc}"
        ) from exc
    click.echo(f"staff database {db.redact(url)} is at revision {db.current_revision(url)}")


@db_group.command("current")
@data_dir_option
def db_current(data_dir: Path | None) -> None:
    """Print the database URL (password hidden) and its schema revision."""
    from webmap import db

    url = _url(data_dir)
    click.echo(f"{db.redact(url)} revision {db.current_revision(url) or '(none: run csmap db upgrade)'}")


@click.group("user")
def user_group() -> None:
    """Manage staff accounts: add, list, disable."""


@user_group.command("add")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["admin", "editor"]),
    required=True,
    help="admin: everything; editor: their states.",
)
@click.option("--states", default="", help="An editor's states, e.g. IL,IN.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@data_dir_option
def user_add(email: str, role: str, states: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Add a staff account; the password is prompted for (twice) unless --password-stdin."""
    from webmap import accounts, db
    from webmap.models import AuditEvent

    url = _url(data_dir)
    _ready(url)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.session_scope(url) as session:
            user = accounts.add_user(session, email, password, role, states)
            described = accounts.describe(user)
            session.add(
                AuditEvent(actor="csmap user add", action="user.add", target=user.email, after=described)
            )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    states_text = f" for {', '.join(described['states'])}" if described["states"] else ""
    click.echo(f"added {role} {described['email']}{states_text}")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@data_dir_option
def user_list(as_json: bool, data_dir: Path | None) -> None:
    """List the staff accounts."""
    from webmap import accounts, db

    url = _url(data_dir)
    _ready(url)
    with db.session_scope(url) as session:
        users = [accounts.describe(u) for u in accounts.list_users(session)]
    if as_json:
        click.echo(json.dumps(users))
        return
    for user in users:
        status = "disabled" if user["disabled"] else "active"
        click.echo(f"{user['email']}\t{user['role']}\t{','.join(user['states']) or 'all states'}\t{status}")


@user_group.command("disable")
@click.argument("email")
@data_dir_option
def user_disable(email: str, data_dir: Path | None) -> None:
    """Disable an account and end its sessions (the history keeps its name)."""
    from sqlalchemy import delete

    from webmap import accounts, db
    from webmap.models import AuditEvent, StaffSession

    url = _url(data_dir)
    _ready(url)
    with db.session_scope(url) as session:
        user = accounts.find_user(session, email)
        if user is None:
            raise click.ClickException(f"no account for {email!r} (csmap user list shows them)")
        before = accounts.describe(user)
        user.disabled = True
        session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
        session.add(
            AuditEvent(
                actor="csmap user disable",
                action="user.disable",
                target=user.email,
                before=before,
                after=accounts.describe(user),
            )
        )
    click.echo(f"disabled {email}")


@user_group.command("password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@data_dir_option
def user_password(email: str, password_stdin: bool, data_dir: Path | None) -> None:
    """Set a new password for an account (and sign it out everywhere); enables a disabled one."""
    from webmap import accounts, db
    from webmap.models import AuditEvent

    url = _url(data_dir)
    _ready(url)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with db.session_scope(url) as session:
            user = accounts.find_user(session, email)
            if user is None:
                raise click.ClickException(f"no account for {email!r} (csmap user list shows them)")
            before = accounts.describe(user)
            accounts.set_password(session, user, password)
            user.disabled = False
            session.add(
                AuditEvent(
                    actor="csmap user password",
                    action="user.password",
                    target=user.email,
                    before=before,
                    after=accounts.describe(user),
                )
            )
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"new password set for {email}")


def record_load_in_database(root: Path, build_dir: Path) -> str | None:
    """After ``csmap load``, make the staff records the loaded list (when the database is set up).

    So the staff workspace and the live build agree: the next publish builds
    the list ``csmap load`` made live, and it can be rolled back to. Returns a
    line to show, or None when there is no staff database.
    """
    from webmap import db
    from webmap.staff import publisher

    url = db.database_url(root)
    if not db.is_migrated(url):
        return None
    publisher.record_build(url, root, build_dir, actor="csmap load", kind="csmap load")
    return f"staff database {db.redact(url)}: school records set from build {build_dir.name}"
