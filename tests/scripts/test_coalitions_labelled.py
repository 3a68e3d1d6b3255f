"""Issue 11, point 5: beside a real school list, no synthetic coalition is shown unlabelled.

With a real list and no coalitions table, the build leaves the sample coalitions out and says
so; with the sample list, or a real table, the coalitions are there. Real builds of the
fixture world (tests/scripts/fixture_build.py), served by the real app.
"""

from __future__ import annotations

import json

import pytest

from geo import build, store
from geo.school_list import load_school_list
from tests.scripts import fixture_build as fb

LIST = "Name,Zip\nAlpha School,67001\nGamma School,68001\n"


@pytest.fixture(scope="module")
def real_list_build(tmp_path_factory):
    """One build of a real list with no coalitions table; its two tests only read it."""
    root = tmp_path_factory.mktemp("real-list")
    source = root / "real.csv"
    source.write_text(LIST, encoding="utf-8")
    data = root / "data"
    with pytest.MonkeyPatch.context() as patch:
        fb.use_fixture_reference(patch)
        return data, build.run_build(data, schools=load_school_list(source))


def test_real_list_without_coalitions_table_leaves_them_out(real_list_build):
    data, summary = real_list_build
    assert summary.manifest["coalitions"] == {
        "source": "left out",
        "is_sample": False,
        "note": build.COALITIONS_LEFT_OUT,
    }
    assert build.COALITIONS_LEFT_OUT in summary.load_report["warnings"]
    current = summary.build_dir
    assert store.read_table(current, "coalitions").empty
    assert store.read_layer(current, "coalition_areas").empty
    statuses = store.read_table(current, "state_metrics")["coalition_status"]
    assert statuses.isna().all()  # not "none": nobody said there is no coalition
    report = json.loads((current / "load_report.json").read_text())
    assert build.COALITIONS_LEFT_OUT in report["warnings"]


def test_pages_say_coalitions_are_not_recorded(real_list_build):
    from webmap import create_app

    data, _ = real_list_build
    client = create_app({"TESTING": True, "DATA_DIR": str(data)}).test_client()
    state = client.get("/states/KS").get_data(as_text=True)
    assert "Coalition: <strong>not recorded</strong> (no coalitions table is loaded)" in state
    about = client.get("/about").get_data(as_text=True)
    assert 'id="coalitions-left-out"' in about


def test_sample_list_and_real_table_keep_coalitions(monkeypatch, tmp_path):
    fb.use_fixture_reference(monkeypatch)
    data = tmp_path / "data"
    sample = build.run_build(data, schools=None)
    assert sample.manifest["coalitions"]["source"] == "sample"
    assert sample.manifest["coalitions"]["is_sample"] is True
    assert not store.read_table(sample.build_dir, "coalitions").empty
    (data / "inputs").mkdir(exist_ok=True)
    (data / "inputs" / "coalitions.csv").write_text(
        "stusps,status,coalition_name\nKS,existing,Kansas Community Schools\n", encoding="utf-8"
    )
    source = tmp_path / "real.csv"
    source.write_text(LIST, encoding="utf-8")
    real = build.run_build(data, schools=load_school_list(source))
    assert real.manifest["coalitions"] == {"source": "file", "is_sample": False, "note": None}
    statuses = store.read_table(real.build_dir, "state_metrics").set_index("stusps")["coalition_status"]
    assert statuses["KS"] == "existing" and statuses["NE"] == "none"
