"""Tests for geo.metrics: a hand-computed world, invariants, and property tests.

The fixture (tests/geo/metrics_fixture.py) is drawn out in its docstring;
every expected number below is worked out by hand in the comments.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from geo.errors import InvalidParameterError
from geo.metrics import MetricsResult, compute_metrics, metrics_tables_for_export, zcta_reach
from geo.metrics_tables import normalize_public_schools
from tests.geo import metrics_fixture as fx

MI = fx.MILES_PER_DEGREE  # 69.0934 miles per degree of latitude


def run(**overrides) -> MetricsResult:
    kwargs = {"states": fx.states(), "counties": fx.counties(), "coalitions": fx.coalitions()}
    kwargs.update(overrides)
    zctas = kwargs.pop("zctas", fx.zctas())
    schools = kwargs.pop("schools", fx.schools())
    return compute_metrics(zctas, schools, **kwargs)


def row(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in keys.items():
        mask &= (frame[key] == value).to_numpy()
    assert mask.sum() == 1, keys
    return frame[mask].iloc[0]


def same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, str | bool):
        return actual == expected
    return actual == pytest.approx(expected, rel=1e-12, abs=1e-12)


def check(series: pd.Series, expected: dict) -> None:
    for key, value in expected.items():
        assert same(series[key], value), (key, series[key], value)


# --------------------------------------------------------------------------
# The hand-computed fixture


def test_reach_per_zcta_matches_hand_distances():
    reach = zcta_reach(fx.zctas(), fx.schools())
    # Z1 0 mi (S1); Z2 0.049° to S6 (the Canadian S3 on top of Z2 does not count);
    # Z3 0.999° to S6; Z4 0.05° to S2; Z5 0.95° to S2; Z6 0 mi to S5.
    expected = np.array([0.0, 0.049, 0.999, 0.05, 0.95, 0.0]) * MI
    np.testing.assert_allclose(reach["nearest_school_miles"], expected, rtol=1e-9, atol=1e-9)
    assert reach["reach_miles"].tolist() == [1.0, 3.0, 10.0, 5.0, 10.0, 10.0]
    assert reach["within_reach"].tolist() == [True, False, False, True, False, True]


def test_state_figures_by_hand():
    result = run()
    assert result.states["stusps"].tolist() == ["AA", "BB"]  # TT is out of scope
    # AA: schools S1, S6 = 2; children Z1+Z2+Z3 = 1000+500+2000 = 3500; within reach Z1 = 1000;
    # high poverty (>= 0.20): Z1 (0.30) + Z3 (0.25) = 3000, of whom Z1's 1000 within reach.
    check(
        row(result.states, stusps="AA"),
        {
            "statefp": "01",
            "name": "Alpha",
            "coalition_status": "existing",  # existing beats developing
            "community_schools": 2,
            "children": 3500.0,
            "schools_per_10k_children": 2 / 3500 * 10_000,  # 5.714
            "children_within_reach": 1000.0,
            "reach_share": 1000 / 3500,
            "unserved_children": 2500.0,
            "high_poverty_children": 3000.0,
            "high_poverty_children_within_reach": 1000.0,
            "high_poverty_reach_share": 1 / 3,
            "unserved_high_poverty_children": 2000.0,
            "desert_counties": 1,  # 01002: 2000 children, none within reach
            "rank_unserved_high_poverty": 1,  # 2000 unserved high-poverty children > BB's 0
        },
    )
    # BB: school S2 = 1; children Z4 800 + Z5 0; Z4 within reach (3.45 <= 5 mi).
    # Poverty unknown for Z4, Z5 -> not high-poverty -> the share is undefined (None).
    check(
        row(result.states, stusps="BB"),
        {
            "coalition_status": "none",  # absent from the coalitions table
            "community_schools": 1,
            "children": 800.0,
            "schools_per_10k_children": 12.5,
            "children_within_reach": 800.0,
            "reach_share": 1.0,
            "unserved_children": 0.0,
            "high_poverty_children": 0.0,
            "high_poverty_reach_share": None,
            "unserved_high_poverty_children": 0.0,
            "desert_counties": 0,
            "rank_unserved_high_poverty": 2,
        },
    )


def test_national_figures_by_hand():
    nation = run().national.iloc[0]
    # Sum of AA and BB: 3 schools, 4300 children, 1800 within reach, 3000 high-poverty, 1000 of them within.
    check(
        nation,
        {
            "scope": "US",
            "community_schools": 3,
            "children": 4300.0,
            "schools_per_10k_children": 3 / 4300 * 10_000,  # 6.977
            "children_within_reach": 1800.0,
            "reach_share": 1800 / 4300,
            "unserved_children": 2500.0,
            "high_poverty_children": 3000.0,
            "high_poverty_children_within_reach": 1000.0,
            "high_poverty_reach_share": 1 / 3,
            "unserved_high_poverty_children": 2000.0,
            "desert_counties": 1,
            "schools_outside_scope": 2,  # S4 (no state) and S5 (territory TT)
        },
    )


def test_canada_gets_a_count_row_of_its_own():
    result = run()
    assert result.canada.to_dict("records") == [{"country": "CA", "name": "Canada", "community_schools": 1}]
    # Three more Canadian schools, anywhere: only the Canada row moves.
    extra = pd.DataFrame(
        {
            "school_id": ["c1", "c2", "c3"],
            "lat": [0.0, 1.0, 2.0],
            "lon": [0.0] * 3,
            "statefp": ["01", None, None],
            "country": ["CA", "ca", " CA "],
        }
    )
    more = run(schools=pd.concat([fx.schools(), extra], ignore_index=True))
    assert more.canada["community_schools"].iloc[0] == 4
    pd.testing.assert_frame_equal(more.states, result.states)


def test_county_figures_and_deserts_by_hand():
    result = run()
    assert result.counties["geoid"].tolist() == ["01001", "01002", "02001"]  # TT's county out of scope
    # 01001: Z1 + Z2 = 1500 children, Z1's 1000 within reach; S1 and S6.
    check(
        row(result.counties, geoid="01001"),
        {
            "community_schools": 2,
            "children": 1500.0,
            "children_within_reach": 1000.0,
            "reach_share": 2 / 3,
            "unserved_children": 500.0,
            "high_poverty_children": 1000.0,
            "nearest_school_miles": 0.0,
            "is_desert": False,
        },
    )
    # 01002: Z3 alone, 2000 children (>= 1000), none within reach -> desert; nearest S6 0.999° away.
    check(
        row(result.counties, geoid="01002"),
        {
            "community_schools": 0,
            "children": 2000.0,
            "children_within_reach": 0.0,
            "reach_share": 0.0,
            "schools_per_10k_children": 0.0,
            "unserved_high_poverty_children": 2000.0,
            "nearest_school_miles": 0.999 * MI,
            "is_desert": True,
        },
    )
    # 02001: Z4 (800, within) + Z5 (0 children): fewer than 1000 children -> never a desert.
    check(
        row(result.counties, geoid="02001"),
        {
            "community_schools": 1,
            "children": 800.0,
            "reach_share": 1.0,
            "nearest_school_miles": 0.05 * MI,
            "is_desert": False,
        },
    )
    assert result.deserts["geoid"].tolist() == ["01002"]
    check(
        result.deserts.iloc[0],
        {"stusps": "AA", "name": "Alpha Two", "children": 2000.0, "high_poverty_children": 2000.0},
    )


def test_state_locale_figures_and_representation_by_hand():
    sl = run().state_locales
    assert len(sl) == 2 * 7
    # AA: schools city 1 (S1), suburb 1 (S6), town 0, rural 0 -> school shares 1/2, 1/2, 0, 0.
    # children city 1000, suburb 500, town 0, rural 2000 -> shares 2/7, 1/7, 0, 4/7.
    # representation = school share / children share.
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="city"),
        {
            "community_schools": 1,
            "children": 1000.0,
            "reach_share": 1.0,
            "school_share": 0.5,
            "children_share": 2 / 7,
            "representation": 0.5 / (2 / 7),  # 1.75
        },
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="suburb"),
        # 0.5 / (1/7) = 3.5
        {"community_schools": 1, "children": 500.0, "reach_share": 0.0, "representation": 0.5 / (1 / 7)},
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="town"),
        # no children: shares and representation undefined
        {"community_schools": 0, "children": 0.0, "reach_share": None, "representation": None},
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="rural"),
        {"community_schools": 0, "children": 2000.0, "representation": 0.0, "unserved_children": 2000.0},
    )
    # Roll-up: urban = city, suburban = suburb, rural = town + rural.
    check(row(sl, stusps="AA", locale_scheme="locale", locale_class="urban"), {"representation": 1.75})
    check(row(sl, stusps="AA", locale_scheme="locale", locale_class="suburban"), {"representation": 3.5})
    check(
        row(sl, stusps="AA", locale_scheme="locale", locale_class="rural"),
        {"community_schools": 0, "children": 2000.0, "representation": 0.0},
    )
    # BB: its one school and all 800 children are in towns -> representation 1; the other classes have
    # no children (Z5 has 0) -> None.
    check(
        row(sl, stusps="BB", locale_scheme="locale4", locale_class="town"),
        {"community_schools": 1, "children": 800.0, "school_share": 1.0, "representation": 1.0},
    )
    for cls in ("city", "suburb", "rural"):
        check(row(sl, stusps="BB", locale_scheme="locale4", locale_class=cls), {"representation": None})
    check(row(sl, stusps="BB", locale_scheme="locale", locale_class="rural"), {"representation": 1.0})


def test_national_locale_figures_by_hand():
    loc = run().locales
    assert list(zip(loc["locale_scheme"], loc["locale_class"], strict=True)) == [
        ("locale4", "city"),
        ("locale4", "suburb"),
        ("locale4", "town"),
        ("locale4", "rural"),
        ("locale", "urban"),
        ("locale", "suburban"),
        ("locale", "rural"),
    ]
    # Schools: city 1, suburb 1, town 1, rural 0 (of 3). Children: 1000, 500, 800, 2000 (of 4300).
    expected = {
        ("locale4", "city"): (1, 1000.0, 1.0, (1 / 3) / (1000 / 4300)),  # 1.433
        ("locale4", "suburb"): (1, 500.0, 0.0, (1 / 3) / (500 / 4300)),  # 2.867
        ("locale4", "town"): (1, 800.0, 1.0, (1 / 3) / (800 / 4300)),  # 1.792
        ("locale4", "rural"): (0, 2000.0, 0.0, 0.0),
        ("locale", "urban"): (1, 1000.0, 1.0, (1 / 3) / (1000 / 4300)),
        ("locale", "suburban"): (1, 500.0, 0.0, (1 / 3) / (500 / 4300)),
        # town + rural: 1 school, 2800 children, 800 within reach.
        ("locale", "rural"): (1, 2800.0, 800 / 2800, (1 / 3) / (2800 / 4300)),  # 0.512
    }
    for (scheme, cls), (schools, children, reach, representation) in expected.items():
        check(
            row(loc, locale_scheme=scheme, locale_class=cls),
            {
                "community_schools": schools,
                "children": children,
                "reach_share": reach,
                "representation": representation,
                "schools_per_10k_children": schools / children * 10_000,
            },
        )


def test_high_poverty_figures_by_locale_by_hand():
    loc = run().locales
    # High-poverty children: Z1 (city, within reach) 1000 and Z3 (rural, beyond) 2000.
    check(
        row(loc, locale_scheme="locale4", locale_class="city"),
        {
            "high_poverty_children": 1000.0,
            "high_poverty_reach_share": 1.0,
            "unserved_high_poverty_children": 0.0,
        },
    )
    check(
        row(loc, locale_scheme="locale4", locale_class="rural"),
        {
            "high_poverty_children": 2000.0,
            "high_poverty_reach_share": 0.0,
            "unserved_high_poverty_children": 2000.0,
        },
    )
    check(
        row(loc, locale_scheme="locale4", locale_class="suburb"),
        {"high_poverty_children": 0.0, "high_poverty_reach_share": None},
    )


# --------------------------------------------------------------------------
# Parameters


def test_one_reach_distance_for_all_classes():
    # 4 miles everywhere: Z2 (3.39 mi) joins Z1 and Z4; Z3 (69 mi) stays beyond.
    result = run(reach_miles=4.0)
    assert result.parameters["reach_miles"] == {"city": 4.0, "suburb": 4.0, "town": 4.0, "rural": 4.0}
    check(row(result.states, stusps="AA"), {"children_within_reach": 1500.0, "reach_share": 1500 / 3500})
    check(result.national.iloc[0], {"children_within_reach": 2300.0})
    # 3.40 mi: Z2 (3.3856) within but Z4 (3.4547) beyond.
    tight = run(reach_miles=3.40)
    check(row(tight.states, stusps="BB"), {"children_within_reach": 0.0, "reach_share": 0.0})


def test_reach_by_class_mapping():
    # Suburb reach 3.39 mi (> 3.3856) serves Z2 only.
    result = run(reach_miles={"suburb": 3.39})
    check(row(result.states, stusps="AA"), {"children_within_reach": 1500.0})


def test_poverty_threshold_is_inclusive_and_configurable():
    # At 0.30 only Z1 (exactly 0.30) counts: >= is inclusive.
    result = run(poverty_threshold=0.30)
    check(
        row(result.states, stusps="AA"),
        {
            "high_poverty_children": 1000.0,
            "high_poverty_reach_share": 1.0,
            "unserved_high_poverty_children": 0.0,
        },
    )
    assert result.parameters["poverty_threshold"] == 0.30


def test_desert_threshold_is_configurable():
    assert run(desert_min_children=2001).deserts.empty  # 01002 has exactly 2000
    assert run(desert_min_children=2000).deserts["geoid"].tolist() == ["01002"]
    # With a threshold of 0, 02001 (all within reach) is still no desert.
    assert run(desert_min_children=0).deserts["geoid"].tolist() == ["01002"]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"poverty_threshold": 1.5}, "poverty_threshold"),
        ({"poverty_threshold": float("nan")}, "poverty_threshold"),
        ({"desert_min_children": -1}, "desert_min_children"),
        ({"reach_miles": -2.0}, "reach_miles"),
        ({"reach_miles": {"village": 2.0}}, "reach_miles"),
    ],
)
def test_bad_parameters_are_refused_by_name(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as info:
        run(**kwargs)
    assert info.value.parameter == parameter


def test_missing_zcta_column_is_named():
    with pytest.raises(InvalidParameterError, match="pct_below_poverty"):
        run(zctas=fx.zctas().drop(columns="pct_below_poverty"))


def test_unknown_coalition_status_is_quoted():
    bad = pd.DataFrame({"stusps": ["AA"], "status": ["thriving"]})
    with pytest.raises(InvalidParameterError, match="'thriving'"):
        run(coalitions=bad)


def test_without_coalitions_table_status_is_unknown():
    result = run(coalitions=None)
    assert result.states["coalition_status"].isna().all()


# --------------------------------------------------------------------------
# Optional public-school denominators


def test_public_schools_absent_means_no_coverage_columns():
    result = run()
    for frame in (result.national, result.states, result.locales, result.state_locales):
        assert "coverage_share" not in frame.columns
        assert "public_schools" not in frame.columns
    assert "coverage_share" not in json.dumps(result.to_json())


def test_public_schools_present_by_hand():
    result = run(public_schools=fx.public_schools())
    # AA: 100 + 50 + 25 + 25 = 200 public schools, 2 community schools -> 1%; BB: total 40, 1 -> 2.5%.
    check(row(result.states, stusps="AA"), {"public_schools": 200.0, "coverage_share": 0.01})
    check(row(result.states, stusps="BB"), {"public_schools": 40.0, "coverage_share": 0.025})
    check(result.national.iloc[0], {"public_schools": 240.0, "coverage_share": 3 / 240})
    sl = result.state_locales
    # AA city: code 11 -> 100, S1 -> 1%; suburb: code 21 -> 50, S6 -> 2%;
    # town 25 and rural (code 43) 25, with no community schools.
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="city"),
        {"public_schools": 100.0, "coverage_share": 0.01},
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="suburb"),
        {"public_schools": 50.0, "coverage_share": 0.02},
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale4", locale_class="town"),
        {"public_schools": 25.0, "coverage_share": 0.0},
    )
    check(
        row(sl, stusps="AA", locale_scheme="locale", locale_class="rural"),  # town 25 + rural 25
        {"public_schools": 50.0, "coverage_share": 0.0},
    )
    # BB gave a total only: its locale rows, and so the national locale rows, are unknown (None), not 0.
    check(
        row(sl, stusps="BB", locale_scheme="locale4", locale_class="town"),
        {"public_schools": None, "coverage_share": None},
    )
    assert result.locales["public_schools"].isna().all()


def test_national_locale_denominators_when_every_state_has_a_breakdown():
    table = pd.concat(
        [
            fx.public_schools().iloc[:4],
            pd.DataFrame(
                {
                    "state": ["BB"] * 4,
                    "locale": ["city", "suburb", "33", "41"],
                    "public_schools": [5, 5, 20, 10],
                }
            ),
        ],
        ignore_index=True,
    )
    result = run(public_schools=table)
    # town: AA 25 + BB 20 = 45 public schools, 1 community school (S2).
    check(
        row(result.locales, locale_scheme="locale4", locale_class="town"),
        {"public_schools": 45.0, "coverage_share": 1 / 45},
    )
    # rolled-up rural: AA 25+25, BB 20+10 = 80; one community school.
    check(
        row(result.locales, locale_scheme="locale", locale_class="rural"),
        {"public_schools": 80.0, "coverage_share": 1 / 80},
    )
    check(result.national.iloc[0], {"public_schools": 240.0})


def test_a_state_missing_from_public_schools_makes_the_national_denominator_unknown():
    result = run(public_schools=fx.public_schools().iloc[:4])  # BB left out
    check(row(result.states, stusps="BB"), {"public_schools": None, "coverage_share": None})
    check(result.national.iloc[0], {"public_schools": None, "coverage_share": None})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"state": ["AA"], "locale": ["51"], "public_schools": [3]}), "'51'"),
        (pd.DataFrame({"state": ["AA"], "locale": ["city"], "public_schools": ["many"]}), "'many'"),
        (pd.DataFrame({"state": ["AA"], "count": [3]}), "'public_schools'"),
        (pd.DataFrame({"state": ["AA", "AA"], "locale": ["", "city"], "public_schools": [3, 1]}), "'AA'"),
    ],
)
def test_bad_public_school_tables_are_refused(table, message):
    with pytest.raises(InvalidParameterError, match=message):
        normalize_public_schools(table)


# --------------------------------------------------------------------------
# Counting rules


def test_moving_a_school_across_a_state_border_moves_its_count():
    before = run()
    moved = fx.schools()
    # S2 moves from BB (lat 2.05) to AA's rural county 01002, on top of Z3.
    moved.loc[moved["school_id"] == "s2", ["lat", "statefp", "county_fips"]] = [1.0, "01", "01002"]
    after = run(schools=moved)
    counts_before = before.states.set_index("stusps")["community_schools"]
    counts_after = after.states.set_index("stusps")["community_schools"]
    assert (counts_after - counts_before).to_dict() == {"AA": 1, "BB": -1}
    assert after.national["community_schools"].iloc[0] == before.national["community_schools"].iloc[0]
    # Z3 is now within reach, so 01002 is no longer a desert; Z4 lost its school.
    assert after.deserts.empty
    check(row(after.states, stusps="AA"), {"children_within_reach": 3000.0})
    check(row(after.states, stusps="BB"), {"children_within_reach": 0.0})


def test_point_in_polygon_state_wins_over_the_stated_state():
    moved = fx.schools()
    moved.loc[moved["school_id"] == "s2", "state"] = "AA"  # the file says AA; the point is in BB
    result = run(schools=moved)
    assert row(result.states, stusps="BB")["community_schools"] == 1


def test_stated_state_is_used_when_there_is_no_point_in_polygon_column():
    plain = fx.schools().drop(columns=["statefp"])
    result = run(schools=plain)
    # S4 now counts in AA (its stated state); S3 is Canadian; S5 sits in the territory.
    assert result.states.set_index("stusps")["community_schools"].to_dict() == {"AA": 3, "BB": 1}


def test_unknown_school_locale_counts_in_the_state_but_no_locale():
    unknown = fx.schools()
    unknown.loc[unknown["school_id"] == "s1", ["locale4", "locale"]] = [None, None]
    result = run(schools=unknown)
    assert row(result.states, stusps="AA")["community_schools"] == 2
    aa4 = result.state_locales[
        (result.state_locales["stusps"] == "AA") & (result.state_locales["locale_scheme"] == "locale4")
    ]
    assert aa4["community_schools"].sum() == 1
    # Shares are of the schools with a known class: S6 is all of them.
    check(row(aa4, locale_class="suburb"), {"school_share": 1.0})


def test_no_schools_at_all():
    result = run(schools=fx.schools().iloc[0:0])
    nation = result.national.iloc[0]
    check(
        nation,
        {
            "community_schools": 0,
            "children_within_reach": 0.0,
            "reach_share": 0.0,
            "schools_per_10k_children": 0.0,
        },
    )
    # 2000 and 1500 children, none within reach; most children first.
    assert result.deserts["geoid"].tolist() == ["01002", "01001"]
    assert result.canada["community_schools"].iloc[0] == 0
    assert result.locales["representation"].isna().all()  # no school shares to compare


def test_inputs_are_not_mutated():
    inputs = {
        "zctas": fx.zctas(),
        "schools": fx.schools(),
        "states": fx.states(),
        "counties": fx.counties(),
        "coalitions": fx.coalitions(),
        "public_schools": fx.public_schools(),
    }
    copies = {k: v.copy(deep=True) for k, v in inputs.items()}
    compute_metrics(
        inputs["zctas"],
        inputs["schools"],
        states=inputs["states"],
        counties=inputs["counties"],
        coalitions=inputs["coalitions"],
        public_schools=inputs["public_schools"],
    )
    for key, frame in inputs.items():
        pd.testing.assert_frame_equal(frame, copies[key])


# --------------------------------------------------------------------------
# JSON and export


def test_json_document_is_json_safe_and_keyed():
    document = run(public_schools=fx.public_schools()).to_json()
    text = json.dumps(document, allow_nan=False)  # raises on NaN/inf
    assert set(document) == {
        "parameters",
        "national",
        "states",
        "locales",
        "state_locales",
        "canada",
        "deserts",
    }
    assert set(document["states"]) == {"AA", "BB"}
    assert set(document["locales"]) == {"locale4", "locale"}
    assert set(document["locales"]["locale"]) == {"urban", "suburban", "rural"}
    assert document["state_locales"]["AA"]["locale4"]["city"]["representation"] == pytest.approx(1.75)
    assert document["states"]["BB"]["high_poverty_reach_share"] is None
    assert document["state_locales"]["BB"]["locale4"]["town"]["coverage_share"] is None
    assert isinstance(document["national"]["community_schools"], int)
    assert document["deserts"][0]["geoid"] == "01002"
    assert document["canada"]["community_schools"] == 1
    assert document["parameters"]["reach_miles"]["rural"] == 10.0
    assert "NaN" not in text


def _polygons(ids: list[str], column: str, crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {column: ids}, geometry=[box(i, 0, i + 1, 1) for i in range(len(ids))], crs="EPSG:4326"
    ).to_crs(crs)


def test_export_joins_metrics_onto_web_polygons_in_wgs84():
    result = run()
    states_web = _polygons(["01", "02", "60"], "statefp", "EPSG:3857")  # any CRS in, EPSG:4326 out
    counties_web = _polygons(["01001", "01002", "02001", "60001"], "geoid", "EPSG:4326")
    tables = metrics_tables_for_export(result, states_web, counties_web)
    state_metrics = tables["state_metrics"]
    assert state_metrics.crs.to_epsg() == 4326
    assert state_metrics["statefp"].tolist() == ["01", "02"]  # the territory has no metrics
    assert state_metrics.loc[0, "community_schools"] == 2
    assert state_metrics.geometry.iloc[1].bounds == pytest.approx((1, 0, 2, 1))
    assert tables["county_metrics"]["geoid"].tolist() == ["01001", "01002", "02001"]
    assert bool(tables["county_metrics"].set_index("geoid").at["01002", "is_desert"])
    assert set(tables) >= {
        "locale_metrics",
        "state_locale_metrics",
        "national_metrics",
        "desert_counties",
        "canada_metrics",
    }
    assert states_web.crs.to_epsg() == 3857  # input untouched


def test_geodataframes_in_give_the_same_figures():
    zctas, schools = fx.zctas(), fx.schools()
    as_points = {
        name: gpd.GeoDataFrame(
            frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
        )
        for name, frame in (("zctas", zctas), ("schools", schools))
    }
    result = run(zctas=as_points["zctas"], schools=as_points["schools"])
    pd.testing.assert_frame_equal(result.states, run().states)
    assert not isinstance(result.states, gpd.GeoDataFrame)


# --------------------------------------------------------------------------
# Invariants on random small worlds (hypothesis)

LOCALES = ["city", "suburb", "town", "rural", None]


@st.composite
def worlds(draw):
    n_z = draw(st.integers(1, 14))
    n_s = draw(st.integers(0, 10))
    z_county = draw(
        st.lists(st.sampled_from(["01001", "01002", "02001", "60001"]), min_size=n_z, max_size=n_z)
    )
    zctas = pd.DataFrame(
        {
            "stusps": [{"01": "AA", "02": "BB", "60": "TT"}[c[:2]] for c in z_county],
            "county_fips": z_county,
            "lat": draw(st.lists(st.floats(0, 0.4), min_size=n_z, max_size=n_z)),
            "lon": draw(st.lists(st.floats(0, 0.4), min_size=n_z, max_size=n_z)),
            "children": draw(
                st.lists(
                    st.sampled_from([0.0, 1.5, 250.0, 999.0, 1000.0, 4321.25]), min_size=n_z, max_size=n_z
                )
            ),
            "pct_below_poverty": draw(
                st.lists(st.sampled_from([np.nan, 0.0, 0.19, 0.2, 0.5, 1.0]), min_size=n_z, max_size=n_z)
            ),
            "locale4": draw(st.lists(st.sampled_from(LOCALES), min_size=n_z, max_size=n_z)),
        }
    )
    s_county = draw(
        st.lists(st.sampled_from(["01001", "01002", "02001", "60001", None]), min_size=n_s, max_size=n_s)
    )
    schools = pd.DataFrame(
        {
            "lat": draw(st.lists(st.floats(0, 0.4), min_size=n_s, max_size=n_s)),
            "lon": draw(st.lists(st.floats(0, 0.4), min_size=n_s, max_size=n_s)),
            "statefp": [None if c is None else c[:2] for c in s_county],
            "county_fips": s_county,
            "locale4": draw(st.lists(st.sampled_from(LOCALES), min_size=n_s, max_size=n_s)),
            "country": draw(st.lists(st.sampled_from(["US", "US", "US", "CA"]), min_size=n_s, max_size=n_s)),
        },
        dtype=object,
    ).astype({"lat": float, "lon": float})
    reach = draw(st.one_of(st.none(), st.floats(0.5, 30.0)))
    return zctas, schools, reach


def _haversine_nearest(zctas: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    if schools.empty:
        return np.full(len(zctas), np.inf)
    zl, zo = np.radians(zctas["lat"].to_numpy())[:, None], np.radians(zctas["lon"].to_numpy())[:, None]
    sl, so = np.radians(schools["lat"].to_numpy()), np.radians(schools["lon"].to_numpy())
    h = np.sin((sl - zl) / 2) ** 2 + np.cos(zl) * np.cos(sl) * np.sin((so - zo) / 2) ** 2
    return (2 * np.arcsin(np.sqrt(h)) * 3958.7613).min(axis=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_invariants_hold_on_random_worlds(world):
    zctas, schools, reach_miles = world
    result = compute_metrics(
        zctas, schools, states=fx.states(), counties=fx.counties(), reach_miles=reach_miles
    )
    frames = [result.national, result.states, result.locales, result.state_locales, result.counties]
    for frame in frames:
        for share in ("reach_share", "high_poverty_reach_share"):
            values = frame[share].dropna()
            assert ((values >= 0) & (values <= 1)).all(), share
        np.testing.assert_allclose(
            frame["children_within_reach"] + frame["unserved_children"], frame["children"]
        )
        np.testing.assert_allclose(
            frame["high_poverty_children_within_reach"] + frame["unserved_high_poverty_children"],
            frame["high_poverty_children"],
        )
        assert (frame["high_poverty_children"] <= frame["children"] + 1e-9).all()
        assert (frame["community_schools"] >= 0).all()
    nation = result.national.iloc[0]
    # State counts add up to the national count; every school is counted exactly once somewhere.
    assert result.states["community_schools"].sum() == nation["community_schools"]
    canada = int((schools["country"] == "CA").sum())
    assert nation["community_schools"] + nation["schools_outside_scope"] + canada == len(schools)
    assert result.canada["community_schools"].iloc[0] == canada
    assert result.states["children"].sum() == pytest.approx(nation["children"])
    in_scope = zctas["stusps"].isin(["AA", "BB"])
    assert nation["children"] == pytest.approx(zctas.loc[in_scope, "children"].sum())
    # Counties partition their states here (county and state agree in this generator).
    assert result.counties["children"].sum() == pytest.approx(nation["children"])
    # Locale rows: the four classes and the roll-up hold the same known-locale totals.
    loc = result.locales.groupby("locale_scheme")[["community_schools", "children"]].sum()
    assert loc.loc["locale4", "community_schools"] == loc.loc["locale", "community_schools"]
    assert loc.loc["locale4", "children"] == pytest.approx(loc.loc["locale", "children"])
    assert loc.loc["locale4", "community_schools"] <= nation["community_schools"]
    # Representation: school shares within a state and scheme sum to 1 (or are all undefined).
    shares = result.state_locales.groupby(["stusps", "locale_scheme"])["school_share"].sum()
    assert all(s == pytest.approx(1.0) or s == 0 for s in shares)
    # Deserts: enough children, none within reach; per-state counts add up.
    assert (result.deserts["children"] >= 1000).all()
    desert_rows = result.counties[result.counties["is_desert"]]
    assert (desert_rows["children_within_reach"] == 0).all()
    assert result.states["desert_counties"].sum() == nation["desert_counties"] == len(result.deserts)
    # Ranks: 1 is the most unserved high-poverty children.
    top = result.states.loc[
        result.states["rank_unserved_high_poverty"] == 1, "unserved_high_poverty_children"
    ]
    assert top.min() == result.states["unserved_high_poverty_children"].max()
    # Reach agrees with an all-pairs haversine scan (US schools only).
    us = schools[schools["country"] != "CA"]
    tree = zcta_reach(zctas, schools, reach_miles=reach_miles)
    np.testing.assert_allclose(
        tree["nearest_school_miles"], _haversine_nearest(zctas, us), rtol=1e-9, atol=1e-9
    )
    json.dumps(result.to_json(), allow_nan=False)
