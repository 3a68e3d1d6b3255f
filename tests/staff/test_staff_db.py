"""The staff database: migrations on SQLite and PostgreSQL, the secret key, `csmap db` and `csmap user`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select

from scripts.cli import cli
from webmap import accounts, db
from webmap.models import AuditEvent, User

TABLES = {
    "users",
    "staff_sessions",
    "login_attempts",
    "audit_events",
    "school_records",
    "school_history",
    "uploads",
    "published_builds",
    "publish_jobs",
    "publish_lock",
    "submissions",
}


def test_upgrade_creates_every_table_and_is_repeatable(database_url: str) -> None:
    assert db.current_revision(database_url) is None
    db.upgrade(database_url)
    db.upgrade(database_url)  # a second run is a no-op, as `make serve` runs it every time
    assert db.current_revision(database_url) == "0002"
    assert TABLES <= set(inspect(db.get_engine(database_url)).get_table_names())


def test_user_add_hashes_with_argon2id_and_checks_input(database_url: str) -> None:
    db.upgrade(database_url)
    with db.session_scope(database_url) as session:
        user = accounts.add_user(session, "Ed@Example.org", "a long password", "editor", "il, Indiana")
        assert (user.email, user.states) == ("ed@example.org", "IL,IN")
        assert user.password_hash.startswith("$argon2id$")
        assert accounts.verify_password(user.password_hash, "a long password")
        assert not accounts.verify_password(user.password_hash, "a long passwore")
    bad = [
        (("x@example.org", "a long password", "editor", ""), "needs --states"),
        (("x@example.org", "a long password", "admin", "IL"), "not limited to states"),
        (("x@example.org", "short", "admin", ""), "at least 10"),
        (("not-an-email", "a long password", "admin", ""), "'not-an-email' is not an e-mail"),
        (("x@example.org", "a long password", "owner", ""), "unknown role 'owner'"),
        (("x@example.org", "a long password", "editor", "IL,Atlantis"), "unknown state 'Atlantis'"),
        (("ED@example.org", "a long password", "admin", ""), "already exists"),
    ]
    for args, message in bad:
        with db.session_scope(database_url) as session, pytest.raises(accounts.AccountError, match=message):
            accounts.add_user(session, *args)


def test_cli_db_and_user_commands(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSMAP_DATABASE_URL", database_url)
    runner = CliRunner()
    refused = runner.invoke(cli, ["user", "list", "--data-dir", str(tmp_path)])
    assert refused.exit_code != 0 and "csmap db upgrade" in refused.output
    result = runner.invoke(cli, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "revision 0002" in result.output
    added = runner.invoke(
        cli,
        [
            "user",
            "add",
            "boss@example.org",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(tmp_path),
        ],
        input="correct horse battery\n",
    )
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(
        cli,
        ["user", "add", "ed@example.org", "--role", "editor", "--states", "IL", "--data-dir", str(tmp_path)],
        input="editor password\neditor password\n",
    )
    assert prompted.exit_code == 0, prompted.output
    short = runner.invoke(
        cli,
        ["user", "add", "x@example.org", "--role", "admin", "--password-stdin", "--data-dir", str(tmp_path)],
        input="short\n",
    )
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    listed = runner.invoke(cli, ["user", "list", "--json", "--data-dir", str(tmp_path)])
    assert [u["email"] for u in json.loads(listed.output)] == [
        "boss@example.org",
        "ed@example.org",
    ]
    reset = runner.invoke(
        cli,
        ["user", "password", "boss@example.org", "--password-stdin", "--data-dir", str(tmp_path)],
        input="a new boss password\n",
    )
    assert reset.exit_code == 0, reset.output
    disabled = runner.invoke(cli, ["user", "disable", "ED@example.org", "--data-dir", str(tmp_path)])
    assert disabled.exit_code == 0, disabled.output
    missing = runner.invoke(cli, ["user", "disable", "nobody@example.org", "--data-dir", str(tmp_path)])
    assert missing.exit_code != 0 and "no account for 'nobody@example.org'" in missing.output
    with db.session_scope(database_url) as session:
        editor = session.scalar(select(User).where(User.email == "ed@example.org"))
        assert editor.disabled and editor.state_list == ["IL"]
        assert accounts.verify_password(
            session.scalar(select(User.password_hash).where(User.email == "boss@example.org")),
            "a new boss password",
        )
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["user.add", "user.add", "user.password", "user.disable"]


def test_default_database_is_sqlite_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CSMAP_DATABASE_URL", raising=False)
    assert db.database_url(tmp_path) == f"sqlite:///{tmp_path / 'staff.sqlite'}"
    monkeypatch.setenv("CSMAP_DATABASE_URL", "postgresql+psycopg://u:secret@db/csmap")
    assert db.database_url(tmp_path) == "postgresql+psycopg://u:secret@db/csmap"
    assert "secret" not in db.redact(db.database_url(tmp_path))


def test_secret_key_is_generated_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSMAP_SECRET_KEY", raising=False)
    first = db.secret_key(tmp_path)
    assert len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert db.secret_key(tmp_path) == first
    monkeypatch.setenv("CSMAP_SECRET_KEY", "from the environment")
    assert db.secret_key(tmp_path) == "from the environment"
