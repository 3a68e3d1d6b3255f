"""The data folder: atomic publish, failure and kill safety, CSV safety."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import store
from geo.errors import NoBuildError


def _frame(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"n": range(n)}, geometry=[shapely.Point(i, i) for i in range(n)], crs="EPSG:4326"
    )


def _good_build(root, n=3):
    with store.new_build(root) as out:
        out.write_layer(_frame(n), "schools")
        out.write_json(store.MANIFEST_NAME, {"rows": n})
    return store.current_build_dir(root)


def test_data_dir_env_and_default(monkeypatch, tmp_path):
    monkeypatch.delenv(store.DATA_DIR_ENV, raising=False)
    assert store.data_dir() == store.PROJECT_ROOT / "data" / "build"
    monkeypatch.setenv(store.DATA_DIR_ENV, str(tmp_path / "other"))
    assert store.data_dir() == (tmp_path / "other").resolve()
    assert store.data_dir(tmp_path) == tmp_path.resolve()


def test_no_build_yet(tmp_path):
    with pytest.raises(NoBuildError, match="csmap build"):
        store.current_build_dir(tmp_path)


def test_publish_and_read(tmp_path):
    build = _good_build(tmp_path, 4)
    assert store.read_manifest(build) == {"rows": 4}
    frame = store.read_layer(build, "schools")
    assert len(frame) == 4 and frame.crs.to_epsg() == 4326


def test_failed_build_leaves_previous(tmp_path):
    before = _good_build(tmp_path, 3)
    with pytest.raises(RuntimeError, match="boom"), store.new_build(tmp_path) as out:
        out.write_layer(_frame(10), "schools")
        raise RuntimeError("boom")
    assert store.current_build_dir(tmp_path) == before
    assert len(store.read_layer(before, "schools")) == 3
    assert not list((tmp_path / "builds").glob(".tmp-*"))


def test_killed_build_leaves_previous(tmp_path):
    before = _good_build(tmp_path, 3)
    script = textwrap.dedent(
        f"""
        import time, geopandas as gpd, shapely
        from geo import store
        with store.new_build({str(tmp_path)!r}) as out:
            out.write_layer(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:4326"), "schools")
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=store.PROJECT_ROOT
    ) as proc:
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert store.current_build_dir(tmp_path) == before
    assert len(store.read_layer(before, "schools")) == 3
    # The killed build's folder names its dead owner: the next build removes it at once (issue 11).
    [left] = (tmp_path / "builds").glob(".tmp-*")
    assert store.OWNER_FILE in {p.name for p in left.iterdir()}
    _good_build(tmp_path, 2)
    assert not list((tmp_path / "builds").glob(".tmp-*"))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_stale_temporaries_go_live_ones_stay(tmp_path):
    import json

    builds = tmp_path / "builds"
    builds.mkdir()
    folders = {name: builds / f".tmp-{name}" for name in ("dead", "live", "reused", "fresh", "old")}
    for folder in folders.values():
        folder.mkdir()
    owners = {
        "dead": {"pid": _dead_pid(), "started": None},
        "live": store.process_identity(),
        # this process's PID, but another start time: the owner died and its PID was reused
        "reused": {"pid": os.getpid(), "started": -1},
    }
    for name, owner in owners.items():
        (folders[name] / store.OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
    two_hours_ago = time.time() - 7200
    os.utime(folders["old"], (two_hours_ago, two_hours_ago))  # no owner file: the one-hour rule
    removed = store.remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == [".tmp-dead", ".tmp-old", ".tmp-reused"]
    assert sorted(p.name for p in builds.iterdir()) == [".tmp-fresh", ".tmp-live"]


def _stepping_clock() -> type[dt.datetime]:
    """A ``datetime`` whose ``now()`` moves one second on at each reading (from the real now)."""
    readings = iter(range(1, 1_000_000))
    start = dt.datetime.now(dt.UTC)

    class SteppingClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            moment = start + dt.timedelta(seconds=next(readings))
            return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    return SteppingClock


def test_prune_keeps_last_builds(tmp_path, monkeypatch):
    # Build ids are timestamped to the second; a clock that steps one second per
    # reading orders the builds as builds made a second or more apart are ordered.
    monkeypatch.setattr(store, "dt", SimpleNamespace(datetime=_stepping_clock(), UTC=dt.UTC))
    builds = []
    for n in range(4):
        builds.append(_good_build(tmp_path, n + 1))
    assert len({b.name[:15] for b in builds}) == 4  # four distinct timestamps
    remaining = sorted(p.name for p in (tmp_path / "builds").iterdir() if not p.name.startswith("."))
    assert remaining == sorted(b.name for b in builds[-store.KEEP_BUILDS :])


def test_csv_safe_neutralizes_formulas():
    frame = pd.DataFrame(
        {
            "name": [
                '=HYPERLINK("x")',
                "+1+cmd|' /C calc'!A0",
                "-cmd",
                "@SUM(A1)",
                "Plain <b>",
                None,
                "-73.95",
            ],
            "value": [-1.5, 2, 3, 4, 5, 6, 7],
        }
    )
    out = store.csv_safe(frame)
    expected = ['\'=HYPERLINK("x")', "'+1+cmd|' /C calc'!A0", "'-cmd", "'@SUM(A1)", "Plain <b>"]
    assert list(out["name"][:5]) == expected
    assert pd.isna(out["name"].iloc[5])
    assert out["name"].iloc[6] == "-73.95"  # a plain number is data, not a formula
    assert list(out["value"]) == [-1.5, 2, 3, 4, 5, 6, 7]
    assert frame["name"].iloc[0].startswith("=")  # input unchanged


def test_json_safe():
    import numpy as np

    assert store.json_safe({"a": float("nan"), "b": np.int64(3), "c": [np.float64(1.5), float("inf")]}) == {
        "a": None,
        "b": 3,
        "c": [1.5, None],
    }
