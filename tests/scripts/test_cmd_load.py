"""``csmap load`` and ``csmap sample`` on the tiny fixture world, through the real build."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo import build, sample, store
from geo.errors import BuildError
from scripts.cmd_load import COLUMNS_FILE, load_command, sample_command
from tests.geo import schools_fixture as fx

GOOD = (
    "School Name,ZIP,Latitude,Longitude\n"
    "Alpha Elementary,67001,,\n=cmd|' /C calc'!A0,,38.1,-99.1\nNowhere,99999,,\n"
)


#: Poverty rates of the tiny world's six ZCTAs (the metrics stage needs the column).
ZCTA_POVERTY = [0.30, 0.10, 0.20, 0.25, 0.15, 0.05]


@pytest.fixture
def world(monkeypatch, tmp_path):
    """The real build on the tiny reference world of tests/geo/schools_fixture.py.

    Only the inputs are made small: the reference layers (the national ones take
    seconds to load) and the generated sample (50 schools instead of 5,589).
    """
    tiny = fx.reference()
    reference = dataclasses.replace(tiny, zctas=tiny.zctas.assign(pct_below_poverty=ZCTA_POVERTY))
    monkeypatch.setattr(build, "load_reference", lambda root, progress=None: reference)
    monkeypatch.setattr(sample, "generate_sample", functools.partial(sample.generate_sample, n=50))
    data = tmp_path / "data"
    inputs = data / "inputs"
    inputs.mkdir(parents=True)
    return {"data": data, "inputs": inputs}


def current_build(world) -> Path:
    return store.current_build_dir(world["data"])


def run(*args):
    return CliRunner().invoke(load_command, [str(a) for a in args])


def test_load_makes_the_file_the_list_and_prints_a_summary(world, tmp_path):
    source = tmp_path / "my list.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert (world["inputs"] / "schools.csv").read_text(encoding="utf-8") == GOOD
    assert "rows read: 3  loaded: 2  merged duplicates: 0  rejected: 1" in result.output
    assert "precision: given 1, street 0, zip 1, city 0, state 0" in result.output
    assert "rejects.csv" in result.output
    first = current_build(world)
    assert sorted(store.read_layer(first, "schools")["name"]) == ["=cmd|' /C calc'!A0", "Alpha Elementary"]
    # The same list again is built again (load always forces a build), not found up to date.
    again = run(source, "--data-dir", world["data"])
    assert again.exit_code == 0, again.output
    assert current_build(world) != first


def test_load_json_summary(world, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = run(source, "--json", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {k: document[k] for k in ("rows", "loaded", "merged", "rejected")} == {
        "rows": 3,
        "loaded": 2,
        "merged": 0,
        "rejected": 1,
    }
    assert document["rejects_file"].endswith("rejects.csv")
    assert document["by_precision"] == {"given": 1, "street": 0, "zip": 1, "city": 0, "state": 0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "NUL bytes"),
        (b"", "empty"),
        (b"School Name,ZIP\n", "header but no data rows"),
        (b"Title,Zip\nA,67001\n", "missing required column 'name'"),
        (b"School Name,ZIP\nA,99999\nB,\n", "no row of bad.csv could be loaded"),
    ],
)
def test_bad_file_never_replaces_the_active_list(world, tmp_path, content, message):
    active = world["inputs"] / "schools.csv"
    active.write_text(GOOD, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = run(bad, "--data-dir", world["data"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert active.read_text(encoding="utf-8") == GOOD
    assert not (world["data"] / "current").exists()  # nothing was built


def test_missing_file(world, tmp_path):
    result = run(tmp_path / "nope.csv", "--data-dir", world["data"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_column_mapping_is_used_and_kept_for_later_builds(world, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text("Campus Label,Postcode\nA,67001\n", encoding="utf-8")
    result = run(source, "--column", "name=Campus Label", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert store.read_manifest(current_build(world))["options"]["columns"] == {"name": "Campus Label"}
    assert list(store.read_layer(current_build(world), "schools")["name"]) == ["A"]
    assert json.loads((world["inputs"] / COLUMNS_FILE).read_text()) == {"name": "Campus Label"}


def test_bad_column_option(world, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = run(source, "--column", "name", "--data-dir", world["data"])
    assert result.exit_code == 2
    assert "FIELD=HEADER" in result.output


def test_xlsx_replaces_a_csv_list(world, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    (world["inputs"] / "schools.csv").write_text(GOOD, encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.append(["Name", "Zip"])
    book.active.append(["A", "67001"])
    source = tmp_path / "list.xlsx"
    book.save(source)
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in world["inputs"].iterdir()) == ["schools.origin.json", "schools.xlsx"]


def test_load_sample_goes_back_to_the_sample(world):
    (world["inputs"] / "schools.csv").write_text(GOOD, encoding="utf-8")
    (world["inputs"] / COLUMNS_FILE).write_text("{}", encoding="utf-8")
    result = run("--sample", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert list(world["inputs"].iterdir()) == []
    assert "SAMPLE" in result.output


@pytest.mark.parametrize("args", [[], ["x.csv", "--sample"]])
def test_file_or_sample(world, args):
    result = run(*args, "--data-dir", world["data"])
    assert result.exit_code == 2


def test_failed_build_restores_the_previous_list(world, tmp_path, monkeypatch):
    active = world["inputs"] / "schools.csv"
    active.write_text("Name,Zip\nOld,67001\n", encoding="utf-8")
    source = tmp_path / "new.csv"
    source.write_text(GOOD, encoding="utf-8")

    def failing(*args, **kwargs):
        raise BuildError("disk full")

    monkeypatch.setattr(build, "run_build", failing)
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 1
    assert "disk full" in result.output and "left as it was" in result.output
    assert active.read_text(encoding="utf-8") == "Name,Zip\nOld,67001\n"


def test_sample_command_writes_a_labelled_csv(world, tmp_path):
    out = tmp_path / "sample.csv"
    coalitions = tmp_path / "coalitions.csv"
    args = [
        "--n",
        "60",
        "--seed",
        "5",
        "--out",
        str(out),
        "--coalitions",
        str(coalitions),
        "--data-dir",
        str(world["data"]),
    ]
    result = CliRunner().invoke(sample_command, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(table) == 60
    assert (table["is_sample"] == "true").all()
    again = tmp_path / "again.csv"
    CliRunner().invoke(
        sample_command, ["--n", "60", "--seed", "5", "--out", str(again), "--data-dir", str(world["data"])]
    )
    assert again.read_bytes() == out.read_bytes()
    assert len(pd.read_csv(coalitions)) == len(fx.STATES)


def test_sample_command_to_stdout(world):
    result = CliRunner().invoke(
        sample_command, ["--n", "5", "--canada", "0", "--data-dir", str(world["data"])]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("School Name,")
    assert len(result.output.splitlines()) == 6
