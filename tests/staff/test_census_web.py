"""The census form (/count) and its moderation (/staff/submissions), on SQLite and PostgreSQL.

The abuse rules (CSRF, honeypot, rate limit, size limits), that nothing submitted is public
before approval, role and CSRF checks of every staff action, and two staff deciding at once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.staff.staff_support import CSRF, audit_events, csrf_of

ANSWER = {
    "name": "Zyxwv Census Academy",
    "address": "2045 N Lincoln Ave",
    "city": "Chicago",
    "state": "IL",
    "zip": "60614",
    "country": "US",
    "contact_name": "Ada Lovelace",
    "contact_email": "ada@example.org",
    "grades": "K-8",
    "setting": "urban",
    "element_coordination": "yes",
    "element_leadership": "in_progress",
    "element_planning": "no",
    "stage": "emerging",
    "lead_partner": "Sample Partner",
}


def _token(client, path: str = "/count") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, "the census form has no csrf_token"
    return match.group(1)


def _send(client, answer: dict, *, address: str = "192.0.2.1", token: str | None = None):
    data = answer | {"csrf_token": token if token is not None else _token(client)}
    return client.post("/count", data=data, environ_base={"REMOTE_ADDR": address})


def _pending(url: str) -> list:
    from webmap import db
    from webmap.models import Submission

    with db.session_scope(url) as session:
        rows = list(session.scalars(select(Submission).order_by(Submission.id)))
        session.expunge_all()
    return rows


def _records_named(url: str, name: str) -> int:
    from webmap import db
    from webmap.models import SchoolRecord

    with db.session_scope(url) as session:
        query = select(func.count()).where(SchoolRecord.name == name, SchoolRecord.deleted.is_(False))
        return session.scalar(query) or 0


def test_the_form_takes_an_answer_keeps_bad_input_and_hides_it_from_every_public_view(
    staff_app, migrated_url: str
) -> None:
    client = staff_app.test_client()
    page = client.get("/count")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Be counted" in html and 'name="website"' in html
    assert 'list="partner-names"' in html and "csmap_count=" in page.headers["Set-Cookie"]
    # Bad input: 400, one message per field, what was typed is still there.
    bad = _send(client, ANSWER | {"contact_email": "ada at example", "grades": "K to 8", "zip": "606"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "E-mail must look like name@example.org; got &#39;ada at example&#39;" in text
    assert 'id="e-grades"' in text and 'value="K to 8"' in text and 'id="e-zip"' in text
    assert _pending(migrated_url) == []
    # The no-JavaScript "Check the place" shows where it lands and stores nothing.
    checked = _send(client, ANSWER | {"action": "locate"})
    assert checked.status_code == 200 and "Is this your school?" in checked.get_data(as_text=True)
    assert _pending(migrated_url) == []
    sent = _send(client, ANSWER)
    assert sent.status_code == 200 and "Thank you" in sent.get_data(as_text=True)
    (stored,) = _pending(migrated_url)
    assert (stored.status, stored.state, stored.fields["setting"]) == ("pending", "IL", "urban")
    assert stored.placed["precision"] in ("zip", "street", "city") and stored.address == "192.0.2.1"
    assert [e.target for e in audit_events(migrated_url, "census.submit")] == [f"submission {stored.id}"]
    # Nothing of it is public before approval: API, pages, downloads, OGC API, /find.
    for path in (
        "/api/schools?state=IL&limit=1000",
        "/map/schools.json",
        "/states/IL",
        "/find?q=60614",
        "/downloads/schools.csv?state=IL",
        "/ogcapi/collections/schools/items?limit=1000&f=json",
        "/api/partners",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b"Zyxwv" not in response.data and b"ada@example.org" not in response.data, path


def test_abuse_rules_csrf_honeypot_rate_limit_and_sizes(staff_app, migrated_url: str) -> None:
    client = staff_app.test_client()
    no_token = _send(client, ANSWER, token="")
    assert no_token.status_code == 400 and "csrf_token" in no_token.get_data(as_text=True)
    stranger = staff_app.test_client()  # a token from another browser does not fit this one's cookie
    assert _send(stranger, ANSWER, token=_token(client)).status_code == 400
    assert _pending(migrated_url) == []
    # The honeypot: answered like a success, logged, not stored.
    bot = _send(client, ANSWER | {"website": "http://spam.example"}, address="198.51.100.7")
    assert bot.status_code == 200 and "Thank you" in bot.get_data(as_text=True)
    assert _pending(migrated_url) == []
    assert "spam.example" in audit_events(migrated_url, "census.honeypot")[0].detail
    # Sizes: a field too long is named; a body over the limit is a 413.
    long_name = _send(client, ANSWER | {"name": "N" * 201})
    assert long_name.status_code == 400 and "School name is too long: 201 characters" in long_name.get_data(
        as_text=True
    )
    huge = _send(client, ANSWER | {"other_partners": "x" * 40_000})
    assert huge.status_code == 413 and "larger than 32 KB" in huge.get_data(as_text=True)
    # The rate limit: 5 an hour per address (the bot's one counts for its address).
    for i in range(5):
        assert _send(client, ANSWER | {"name": f"Rate School {i}"}).status_code == 200
    sixth = _send(client, ANSWER | {"name": "Rate School 6"})
    assert sixth.status_code == 429 and sixth.headers["Retry-After"] == "3600"
    assert "in the last hour" in sixth.get_data(as_text=True)
    assert _send(client, ANSWER, address="192.0.2.99").status_code == 200  # another address is not limited
    assert len(_pending(migrated_url)) == 6
    for _ in range(4):
        assert _send(client, ANSWER, address="198.51.100.7").status_code == 200
    assert _send(client, ANSWER, address="198.51.100.7").status_code == 429
    assert audit_events(migrated_url, "census.rate_limited")


def test_locate_answers_json_and_names_bad_parameters(staff_app) -> None:
    client = staff_app.test_client()
    ok = client.get("/count/locate?address=&city=Chicago&state=IL&zip=60614&country=US")
    assert ok.status_code == 200 and ok.json["precision"] == "zip"
    assert 41.8 < ok.json["lat"] < 42.0 and -87.8 < ok.json["lon"] < -87.5
    json = {"Accept": "application/json"}
    bad_state = client.get("/count/locate?city=Chicago&state=Atlantis", headers=json)
    assert bad_state.status_code == 400 and bad_state.json["parameter"] == "state"
    assert "'Atlantis'" in bad_state.json["description"]
    unknown = client.get("/count/locate?city=Chicago&radius=5", headers=json)
    assert unknown.status_code == 400 and "'radius'" in unknown.json["description"]
    assert client.get("/count/locate", headers=json).status_code == 400


def test_a_correction_link_fills_the_form_from_the_school(staff_app) -> None:
    client = staff_app.test_client()
    school = client.get("/api/schools?state=IL&limit=1").json["schools"][0]
    school_id = school.get("school_id") or school.get("id")
    page = client.get(f"/count?school_id={school_id}").get_data(as_text=True)
    assert f'name="correction_of" value="{school_id}"' in page and school["name"] in page
    missing = client.get("/count?school_id=nces-000000000000")
    assert missing.status_code == 404 and "nces-000000000000" in missing.get_data(as_text=True)
    assert client.get("/count?school_id=%3Cscript%3E").status_code == 400


def _submit_one(staff_app, answer: dict, address: str = "192.0.2.10") -> None:
    client = staff_app.test_client()
    assert _send(client, answer, address=address).status_code == 200


def test_moderation_needs_sign_in_role_csrf_and_shows_duplicates(
    staff_app, migrated_url: str, admin_client, editor_client
) -> None:
    _submit_one(staff_app, ANSWER)
    _submit_one(
        staff_app, ANSWER | {"name": "Ohio Census School", "city": "Columbus", "state": "OH", "zip": "43215"}
    )
    il, oh = _pending(migrated_url)
    anonymous = staff_app.test_client()
    assert "/staff/login" in anonymous.get("/staff/submissions").headers["Location"]
    assert anonymous.post(f"/staff/submissions/{il.id}/approve").status_code in (302, 400)
    listing = editor_client.get("/staff/submissions?state=IL").get_data(as_text=True)
    assert "Zyxwv Census Academy" in listing and "Ohio Census School" not in listing
    assert "Ohio Census School" in admin_client.get("/staff/submissions?status=pending").get_data(
        as_text=True
    )
    assert admin_client.get("/staff/submissions?status=bogus").status_code == 400
    # CSRF on every action.
    for action in ("approve", "merge", "reject"):
        refused = admin_client.post(f"/staff/submissions/{il.id}/{action}", data={"version": "1"})
        assert refused.status_code == 400, action
    # An editor of IL and IN may not decide an Ohio answer (audited).
    token = csrf_of(editor_client, f"/staff/submissions/{il.id}")
    forbidden = editor_client.post(
        f"/staff/submissions/{oh.id}/approve", data={"version": "1", "csrf_token": token}
    )
    assert forbidden.status_code == 403
    assert audit_events(migrated_url, "forbidden")[-1].state == "OH"
    # A rejection needs a reason, and is audited with it.
    token = csrf_of(admin_client, f"/staff/submissions/{oh.id}")
    empty = admin_client.post(
        f"/staff/submissions/{oh.id}/reject", data={"version": "1", "csrf_token": token}
    )
    assert empty.status_code == 400 and "give a reason" in empty.get_data(as_text=True)
    done = admin_client.post(
        f"/staff/submissions/{oh.id}/reject",
        data={"version": "1", "csrf_token": token, "reason": "not a school"},
    )
    assert done.status_code == 302
    assert audit_events(migrated_url, "submission.reject")[-1].detail == "not a school"


def test_approve_merge_and_a_second_approval_is_refused(
    staff_app, migrated_url: str, admin_client, editor_client
) -> None:
    _submit_one(staff_app, ANSWER)
    (first,) = _pending(migrated_url)
    token = csrf_of(editor_client, f"/staff/submissions/{first.id}")
    approved = editor_client.post(
        f"/staff/submissions/{first.id}/approve", data={"version": "1", "csrf_token": token}
    )
    assert approved.status_code == 302, approved.get_data(as_text=True)
    assert _records_named(migrated_url, ANSWER["name"]) == 1
    again = editor_client.post(
        f"/staff/submissions/{first.id}/approve", data={"version": "1", "csrf_token": token}
    )
    assert again.status_code == 409 and "already decided by editor@example.org" in again.get_data(
        as_text=True
    )
    assert _records_named(migrated_url, ANSWER["name"]) == 1
    # A second answer for the same school: the approved record is its likely duplicate; merge two fields.
    _submit_one(
        staff_app, ANSWER | {"name": "Zyxwv Census Academy", "grades": "K-5", "lead_partner": "New Lead"}
    )
    second = _pending(migrated_url)[-1]
    page = admin_client.get(f"/staff/submissions/{second.id}").get_data(as_text=True)
    assert "similar name within 1 km" in page or "same NCES id" in page
    record_id = int(page.split('name="record_id" value="')[1].split('"')[0])
    record_version = int(page.split('name="record_version" value="')[1].split('"')[0])
    token = csrf_of(admin_client, f"/staff/submissions/{second.id}")
    merged = admin_client.post(
        f"/staff/submissions/{second.id}/merge",
        data={
            "version": "1",
            "csrf_token": token,
            "record_id": record_id,
            "record_version": record_version,
            "take": ["grades"],
        },
    )
    assert merged.status_code == 302, merged.get_data(as_text=True)
    from webmap import db
    from webmap.models import SchoolRecord

    with db.session_scope(migrated_url) as session:
        record = session.get(SchoolRecord, record_id)
        assert (record.fields["grades"], record.fields["lead_partner"]) == ("K-5", "Sample Partner")
    assert _records_named(migrated_url, ANSWER["name"]) == 1
    assert [e.action for e in audit_events(migrated_url) if e.action.startswith("submission.")] == [
        "submission.approve",
        "submission.conflict",
        "submission.merge",
    ]


def test_two_staff_approving_at_once_make_one_record(staff_app, migrated_url: str) -> None:
    from webmap import db, submissions

    _submit_one(staff_app, ANSWER)
    (submission,) = _pending(migrated_url)
    values = {"name": ANSWER["name"], "state": "IL", "city": "Chicago"}
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor: str) -> None:
        barrier.wait()
        try:
            with db.session_scope(migrated_url) as session:
                submissions.approve_as_new(
                    session,
                    submission.id,
                    expected_version=1,
                    school_id="cs-census-race",
                    values=values,
                    actor=actor,
                )
            outcomes.append("won")
        except submissions.AlreadyDecidedError:
            outcomes.append("lost")

    threads = [threading.Thread(target=approve, args=(f"staff{i}@example.org",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["lost", "won"]
    assert _records_named(migrated_url, ANSWER["name"]) == 1


def test_auto_publish_starts_a_publish_when_the_setting_is_on(
    staff_app, migrated_url: str, admin_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webmap.staff import publisher

    started = []
    monkeypatch.setattr(publisher, "start", lambda url, root, **kw: started.append(kw) or 99)
    staff_app.config["AUTO_PUBLISH_SUBMISSIONS"] = True
    _submit_one(staff_app, ANSWER)
    (submission,) = _pending(migrated_url)
    token = csrf_of(admin_client, f"/staff/submissions/{submission.id}")
    response = admin_client.post(
        f"/staff/submissions/{submission.id}/approve", data={"version": "1", "csrf_token": token}
    )
    assert response.status_code == 302
    assert started == [{"actor": "admin@example.org", "kind": "publish"}]
    assert "Publishing now (job 99)" in admin_client.get("/staff/submissions").get_data(as_text=True)


def test_decisions_are_rate_limited_per_person_and_the_guide_is_served(
    staff_app, migrated_url: str, admin_client
) -> None:
    staff_app.config["STAFF_CHANGE_LIMIT"] = 1
    _submit_one(staff_app, ANSWER)
    _submit_one(staff_app, ANSWER | {"name": "Second Census School"})
    first, second = _pending(migrated_url)
    token = csrf_of(admin_client, f"/staff/submissions/{first.id}")
    data = {"version": "1", "csrf_token": token, "reason": "test"}
    assert admin_client.post(f"/staff/submissions/{first.id}/reject", data=data).status_code == 302
    limited = admin_client.post(f"/staff/submissions/{second.id}/reject", data=data)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert [s.status for s in _pending(migrated_url)] == ["rejected", "pending"]
    guide = staff_app.test_client().get("/docs/CENSUS")
    assert guide.status_code == 200 and "What is public, and when" in guide.get_data(as_text=True)
