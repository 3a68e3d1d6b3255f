"""Roles: an admin does everything; an editor only their states; every refusal is 403 and audited."""

from __future__ import annotations

from sqlalchemy import select

from tests.staff.staff_support import EDITOR, audit_events, csrf_of
from webmap import db
from webmap.models import SchoolRecord, User


def _record_in(url: str, state: str) -> SchoolRecord:
    with db.session_scope(url) as session:
        record = session.scalar(
            select(SchoolRecord).where(SchoolRecord.state == state).order_by(SchoolRecord.id).limit(1)
        )
        session.expunge(record)
    return record


def _form(record: SchoolRecord, token: str, **changes: str) -> dict[str, str]:
    return {**record.fields, **changes, "version": str(record.version), "csrf_token": token}


def _forbidden(url: str) -> list:
    return audit_events(url, "forbidden")


def test_editor_cannot_manage_accounts(editor_client, migrated_url) -> None:
    token = csrf_of(editor_client, "/staff/")
    assert editor_client.get("/staff/users").status_code == 403
    added = editor_client.post(
        "/staff/users",
        data={"email": "new@example.org", "role": "admin", "password": "long enough pw", "csrf_token": token},
    )
    assert added.status_code == 403
    assert editor_client.post("/staff/users/1/disable", data={"csrf_token": token}).status_code == 403
    with db.session_scope(migrated_url) as session:
        assert session.scalar(select(User).where(User.email == "new@example.org")) is None
        assert not session.get(User, 1).disabled
    events = _forbidden(migrated_url)
    assert [(e.actor, e.after["attempted"]) for e in events] == [(EDITOR[0], "manage accounts")] * 3


def test_editor_cannot_edit_or_remove_outside_their_states(editor_client, migrated_url) -> None:
    token = csrf_of(editor_client, "/staff/")
    record = _record_in(migrated_url, "NY")
    edit = editor_client.post(f"/staff/schools/{record.id}", data=_form(record, token, name="Hijacked"))
    assert edit.status_code == 403
    assert "you may not edit schools in NY" in edit.get_data(as_text=True)
    remove = editor_client.post(
        f"/staff/schools/{record.id}/remove", data={"version": str(record.version), "csrf_token": token}
    )
    assert remove.status_code == 403
    page = editor_client.get(f"/staff/schools/{record.id}").get_data(as_text=True)
    assert "outside your states" in page and "readonly" in page
    assert _record_in(migrated_url, "NY").fields == record.fields
    assert [(e.state, e.after["attempted"]) for e in _forbidden(migrated_url)] == [
        ("NY", "edit"),
        ("NY", "remove"),
    ]


def test_editor_cannot_move_a_school_out_of_their_states_or_add_elsewhere(
    editor_client, migrated_url
) -> None:
    token = csrf_of(editor_client, "/staff/")
    record = _record_in(migrated_url, "IL")
    moved = editor_client.post(
        f"/staff/schools/{record.id}",
        data=_form(record, token, state="WI", city="Milwaukee", zip="53202", lat="", lon="", address=""),
    )
    assert moved.status_code == 403
    added = editor_client.post(
        "/staff/schools/new",
        data={"name": "New School", "city": "Milwaukee", "state": "WI", "zip": "53202", "csrf_token": token},
    )
    assert added.status_code == 403
    assert _record_in(migrated_url, "IL").fields == record.fields
    assert [e.after["attempted"] for e in _forbidden(migrated_url)] == ["edit", "add"]


def test_editor_edits_in_their_state_but_cannot_roll_back(editor_client, migrated_url) -> None:
    token = csrf_of(editor_client, "/staff/")
    record = _record_in(migrated_url, "IL")
    saved = editor_client.post(f"/staff/schools/{record.id}", data=_form(record, token, grades="PK-5"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    assert _record_in(migrated_url, "IL").fields["grades"] == "PK-5"
    edits = audit_events(migrated_url, "school.edit")
    assert len(edits) == 1 and edits[0].before["grades"] == record.fields["grades"]
    assert edits[0].after["grades"] == "PK-5" and edits[0].state == "IL"
    rollback = editor_client.post("/staff/builds/anything/rollback", data={"csrf_token": token})
    assert rollback.status_code == 403
    assert _forbidden(migrated_url)[-1].after["attempted"] == "roll back"


def test_editor_cannot_publish_other_states_changes(
    staff_app, admin_client, editor_client, migrated_url
) -> None:
    admin_token = csrf_of(admin_client, "/staff/")
    record = _record_in(migrated_url, "NY")
    saved = admin_client.post(f"/staff/schools/{record.id}", data=_form(record, admin_token, grades="9-12"))
    assert saved.status_code == 302
    token = csrf_of(editor_client, "/staff/")
    refused = editor_client.post("/staff/builds/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    assert "outside your states: NY" in refused.get_data(as_text=True)
    assert _forbidden(migrated_url)[-1].after["attempted"] == "publish"
    assert audit_events(migrated_url, "publish.start") == []


def test_editor_sees_only_their_states_in_the_audit_log(admin_client, editor_client, migrated_url) -> None:
    admin_token = csrf_of(admin_client, "/staff/")
    for state, grades in (("NY", "9-12"), ("IN", "K-2")):
        record = _record_in(migrated_url, state)
        admin_client.post(f"/staff/schools/{record.id}", data=_form(record, admin_token, grades=grades))
    page = editor_client.get("/staff/audit?action=school.edit").get_data(as_text=True)
    assert "K-2" in page and "9-12" not in page
    everything = admin_client.get("/staff/audit?action=school.edit").get_data(as_text=True)
    assert "K-2" in everything and "9-12" in everything
    only_ny = admin_client.get("/staff/audit?state=NY").get_data(as_text=True)
    assert "9-12" in only_ny and "K-2" not in only_ny
    bad = admin_client.get("/staff/audit?since=yesterday")
    assert bad.status_code == 400 and "since=&#39;yesterday&#39;" in bad.get_data(as_text=True)


def test_admin_adds_and_disables_an_account_on_the_web(
    staff_app, admin_client, editor_client, migrated_url
) -> None:
    token = csrf_of(admin_client, "/staff/users")
    bad = admin_client.post(
        "/staff/users",
        data={
            "email": "new@example.org",
            "role": "editor",
            "states": "",
            "password": "long enough pw",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 400 and "an editor needs --states" in bad.get_data(as_text=True)
    added = admin_client.post(
        "/staff/users",
        data={
            "email": "New@Example.org",
            "role": "editor",
            "states": "wi",
            "password": "long enough pw",
            "csrf_token": token,
        },
    )
    assert added.status_code == 302
    (event,) = audit_events(migrated_url, "user.add")
    assert event.after == {"email": "new@example.org", "role": "editor", "states": ["WI"], "disabled": False}
    assert "password" not in str(event.after)
    with db.session_scope(migrated_url) as session:
        editor_id = session.scalar(select(User.id).where(User.email == EDITOR[0]))
    assert editor_client.get("/staff/").status_code == 200
    disabled = admin_client.post(f"/staff/users/{editor_id}/disable", data={"csrf_token": token})
    assert disabled.status_code == 302
    assert editor_client.get("/staff/").status_code == 302, "disabling ends the person's sessions at once"
    assert audit_events(migrated_url, "user.disable")[0].before["disabled"] is False
