"""``csmap load`` and ``csmap sample`` on the tiny fixture world (real builds of it, issue 11)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from geo import build, store
from scripts.cmd_load import load_command, sample_command
from tests.geo import schools_fixture as fx
from tests.scripts import fixture_build as fb

GOOD = (
    "School Name,ZIP,Latitude,Longitude\n"
    "Alpha Elementary,67001,,\n=cmd|' /C calc'!A0,,38.1,-99.1\nNowhere,99999,,\n"
)
OLD = fb.OLD_LIST


@pytest.fixture
def world(old_list_data):
    """A data folder whose published build used the list OLD; builds run for real on the fixture world.

    A copy of one build per session (tests/scripts/conftest.py), not a build per test.
    """
    return {"data": old_list_data, "old": store.current_build_dir(old_list_data)}


def run(*args):
    return CliRunner().invoke(load_command, [str(a) for a in args])


def active(data: Path):
    """The list in force: (name, bytes), or None for the sample."""
    school_list = build.active_school_list(data)
    return None if school_list is None else (school_list.name, school_list.data)


def test_load_makes_the_file_the_list_and_prints_a_summary(world, tmp_path):
    source = tmp_path / "my list.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert active(world["data"]) == ("my list.csv", GOOD.encode())
    assert "rows read: 3  loaded: 2  merged duplicates: 0  rejected: 1" in result.output
    assert "precision: given 1, street 0, zip 1, city 0, state 0" in result.output
    assert "rejects.csv" in result.output
    current = store.current_build_dir(world["data"])
    assert current != world["old"]
    assert (current / "inputs" / "schools.csv").read_bytes() == GOOD.encode()
    assert not (world["data"] / "inputs" / "schools.csv").exists()  # the list lives in its build


def test_load_json_summary_has_every_documented_field(world, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text(GOOD + "Alpha Elementary,67001,,\nGone West,,38.5,-120.0\n\n", encoding="utf-8")
    result = run(source, "--json", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("rows", "loaded", "merged", "rejected")} == {
        "rows": 5,
        "loaded": 2,
        "merged": 1,
        "rejected": 2,
    }
    documented = "rows loaded merged rejected rejects_file by_precision by_method duplicate_groups "
    documented += "duplicates notes warnings columns blank_rows_skipped read flagged_rows flagged"
    assert set(documented.split()) <= set(document)
    assert document["rejects_file"].endswith("rejects.csv")
    assert document["by_precision"] == {"given": 1, "street": 0, "zip": 1, "city": 0, "state": 0}
    assert document["duplicates"] == [
        {"kept_row": 2, "merged_rows": [5], "name": "Alpha Elementary", "match": ["name and ZIP"]}
    ]
    assert document["columns"] == {"name": "School Name", "zip": "ZIP", "lat": "Latitude", "lon": "Longitude"}
    assert document["blank_rows_skipped"] == 1
    assert document["read"].startswith("list.csv (CSV, UTF-8, comma-separated")


def test_flagged_rows_are_listed_by_row_name_and_note(world, tmp_path):
    # Stated NE, the point lies in KS, 111 km south of the border: kept and flagged.
    source = tmp_path / "list.csv"
    source.write_text(
        "School Name,State,Latitude,Longitude\nRight,KS,38.0,-99.0\nBorder School,NE,38.0,-99.0\n",
        encoding="utf-8",
    )
    result = run(source, "--json", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["flagged_rows"] == 1
    [flag] = document["flagged"]
    assert flag["row"] == 3 and flag["name"] == "Border School"
    assert "outside the stated state NE" in flag["note"] and "KS" in flag["note"]
    plain = run(source, "--data-dir", world["data"])
    assert "flagged rows: 1" in plain.output
    assert "row 3: Border School: point is" in plain.output


def test_wide_first_row_loses_no_row(world, tmp_path):
    source = tmp_path / "wide.csv"
    source.write_text(
        "School Name,City,State,Zip Code\n"
        "Lincoln School,Alpha,KS,67001,Lincoln Annex,Alpha,KS,67001\n"
        "Adams School,Alpha,KS,67001\nBaker School,Gamma,NE,68001\nCarver School,Beta,KS,67002\n",
        encoding="utf-8",
    )
    result = run(source, "--json", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {k: document[k] for k in ("rows", "loaded", "merged", "rejected")} == {
        "rows": 4,
        "loaded": 3,
        "merged": 0,
        "rejected": 1,
    }
    rejects = pd.read_csv(document["rejects_file"], dtype=str, keep_default_na=False)
    assert rejects["source_row"].tolist() == ["2"]
    assert "'Lincoln Annex', 'Alpha', 'KS', '67001'" in rejects["reason"][0]
    assert rejects["(extra cells)"][0] == "Lincoln Annex,Alpha,KS,67001"


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
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    result = run(bad, "--data-dir", world["data"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert active(world["data"]) == ("old.csv", OLD.encode())
    assert store.current_build_dir(world["data"]) == world["old"]
    as_json = run(bad, "--json", "--data-dir", world["data"])
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["exit"] == 1 and document["file"] == str(bad) and message in document["error"]


def test_missing_file(world, tmp_path):
    result = run(tmp_path / "nope.csv", "--data-dir", world["data"])
    assert result.exit_code == 1
    assert "does not exist" in result.output


def test_column_mapping_is_used_and_kept_for_later_builds(world, tmp_path):
    source = tmp_path / "list.csv"
    source.write_text("Campus Label,Postcode\nA,67001\n", encoding="utf-8")
    result = run(source, "--column", "name=Campus Label", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert build.active_school_list(world["data"]).columns == {"name": "Campus Label"}
    again = build.run_build(world["data"], force=True)
    assert again.load_report["loaded"] == 1 and again.load_report["source"] == "list.csv"
    assert build.run_build(world["data"]).skipped  # unchanged list and mapping: up to date


@pytest.mark.parametrize("as_json", [False, True])
def test_bad_column_option(world, tmp_path, as_json):
    source = tmp_path / "list.csv"
    source.write_text(GOOD, encoding="utf-8")
    result = run(source, "--column", "name", *(["--json"] if as_json else []), "--data-dir", world["data"])
    assert result.exit_code == 2
    assert "FIELD=HEADER" in result.output
    if as_json:
        document = json.loads(result.stdout)
        assert document["exit"] == 2 and "FIELD=HEADER" in document["error"]
        assert document["file"] == str(source)


@pytest.mark.parametrize("through_cli", [False, True])
def test_usage_error_before_the_command_runs_is_json_too(through_cli):
    from scripts.cli import cli

    args = ["--data-dir", "somewhere", "list.csv", "--online", "bogus", "--json"]
    command, args = (cli, ["load", *args]) if through_cli else (load_command, args)
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["exit"] == 2 and "bogus" in document["error"] and document["file"] == "list.csv"


def test_xlsx_replaces_a_csv_list(world, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["Name", "Zip"])
    book.active.append(["A", "67001"])
    source = tmp_path / "list.xlsx"
    book.save(source)
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert build.active_school_list(world["data"]).suffix == ".xlsx"
    assert sorted(p.name for p in (store.current_build_dir(world["data"]) / "inputs").iterdir()) == [
        "school_list.json",
        "schools.xlsx",
    ]


def test_load_sample_goes_back_to_the_sample(world):
    result = run("--sample", "--data-dir", world["data"])
    assert result.exit_code == 0, result.output
    assert build.active_school_list(world["data"]) is None
    assert "SAMPLE" in result.output
    assert build.run_build(world["data"]).skipped


@pytest.mark.parametrize("args", [[], ["x.csv", "--sample"]])
def test_file_or_sample(world, args):
    result = run(*args, "--data-dir", world["data"])
    assert result.exit_code == 2


def test_failed_build_keeps_the_previous_list(world, tmp_path, monkeypatch):
    source = tmp_path / "new.csv"
    source.write_text(GOOD, encoding="utf-8")

    def failing(*args, **kwargs):
        raise RuntimeError("metrics exploded")

    monkeypatch.setattr(build, "_metrics_stage", failing)
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 1
    assert "metrics exploded" in result.output and "unchanged" in result.output
    assert active(world["data"]) == ("old.csv", OLD.encode())
    assert store.current_build_dir(world["data"]) == world["old"]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "is full"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (OSError(errno.EACCES, "Permission denied"), "not writable"),
        (
            RuntimeError("GDAL: sqlite3_exec failed: database or disk is full; No space left on device"),
            "is full",
        ),
    ],
)
def test_read_only_or_full_data_folder_says_so(world, tmp_path, monkeypatch, error, words):
    source = tmp_path / "new.csv"
    source.write_text(GOOD, encoding="utf-8")

    def failing(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(store.BuildWriter, "write_layer", failing)
    result = run(source, "--data-dir", world["data"])
    assert result.exit_code == 1
    assert words in result.output and str(world["data"]) in result.output
    assert "Traceback" not in result.output
    assert active(world["data"]) == ("old.csv", OLD.encode())
    assert not list((world["data"] / "builds").glob(".tmp-*"))


def test_data_folder_that_cannot_be_created_says_so(tmp_path, monkeypatch):
    fb.use_fixture_reference(monkeypatch)
    source = tmp_path / "new.csv"
    source.write_text(GOOD, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run(source, "--json", "--data-dir", blocker / "data")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert str(blocker / "data") in document["error"] and "unchanged" in document["error"]


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


def test_data_folder_of_an_older_version_keeps_its_list(world, tmp_path):
    # Before issue 11 the list in force sat in DATA_DIR/inputs and builds did not record theirs.
    current = store.current_build_dir(world["data"])
    (current / "inputs" / "school_list.json").unlink()
    inputs = world["data"] / "inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "schools.csv").write_text("Campus,Zip\nLegacy School,67001\n", encoding="utf-8")
    (inputs / "schools.columns.json").write_text('{"name": "Campus"}', encoding="utf-8")
    (inputs / "schools.origin.json").write_text('{"file": "legacy list.csv"}', encoding="utf-8")
    legacy = build.active_school_list(world["data"])
    assert (legacy.name, legacy.columns, legacy.suffix) == ("legacy list.csv", {"name": "Campus"}, ".csv")
    rebuilt = build.run_build(world["data"])
    assert rebuilt.load_report["source"] == "legacy list.csv" and rebuilt.load_report["loaded"] == 1
    # From then on the build records its list, and the one in force is that build's.
    assert build.active_school_list(world["data"]).data == (inputs / "schools.csv").read_bytes()
    (inputs / "schools.csv").unlink()
    assert build.active_school_list(world["data"]).name == "legacy list.csv"
