"""The declared dependency floors are versions the suite really runs on.

pyproject.toml declares a range for each dependency; constraints.txt pins the one
release that `make .venv/.installed` and CI install, so that pin is the version
every other test exercises. These tests keep the three in step: each pin lies in
its declared range, the installed packages are the pinned ones, and for folium and
branca, whose CDN URLs webmap/vendor.py maps release by release, the floor is the
very release series vendor.py is written for, and the one pinned.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import webmap.vendor

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): r for r in requirements}


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt line {line!r} is not a name==version pin"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _floor(requirement: Requirement) -> Version | None:
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


DECLARED = _declared()
PINS = _pins()


def test_every_declared_dependency_is_pinned_inside_its_range():
    missing = sorted(set(DECLARED) - set(PINS))
    assert missing == [], f"declared in pyproject.toml but not pinned in constraints.txt: {missing}"
    outside = {
        name: f"{PINS[name]} not in {req.specifier}"
        for name, req in DECLARED.items()
        if not req.specifier.contains(PINS[name], prereleases=True)
    }
    assert outside == {}


def test_every_declared_dependency_has_a_floor():
    assert sorted(name for name, req in DECLARED.items() if _floor(req) is None) == []


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_installed_version_is_the_pinned_one(name):
    # The suite proves a version works only if it is the one that ran.
    assert Version(metadata.version(name)) == PINS[name]


def _vendor_expects() -> dict[str, str]:
    """The releases webmap/vendor.py says its asset tables are for, e.g. {"folium": "0.20"}."""
    text = webmap.vendor.__doc__ or ""
    found = dict(re.findall(r"\b(folium|branca) (\d+\.\d+)\b", text))
    assert set(found) == {"folium", "branca"}, f"webmap/vendor.py no longer names its releases: {text!r}"
    return found


@pytest.mark.parametrize("name", ["folium", "branca"])
def test_vendor_libraries_floor_is_the_release_vendor_py_is_written_for(name):
    written_for = Version(_vendor_expects()[name])
    floor = _floor(DECLARED[name])
    assert floor == written_for, f"{name}: floor {floor}, but webmap/vendor.py is for {written_for}"
    # ...and the suite runs on that release series, so the floor is exercised, not assumed.
    assert PINS[name].release[:2] == written_for.release[:2]
