"""Sign-in, sessions, CSRF, throttling and the headers of every staff page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.staff.staff_support import ADMIN, EDITOR, audit_events, csrf_of, sign_in
from webmap import db
from webmap.models import SchoolRecord

#: Every staff page a browser may GET (record 1 exists once the current build is imported).
PAGES = [
    "/staff/",
    "/staff/uploads",
    "/staff/schools",
    "/staff/schools/1",
    "/staff/schools/new",
    "/staff/records",
    "/staff/records/coalitions",
    "/staff/records/coalitions/row/IL",
    "/staff/records/partners/new",
    "/staff/submissions",
    "/staff/builds",
    "/staff/manifest",
    "/staff/audit",
    "/staff/users",
    "/staff/password",
]
#: Every state-changing staff route, with a body that would otherwise be acceptable.
POSTS = [
    "/staff/logout",
    "/staff/uploads",
    "/staff/uploads/1/columns",
    "/staff/uploads/1/publish",
    "/staff/schools/1",
    "/staff/schools/new",
    "/staff/schools/1/remove",
    "/staff/records/coalitions/row/IL",
    "/staff/records/partners/new",
    "/staff/records/communities/row/x/remove",
    "/staff/records/partners/import",
    "/staff/submissions/1/approve",
    "/staff/submissions/1/merge",
    "/staff/submissions/1/reject",
    "/staff/builds/publish",
    "/staff/builds/x/rollback",
    "/staff/users",
    "/staff/users/2/disable",
    "/staff/password",
]


def _cookie(client, name: str = "csmap_staff") -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def test_every_page_needs_sign_in_and_is_no_store_noindex(staff_app) -> None:
    client = staff_app.test_client()
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/staff/login?next="), path
        assert response.headers["Cache-Control"] == "no-store", path
        assert "noindex" in response.headers["X-Robots-Tag"], path
    login = client.get("/staff/login")
    assert login.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in login.get_data(as_text=True)
    for path in POSTS:  # a POST without a session has no CSRF token either: refused before anything runs
        assert client.post(path, data={}).status_code == 400, path
    # Public pages set no cookie: only /staff touches the session.
    public = staff_app.test_client()
    assert "Set-Cookie" not in public.get("/healthz").headers


def test_signed_in_pages_answer_and_stay_no_store(admin_client) -> None:
    for path in PAGES:
        response = admin_client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["Cache-Control"] == "no-store", path
        assert "noindex" in response.headers["X-Robots-Tag"], path
        assert 'content="noindex, nofollow"' in response.get_data(as_text=True), path
    missing = admin_client.get("/staff/schools/999999")
    assert missing.status_code == 404 and missing.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags_and_rotation_at_sign_in(staff_app) -> None:
    client = staff_app.test_client()
    page = client.get("/staff/login")
    before = _cookie(client)
    assert before, "the sign-in form gives a session (for its CSRF token)"
    set_cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie
    token = csrf_of(client)
    response = client.post(
        "/staff/login", data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token}
    )
    assert response.status_code == 302
    after = _cookie(client)
    assert after and after != before
    assert csrf_of(client, "/staff/") != token, "a new CSRF token comes with the new session"
    # Sign out, then replay the signed-in cookie: the session is gone on the server.
    client.post("/staff/logout", data={"csrf_token": csrf_of(client, "/staff/")})
    replay = staff_app.test_client()
    replay.set_cookie("csmap_staff", after)
    assert replay.get("/staff/").status_code == 302


def test_secure_cookie_when_configured(migrated_url, staff_data_dir) -> None:
    from webmap import create_app

    app = create_app(
        {"TESTING": True, "DATA_DIR": str(staff_data_dir), "DATABASE_URL": migrated_url, "SECURE_COOKIES": 1}
    )
    response = app.test_client().get("/staff/login")
    assert "Secure" in response.headers["Set-Cookie"]


def test_csrf_refused_on_every_state_change_and_audited(admin_client, migrated_url) -> None:
    with db.session_scope(migrated_url) as session:
        before = session.get(SchoolRecord, 1).fields
    for path in POSTS:
        for token in (None, "forged-token"):
            data = {"name": "Changed", "version": "1", "email": "x@example.org", "password": "long enough pw"}
            if token:
                data["csrf_token"] = token
            response = admin_client.post(path, data=data)
            assert response.status_code == 400, (path, token)
            assert "csrf_token" in response.get_data(as_text=True)
    with db.session_scope(migrated_url) as session:
        assert session.get(SchoolRecord, 1).fields == before
        assert session.scalar(select(SchoolRecord).where(SchoolRecord.name == "Changed")) is None
    assert len(audit_events(migrated_url, "csrf.refused")) == 2 * len(POSTS)
    # Still signed in: the refused logout did not sign out.
    assert admin_client.get("/staff/").status_code == 200


def test_login_csrf_is_required(staff_app) -> None:
    client = staff_app.test_client()
    client.get("/staff/login")
    response = client.post("/staff/login", data={"email": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 400
    assert client.get("/staff/").status_code == 302


def test_wrong_password_and_disabled_account(staff_app, migrated_url) -> None:
    client = staff_app.test_client()
    wrong = sign_in(client, (ADMIN[0], "not the password"))
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.get_data(as_text=True)
    assert sign_in(client, ("nobody@example.org", "whatever pw")).status_code == 401
    from webmap import accounts

    with db.session_scope(migrated_url) as session:
        accounts.find_user(session, EDITOR[0]).disabled = True
    assert sign_in(staff_app.test_client(), EDITOR).status_code == 401
    assert [e.target for e in audit_events(migrated_url, "login.failed")] == [
        ADMIN[0],
        "nobody@example.org",
        EDITOR[0],
    ]


def test_throttle_per_account(staff_app, migrated_url) -> None:
    for i in range(5):  # five failures from five addresses
        assert sign_in(staff_app.test_client(), (ADMIN[0], "wrong"), address=f"10.0.0.{i}").status_code == 401
    # The sixth attempt is refused even with the right password, from a fresh address.
    blocked = sign_in(staff_app.test_client(), ADMIN, address="10.0.1.1")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "900"
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    # Another account from another address is unaffected.
    assert sign_in(staff_app.test_client(), EDITOR, address="10.0.2.1").status_code == 302
    assert len(audit_events(migrated_url, "login.throttled")) == 1


def test_throttle_per_address(staff_app, migrated_url) -> None:
    for i in range(5):  # five different accounts from one address
        response = sign_in(staff_app.test_client(), (f"guess{i}@example.org", "wrong"), address="10.9.9.9")
        assert response.status_code == 401
    assert sign_in(staff_app.test_client(), EDITOR, address="10.9.9.9").status_code == 429
    assert sign_in(staff_app.test_client(), EDITOR, address="10.9.9.10").status_code == 302


@pytest.mark.parametrize(
    "path", ["/staff/login?next=//evil.example/", "/staff/login?next=https://evil.example/"]
)
def test_sign_in_never_redirects_off_site(staff_app, path: str) -> None:
    client = staff_app.test_client()
    token = csrf_of(client)
    response = client.post(path, data={"email": ADMIN[0], "password": ADMIN[1], "csrf_token": token})
    assert response.headers["Location"] == "/staff/"


def test_rate_limits_on_every_kind_of_change(staff_app, admin_client, migrated_url) -> None:
    import io

    from webmap.models import Upload

    staff_app.config.update(
        STAFF_UPLOAD_LIMIT=2, STAFF_CHANGE_LIMIT=0, STAFF_BUILD_LIMIT=0, STAFF_ACCOUNT_LIMIT=0
    )
    token = csrf_of(admin_client, "/staff/")

    def upload():
        body = {"csrf_token": token, "file": (io.BytesIO(b"School Name,City,State\nA,Chicago,IL\n"), "a.csv")}
        return admin_client.post("/staff/uploads", data=body, content_type="multipart/form-data")

    assert [upload().status_code for _ in range(3)] == [302, 302, 429]
    with db.session_scope(migrated_url) as session:
        assert len(session.scalars(select(Upload)).all()) == 2
    refused = {
        "/staff/schools/1": {"version": "1", "name": "x"},
        "/staff/schools/new": {"name": "x", "city": "Chicago", "state": "IL"},
        "/staff/schools/1/remove": {"version": "1"},
        "/staff/records/coalitions/row/IL": {"version": "x", "stusps": "IL", "stage": "emerging"},
        "/staff/records/partners/new": {"version": "x", "name": "x", "partner_type": "nonprofit"},
        "/staff/builds/publish": {},
        "/staff/builds/x/rollback": {},
        "/staff/users": {"email": "z@example.org", "role": "admin", "password": "long enough pw"},
        "/staff/users/2/disable": {},
        "/staff/password": {"current": "x", "new": "y", "again": "y"},
    }
    for path, data in refused.items():
        response = admin_client.post(path, data=data | {"csrf_token": token})
        assert response.status_code == 429, path
        assert response.headers["Retry-After"] == "900"
    assert len(audit_events(migrated_url, "rate_limited")) == 1 + len(refused)
    with db.session_scope(migrated_url) as session:
        assert not session.get(SchoolRecord, 1).deleted


def test_secret_key_is_made_on_the_first_staff_request_only(
    migrated_url, staff_data_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stat

    from webmap import create_app

    monkeypatch.delenv("CSMAP_SECRET_KEY", raising=False)
    app = create_app({"TESTING": True, "DATA_DIR": str(staff_data_dir), "DATABASE_URL": migrated_url})
    client = app.test_client()
    public = client.get("/healthz")
    assert "Set-Cookie" not in public.headers and "Cookie" not in public.headers.get("Vary", "")
    assert not (staff_data_dir / "secret_key").exists()
    assert sign_in(client).status_code == 302
    key_file = staff_data_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A second process (another app) signs with the same key, so the session carries over.
    other = create_app({"TESTING": True, "DATA_DIR": str(staff_data_dir), "DATABASE_URL": migrated_url})
    other_client = other.test_client()
    other_client.set_cookie("csmap_staff", client.get_cookie("csmap_staff").value)
    assert other_client.get("/staff/audit").status_code == 200


def test_change_own_password_ends_other_sessions(staff_app, migrated_url) -> None:
    here, elsewhere = staff_app.test_client(), staff_app.test_client()
    assert sign_in(here, EDITOR).status_code == 302
    assert sign_in(elsewhere, EDITOR).status_code == 302
    token = csrf_of(here, "/staff/password")
    wrong = here.post(
        "/staff/password", data={"current": "nope", "new": "x" * 12, "again": "x" * 12, "csrf_token": token}
    )
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_data(as_text=True)
    differ = here.post(
        "/staff/password",
        data={"current": EDITOR[1], "new": "x" * 12, "again": "y" * 12, "csrf_token": token},
    )
    assert differ.status_code == 400
    short = here.post(
        "/staff/password", data={"current": EDITOR[1], "new": "x", "again": "x", "csrf_token": token}
    )
    assert short.status_code == 400 and "at least 10" in short.get_data(as_text=True)
    changed = here.post(
        "/staff/password",
        data={"current": EDITOR[1], "new": "a brand new pw", "again": "a brand new pw", "csrf_token": token},
    )
    assert changed.status_code == 302
    assert here.get("/staff/").status_code == 200, "this browser stays signed in"
    assert elsewhere.get("/staff/").status_code == 302, "other sessions are signed out"
    assert sign_in(staff_app.test_client(), EDITOR).status_code == 401
    assert sign_in(staff_app.test_client(), (EDITOR[0], "a brand new pw")).status_code == 302
    assert [e.action for e in audit_events(migrated_url) if e.action.startswith("user.password")] == [
        "user.password_refused",
        "user.password",
    ]


#: Staff GET routes outside PAGES (not HTML, or needing a record the seeded database lacks): a path
#: of each, checked here for sign-in and no-store; their signed-in answers are tested where they live.
NOT_PAGES = {
    "staff.upload_report": "/staff/uploads/1",
    "staff.submission_view": "/staff/submissions/1",
    "staff.record_export": "/staff/records/partners/export.csv",
    "staff.job_status": "/staff/builds/jobs/1",
}


def test_the_route_lists_cover_every_staff_route(staff_app) -> None:
    """A new staff route must join PAGES or POSTS, so sign-in, no-store and CSRF are checked for it."""
    adapter = staff_app.url_map.bind("localhost")
    pages = {adapter.match(path, method="GET")[0] for path in PAGES}
    client = staff_app.test_client()
    for endpoint, path in NOT_PAGES.items():
        assert adapter.match(path, method="GET")[0] == endpoint
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login"), path
        assert response.headers["Cache-Control"] == "no-store", path
    posts = {adapter.match(path, method="POST")[0] for path in POSTS}
    for rule in staff_app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff."):
            continue
        if "GET" in (rule.methods or ()) and rule.endpoint not in NOT_PAGES:
            assert rule.endpoint in pages, f"{rule.rule} (GET) is missing from PAGES"
        if "POST" in (rule.methods or ()):
            assert rule.endpoint in posts, f"{rule.rule} (POST) is missing from POSTS"
