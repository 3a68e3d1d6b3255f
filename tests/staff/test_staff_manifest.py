"""The whole build manifest on a signed-in staff page; no absolute filesystem path in any response (17.4)."""

from __future__ import annotations

import html
import io
import json
import re
import tempfile
from pathlib import Path

from tests.staff.staff_support import csrf_of
from webmap.staff.manifest import without_paths

REPO = Path(__file__).resolve().parents[2]
#: Staff pages a signed-in admin or editor may read; an upload page is added by the test.
STAFF_PAGES = [
    "/staff/",
    "/staff/uploads",
    "/staff/schools",
    "/staff/schools/1",
    "/staff/builds",
    "/staff/manifest",
    "/staff/audit",
    "/staff/password",
]
#: A list whose rows fail in every way the loader reports (a reject file is written for them).
BAD_LIST = "School Name,City,State\nNowhere School,,\nAtlantis Academy,Atlantis,ZZ\n"


def _manifest_on_page(body: str) -> dict[str, str]:
    """The manifest's members as the page shows them: key -> text of its value."""
    pairs = re.findall(r'<dt id="manifest-[^"]+">([^<]+)</dt>\s*<dd>(.*?)</dd>', body, flags=re.S)
    return {key: html.unescape(re.sub(r"<[^>]+>", "", value)) for key, value in pairs}


def test_admins_and_editors_read_the_whole_manifest(admin_client, editor_client, built_data_dir) -> None:
    manifest = json.loads((built_data_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    for client in (admin_client, editor_client):
        response = client.get("/staff/manifest")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        shown = _manifest_on_page(response.get_data(as_text=True))
        assert set(shown) == set(manifest)  # every member, not the public subset of /about
        assert manifest["build_id"] in shown["build_id"]
        versions = json.loads(shown["package_versions"])
        assert versions == manifest["package_versions"]
        # The reject file lies in the session's build, outside this app's data folder: its name only.
        report = json.loads(shown["load_report"])
        rejects = manifest["load_report"]["rejects_file"]
        assert Path(rejects).is_absolute()
        assert report["rejects_file"] == Path(rejects).name


def test_the_manifest_needs_sign_in(staff_app) -> None:
    response = staff_app.test_client().get("/staff/manifest")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/manifest"
    assert "build_id" not in response.get_data(as_text=True)


def test_no_staff_response_names_an_absolute_path(
    admin_client, editor_client, staff_data_dir, built_data_dir
) -> None:
    roots = {str(staff_data_dir), str(built_data_dir), str(REPO), tempfile.gettempdir() + "/"}
    token = csrf_of(admin_client, "/staff/uploads")
    upload = admin_client.post(
        "/staff/uploads",
        data={"csrf_token": token, "file": (io.BytesIO(BAD_LIST.encode("utf-8")), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code in (302, 303), upload.status_code
    bodies = {"upload": upload.get_data(as_text=True)}
    pages = [*STAFF_PAGES, upload.headers["Location"], "/staff/users"]
    for who, client in (("admin", admin_client), ("editor", editor_client)):
        for path in pages:
            response = client.get(path)
            assert response.status_code in (200, 403), (who, path, response.status_code)
            bodies[f"{who} {path}"] = response.get_data(as_text=True)
    leaks = {name: root for name, body in bodies.items() for root in roots if root in body}
    assert leaks == {}


def test_without_paths_shortens_paths_and_leaves_urls_and_words(tmp_path) -> None:
    folder = tmp_path / "data"
    manifest = {
        "load_report": {"rejects_file": str(folder / "builds" / "b1" / "rejects.csv")},
        "school_list": "/srv/lists/schools-2026.csv",
        "options": [f"read {folder}/cache/x.json and C:\\lists\\real.csv", 3, None],
        "sources": "https://www2.census.gov/geo/tiger/ and 1/2 of AA/AE/AP ZIPs",
    }
    assert without_paths(manifest, folder) == {
        "load_report": {"rejects_file": "builds/b1/rejects.csv"},
        "school_list": "schools-2026.csv",
        "options": ["read cache/x.json and real.csv", 3, None],
        "sources": "https://www2.census.gov/geo/tiger/ and 1/2 of AA/AE/AP ZIPs",
    }
