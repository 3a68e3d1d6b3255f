"""Reading school lists whatever their shape, row accounting, duplicates and bad inputs (issue #3)."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from geo.errors import SchoolDataError
from geo.reference import _normalize_place_python as normalize_place  # the plain-Python oracle
from geo.schools import (
    FIELDS,
    MAX_TEXT,
    SCHOOL_COLUMNS,
    SYNONYMS,
    fold_text,
    header_key,
    normalize_zip,
    prepare_schools,
    read_school_file,
    resolve_columns,
)
from geo.store import BuildWriter, csv_safe
from tests.geo import schools_fixture as fx

HEADER = "School Name,Address,City,State,ZIP,Latitude,Longitude\n"


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


def write(tmp_path, text: str, name: str = "schools.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def frame(rows: list[dict]) -> pd.DataFrame:
    """An input-shaped frame of text, as read_school_file returns."""
    table = pd.DataFrame(rows).fillna("").astype("str")
    return table


# --------------------------------------------------------------------------
# Column synonyms


@pytest.mark.parametrize(
    ("headers", "field", "header"),
    [
        (["School Name", "Zip"], "name", "School Name"),
        (["school_name", "Zip"], "name", "school_name"),
        (["NAME", "Zip"], "name", "NAME"),
        (["Name", "Zip"], "zip", "Zip"),
        (["Name", "ZIP Code"], "zip", "ZIP Code"),
        (["Name", "postal_code"], "zip", "postal_code"),
        (["Name", "Latitude", "Longitude"], "lat", "Latitude"),
        (["Name", "lat", "lng"], "lon", "lng"),
        (["Name", "Y", "X"], "lat", "Y"),
        (["Name", "Y", "X"], "lon", "X"),
        (["Name", "lat", "long"], "lon", "long"),
        (["Name", "lat", "lon"], "lon", "lon"),
        (["SCH_NAME", "LZIP", "NCESSCH", "ULOCALE"], "nces_id", "NCESSCH"),
        (["Name", "Zip", "Lead Partner"], "lead_partner", "Lead Partner"),
    ],
)
def test_synonyms(headers, field, header):
    assert resolve_columns(headers)[field] == header


def test_each_synonym_belongs_to_one_field():
    keys = [key for keys in SYNONYMS.values() for key in keys]
    assert len(keys) == len(set(keys))
    assert all(header_key(key) == key for key in keys)
    assert set(SYNONYMS) == set(FIELDS)


def test_best_synonym_wins_when_two_headers_match():
    # "School Name" outranks "Name" (e.g. a contact's name) whatever the column order.
    assert resolve_columns(["Name", "School Name", "Zip"])["name"] == "School Name"


def test_explicit_mapping_wins_and_matches_case_insensitively():
    mapping = resolve_columns(["Site Label", "Name", "Postcode"], {"name": "site label"})
    assert mapping["name"] == "Site Label"
    assert mapping["zip"] == "Postcode"


def test_unknown_field_in_mapping():
    with pytest.raises(SchoolDataError, match="unknown field 'colour'"):
        resolve_columns(["Name", "Zip"], {"colour": "Name"})


def test_unknown_header_in_mapping_lists_headers():
    with pytest.raises(SchoolDataError, match=r"no such header.*\['Name', 'Zip'\]"):
        resolve_columns(["Name", "Zip"], {"name": "Site Label"})


def test_missing_name_names_column_and_headers_found():
    with pytest.raises(SchoolDataError) as info:
        resolve_columns(["Title", "Zip"])
    assert "'name'" in str(info.value)
    assert "['Title', 'Zip']" in str(info.value)


def test_latitude_without_longitude():
    with pytest.raises(SchoolDataError, match="longitude"):
        resolve_columns(["Name", "Latitude"])


def test_no_location_columns():
    with pytest.raises(SchoolDataError, match="missing location columns"):
        resolve_columns(["Name", "District", "City"])


# --------------------------------------------------------------------------
# Reading files


def test_csv_utf8_values_are_text_and_rows_numbered(tmp_path):
    path = write(tmp_path, HEADER + "A,1 Main St,Alpha,KS,02134,38.0,-99.5\nB,,,NE,68001,,\n")
    raw = read_school_file(path)
    assert raw["ZIP"].tolist() == ["02134", "68001"]  # leading zero kept: nothing is type-guessed
    assert raw["source_row"].tolist() == [2, 3]
    assert raw.attrs["columns"]["zip"] == "ZIP"
    assert "UTF-8" in raw.attrs["source"]


def test_csv_with_bom(tmp_path):
    path = write(tmp_path, HEADER + "École A,,,KS,67001,,\n", encoding="utf-8-sig")
    raw = read_school_file(path)
    assert raw.columns[0] == "School Name"  # the BOM is not glued to the first header
    assert raw["School Name"].iloc[0] == "École A"
    assert "BOM" in raw.attrs["source"]


def test_csv_latin1_detected(tmp_path):
    path = write(tmp_path, HEADER + "Escuela Niño Jesús,,Alpha,KS,67001,,\n", encoding="latin-1")
    raw = read_school_file(path)
    assert raw["School Name"].iloc[0] == "Escuela Niño Jesús"


def test_csv_windows_1252_smart_quotes(tmp_path):
    path = write(tmp_path, HEADER + "St. Mary’s “Community” School,,Alpha,KS,67001,,\n", encoding="cp1252")
    raw = read_school_file(path)
    assert raw["School Name"].iloc[0] == "St. Mary’s “Community” School"


def test_csv_utf16_with_bom(tmp_path):
    path = write(tmp_path, HEADER.replace(",", "\t") + "Ünïcode\t\tAlpha\tKS\t67001\t\t\n", encoding="utf-16")
    raw = read_school_file(path)
    assert raw["School Name"].iloc[0] == "Ünïcode"


def test_csv_semicolon_separated_with_decimal_commas(tmp_path):
    path = write(tmp_path, "Schulname;Name;PLZ;Breite;Länge\nx;A;67001;38,0;-99,5\n")
    raw = read_school_file(path, columns={"lat": "Breite", "lon": "Länge", "zip": "PLZ"})
    assert raw["Breite"].iloc[0] == "38,0"
    assert raw.attrs["columns"]["lat"] == "Breite"


def test_csv_title_rows_and_blank_rows_keep_spreadsheet_row_numbers(tmp_path):
    text = (
        "Community Schools 2024\nExported by hand\n"
        + HEADER
        + "A,,Alpha,KS,67001,,\n,,,,,,\nB,,Gamma,NE,68001,,\n"
    )
    raw = read_school_file(write(tmp_path, text))
    assert raw["School Name"].tolist() == ["A", "B"]
    # Title rows 1-2, header row 3, A on row 4, an empty row 5, B on row 6.
    assert raw["source_row"].tolist() == [4, 6]
    assert raw.attrs["blank_rows"] == 1


def test_csv_ragged_row_keeps_its_extra_cells(tmp_path):
    raw = read_school_file(write(tmp_path, "Name,Zip\nA,67001\nB,68001,oops,more\n"))
    assert len(raw) == 2
    assert raw["(extra cells)"].tolist() == ["", "oops,more"]


def test_empty_file(tmp_path):
    with pytest.raises(SchoolDataError, match="empty"):
        read_school_file(write(tmp_path, ""))


def test_whitespace_only_file(tmp_path):
    with pytest.raises(SchoolDataError, match="empty"):
        read_school_file(write(tmp_path, "\n\n  \n"))


def test_header_with_no_rows(tmp_path):
    with pytest.raises(SchoolDataError, match=r"header but no data rows.*'School Name'"):
        read_school_file(write(tmp_path, HEADER))


def test_wrong_encoding_binary_file(tmp_path):
    path = tmp_path / "schools.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(SchoolDataError, match="NUL bytes"):
        read_school_file(path)


def test_old_xls_refused_with_advice(tmp_path):
    path = tmp_path / "schools.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(SchoolDataError, match=r"\.xls.*XLSX"):
        read_school_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(SchoolDataError, match="does not exist"):
        read_school_file(tmp_path / "nope.csv")


def test_missing_required_column_in_file(tmp_path):
    with pytest.raises(SchoolDataError) as info:
        read_school_file(write(tmp_path, "Title,Zip\nA,67001\n"))
    assert "'name'" in str(info.value) and "'Title'" in str(info.value)


def test_hundred_thousand_character_cell_is_read_whole(tmp_path):
    long_name = "x" * 100_000
    raw = read_school_file(write(tmp_path, f"Name,Zip,Notes\n{long_name},67001,{'y' * 150_000}\n"))
    assert len(raw["Name"].iloc[0]) == 100_000
    assert len(raw["Notes"].iloc[0]) == 150_000


def test_xlsx_with_title_row_above_header(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Schools"
    sheet.append(["Community Schools list, spring 2025"])
    sheet.append([])
    sheet.append(["School Name", "ZIP Code", "Latitude", "Longitude", "Year Started"])
    sheet.append(["Alpha Elementary", 2134, 38.0, -99.5, 2015])  # the ZIP's leading zero lost, as Excel does
    sheet.append(["Beta Middle", "67002", None, None, 2019.0])
    path = tmp_path / "schools.xlsx"
    book.save(path)
    raw = read_school_file(path)
    assert raw["School Name"].tolist() == ["Alpha Elementary", "Beta Middle"]
    assert raw["ZIP Code"].tolist() == ["2134", "67002"]
    assert raw["Latitude"].tolist() == ["38", ""] or raw["Latitude"].tolist() == ["38.0", ""]
    assert raw["Year Started"].tolist() == ["2015", "2019"]
    # Excel row numbers: title on 1, blank 2, header 3, data from 4.
    assert raw["source_row"].tolist() == [4, 5]
    assert "header on row 3" in raw.attrs["source"]


def test_xlsx_picks_the_sheet_with_the_list(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["Read me: the list is on the next sheet"])
    data = book.create_sheet("Data")
    data.append(["Name", "Zip"])
    data.append(["A", "67001"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    raw = read_school_file(path)
    assert raw["Name"].tolist() == ["A"]
    assert "'Data'" in raw.attrs["source"]


def test_damaged_xlsx(tmp_path):
    path = tmp_path / "schools.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"not really a zip" * 10)
    with pytest.raises(SchoolDataError, match="cannot read school list.*XLSX"):
        read_school_file(path)


def test_geojson_points_give_lat_lon(tmp_path):
    points = gpd.GeoDataFrame(
        {"name": ["A", "B"], "district": ["D1", None]}, geometry=[Point(-99.5, 38.0), None], crs="EPSG:4326"
    )
    path = tmp_path / "schools.geojson"
    points.to_file(path, driver="GeoJSON")
    raw = read_school_file(path)
    assert raw.attrs["columns"]["lat"] == "geometry_lat"
    assert float(raw["geometry_lat"].iloc[0]) == 38.0
    assert float(raw["geometry_lon"].iloc[0]) == -99.5
    assert raw["geometry_lat"].iloc[1] == ""  # no geometry: the address chain takes over
    assert raw["source_row"].tolist() == [1, 2]


def test_geopackage_polygons_reprojected_to_a_point_on_them(tmp_path):
    shapes = gpd.GeoDataFrame(
        {"School": ["Campus"]}, geometry=[box(-99.6, 37.9, -99.4, 38.1)], crs="EPSG:4326"
    )
    path = tmp_path / "schools.gpkg"
    pyogrio.write_dataframe(shapes.to_crs("EPSG:5070"), path, layer="schools", driver="GPKG")
    raw = read_school_file(path)
    lat, lon = float(raw["geometry_lat"].iloc[0]), float(raw["geometry_lon"].iloc[0])
    assert 37.9 <= lat <= 38.1 and -99.6 <= lon <= -99.4


def test_garbage_geojson(tmp_path):
    with pytest.raises(SchoolDataError, match="GeoJSON"):
        read_school_file(write(tmp_path, "{not json", name="schools.geojson"))


# --------------------------------------------------------------------------
# Normalization


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("02134", "02134"),
        ("2134", "02134"),
        ("2134.0", "02134"),
        ("02134-1234", "02134"),
        ("021341234", "02134"),
        ("21341234", "02134"),
        ("501", "00501"),
        (" 67001 ", "67001"),
        ("K1A 0B1", "K1A 0B1"),
        ("k1a0b1", "K1A 0B1"),
        ("M5V-3L9", "M5V 3L9"),
        ("D1A 0B1", ""),  # Canada Post never uses D as a first letter
        ("abc", ""),
        ("", ""),
        ("123456", ""),
    ],
)
def test_normalize_zip(given, expected):
    assert normalize_zip(pd.Series([given])).iloc[0] == expected


@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_fold_text_matches_normalize_place(values):
    series = pd.Series(values, dtype="str")
    assert fold_text(series).tolist() == normalize_place(series).tolist()


# --------------------------------------------------------------------------
# prepare_schools: schema, accounting, duplicates


def test_schema_is_exactly_the_documented_columns(reference, tmp_path):
    raw = frame(
        [
            {
                "School Name": "A",
                "ZIP": "67001",
                "NCES ID": "200000100001",
                "Locale": "41",
                "Year Started": "2016-17",
                "Grades": "K-5",
                "District": "D",
                "Lead Partner": "P",
            },
            {
                "School Name": "B",
                "ZIP": "68001",
                "NCES ID": "",
                "Locale": "",
                "Year Started": "",
                "Grades": "",
                "District": "",
                "Lead Partner": "",
            },
        ]
    )
    result = prepare_schools(raw, reference)
    schools = result.schools
    assert list(schools.columns) == [*SCHOOL_COLUMNS, "geometry"]
    assert schools.crs.to_epsg() == 4326
    assert schools["year_started"].tolist()[0] == 2016
    assert pd.isna(schools["year_started"].iloc[1])
    assert schools["nces_locale"].iloc[0] == 41
    assert schools["school_id"].iloc[0] == "nces-200000100001"
    assert schools["school_id"].iloc[1].startswith("cs-")
    assert schools["locale_source"].tolist() == ["nces", "derived"]
    assert schools["locale4"].tolist() == ["rural", "suburb"]
    # The layer writes to a GeoPackage with its nullable integers intact.
    path = tmp_path / "out.gpkg"
    pyogrio.write_dataframe(schools, path, layer="schools", driver="GPKG")
    back = pyogrio.read_dataframe(path, layer="schools")
    assert back["year_started"].iloc[0] == 2016 and pd.isna(back["year_started"].iloc[1])


def test_school_ids_are_stable_and_unique(reference):
    raw = frame(
        [
            {"Name": "Twin", "City": "Alpha", "State": "KS"},
            {
                "Name": "Twin",
                "City": "Alpha",
                "State": "KS",
            },  # no ZIP: not a duplicate by rule, but the same key
            {"Name": "Other", "City": "Gamma", "State": "NE"},
        ]
    )
    first = prepare_schools(raw, reference).schools["school_id"].tolist()
    again = prepare_schools(raw, reference).schools["school_id"].tolist()
    assert first == again
    assert len(set(first)) == 3
    assert first[1] == first[0] + "-2"


def test_default_source_row_when_frame_has_none(reference):
    result = prepare_schools(frame([{"Name": "A", "Zip": "67001"}, {"Name": "", "Zip": "67001"}]), reference)
    assert result.schools["source_rows"].tolist() == ["2"]
    assert result.rejects["source_row"].tolist() == [3]


def test_input_not_modified(reference):
    raw = frame([{"Name": "A", "Zip": "2134"}, {"Name": "A", "Zip": "02134"}])
    before = raw.copy()
    prepare_schools(raw, reference)
    pd.testing.assert_frame_equal(raw, before)


def test_duplicates_by_nces_id_and_by_name_and_zip(reference):
    raw = frame(
        [
            {"Name": "Lincoln Elementary", "Zip": "67001", "NCES ID": "010000500870", "District": ""},
            {"Name": "Washington Middle", "Zip": "67002", "NCES ID": "", "District": ""},
            {
                "Name": "Lincoln Elem. (renamed)",
                "Zip": "67002",
                "NCES ID": "10000500870",
                "District": "USD 1",
            },
            {"Name": "WASHINGTON  middle.", "Zip": "67002", "NCES ID": "", "District": "USD 2"},
            {
                "Name": "Washington Middle",
                "Zip": "68001",
                "NCES ID": "",
                "District": "",
            },  # other ZIP: other school
        ]
    )
    result = prepare_schools(raw, reference)
    report = result.report
    assert (report["rows"], report["loaded"], report["merged"], report["rejected"]) == (5, 3, 2, 0)
    schools = result.schools.set_index("source_rows")
    # Kept the first row, filled its missing district from the later one.
    assert schools.loc["2;4", "district"] == "USD 1"
    assert schools.loc["2;4", "nces_id"] == "010000500870"  # Excel's lost leading zero restored
    assert schools.loc["3;5", "district"] == "USD 2"
    assert schools.loc["3;5", "name"] == "Washington Middle"
    groups = {g["kept_row"]: g for g in report["duplicates"]}
    assert groups[2]["merged_rows"] == [4] and groups[2]["match"] == ["NCES ID"]
    assert groups[3]["merged_rows"] == [5] and groups[3]["match"] == ["name and ZIP"]


def test_duplicates_are_transitive(reference):
    raw = frame(
        [
            {"Name": "A", "Zip": "67001", "NCES ID": "111111111111"},
            {"Name": "B", "Zip": "67001", "NCES ID": "111111111111"},  # same id as row 2
            {"Name": "B", "Zip": "67001", "NCES ID": ""},  # same name+ZIP as row 3
        ]
    )
    result = prepare_schools(raw, reference)
    assert result.schools["source_rows"].tolist() == ["2;3;4"]


def test_identical_rows_merge(reference):
    row = {"School Name": "Same", "Latitude": "38.0", "Longitude": "-99.5", "ZIP": "67001"}
    result = prepare_schools(frame([row, row, row]), reference)
    assert (result.report["loaded"], result.report["merged"]) == (1, 2)


def test_coordinates_fill_as_a_pair(reference):
    raw = frame(
        [
            {"Name": "A", "Zip": "67001", "Lat": "38.5", "Lon": ""},
            {"Name": "A", "Zip": "67001", "Lat": "38.1", "Lon": "-99.1"},
        ]
    )
    school = prepare_schools(raw, reference).schools.iloc[0]
    assert (school["lat"], school["lon"]) == (38.1, -99.1)


def test_duplicate_of_a_rejected_row_is_rejected_too(reference):
    raw = frame([{"Name": "Lost", "Zip": "99999"}, {"Name": "Lost", "Zip": "99999"}])
    result = prepare_schools(raw, reference)
    assert result.report["rejected"] == 2
    assert "duplicate of row 2" in result.rejects["reason"].iloc[1]


junk = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    junk,
    st.sampled_from(["38.0", "-99.5", "0", "", "200", "-98.9", "40.1"]),
)
rows = st.fixed_dictionaries(
    {
        "Name": st.one_of(junk, st.sampled_from(["A", "B", "", "=1+1", "<b>x</b>"])),
        "Zip": st.one_of(junk, st.sampled_from(["67001", "2134", "", "K1A 0B1", "00501", "99999"])),
        "City": st.one_of(junk, st.sampled_from(["Alpha", "Toronto", ""])),
        "State": st.one_of(junk, st.sampled_from(["KS", "ne", "Ontario", "", "XX"])),
        "Country": st.sampled_from(["", "US", "Canada", "Mars"]),
        "NCES ID": st.sampled_from(["", "1", "1", "2"]),
        "Latitude": numbers,
        "Longitude": numbers,
    }
)


@given(st.lists(rows, min_size=1, max_size=25))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_every_row_is_accounted_for(records):
    reference = fx.reference()
    raw = pd.DataFrame(records).astype("str")
    result = prepare_schools(raw, reference)
    report = result.report
    assert report["rows"] == len(raw)
    assert report["loaded"] + report["merged"] + report["rejected"] == report["rows"]
    assert len(result.schools) == report["loaded"]
    assert len(result.rejects) == report["rejected"]
    assert sum(report["by_precision"].values()) == report["loaded"]
    # Every input row appears exactly once: in a school's source_rows or among the rejects.
    seen = [int(r) for rows_ in result.schools["source_rows"] for r in rows_.split(";")]
    seen += result.rejects["source_row"].tolist()
    assert sorted(seen) == list(range(2, len(raw) + 2))
    assert result.schools["lat"].between(-90, 90).all() and result.schools["lon"].between(-180, 180).all()
    assert result.rejects["reason"].notna().all()
    json.dumps(report)  # the report is plain JSON


# --------------------------------------------------------------------------
# Bad inputs (issue #3 point 6)


def test_missing_name_is_rejected_with_reason(reference):
    result = prepare_schools(
        frame([{"Name": "  ", "Zip": "67001"}, {"Name": "N/A", "Zip": "67001"}]), reference
    )
    assert result.rejects["reason"].tolist() == ["missing school name"] * 2


def test_country_outside_the_map_is_rejected(reference):
    result = prepare_schools(
        frame([{"Name": "A", "City": "Paris", "State": "", "Country": "France"}]), reference
    )
    assert result.rejects["reason"].iloc[0] == "country 'France' is outside the map (US and Canada only)"


def test_html_and_script_names_kept_verbatim(reference):
    names = ["<script>alert('x')</script>", "<b>Bold</b> & <i>co</i>", 'A "quoted" name']
    result = prepare_schools(frame([{"Name": n, "Zip": "67001"} for n in names]), reference)
    assert sorted(result.schools["name"]) == sorted(names)


def test_hundred_thousand_character_name_is_cut_with_a_note(reference, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(f"Name,Zip\n{'x' * 100_000},67001\nShort,67002\n", encoding="utf-8")
    result = prepare_schools(read_school_file(path), reference)
    long = result.schools.iloc[0]
    assert len(long["name"]) == MAX_TEXT + 1 and long["name"].endswith("…")
    assert "name cut to 500 characters from 100000" in long["geocode_note"]
    assert result.report["notes"]["truncated"] == 1


def _csv_cells(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+SUM(A1:A9)", "-2+3", "@cmd"])
def test_formula_names_neutralized_in_rejects_and_exports(reference, tmp_path, name):
    raw = frame([{"Name": name, "Zip": "67001"}, {"Name": name, "Zip": "99999"}])  # loaded, rejected
    result = prepare_schools(raw, reference)
    writer = BuildWriter(tmp_path, "test")
    rejects_csv = writer.write_csv(result.rejects, "rejects.csv")
    schools_csv = writer.write_csv(result.schools.drop(columns="geometry"), "schools.csv")
    rejects = _csv_cells(rejects_csv)
    assert rejects[1][rejects[0].index("Name")] == "'" + name
    schools = _csv_cells(schools_csv)
    assert schools[1][schools[0].index("name")] == "'" + name
    # In memory the name stays as given; only the CSV export is neutralized.
    assert result.schools["name"].iloc[0] == name
    assert csv_safe(result.rejects)["Name"].iloc[0] == "'" + name


def test_rejects_keep_row_number_reason_and_original_values(reference, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "Good,,Alpha,KS,67001,,\nBad coords,,,,,abc,xyz\n,,,,67001,,\n", encoding="utf-8"
    )
    result = prepare_schools(read_school_file(path), reference)
    rejects = result.rejects
    assert list(rejects.columns[:2]) == ["source_row", "reason"]
    assert list(rejects.columns[2:]) == [
        "School Name",
        "Address",
        "City",
        "State",
        "ZIP",
        "Latitude",
        "Longitude",
    ]
    assert rejects["source_row"].tolist() == [3, 4]
    assert rejects["Latitude"].iloc[0] == "abc"
    assert "'abc'" in rejects["reason"].iloc[0]
    assert rejects["reason"].iloc[1] == "missing school name"


def test_ohio_community_school_warning(reference):
    raw = frame(
        [
            {"Name": "Horizon Community School", "City": "Columbus", "State": "OH"},
            {"Name": "Alpha Community School", "Zip": "67001", "State": "KS"},
        ]
    )
    report = prepare_schools(raw, reference).report
    assert report["notes"]["ohio_community_school"] == 1
    assert any("charter" in w and "docs/SCHOOLS.md" in w for w in report["warnings"])


def test_ohio_warning_not_raised_for_the_sample(reference):
    raw = frame(
        [
            {
                "Name": "Sample Community School 0001 (Columbus, OH)",
                "City": "Columbus",
                "State": "OH",
                "is_sample": "true",
            }
        ]
    )
    report = prepare_schools(raw, reference, is_sample=True).report
    assert report["notes"]["ohio_community_school"] == 0


def test_is_sample_from_flag_or_column(reference):
    raw = frame(
        [{"Name": "A", "Zip": "67001", "is_sample": "true"}, {"Name": "B", "Zip": "67002", "is_sample": ""}]
    )
    assert prepare_schools(raw, reference).schools["is_sample"].tolist() == [True, False]
    assert prepare_schools(raw, reference, is_sample=True).schools["is_sample"].tolist() == [True, True]


def test_state_names_and_fips_codes_understood(reference):
    raw = frame(
        [
            {"Name": "A", "City": "Alpha", "State": "Kansas"},
            {"Name": "B", "City": "Gamma", "State": "31"},
            {"Name": "C", "City": "Alpha", "State": "Kan."},
        ]
    )
    schools = prepare_schools(raw, reference).schools
    assert schools["state"].tolist() == ["KS", "NE", "KS"]


def test_missing_state_taken_from_the_point(reference):
    school = prepare_schools(frame([{"Name": "A", "Lat": "40.5", "Lon": "-99"}]), reference).schools.iloc[0]
    assert school["state"] == "NE" and school["statefp"] == "31"


def test_one_line_address_supplies_city_state_zip(reference):
    raw = frame([{"Name": "A", "Address": "12 Main St, Alpha, KS 67002-1234"}])
    school = prepare_schools(raw, reference).schools.iloc[0]
    assert (school["city"], school["state"], school["zip"]) == ("Alpha", "KS", "67002")
    assert school["precision"] == "zip"
    assert school["address"] == "12 Main St, Alpha, KS 67002-1234"


def test_unrecognized_values_are_noted(reference):
    raw = frame(
        [
            {
                "Name": "A",
                "City": "Alpha",
                "State": "KS",
                "Zip": "ABCDE",
                "Year Started": "soon",
                "Locale Code": "99",
            }
        ]
    )
    school = prepare_schools(raw, reference).schools.iloc[0]
    note = school["geocode_note"]
    assert "ZIP 'ABCDE' not recognized" in note
    assert "year started 'soon' not understood" in note
    assert "NCES locale '99' is not a code 11-43" in note
    assert school["locale_source"] == "derived"


def test_report_counts_by_precision(reference):
    raw = frame(
        [
            {"Name": "given", "Lat": "38", "Lon": "-99.5", "Zip": "", "City": "", "State": ""},
            {"Name": "zip", "Lat": "", "Lon": "", "Zip": "67001", "City": "", "State": ""},
            {"Name": "city", "Lat": "", "Lon": "", "Zip": "", "City": "Alpha", "State": "KS"},
            {"Name": "state", "Lat": "", "Lon": "", "Zip": "", "City": "Nowhere", "State": "NE"},
            {"Name": "none", "Lat": "", "Lon": "", "Zip": "", "City": "", "State": ""},
        ]
    )
    report = prepare_schools(raw, reference).report
    assert report["by_precision"] == {"given": 1, "street": 0, "zip": 1, "city": 1, "state": 1}
    assert report["notes"]["state_centroid"] == 1
    assert report["rejected"] == 1
    assert np.isclose(sum(report["by_precision"].values()), report["loaded"])


def test_read_then_prepare_rows_match(tmp_path, reference):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["School Name", "ZIP"])
    for i in range(50):
        writer.writerow([f"School {i}", "67001" if i % 2 else "2134"])
    path = write(tmp_path, text.getvalue())
    result = prepare_schools(read_school_file(path), reference)
    assert result.report["rows"] == 50
    assert result.report["loaded"] == 25  # ZIP 02134 is not in the fixture's ZIP table
    assert result.report["rejected"] == 25
    assert result.report["read"].startswith("schools.csv (CSV")


def test_docs_list_every_synonym():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "SCHOOLS.md").read_text(encoding="utf-8")
    for field, keys in SYNONYMS.items():
        row = next(line for line in docs.splitlines() if line.startswith(f"| `{field}`"))
        assert row.split("|")[2].strip() == ", ".join(keys), field
