"""Fixtures shared by every test folder: one real build of the embedded sample per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _no_ambient_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never read or write the developer's data folder through $CSMAP_DATA_DIR."""
    monkeypatch.delenv("CSMAP_DATA_DIR", raising=False)


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding one complete build of the embedded sample (built once per session).

    Read-only: tests that change a data folder take ``data_dir_copy`` instead.
    """
    from geo.build import run_build

    root = tmp_path_factory.mktemp("csmap-data")
    run_build(root)
    return root


@pytest.fixture
def data_dir_copy(built_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the session's data folder (symlinks kept), safe to rebuild or break."""
    target = tmp_path / "data"
    shutil.copytree(built_data_dir, target, symlinks=True)
    return target
