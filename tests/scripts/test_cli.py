"""The csmap group: usage errors, not tracebacks; clear messages when there is no build."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from scripts.cli import cli


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus"],
        ["build", "--nope"],
        ["build", "extra-argument"],
        ["serve", "--port", "notaport"],
        ["serve", "--port", "70000"],
        ["no-such-command"],
    ],
)
def test_usage_errors(runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "Usage:" in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_serve_without_build_says_what_to_do(runner, tmp_path):
    result = runner.invoke(cli, ["serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "csmap build" in result.output


def test_help_lists_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("build", "serve"):
        assert name in result.output
