"""Issue 11, point 6: ``csmap load`` into a really read-only or full data folder says so.

The data folder is a small tmpfs mounted for the test (root only; skipped elsewhere), holding
a real build of the fixture world (tests/scripts/fixture_build.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from geo import build, store
from geo.school_list import load_school_list
from scripts.cmd_load import load_command
from tests.scripts import fixture_build as fb

OLD = "Name,Zip\nOld School,67001\n"
NEW = "School Name,ZIP\nNew School,68001\n"


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)):
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


@pytest.fixture
def world(small_disk, monkeypatch, tmp_path):
    fb.use_fixture_reference(monkeypatch)
    data = small_disk / "data"
    old = tmp_path / "old.csv"
    old.write_text(OLD, encoding="utf-8")
    build.run_build(data, schools=load_school_list(old))
    new = tmp_path / "new.csv"
    new.write_text(NEW, encoding="utf-8")
    return {"disk": small_disk, "data": data, "old": store.current_build_dir(data), "new": new}


def load(world, *args):
    return CliRunner().invoke(load_command, [str(world["new"]), *args, "--data-dir", str(world["data"])])


def assert_unchanged(world):
    assert store.current_build_dir(world["data"]) == world["old"]
    assert build.active_school_list(world["data"]).name == "old.csv"


def test_read_only_data_folder(world):
    assert _mount("-o", "remount,ro", str(world["disk"]))
    result = load(world)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"the data folder {str(world['data'])!r} is on a read-only file system" in result.output
    assert "unchanged" in result.output
    assert_unchanged(world)
    as_json = json.loads(load(world, "--json").stdout)
    assert as_json["exit"] == 1 and "read-only" in as_json["error"]


def test_full_disk(world):
    # Fill the disk, leaving too little for a build.
    filler = world["disk"] / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 20))
                handle.flush()
        except OSError:
            pass
    result = load(world)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"the disk holding the data folder {str(world['data'])!r} is full" in result.output
    assert_unchanged(world)
    assert not list((world["data"] / "builds").glob(".tmp-*"))
    filler.unlink()
    assert load(world).exit_code == 0  # with room again, the load goes through
    assert build.active_school_list(world["data"]).name == "new.csv"
