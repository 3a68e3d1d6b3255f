"""Staff editing of the record tables (issue 14 point 7): edit, add, remove, import, export.

Sign-in and CSRF for these routes are in test_staff_auth.py's route lists.
"""

from __future__ import annotations

import io
import re

import pandas as pd

from tests.staff.staff_support import audit_events, csrf_of

VERSION = re.compile(r'name="version" value="([^"]+)"')


def _form(client, path: str) -> dict[str, str]:
    """The form's fields as the page shows them (inputs by name), with its CSRF token."""
    page = client.get(path).get_data(as_text=True)
    fields = dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', page))
    fields["csrf_token"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    fields["version"] = VERSION.search(page).group(1)
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in fields.items()}


def _saved(data_dir, table: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / "inputs" / f"{table}.csv", dtype=str, keep_default_na=False)


def test_admin_edits_a_coalition_and_it_is_saved_checked_and_audited(
    admin_client, staff_data_dir, migrated_url
):
    assert '<dd id="records-pending">none</dd>' in admin_client.get("/staff/").get_data(as_text=True)
    form = _form(admin_client, "/staff/records/coalitions/row/OH")
    assert form["stusps"] == "OH"
    response = admin_client.post(
        "/staff/records/coalitions/row/OH",
        data=form | {"stage": "bogus", "website": "https://oh.example.org"},
    )
    assert response.status_code == 400
    assert "unknown stage &#39;bogus&#39;" in response.get_data(as_text=True)
    assert not (staff_data_dir / "inputs" / "coalitions.csv").exists()  # nothing saved

    response = admin_client.post(
        "/staff/records/coalitions/row/OH",
        data=form | {"stage": "evolving", "website": "https://oh.example.org"},
    )
    assert response.status_code == 302
    saved = _saved(staff_data_dir, "coalitions").set_index("stusps")
    assert saved.loc["OH", "stage"] == "evolving" and saved.loc["OH", "website"] == "https://oh.example.org"
    assert len(saved) == 56  # every other state's row is kept
    assert '<dd id="records-pending">coalitions</dd>' in admin_client.get("/staff/").get_data(as_text=True)
    event = audit_events(migrated_url, "record.edit")[-1]
    assert event.target == "coalitions OH" and event.state == "OH"
    assert event.before["website"] != event.after["website"] == "https://oh.example.org"

    # The form opened before the save is stale now: refused, nothing changes, audited.
    again = admin_client.post("/staff/records/coalitions/row/OH", data=form | {"stage": "emerging"})
    assert again.status_code == 409
    assert _saved(staff_data_dir, "coalitions").set_index("stusps").loc["OH", "stage"] == "evolving"
    assert audit_events(migrated_url, "record.conflict")


def test_add_and_remove_a_partner_keeps_sample_labels(admin_client, staff_data_dir):
    fresh = {
        "name": "Acme Youth Services",
        "partner_type": "nonprofit",
        "website": "https://acme.example.org",
    }
    response = admin_client.post(
        "/staff/records/partners/new", data=_form(admin_client, "/staff/records/partners/new") | fresh
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/p-acme-youth-services")
    saved = _saved(staff_data_dir, "partners").set_index("partner_id")
    assert saved.loc["p-acme-youth-services", "is_sample"] == "False"
    assert (saved.drop(index="p-acme-youth-services")["is_sample"] == "True").all()  # sample rows stay sample
    duplicate = admin_client.post(
        "/staff/records/partners/new", data=_form(admin_client, "/staff/records/partners/new") | fresh
    )
    assert duplicate.status_code == 400 and "already has partner_id" in duplicate.get_data(as_text=True)

    form = _form(admin_client, "/staff/records/partners/row/p-acme-youth-services")
    gone = admin_client.post(
        "/staff/records/partners/row/p-acme-youth-services/remove",
        data={"csrf_token": form["csrf_token"], "version": form["version"]},
    )
    assert gone.status_code == 302
    assert "p-acme-youth-services" not in set(_saved(staff_data_dir, "partners")["partner_id"])


def test_editor_edits_only_their_states_and_cannot_import(editor_client, staff_data_dir, migrated_url):
    form = _form(editor_client, "/staff/records/coalitions/row/IL")
    assert (
        editor_client.post("/staff/records/coalitions/row/IL", data=form | {"stage": "emerging"}).status_code
        == 302
    )
    form = _form(editor_client, "/staff/records/coalitions/row/OH")
    assert (
        editor_client.post("/staff/records/coalitions/row/OH", data=form | {"stage": "emerging"}).status_code
        == 403
    )
    saved = _saved(staff_data_dir, "coalitions").set_index("stusps")
    assert saved.loc["IL", "stage"] == "emerging" and saved.loc["OH", "stage"] != "emerging"
    body = {
        "csrf_token": csrf_of(editor_client, "/staff/records"),
        "file": (io.BytesIO(b"stusps,stage\nIL,exploring\n"), "c.csv"),
    }
    refused = editor_client.post(
        "/staff/records/coalitions/import", data=body, content_type="multipart/form-data"
    )
    assert refused.status_code == 403
    assert {e.target for e in audit_events(migrated_url, "forbidden")} >= {
        "coalitions OH",
        "coalitions table",
    }


def test_import_accounts_for_every_row_and_check_only_saves_nothing(
    admin_client, staff_data_dir, migrated_url
):
    csv = (
        "Partner Name,Type,Website\n"
        "Bright Futures Alliance,nonprofit,https://bfa.example.org\n"
        "Bright Futures Alliance,nonprofit,\n"  # the same partner again: merged
        "Nowhere Org,spaceship,\n"  # an unknown type: rejected with the value quoted
    )
    token = csrf_of(admin_client, "/staff/records")

    def send(check_only: bool):
        body = {"csrf_token": token, "file": (io.BytesIO(csv.encode()), "partners.csv")}
        if check_only:
            body["check_only"] = "1"
        return admin_client.post(
            "/staff/records/partners/import", data=body, content_type="multipart/form-data"
        )

    checked = send(True)
    assert checked.status_code == 200
    text = checked.get_data(as_text=True)
    for label, count in (("Rows read", 3), ("Loaded", 1), ("Merged as duplicates", 1), ("Rejected", 1)):
        assert f'<th scope="row">{label}</th><td>{count}</td>' in text
    assert "spaceship" in text and "Nothing was saved" not in text and "nothing was saved" in text
    assert not (staff_data_dir / "inputs" / "partners.csv").exists()

    saved = send(False)
    assert saved.status_code == 200 and "Saved as the partners table" in saved.get_data(as_text=True)
    table = _saved(staff_data_dir, "partners")
    assert list(table["name"]) == ["Bright Futures Alliance"]
    rejects = pd.read_csv(staff_data_dir / "inputs" / "partners.rejects.csv", dtype=str)
    assert rejects["source_row"].tolist() == ["4"]
    event = audit_events(migrated_url, "record.import")[-1]
    assert event.after["rows"] == 3 and event.after["rejected"] == 1

    bad = admin_client.post(
        "/staff/records/partners/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"colour\nred\n"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "Nothing was imported" in bad.get_data(as_text=True)


def test_export_is_the_table_as_csv_and_unknown_tables_are_404(admin_client):
    response = admin_client.get("/staff/records/communities/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    frame = pd.read_csv(io.StringIO(response.get_data(as_text=True)), dtype=str)
    assert {"community_id", "name", "stusps", "lead_type"} <= set(frame.columns) and len(frame) > 0
    assert admin_client.get("/staff/records/nonsense").status_code == 404
    assert admin_client.get("/staff/records/partner_schools/new").status_code == 404  # import only
    assert admin_client.get("/staff/records/partners/row/no-such-partner").status_code == 404


def test_import_rate_limit(staff_app, admin_client, migrated_url):
    staff_app.config.update(STAFF_UPLOAD_LIMIT=1)
    token = csrf_of(admin_client, "/staff/records")

    def send():
        body = {
            "csrf_token": token,
            "check_only": "1",
            "file": (io.BytesIO(b"name,type\nA,nonprofit\n"), "p.csv"),
        }
        return admin_client.post(
            "/staff/records/partners/import", data=body, content_type="multipart/form-data"
        )

    assert [send().status_code, send().status_code] == [200, 429]
    assert audit_events(migrated_url, "rate_limited")
