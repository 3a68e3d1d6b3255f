"""Issue 11: rows of any width, odd encodings and wide files never lose a row or shift a column."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import SchoolDataError
from geo.school_files import EXTRA_CELLS, read_school_bytes, read_school_file
from geo.schools import prepare_schools
from tests.geo import schools_fixture as fx

WIDE_FIRST_ROW = (
    "School Name,City,State,Zip Code\n"
    "Lincoln School,Chicago,IL,60614,Lincoln Annex,Chicago,IL,60614\n"
    "Adams School,Chicago,IL,60614\nBaker School,Alpha,KS,67001\nCarver School,Beta,KS,67002\n"
)


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


def test_wide_first_row_keeps_every_row_and_rejects_only_itself(reference):
    raw = read_school_bytes(WIDE_FIRST_ROW.encode(), "wide.csv")
    assert raw["School Name"].tolist() == ["Lincoln School", "Adams School", "Baker School", "Carver School"]
    assert raw["City"].tolist() == ["Chicago", "Chicago", "Alpha", "Beta"]
    assert raw["source_row"].tolist() == [2, 3, 4, 5]
    assert raw[EXTRA_CELLS].tolist() == ["Lincoln Annex,Chicago,IL,60614", "", "", ""]
    result = prepare_schools(raw, reference)
    report = result.report
    assert report["rows"] == 4
    assert report["loaded"] + report["merged"] + report["rejected"] == 4
    reasons = dict(zip(result.rejects["source_row"], result.rejects["reason"], strict=True))
    assert reasons[2] == (
        "the row has 4 more cell(s) than the 4 headers: 'Lincoln Annex', 'Chicago', 'IL', '60614' "
        "(cells 5-8; a stray or missing delimiter?)"
    )
    assert "Baker School" in set(result.schools["name"]) and "Carver School" in set(result.schools["name"])


def test_trailing_delimiter_on_every_row_shifts_nothing(reference):
    text = "School Name,City,State,Zip Code\nLincoln School,Alpha,KS,67001,\nAdams School,Gamma,NE,68001,\n"
    raw = read_school_bytes(text.encode(), "trailing.csv")
    assert EXTRA_CELLS not in raw.columns
    assert raw["City"].tolist() == ["Alpha", "Gamma"] and raw["State"].tolist() == ["KS", "NE"]
    result = prepare_schools(raw, reference)
    assert result.report["loaded"] == 2 and result.report["rejected"] == 0
    assert result.schools["city"].tolist() == ["Alpha", "Gamma"]


def test_extra_cells_anywhere_reject_that_row_only():
    text = "Name,Zip\nA,67001\nB,68001,,,\nC,67002,oops\n,,late\nD,67001\n"
    raw = read_school_bytes(text.encode(), "x.csv")
    assert raw["Name"].tolist() == ["A", "B", "C", "", "D"]
    assert raw[EXTRA_CELLS].tolist() == ["", "", "oops", "late", ""]  # empty trailing cells dropped
    assert raw["source_row"].tolist() == [2, 3, 4, 5, 6]
    result = prepare_schools(raw, fx.reference())
    rejected = dict(zip(result.rejects["source_row"], result.rejects["reason"], strict=True))
    assert set(rejected) == {4, 5}
    assert "'oops'" in rejected[4] and "'late'" in rejected[5]


def test_short_rows_are_padded():
    raw = read_school_bytes(b"Name,Zip,City\nA\nB,67001\n", "short.csv")
    assert raw["Zip"].tolist() == ["", "67001"] and raw["City"].tolist() == ["", ""]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_is_read(tmp_path, codec):
    path = tmp_path / "list.csv"
    path.write_bytes("School Name,ZIP\nÉcole Sainte-Anne,67001\n".encode(codec))
    raw = read_school_file(path)
    assert raw["School Name"].tolist() == ["École Sainte-Anne"]
    assert "without a byte-order mark" in raw.attrs["source"]


def test_binary_with_nul_bytes_still_refused():
    with pytest.raises(SchoolDataError, match="NUL bytes"):
        read_school_bytes(bytes(range(256)) * 4, "odd.csv")


def test_xlsx_that_is_junk_text_says_so():
    with pytest.raises(SchoolDataError, match=r"named \.xlsx but is not an Excel workbook") as info:
        read_school_bytes(b"this is not a workbook\nat all\n", "list.xlsx")
    assert "'list.xlsx'" in str(info.value) and "b'this is '" in str(info.value)


def test_very_wide_file_keeps_every_cell():
    headers = ["School Name", "ZIP", *(f"c{i}" for i in range(20_000))]
    rows = [[f"S{r}", "67001", *(f"{r}-{i}" for i in range(20_000))] for r in range(3)]
    text = "\n".join(",".join(row) for row in [headers, *rows]) + "\n"
    raw = read_school_bytes(text.encode(), "wide.csv")
    assert raw.shape == (3, 20_003)
    assert raw["c19999"].tolist() == ["0-19999", "1-19999", "2-19999"]
    assert raw.attrs["columns"] == {"name": "School Name", "zip": "ZIP"}


# --------------------------------------------------------------------------
# Property: ragged CSVs (short, long, trailing delimiters, quoted newlines) keep the accounting.

HEADERS = ["School Name", "ZIP", "City", "Notes"]
cell = st.one_of(
    st.sampled_from(["", " ", "67001", "Alpha", "KS", "Beta School", "a,b", 'say "hi"', "two\nlines"]),
    st.text(alphabet='abcXYZ 019,"\n', max_size=8),
)
record = st.lists(cell, min_size=0, max_size=len(HEADERS) + 3)


@given(st.lists(record, min_size=1, max_size=12), st.booleans())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ragged_csv_row_accounting(records, trailing):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for cells in records:
        writer.writerow([*cells, ""] if trailing else cells)  # a trailing delimiter on every row
    text = buffer.getvalue()
    # The oracle: the csv module's records, numbered as a spreadsheet shows them (header = row 1).
    parsed = list(csv.reader(io.StringIO(text)))[1:]
    width = len(HEADERS)
    expected = {}
    for number, cells in enumerate(parsed, start=2):
        extra = list(cells[width:])
        while extra and not extra[-1].strip():
            extra.pop()
        if any(c.strip() for c in cells[:width]) or extra:
            expected[number] = (cells[:width] + [""] * (width - len(cells)), extra)
    if not expected:
        with pytest.raises(SchoolDataError, match="no data rows"):
            read_school_bytes(text.encode(), "ragged.csv")
        return
    raw = read_school_bytes(text.encode(), "ragged.csv")
    assert raw["source_row"].tolist() == list(expected)
    for position, (number, (cells, extra)) in enumerate(expected.items()):
        assert [raw[h].iloc[position] for h in HEADERS] == cells, number
        got = raw[EXTRA_CELLS].iloc[position] if EXTRA_CELLS in raw.columns else ""
        assert got == (_csv(extra) if extra else "")
    result = prepare_schools(raw, fx.reference())
    report = result.report
    assert report["rows"] == len(expected)
    assert report["loaded"] + report["merged"] + report["rejected"] == report["rows"]
    seen = [int(r) for rows in result.schools["source_rows"] for r in rows.split(";")]
    seen += result.rejects["source_row"].tolist()
    assert sorted(seen) == list(expected)
    reasons = dict(zip(result.rejects["source_row"], result.rejects["reason"], strict=True))
    for number, (_, extra) in expected.items():
        if extra:
            assert re.match(rf"the row has {len(extra)} more cell\(s\) than the 4 headers: ", reasons[number])


def _csv(cells):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()[:-1]
