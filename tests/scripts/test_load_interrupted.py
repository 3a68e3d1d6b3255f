"""Issue 11: a killed or interrupted ``csmap load`` never changes the published build or its list.

``csmap load`` runs in a child process on the fixture world (tests/scripts/fixture_build.py),
which stops at a named point of the build and says so; the test then kills it (SIGKILL) or
presses Ctrl-C (SIGINT) there, and checks what is in force, and what the next build does.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from geo import build, store
from tests.scripts import fixture_build as fb

ROOT = Path(__file__).resolve().parents[2]
NEW = "School Name,ZIP\nNew School,68001\nOther New School,67002\n"


@pytest.fixture
def world(old_list_data, tmp_path):
    """A copy of the session's build of the list ``old.csv`` (tests/scripts/conftest.py), and a new list."""
    data = old_list_data
    new = tmp_path / "big.csv"
    new.write_text(NEW, encoding="utf-8")
    return {"data": data, "old": store.current_build_dir(data), "new": new}


def start_load(world, point: str) -> subprocess.Popen:
    env = dict(os.environ, **{fb.PAUSE_ENV: point})
    env.pop("CSMAP_DATA_DIR", None)
    command = [sys.executable, "-m", "tests.scripts.fixture_build", "load", str(world["new"])]
    return subprocess.Popen(
        [*command, "--data-dir", str(world["data"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pause(child: subprocess.Popen, point: str, timeout: float = 180) -> None:
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in child.stdout], daemon=True)
    reader.start()
    READERS[child.pid] = reader
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            child.kill()
            pytest.fail(f"csmap load never reached {point}: {child.stderr.read()}")
        if line.strip() == f"PAUSED {point}":
            return


#: The stdout reader thread of each child, joined before its pipes are closed.
READERS: dict[int, threading.Thread] = {}


def stop(child: subprocess.Popen, sig: int) -> str:
    """Send ``sig``, wait for the child, and close its pipes (warnings are errors); return its stderr."""
    child.send_signal(sig)
    child.wait(timeout=30)
    reader = READERS.pop(child.pid, None)
    if reader is not None:
        reader.join(timeout=30)  # the pipe is at its end: the reader stops by itself
    errors = child.stderr.read()
    child.stdout.close()
    child.stderr.close()
    return errors


def in_force(data: Path) -> str | None:
    school_list = build.active_school_list(data)
    return None if school_list is None else school_list.name


@pytest.mark.parametrize("point", ["after-schools", "before-rename", "before-publish"])
def test_sigkill_before_publishing_changes_nothing(world, point):
    child = start_load(world, point)
    try:
        wait_for_pause(child, point)
    finally:
        stop(child, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    assert store.current_build_dir(world["data"]) == world["old"]
    assert in_force(world["data"]) == "old.csv"
    left = list((world["data"] / "builds").glob(".tmp-*"))
    assert bool(left) == (point != "before-publish")  # the killed build's folder, its owner dead
    # The next plain build rebuilds from the list in force (here: nothing changed, up to date),
    # and removes the folder of the killed build.
    summary = build.run_build(world["data"])
    assert summary.skipped and summary.build_dir == world["old"]
    assert summary.load_report["source"] == "old.csv"
    assert not list((world["data"] / "builds").glob(".tmp-*"))
    forced = build.run_build(world["data"], force=True)
    assert forced.load_report["source"] == "old.csv" and forced.load_report["loaded"] == 1


def test_ctrl_c_changes_nothing_and_cleans_up(world):
    child = start_load(world, "after-schools")
    try:
        wait_for_pause(child, "after-schools")
    finally:
        errors = stop(child, signal.SIGINT)
    assert child.returncode == 130
    assert "interrupted" in errors
    assert store.current_build_dir(world["data"]) == world["old"]
    assert in_force(world["data"]) == "old.csv"
    assert not list((world["data"] / "builds").glob(".tmp-*"))


def test_sigkill_after_publishing_leaves_the_new_list_in_force(world):
    # The switch is one step: once `current` points at the new build, its list is in force.
    child = start_load(world, "after-publish")
    try:
        wait_for_pause(child, "after-publish")
    finally:
        stop(child, signal.SIGKILL)
    assert store.current_build_dir(world["data"]) != world["old"]
    assert in_force(world["data"]) == "big.csv"
    assert build.run_build(world["data"]).skipped
