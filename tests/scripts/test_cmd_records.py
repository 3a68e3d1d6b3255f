"""``csmap records import/export``: row accounting and the saved build input (issue 14, point 7)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scripts.cli import cli


def test_import_accounts_for_every_row_and_saves_the_clean_table(tmp_path):
    source = tmp_path / "partners.csv"
    source.write_text(
        "Name,Type,Website\nHelping Hands,nonprofit,https://hh.org\n"
        "Helping Hands,,\nMystery,alien,\n,health,\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "records",
            "import",
            "partners",
            str(source),
            "--data-dir",
            str(tmp_path / "data"),
            "--no-build",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert (report["rows"], report["loaded"], report["merged"], report["rejected"]) == (4, 1, 1, 2)
    saved = (tmp_path / "data" / "inputs" / "partners.csv").read_text(encoding="utf-8")
    assert "Helping Hands" in saved and "Mystery" not in saved
    rejects = (tmp_path / "data" / "inputs" / "partners.rejects.csv").read_text(encoding="utf-8")
    assert "unknown partner_type 'alien'" in rejects and "no name" in rejects
    exported = runner.invoke(cli, ["records", "export", "partners", "--data-dir", str(tmp_path / "data")])
    assert exported.exit_code == 0 and "Helping Hands" in exported.output


def test_dry_run_changes_nothing_and_missing_column_is_named(tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("state,status\nIL,existing\n", encoding="utf-8")
    runner = CliRunner()
    data = str(tmp_path / "data")
    result = runner.invoke(
        cli, ["records", "import", "coalitions", str(source), "--data-dir", data, "--dry-run"]
    )
    assert result.exit_code == 0 and "1 loaded" in result.output
    assert not (tmp_path / "data" / "inputs" / "coalitions.csv").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("foo\nbar\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["records", "import", "communities", str(bad), "--data-dir", data, "--no-build"]
    )
    assert result.exit_code != 0 and "lacks column 'name'" in result.output
