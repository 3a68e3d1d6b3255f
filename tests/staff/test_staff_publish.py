"""Publish and rollback: background jobs, one at a time, failures keep the live build, rollback sticks.

The publishes here are real builds of the generated sample on the tiny fixture world
(tests/scripts/fixture_build.py): what is claimed is how a publish, a failure and a
rollback go, which holds there as on the national sample, at a fraction of the cost.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import select

from geo import build, store
from tests.scripts import fixture_build
from tests.staff.staff_support import audit_events, csrf_of
from webmap import db
from webmap.models import PublishedBuild, PublishJob, PublishLock, SchoolRecord
from webmap.staff import publisher


@pytest.fixture
def staff_seed(_fixture_world_data_dir, monkeypatch: pytest.MonkeyPatch):
    """The fixture world's sample (tests/staff/conftest.py), and every build of the test made there.

    The staff pages and the publisher read their reference layers through
    ``webmap.staff.loading.reference_for``, which keeps them for the whole process: it is
    replaced too, so the fixture world is used here and never left in that cache for others.
    """
    from webmap.staff import loading

    fixture_build.use_fixture_reference(monkeypatch)
    world = fixture_build.reference()
    monkeypatch.setattr(loading, "reference_for", lambda root: world)
    return _fixture_world_data_dir


def _first_record(url: str) -> SchoolRecord:
    with db.session_scope(url) as session:
        record = session.scalar(select(SchoolRecord).order_by(SchoolRecord.id))
        session.expunge(record)
    return record


def _job_of(url: str, action: str) -> int:
    return audit_events(url, action)[-1].after["job"]


def _api_names(client, state: str) -> set[str]:
    body = client.get(f"/api/schools?state={state}&limit=1000").get_json()
    return {school["name"] for school in body["schools"]}


def test_publish_an_edit_then_roll_back(staff_app, admin_client, migrated_url, staff_data_dir) -> None:
    original = store.current_build_dir(staff_data_dir).name
    record = _first_record(migrated_url)
    token = csrf_of(admin_client, "/staff/")
    new_name = "Renamed Community School (Published)"
    form = {**record.fields, "name": new_name, "version": str(record.version), "csrf_token": token}
    assert admin_client.post(f"/staff/schools/{record.id}", data=form).status_code == 302
    public = staff_app.test_client()
    assert new_name not in _api_names(public, record.state), "an edit is not public before Publish"
    # Another app process on the same data folder, already serving: it picks up the new build too.
    from webmap import create_app

    elsewhere = create_app(dict(staff_app.config) | {"TESTING": True}).test_client()
    assert new_name not in _api_names(elsewhere, record.state)

    started = admin_client.post("/staff/builds/publish", data={"csrf_token": token})
    assert started.status_code == 302
    job = publisher.wait_for(migrated_url, _job_of(migrated_url, "publish.start"))
    assert job.status == "succeeded", job.error
    published = store.current_build_dir(staff_data_dir).name
    assert published != original and job.build_id == published
    status = admin_client.get(f"/staff/builds/jobs/{job.id}").get_json()
    assert status["status"] == "succeeded" and status["build_id"] == published
    assert status["progress"] == f"published build {published}"
    assert new_name in _api_names(public, record.state)
    assert new_name in _api_names(elsewhere, record.state)
    assert (staff_data_dir / "builds" / published / publisher.BUILD_LIST_NAME).exists()
    manifest = store.read_manifest(staff_data_dir / "builds" / published)
    assert manifest["is_sample"] is True, "an edited sample is still labelled sample"
    page = admin_client.get("/staff/builds").get_data(as_text=True)
    assert published in page and original in page and "succeeded" in page
    with db.session_scope(migrated_url) as session:
        history = {b.build_id: b for b in session.scalars(select(PublishedBuild))}
    assert history[published].published_by == "admin@example.org" and history[published].is_sample
    assert history[published].counts["loaded"] == history[original].counts["loaded"]

    rolled = admin_client.post(f"/staff/builds/{original}/rollback", data={"csrf_token": token})
    assert rolled.status_code == 302
    job = publisher.wait_for(migrated_url, _job_of(migrated_url, "rollback.start"))
    assert job.status == "succeeded", job.error
    assert store.current_build_dir(staff_data_dir).name == original
    names = _api_names(public, record.state)
    assert new_name not in names and record.name in names
    assert new_name not in _api_names(elsewhere, record.state)
    restored = _first_record(migrated_url)
    assert restored.name == record.name and restored.source == f"rollback to build {original}"
    # The next build, as `csmap build` makes it, builds the earlier list too.
    summary = build.run_build(staff_data_dir)
    schools = store.read_table(summary.build_dir, "schools")
    assert record.name in set(schools["name"]) and new_name not in set(schools["name"])
    assert len(schools) == history[original].counts["schools"]
    actions = [e.action for e in audit_events(migrated_url) if e.action.startswith(("publish", "rollback"))]
    assert actions == ["publish.start", "publish.done", "rollback.start", "rollback.done"]


def test_a_failed_publish_keeps_the_live_build_and_shows_the_error(
    staff_app, admin_client, migrated_url, staff_data_dir
) -> None:
    live = store.current_build_dir(staff_data_dir).name
    inputs_before = sorted(p.name for p in store.inputs_dir(staff_data_dir).iterdir())
    job_id = publisher.start(
        migrated_url, staff_data_dir, actor="admin@example.org", wait=True, fail_after="schools"
    )
    job = publisher.wait_for(migrated_url, job_id)
    assert job.status == "failed" and "injected failure after stage 'schools'" in job.error
    assert store.current_build_dir(staff_data_dir).name == live
    assert sorted(p.name for p in store.inputs_dir(staff_data_dir).iterdir()) == inputs_before
    page = admin_client.get("/staff/builds").get_data(as_text=True)
    assert 'id="job-error"' in page and "injected failure" in page and "keeps serving" in page
    assert audit_events(migrated_url, "publish.failed")[-1].detail == job.error
    with db.session_scope(migrated_url) as session:
        assert session.get(PublishLock, 1).job_id is None, "the lock is released after a failure"


def test_two_publishes_never_run_at_once(admin_client, migrated_url, staff_data_dir) -> None:
    holder = publisher._acquire(migrated_url, "publish", "someone@example.org")  # noqa: SLF001
    with pytest.raises(publisher.PublishBusyError, match=f"job {holder} by someone@example.org"):
        publisher.start(migrated_url, staff_data_dir, actor="admin@example.org")
    token = csrf_of(admin_client, "/staff/")
    response = admin_client.post("/staff/builds/publish", data={"csrf_token": token}, follow_redirects=True)
    assert "is already running (job" in response.get_data(as_text=True)
    assert audit_events(migrated_url, "publish.refused")
    # A holder that stopped reporting (its process was killed) is taken over after STALE_AFTER.
    with db.session_scope(migrated_url) as session:
        session.get(PublishJob, holder).heartbeat_at = (
            publisher.utcnow() - publisher.STALE_AFTER - dt.timedelta(1)
        )
    taker = publisher._acquire(migrated_url, "publish", "admin@example.org")  # noqa: SLF001
    with db.session_scope(migrated_url) as session:
        assert session.get(PublishJob, holder).status == "failed"
        assert session.get(PublishLock, 1).job_id == taker
    publisher._release(migrated_url, taker)  # noqa: SLF001
    assert not os.path.exists(staff_data_dir / "inputs" / "schools.csv"), "no job ran"


def test_csmap_load_keeps_the_staff_records_in_step(
    admin_client, migrated_url, staff_data_dir, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from scripts.cli import cli

    listing = tmp_path / "list.csv"
    listing.write_text(
        "School Name,City,State,ZIP\nCLI Loaded School,Alpha,KS,67001\nOther CLI School,Gamma,NE,68001\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CSMAP_DATABASE_URL", migrated_url)
    result = CliRunner().invoke(cli, ["load", str(listing), "--data-dir", str(staff_data_dir)])
    assert result.exit_code == 0, result.output
    live = store.current_build_dir(staff_data_dir).name
    with db.session_scope(migrated_url) as session:
        active = {
            r.name for r in session.scalars(select(SchoolRecord).where(SchoolRecord.deleted.is_(False)))
        }
        loaded = session.scalar(select(PublishedBuild).where(PublishedBuild.build_id == live))
        assert loaded.kind == "csmap load" and not loaded.is_sample
    assert active == {"CLI Loaded School", "Other CLI School"}
    assert audit_events(migrated_url, "records.load")[-1].target == f"build {live}"


def test_rollback_to_a_pruned_build_rebuilds_its_list(
    staff_app, admin_client, migrated_url, staff_data_dir
) -> None:
    import shutil

    original = store.current_build_dir(staff_data_dir).name
    record = _first_record(migrated_url)
    with db.session_scope(migrated_url) as session:
        from webmap.staff import records

        records.remove(session, session.get(SchoolRecord, record.id), actor="test")
    job = publisher.wait_for(
        migrated_url, publisher.start(migrated_url, staff_data_dir, actor="admin@example.org", wait=True)
    )
    assert job.status == "succeeded", job.error
    public = staff_app.test_client()
    assert record.name not in _api_names(public, record.state)
    shutil.rmtree(staff_data_dir / "builds" / original)  # as store.prune does to old builds
    page = admin_client.get("/staff/builds").get_data(as_text=True)
    assert "(rebuilt from its list)" in page
    job_id = publisher.start(
        migrated_url, staff_data_dir, actor="admin@example.org", kind="rollback", target=original, wait=True
    )
    job = publisher.wait_for(migrated_url, job_id)
    assert job.status == "succeeded", job.error
    rebuilt = store.current_build_dir(staff_data_dir).name
    assert rebuilt == job.build_id and rebuilt != original
    assert record.name in _api_names(public, record.state)
    with db.session_scope(migrated_url) as session:
        kinds = {b.build_id: b.kind for b in session.scalars(select(PublishedBuild))}
        assert not session.get(SchoolRecord, record.id).deleted
    assert kinds[rebuilt] == "rollback"
