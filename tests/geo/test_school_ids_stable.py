"""school_id stays the same across loads of the same source records (issue 15, point 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.schools import prepare_schools
from tests.geo import schools_fixture as fx

ROWS = [
    {
        "School Name": "Alpha Elementary",
        "Address": "1 Main St",
        "City": "Alpha",
        "State": "KS",
        "ZIP": "67001",
    },
    {"School Name": "Beta Middle", "Address": "", "City": "Beta", "State": "KS", "ZIP": "67002"},
    {"School Name": "Gamma High", "Address": "9 Elm St", "City": "Alpha", "State": "KS", "ZIP": "67001"},
    {
        "School Name": "Delta Academy",
        "Address": "",
        "City": "",
        "State": "",
        "ZIP": "67002",
        "NCES ID": "200000100001",
    },
    {"School Name": "Epsilon School", "Address": "4 Oak Ave", "City": "Beta", "State": "KS", "ZIP": ""},
]


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


def _ids(rows: list[dict], reference) -> dict[str, str]:
    raw = pd.DataFrame(rows).fillna("").astype("str")
    schools = prepare_schools(raw, reference).schools
    return dict(zip(schools["name"], schools["school_id"], strict=True))


def test_ids_survive_a_second_load_a_reordering_and_an_added_row(reference):
    first = _ids(ROWS, reference)
    assert len(set(first.values())) == len(ROWS)
    assert first["Delta Academy"] == "nces-200000100001"
    assert _ids(ROWS, reference) == first  # the same list again
    assert _ids(list(reversed(ROWS)), reference) == first  # rows in another order
    added = [
        *ROWS[:2],
        {"School Name": "Zeta New", "City": "Alpha", "State": "KS", "ZIP": "67001"},
        *ROWS[2:],
    ]
    grown = _ids(added, reference)
    assert {k: v for k, v in grown.items() if k != "Zeta New"} == first  # an unrelated row changes nothing
    assert grown["Zeta New"] not in first.values()


def test_ids_ignore_fields_outside_the_key(reference):
    """A new phone, grade span or district does not move a school to another id."""
    first = _ids(ROWS, reference)
    edited = [{**row, "Phone": "620-555-0100", "Grades": "K-8", "District": "New"} for row in ROWS]
    assert _ids(edited, reference) == first


def test_a_second_build_gives_every_school_the_same_id(built_data_dir, data_dir_copy):
    """Build the sample again, from scratch, and compare the ids school by school."""
    from geo import store
    from geo.build import run_build

    def ids(root) -> pd.Series:
        schools = store.read_table(store.current_build_dir(root), "schools")
        return schools.set_index("source_rows")["school_id"].astype("str").sort_index()

    before = ids(built_data_dir)
    run_build(data_dir_copy, force=True)
    after = ids(data_dir_copy)
    assert store.current_build_dir(data_dir_copy).name != store.current_build_dir(built_data_dir).name
    assert before.is_unique and len(before) > 1000
    pd.testing.assert_series_equal(after, before)
