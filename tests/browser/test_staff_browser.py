"""The staff workspace in a real browser: sign in, upload a messy list, read the report, publish,
see it on the public map, roll back.

Screenshots go to tests/artifacts/staff_*.png at 1366x768 and 390x844.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.conftest import SHOT_SIZES

pytestmark = pytest.mark.browser

ADMIN = ("admin@example.org", "admin password 1")
#: A messy list: a duplicate, an unplaceable row, swapped coordinates, a point outside its stated state.
MESSY = (
    "School Name,Street Address,City,State,ZIP Code,Latitude,Longitude\n"
    "Lincoln Elementary,1 Main St,Chicago,IL,60614,,\n"
    "Lincoln Elementary,1 Main St,Chicago,IL,60614,,\n"
    "Nowhere School,,,,,,\n"
    "Swapped Coordinates Academy,,Peoria,Illinois,61602,-89.589,40.693\n"
    "Hoboken Community School,,Hoboken,NY,,40.744,-74.032\n"
    "Boston Latin Partners,,Boston,MA,2108,,\n"
)
SIZES = SHOT_SIZES


@pytest.fixture
def staff_site(built_data_dir: Path, tmp_path: Path, live_server) -> tuple[str, Path]:
    """The whole app on a private data folder and SQLite database, with one admin, served on 127.0.0.1."""
    from webmap import accounts, create_app, db

    data = tmp_path / "data"
    shutil.copytree(built_data_dir, data, symlinks=True, copy_function=os.link)
    url = f"sqlite:///{data / 'staff.sqlite'}"
    db.upgrade(url)
    with db.session_scope(url) as session:
        accounts.add_user(session, *ADMIN, "admin")
    app = create_app({"TESTING": True, "DATA_DIR": str(data), "DATABASE_URL": url, "SECRET_KEY": "browser"})
    return live_server(app), data


def _map_schools(page) -> dict:
    page.wait_for_selector("html[data-schools-drawn]", timeout=30_000)
    return page.evaluate(
        """async () => {
            const config = JSON.parse(document.getElementById('csmap-config').textContent);
            const data = await (await fetch(config.schools_url)).json();
            return {drawn: +document.documentElement.dataset.schoolsDrawn, count: data.count,
                    banner: !!document.getElementById('sample-banner')};
        }"""
    )


def _api_names(page, base: str) -> set[str]:
    body = page.evaluate(f"async () => (await fetch('{base}/api/schools?limit=1000&state=IL')).json()")
    return {school["name"] for school in body["schools"]}


def test_sign_in_upload_publish_see_it_and_roll_back(
    page, staff_site, shoot_both_sizes, console_errors, tmp_path
) -> None:
    base, data = staff_site
    shoot = shoot_both_sizes
    page.goto(f"{base}/staff/")
    assert "/staff/login" in page.url
    shoot(f"{base}/staff/login", "staff_login", None)
    page.fill("input[name=email]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_selector("#record-count")
    assert page.inner_text("#record-count") == "5,589", "the live sample was imported on first use"
    original = os.readlink(data / "current").rsplit("/", 1)[-1]

    # Upload the messy list and read the dry-run report.
    messy = tmp_path / "coalition list (messy).csv"
    messy.write_text(MESSY, encoding="utf-8")
    page.goto(f"{base}/staff/uploads")
    page.set_input_files("input[name=file]", str(messy))
    page.click("button[type=submit]:has-text('Check it')")
    page.wait_for_selector("#upload-counts")
    counts = {k: page.inner_text(f"#count-{k}") for k in ("rows", "loaded", "merged", "rejected")}
    assert counts == {"rows": "6", "loaded": "4", "merged": "1", "rejected": "1"}
    assert "cannot place the school" in page.inner_text("#upload-rejects")
    flagged = page.inner_text("#upload-flagged")
    assert "Swapped Coordinates Academy" in flagged and "Hoboken Community School" in flagged
    storage = page.context.storage_state()
    shoot(page.url, "staff_upload_report", storage)

    # Publish it; the builds page shows progress until the job is done.
    page.click("#upload-publish")
    page.wait_for_selector("#build-history")
    page.wait_for_selector(".job-succeeded", timeout=240_000)
    published = os.readlink(data / "current").rsplit("/", 1)[-1]
    assert published != original
    shoot(f"{base}/staff/builds", "staff_builds", page.context.storage_state())

    # The public map and the API show the new list, no longer labelled sample.
    page.goto(f"{base}/")
    after = _map_schools(page)
    assert after == {"drawn": 4, "count": 4, "banner": False}
    assert {"Lincoln Elementary", "Swapped Coordinates Academy"} <= _api_names(page, base)

    # Roll back to the sample build.
    page.goto(f"{base}/staff/builds")
    page.click(f"button.rollback[data-build='{original}']")
    page.wait_for_selector(".job-succeeded", timeout=240_000)
    assert os.readlink(data / "current").rsplit("/", 1)[-1] == original
    page.goto(f"{base}/")
    back = _map_schools(page)
    assert back == {"drawn": 5589, "count": 5589, "banner": True}
    assert "Lincoln Elementary" not in _api_names(page, base)
    page.goto(f"{base}/staff/audit")
    audit = page.inner_text("#audit-events")
    for action in ("login", "upload.check", "upload.apply", "publish.done", "rollback.done"):
        assert action in audit
    shoot(f"{base}/staff/audit", "staff_audit", page.context.storage_state())
    shoot(f"{base}/staff/schools?q=Lincoln", "staff_schools", page.context.storage_state())
    assert console_errors == []
