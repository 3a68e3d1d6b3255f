"""Fixtures of the command tests, each made once per test process.

* one real build of the fixture world, copied for each test that changes it;
* docs/DEPLOY.md's deployment (nginx and two replicas), shared by the two deployment modules.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.scripts import fixture_build as fb
from tests.serve_support import free_port


@pytest.fixture(scope="session")
def _old_list_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose published build used fb.OLD_LIST: a real build of the fixture world.

    Built once per session (about a second each time before); never handed to a test,
    which gets a copy of its own from ``old_list_data``.
    """
    from geo import build
    from geo.school_list import load_school_list

    root = tmp_path_factory.mktemp("old-list-build")
    old = root / "old.csv"
    old.write_text(fb.OLD_LIST, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        fb.use_fixture_reference(patch)
        build.run_build(root / "data", schools=load_school_list(old))
    return root / "data"


@pytest.fixture
def old_list_data(_old_list_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of that data folder (a real copy: tests change and break its files).

    Later builds in the test run on the fixture world too. The copy's ``current`` is a
    relative symlink, so it points into the copy.
    """
    fb.use_fixture_reference(monkeypatch)
    target = tmp_path / "data"
    shutil.copytree(_old_list_template, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def _deployment(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """docs/DEPLOY.md's deployment, booted once per test process (see tests/scripts/deploy_support.py).

    Two replicas share a PostgreSQL database (a new, migrated one with the staff tests'
    admin and editor) and a data folder: the session build by hard link, so a build
    published through a replica is private to it. Without a reachable PostgreSQL (and not
    under CI) the replicas use the data folder's SQLite file and say why in ``no_postgres``.
    """
    from tests.postgres_support import create_database, drop_database
    from tests.scripts.deploy_support import find_nginx, run_deployment
    from tests.staff.staff_support import ADMIN, EDITOR
    from webmap import accounts, db

    nginx = find_nginx()
    assert nginx is not None, "the deployment tests skip, or fail under CI, before asking for this"
    folder = tmp_path_factory.mktemp("deploy")
    data = folder / "data"
    shutil.copytree(built_data_dir, data, symlinks=True, copy_function=os.link)
    port = free_port()
    # The replicas must agree on the key generated in the data folder, and name nginx's origin.
    env = {k: v for k, v in os.environ.items() if k != "CSMAP_SECRET_KEY"}
    env["CSMAP_BASE_URL"] = f"http://127.0.0.1:{port}"
    name = url = no_postgres = None
    try:
        name, url = create_database("csmap_replicas")
    except pytest.skip.Exception as exc:  # not under CI: the nginx tests still run
        no_postgres = str(exc)
    if url is not None:
        db.upgrade(url)
        with db.session_scope(url) as session:
            accounts.add_user(session, ADMIN[0], ADMIN[1], "admin")
            accounts.add_user(session, EDITOR[0], EDITOR[1], "editor", "IL,IN")
        db.dispose_engines()
        env["CSMAP_DATABASE_URL"] = url
    try:
        with run_deployment(nginx, data, folder, env, port) as deployment:
            deployment.database_url, deployment.no_postgres = url, no_postgres
            yield deployment
    finally:
        if name is not None:
            db.dispose_engines()
            drop_database(name)


@pytest.fixture
def deployment(_deployment):
    """The shared deployment, with any replica an earlier test stopped started again."""
    _deployment.restart_stopped_replicas()
    return _deployment
