"""Fixtures shared by every test folder: one real build of the embedded sample per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# GDAL's SQLite driver syncs a GeoPackage to disk after each layer write; tests write
# hundreds of layers into throw-away folders, where that costs seconds and buys no
# safety (https://gdal.org/en/stable/drivers/vector/sqlite.html#configuration-options).
# Set before any GDAL write; inherited by the servers the tests start.
os.environ.setdefault("OGR_SQLITE_SYNCHRONOUS", "OFF")


@pytest.fixture(autouse=True)
def _no_ambient_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the developer's data folder through $CSMAP_DATA_DIR."""
    monkeypatch.delenv("CSMAP_DATA_DIR", raising=False)


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding one complete build of the embedded sample (built once per run).

    Read-only: tests that change a data folder take ``data_dir_copy`` instead.

    Under pytest-xdist (``make test`` runs ``-n auto``) each worker is a process of its
    own with its own session. The first worker to ask builds into the run's shared temp
    folder (the parent of every worker's own) while holding a file lock; the others wait
    on the lock, then reuse that build. That folder belongs to this run only (pytest
    numbers it afresh each time), so a build is never shared across runs or checkouts.
    """
    from geo.build import run_build

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.mktemp("csmap-data")
        run_build(root)
        return root
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent
    root = shared / "csmap-data"
    done = shared / "csmap-data.done"
    with FileLock(str(shared / "csmap-data.lock")):
        if not done.exists():  # a worker whose build failed leaves no marker: the next one retries
            run_build(root)
            done.touch()
    return root


@pytest.fixture(scope="session")
def shared_app(built_data_dir: Path):
    """One app over the session's build, per test process: READ-ONLY.

    Building an app and loading the national sample into it costs seconds, and its caches
    (the national map's layers among them) warm up once, so the web tests (through
    tests/webmap's ``app``, which checks they left it as it was) and the browser tests
    (through ``site``) share it. A test that changes an app takes one of its own.
    """
    from webmap import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(built_data_dir)})


@pytest.fixture
def data_dir_copy(built_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's data folder (symlinks kept), safe to rebuild or break."""
    target = tmp_path / "data"
    shutil.copytree(built_data_dir, target, symlinks=True)
    return target


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the users of ``served_sample`` first, side by side, in their own order.

    ``make test`` runs ``--dist worksteal``: each worker gets a contiguous run of the
    collection and an idle worker steals from the *end* of another's. At the very
    front, the users go to one worker, which starts one server for all of them (not
    one per module) and is past them before anyone steals; and the longest tests of
    the suite (the Schemathesis runs) start first, which also evens out the workers.
    """
    users = [item for item in items if "served_sample" in getattr(item, "fixturenames", ())]
    if len(users) < 2:
        return
    chosen = {id(item) for item in users}
    items[:] = users + [item for item in items if id(item) not in chosen]


@pytest.fixture(scope="session")
def served_sample(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """One ``csmap serve`` (gunicorn, two web workers) over the session's build: (port, log path).

    Shared by the tests that only send it requests (tests/webmap/test_conformance.py,
    tests/scripts/test_cmd_serve.py), so a worker starts it once rather than once per
    module. Stopped by its PID when the session ends, and that stop must be clean.
    """
    from tests.serve_support import csmap_serve, log_tail

    log = tmp_path_factory.mktemp("served-sample") / "server.log"
    with csmap_serve(built_data_dir, log, "--workers", "2") as (port, process):
        yield port, log
    assert process.returncode == 0, log_tail(log)  # a clean stop of front and pools
