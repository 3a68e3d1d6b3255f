"""Upload a list: the loader's dry run in the page, the column mapping, bad files change nothing."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from tests.staff.staff_support import audit_events, csrf_of
from webmap import db
from webmap.models import SchoolRecord, Upload
from webmap.staff import records

#: A small messy list: a duplicate, a row that cannot be placed, swapped coordinates, a point outside
#: its stated state (Hoboken, NJ stated as NY), a spelled-out state and a ZIP that lost its zero.
MESSY = (
    "School Name,Street Address,City,State,ZIP Code,Latitude,Longitude\n"
    "Lincoln Elementary,1 Main St,Chicago,IL,60614,,\n"
    "Lincoln Elementary,1 Main St,Chicago,IL,60614,,\n"
    "Nowhere School,,,,,,\n"
    "Swapped Coordinates Academy,,Peoria,Illinois,61602,-89.589,40.693\n"
    "Hoboken Community School,,Hoboken,NY,,40.744,-74.032\n"
    "Boston Latin Partners,,Boston,MA,2108,,\n"
)


def _upload(client, text: str, name: str = "messy.csv"):
    token = csrf_of(client, "/staff/uploads")
    return client.post(
        "/staff/uploads",
        data={"csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data",
    )


def _count(url: str) -> int:
    with db.session_scope(url) as session:
        return session.scalar(
            select(func.count()).select_from(SchoolRecord).where(SchoolRecord.deleted.is_(False))
        )


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_dry_run_report_shows_counts_rejects_flags_and_mapping(admin_client, migrated_url) -> None:
    before = _count(migrated_url)
    response = _upload(admin_client, MESSY)
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    text = _text(page)
    assert "Rows read 6 Loaded 4 Merged duplicates 1 Rejected 1" in text
    assert re.search(r"4 cannot place the school", text), "the reject names its row and reason"
    assert "Swapped Coordinates Academy" in text and "Hoboken Community School" in text
    assert re.search(r"Hoboken Community School [^<]*NY", text) or "outside" in text
    assert '<option value="School Name" selected>' in page, "the mapping found shows as chosen"
    assert 'id="upload-publish"' in page
    # A dry run changes nothing.
    assert _count(migrated_url) == before
    (event,) = audit_events(migrated_url, "upload.check")
    assert (event.after["rows"], event.after["loaded"], event.after["rejected"]) == (6, 4, 1)


def test_correct_the_mapping_and_run_again(admin_client, migrated_url) -> None:
    odd = "Campus Label,Town,Province\nWest Side School,Chicago,IL\nEast Side School,Gary,IN\n"
    response = _upload(admin_client, odd, "odd headers.csv")
    location = response.headers["Location"]
    page = admin_client.get(location).get_data(as_text=True)
    assert "missing required column &#39;name&#39;" in page
    assert '<option value="Campus Label"' in page, "the file's headers are offered for the mapping"
    assert 'id="upload-publish"' not in page
    token = csrf_of(admin_client, location)
    upload_id = int(location.rsplit("/", 1)[1])
    fixed = admin_client.post(
        f"/staff/uploads/{upload_id}/columns",
        data={
            "csrf_token": token,
            "column-name": "Campus Label",
            "column-city": "Town",
            "column-state": "Province",
        },
    )
    assert fixed.status_code == 302
    text = _text(admin_client.get(location).get_data(as_text=True))
    assert "Rows read 2 Loaded 2" in text and "Status: checked" in text
    unknown = admin_client.post(
        f"/staff/uploads/{upload_id}/columns", data={"csrf_token": token, "column-name": "No Such Header"}
    )
    assert unknown.status_code == 400 and "column-name=&#39;No Such Header&#39;" in unknown.get_data(
        as_text=True
    )
    assert [e.action for e in audit_events(migrated_url) if e.target == f"upload {upload_id}"] == [
        "upload.check",
        "upload.mapping",
    ]


def test_bad_uploads_get_the_loaders_errors_and_change_nothing(admin_client, migrated_url) -> None:
    before = _count(migrated_url)
    for content, name, message in [
        ("", "empty.csv", "empty"),
        ("PK\x03\x04 this is not a workbook", "list.xlsx", "list.xlsx"),
        ("just,some,words\n1,2,3\n", "words.csv", "missing required column"),
    ]:
        location = _upload(admin_client, content, name).headers["Location"]
        page = admin_client.get(location).get_data(as_text=True)
        assert "The loader could not use this file" in page, name
        assert message in page, (name, _text(page)[-800:])
        assert "/tmp/" not in page, "the server's temporary path is never shown"
        token = csrf_of(admin_client, location)
        refused = admin_client.post(f"{location}/publish", data={"csrf_token": token})
        assert refused.status_code == 409
    assert _count(migrated_url) == before
    with db.session_scope(migrated_url) as session:
        assert set(session.scalars(select(Upload.status))) == {"failed"}
    assert audit_events(migrated_url, "publish.start") == []


def test_an_editors_list_only_touches_their_states(migrated_url, staff_app, admin_client) -> None:
    rows = [
        ("cs-il-1", {"name": "Only IL School", "state": "IL", "city": "Chicago", "zip": "60614"}),
        ("cs-wi-1", {"name": "A WI School", "state": "WI", "city": "Madison", "zip": "53703"}),
    ]
    with db.session_scope(migrated_url) as session:
        in_il = session.scalar(
            select(func.count()).where(SchoolRecord.state == "IL", SchoolRecord.deleted.is_(False))
        )
        in_ny = session.scalar(
            select(func.count()).where(SchoolRecord.state == "NY", SchoolRecord.deleted.is_(False))
        )
        result = records.apply_list(session, rows, source="upload 9", actor="editor", states=["IL", "IN"])
    assert result.added == 1 and result.skipped == ["'A WI School' (WI)"]
    assert result.removed == in_il + _count_state(migrated_url, "IN", deleted=True)
    assert _count_state(migrated_url, "IL") == 1
    assert _count_state(migrated_url, "NY") == in_ny, "other states are untouched"
    assert _count_state(migrated_url, "WI", name="A WI School") == 0


def _count_state(url: str, state: str, *, deleted: bool = False, name: str | None = None) -> int:
    with db.session_scope(url) as session:
        query = select(func.count()).where(SchoolRecord.state == state, SchoolRecord.deleted.is_(deleted))
        if name:
            query = query.where(SchoolRecord.name == name)
        return session.scalar(query)
