"""Find and edit a school: loader validation, history, and two staff saving the same school at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from tests.staff.staff_support import ADMIN, EDITOR, audit_events, csrf_of, sign_in
from webmap import db
from webmap.models import SchoolHistory, SchoolRecord
from webmap.staff import records


def _record(url: str, record_id: int) -> SchoolRecord:
    with db.session_scope(url) as session:
        record = session.get(SchoolRecord, record_id)
        session.expunge(record)
    return record


def _il_record(url: str) -> SchoolRecord:
    with db.session_scope(url) as session:
        record = session.scalar(select(SchoolRecord).where(SchoolRecord.state == "IL").limit(1))
        session.expunge(record)
    return record


def test_find_by_name_and_state(admin_client, migrated_url) -> None:
    record = _il_record(migrated_url)
    words = record.name.split()[-3]  # e.g. "1750" of "Sample Community School 1750 (City, IL)"
    page = admin_client.get(f"/staff/schools?q={words}&state=IL").get_data(as_text=True)
    assert f'/staff/schools/{record.id}"' in page
    none = admin_client.get("/staff/schools?q=no+such+school+anywhere").get_data(as_text=True)
    assert "No school matches" in none


def test_edit_is_validated_as_the_loader_does(admin_client, migrated_url) -> None:
    record = _il_record(migrated_url)
    token = csrf_of(admin_client, "/staff/")
    form = {**record.fields, "version": str(record.version), "csrf_token": token}
    # No location at all: the loader's own rejection reason, nothing saved.
    bad = admin_client.post(
        f"/staff/schools/{record.id}", data=form | {"lat": "", "lon": "", "zip": "", "city": "", "state": ""}
    )
    assert bad.status_code == 400
    assert "Not saved: cannot place the school" in bad.get_data(as_text=True)
    assert _record(migrated_url, record.id).version == record.version
    # A spelled-out state is normalized to its USPS code, as the loader would.
    good = admin_client.post(
        f"/staff/schools/{record.id}", data=form | {"state": "Illinois", "grades": "6-8"}
    )
    assert good.status_code == 302
    saved = _record(migrated_url, record.id)
    assert (saved.fields["state"], saved.fields["grades"], saved.version) == ("IL", "6-8", record.version + 1)
    assert saved.source == "edit" and saved.updated_by == ADMIN[0]
    with db.session_scope(migrated_url) as session:
        versions = session.scalars(
            select(SchoolHistory.version)
            .where(SchoolHistory.record_id == record.id)
            .order_by(SchoolHistory.version)
        ).all()
    assert versions == [1, 2]
    page = admin_client.get(f"/staff/schools/{record.id}").get_data(as_text=True)
    assert 'id="school-history"' in page and "grades=6-8" in page


def test_two_staff_save_the_same_school_second_is_refused(staff_app, migrated_url) -> None:
    first, second = staff_app.test_client(), staff_app.test_client()
    assert sign_in(first, ADMIN).status_code == 302
    assert sign_in(second, EDITOR).status_code == 302
    first.get("/staff/")
    record = _il_record(migrated_url)
    # Both open the school (same version), then both save.
    token_1, token_2 = (
        csrf_of(first, f"/staff/schools/{record.id}"),
        csrf_of(second, f"/staff/schools/{record.id}"),
    )
    base = {**record.fields, "version": str(record.version)}
    ok = first.post(f"/staff/schools/{record.id}", data=base | {"grades": "K-5", "csrf_token": token_1})
    assert ok.status_code == 302
    late = second.post(
        f"/staff/schools/{record.id}", data=base | {"lead_partner": "Second Partner", "csrf_token": token_2}
    )
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "was changed by admin@example.org since you opened it" in text
    assert "your changes were not saved" in text
    assert 'value="Second Partner"' in text, "the refused values stay in the form: nothing is lost"
    saved = _record(migrated_url, record.id)
    assert saved.fields["grades"] == "K-5" and saved.fields["lead_partner"] == record.fields["lead_partner"]
    assert saved.version == record.version + 1
    conflicts = audit_events(migrated_url, "school.conflict")
    assert len(conflicts) == 1 and conflicts[0].after["lead_partner"] == "Second Partner"


def test_concurrent_flushes_are_refused_by_the_database(migrated_url, staff_app, admin_client) -> None:
    record = _il_record(migrated_url)
    factory = db.session_factory(migrated_url)
    one, two = factory(), factory()
    try:
        a, b = one.get(SchoolRecord, record.id), two.get(SchoolRecord, record.id)
        records.save_edit(one, a, a.fields | {"grades": "1-3"}, expected_version=a.version, actor="one")
        one.commit()
        # ``b`` still holds the old version: its UPDATE ... WHERE version = old matches no row.
        with pytest.raises(StaleDataError):
            records.save_edit(two, b, b.fields | {"grades": "4-6"}, expected_version=b.version, actor="two")
            two.flush()
        two.rollback()
    finally:
        one.close()
        two.close()
    assert _record(migrated_url, record.id).fields["grades"] == "1-3"


def _active(url: str) -> int:
    from sqlalchemy import func

    with db.session_scope(url) as session:
        return session.scalar(
            select(func.count()).select_from(SchoolRecord).where(SchoolRecord.deleted.is_(False))
        )


def test_add_and_remove_a_school(admin_client, migrated_url) -> None:
    token = csrf_of(admin_client, "/staff/")
    before = _active(migrated_url)
    added = admin_client.post(
        "/staff/schools/new",
        data={
            "name": "Brand New Community School",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "csrf_token": token,
        },
    )
    assert added.status_code == 302
    record_id = int(added.headers["Location"].rsplit("/", 1)[1])
    record = _record(migrated_url, record_id)
    assert record.fields["zip"] == "62701" and record.source == "added"
    assert _active(migrated_url) == before + 1  # adding one school leaves every other one in the list
    again = admin_client.post(
        "/staff/schools/new",
        data={
            "name": "Brand New Community School",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "csrf_token": token,
        },
    )
    assert again.status_code == 400 and "already in the list" in again.get_data(as_text=True)
    removed = admin_client.post(
        f"/staff/schools/{record_id}/remove", data={"version": str(record.version), "csrf_token": token}
    )
    assert removed.status_code == 302
    assert _record(migrated_url, record_id).deleted
    assert [e.action for e in audit_events(migrated_url) if e.target == f"school {record_id}"] == [
        "school.add",
        "school.remove",
    ]
