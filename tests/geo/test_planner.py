"""The expansion planner: greedy/CELF against brute force, what-if, inputs and errors.

Coverage in the brute-force checks is recomputed here with an independent
haversine formula, so the tests check the planner's reach rule, not only its
bookkeeping.
"""

from __future__ import annotations

import io
import itertools
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from geo.candidates import read_candidates
from geo.errors import InvalidParameterError, SchoolDataError
from geo.max_coverage import greedy_max_coverage, incidence_matrix
from geo.planner import Plan, plan_sites, what_if

BOUND = 1 - 1 / math.e
REACH = {"city": 1.0, "suburb": 3.0, "town": 5.0, "rural": 10.0}  # geo.reach defaults, restated
LAT0, LON0 = 38.0, -98.0
MILES_PER_DEG_LAT = 69.05


def _at(dx_miles: float, dy_miles: float) -> tuple[float, float]:
    """(lat, lon) of a point dx miles east and dy miles north of the origin (approximately)."""
    lat = LAT0 + dy_miles / MILES_PER_DEG_LAT
    lon = LON0 + dx_miles / (MILES_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    return lat, lon


def _haversine_miles(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 3958.7613 * np.arcsin(np.sqrt(a))


def _zctas(rows) -> pd.DataFrame:
    """rows: (zcta, stusps, dx, dy, children, poverty, locale4)."""
    records = []
    for zcta, stusps, dx, dy, children, poverty, locale4 in rows:
        lat, lon = _at(dx, dy)
        records.append(
            {
                "zcta": zcta,
                "stusps": stusps,
                "lat": lat,
                "lon": lon,
                "children": float(children),
                "pct_below_poverty": poverty,
                "locale4": locale4,
            }
        )
    frame = pd.DataFrame(records)
    frame["locale"] = frame["locale4"].map(
        {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}
    )
    return frame


def _points(offsets, **extra) -> pd.DataFrame:
    lat, lon = zip(*(_at(dx, dy) for dx, dy in offsets), strict=True) if offsets else ((), ())
    return pd.DataFrame({"lat": list(lat), "lon": list(lon), **extra})


NO_SCHOOLS = pd.DataFrame({"lat": pd.Series([], dtype=float), "lon": pd.Series([], dtype=float)})


def _brute_force(incidence: np.ndarray, weights: np.ndarray, k: int) -> int:
    best = 0
    for combo in itertools.combinations(range(incidence.shape[0]), k):
        covered = incidence[list(combo)].any(axis=0)
        best = max(best, int(weights[covered].sum()))
    return best


def _covered_value(incidence: np.ndarray, weights: np.ndarray, picks) -> int:
    return int(weights[incidence[list(picks)].any(axis=0)].sum())


# --------------------------------------------------------------------------
# The selection core on 0/1 matrices


@pytest.mark.parametrize("seed", range(40))
def test_greedy_within_bound_of_brute_force_and_celf_equals_greedy(seed):
    rng = np.random.default_rng(seed)
    n_zctas = int(rng.integers(8, 30))
    dense = rng.random((12, n_zctas)) < rng.uniform(0.1, 0.4)
    weights = rng.integers(0, 500, n_zctas)
    csr = sparse.csr_array(dense.astype(np.int64))
    celf_picks, celf_gains = greedy_max_coverage(csr, weights, 3, method="celf")
    plain_picks, plain_gains = greedy_max_coverage(csr, weights, 3, method="greedy")
    assert celf_picks.tolist() == plain_picks.tolist()
    assert celf_gains.tolist() == plain_gains.tolist()
    assert len(set(celf_picks.tolist())) == 3
    # Gains are the marginal values, recomputed here from the dense matrix.
    for step in range(3):
        before = _covered_value(dense, weights, celf_picks[:step]) if step else 0
        assert celf_gains[step] == _covered_value(dense, weights, celf_picks[: step + 1]) - before
    optimum = _brute_force(dense, weights, 3)
    assert celf_gains.sum() <= optimum
    assert celf_gains.sum() >= BOUND * optimum


@settings(max_examples=60, deadline=None)
@given(
    matrix=st.lists(st.lists(st.booleans(), min_size=10, max_size=10), min_size=12, max_size=12),
    weights=st.lists(st.integers(0, 1_000), min_size=10, max_size=10),
    k=st.integers(1, 4),
)
def test_greedy_bound_property(matrix, weights, k):
    dense = np.array(matrix, dtype=bool)
    w = np.array(weights, dtype=np.int64)
    csr = sparse.csr_array(dense.astype(np.int64))
    picks, gains = greedy_max_coverage(csr, w, k)
    plain, plain_gains = greedy_max_coverage(csr, w, k, method="greedy")
    assert picks.tolist() == plain.tolist() and gains.tolist() == plain_gains.tolist()
    assert all(g1 >= g2 for g1, g2 in itertools.pairwise(gains))  # submodular: gains never grow
    optimum = _brute_force(dense, w, k)
    assert _covered_value(dense, w, picks) == gains.sum()
    assert optimum >= gains.sum() >= BOUND * optimum


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=12, max_size=12),
    weights=st.lists(st.integers(0, 1_000), min_size=48, max_size=48),
)
def test_greedy_is_optimal_on_disjoint_sets(sizes, weights):
    # Disjoint coverage sets: greedy takes the k heaviest, which is optimal.
    starts = np.concatenate([[0], np.cumsum(sizes)])
    n_zctas = int(starts[-1])
    dense = np.zeros((12, n_zctas), dtype=bool)
    for row in range(12):
        dense[row, starts[row] : starts[row + 1]] = True
    w = np.array(weights[:n_zctas], dtype=np.int64)
    picks, gains = greedy_max_coverage(sparse.csr_array(dense.astype(np.int64)), w, 3)
    assert gains.sum() == _brute_force(dense, w, 3)


def test_greedy_is_optimal_on_nested_sets():
    # A chain A ⊂ B ⊂ C plus disjoint singletons: built so greedy's first pick
    # (C) is in every optimum and the rest are disjoint.
    dense = np.zeros((12, 12), dtype=bool)
    dense[0, :2], dense[1, :4], dense[2, :6] = True, True, True
    for row in range(3, 12):
        dense[row, row] = True
    w = np.arange(1, 13, dtype=np.int64) * 10
    picks, gains = greedy_max_coverage(sparse.csr_array(dense.astype(np.int64)), w, 3)
    assert picks[0] == 2
    assert gains.sum() == _brute_force(dense, w, 3)


def test_ties_go_to_the_lowest_index_and_zero_gain_rows_are_not_repeated():
    dense = np.array([[1, 0], [1, 0], [0, 0]], dtype=np.int64)
    picks, gains = greedy_max_coverage(sparse.csr_array(dense), np.array([5, 7]), 3)
    assert picks.tolist() == [0, 1, 2]
    assert gains.tolist() == [5, 0, 0]


def test_incidence_matrix_shape_and_entries():
    csr = incidence_matrix([np.array([0, 2]), np.array([], dtype=int), np.array([1])], 3)
    assert csr.shape == (3, 3)
    assert csr.toarray().tolist() == [[1, 0, 1], [0, 0, 0], [0, 1, 0]]


# --------------------------------------------------------------------------
# plan_sites on points: the locale-dependent reach rule, brute-forced


def _random_world(seed: int):
    rng = np.random.default_rng(seed)
    n = 30
    locales = rng.choice(["city", "suburb", "town", "rural"], n)
    rows = [
        (
            f"{60000 + i}",
            "KS",
            rng.uniform(0, 25),
            rng.uniform(0, 25),
            int(rng.integers(0, 2000)),
            float(rng.uniform(0, 0.4)),
            locales[i],
        )
        for i in range(n)
    ]
    zctas = _zctas(rows)
    candidates = _points(
        [(rng.uniform(0, 25), rng.uniform(0, 25)) for _ in range(12)], name=[f"site {i}" for i in range(12)]
    )
    schools = _points([(rng.uniform(0, 25), rng.uniform(0, 25)) for _ in range(2)])
    return zctas, candidates, schools


def _reach_sets(zctas: pd.DataFrame, points: pd.DataFrame) -> np.ndarray:
    reach = zctas["locale4"].map(REACH).to_numpy(float)
    dist = _haversine_miles(
        points["lat"].to_numpy()[:, None],
        points["lon"].to_numpy()[:, None],
        zctas["lat"].to_numpy()[None, :],
        zctas["lon"].to_numpy()[None, :],
    )
    return dist <= reach[None, :]


@pytest.mark.parametrize("objective", ["unserved", "poverty"])
@pytest.mark.parametrize("seed", range(12))
def test_plan_sites_against_brute_force_with_independent_distances(seed, objective):
    zctas, candidates, schools = _random_world(seed)
    plan = plan_sites(zctas, schools, k=3, state="KS", objective=objective, candidates=candidates)
    covered_before = _reach_sets(zctas, schools).any(axis=0)
    weights = np.where(covered_before, 0, zctas["children"].to_numpy(float))
    if objective == "poverty":
        weights = np.where(zctas["pct_below_poverty"].to_numpy() >= 0.20, weights, 0)
    sets = _reach_sets(zctas, candidates)
    optimum = _brute_force(sets, weights, 3)
    total = plan.picks["gain"].sum()
    picks = [int(name.split()[-1]) for name in plan.picks["name"]]
    assert total == pytest.approx(_covered_value(sets, weights, picks))
    assert total <= optimum + 1e-6
    assert total >= BOUND * optimum - 1e-6
    key = "children_within_reach" if objective == "unserved" else "high_poverty_children_within_reach"
    assert plan.after[key] - plan.before[key] == pytest.approx(total)
    assert plan.before["children_within_reach"] == pytest.approx(zctas["children"][covered_before].sum())


def test_plan_equals_optimum_on_separate_clusters():
    # Four clusters 60 miles apart; each candidate reaches exactly its own
    # cluster, so greedy (three heaviest clusters) is optimal: 900 + 700 + 500.
    rows, offsets = [], []
    for c, children in enumerate([500, 900, 100, 700]):
        rows += [
            (f"{61000 + 10 * c + j}", "KS", 60 * c + j * 0.2, 0, children / 2, 0.1, "city") for j in range(2)
        ]
        offsets.append((60 * c + 0.1, 0))
    plan = plan_sites(_zctas(rows), NO_SCHOOLS, k=3, state="KS", candidates=_points(offsets))
    assert plan.picks["gain"].tolist() == [900, 700, 500]
    assert plan.picks["candidate_id"].tolist() == ["site-2", "site-4", "site-1"]
    assert plan.picks["cumulative"].tolist() == [900, 1600, 2100]


def test_total_never_decreases_as_k_grows_and_picks_are_prefixes():
    zctas, candidates, schools = _random_world(7)
    previous_total, previous_ids = -1.0, []
    for k in range(1, 13):
        plan = plan_sites(zctas, schools, k=k, state="KS", candidates=candidates)
        ids = plan.picks["candidate_id"].tolist()
        assert ids[: len(previous_ids)] == previous_ids
        assert plan.after["children_within_reach"] >= previous_total
        previous_total, previous_ids = plan.after["children_within_reach"], ids


def test_celf_and_plain_greedy_give_the_same_plan():
    zctas, _, schools = _random_world(3)
    celf = plan_sites(zctas, schools, k=5, state="KS")
    plain = plan_sites(zctas, schools, k=5, state="KS", method="greedy")
    pd.testing.assert_frame_equal(celf.picks, plain.picks)
    assert celf.after == plain.after


# --------------------------------------------------------------------------
# Existing coverage, what-if, scope


def _two_clusters():
    # Cluster A (city ZCTAs, 1-mile reach) around x=0 already has a school;
    # cluster B (x=50 and x=51.2, 1.2 miles apart) has none.
    rows = [
        ("66001", "KS", 0.0, 0, 300, 0.30, "city"),
        ("66002", "KS", 0.5, 0, 200, 0.05, "city"),
        ("66003", "KS", 50.0, 0, 400, 0.25, "city"),
        ("66004", "KS", 51.2, 0, 100, 0.10, "city"),
    ]
    return _zctas(rows), _points([(0.25, 0)], is_sample=[True])


def test_candidate_in_already_covered_land_gains_nothing():
    zctas, schools = _two_clusters()
    plan = what_if(zctas, schools, _points([(0.25, 0), (0.3, 0.1)]), state="KS")
    assert plan.picks["gain"].tolist() == [0, 0]
    assert plan.after == plan.before


def test_what_if_reports_gains_in_the_given_order():
    zctas, schools = _two_clusters()
    sites = _points([(50.3, 0), (50.0, 0), (0.25, 0)], name=["between", "on 66003", "at the school"])
    plan = what_if(zctas, schools, sites, state="KS")
    assert plan.picks["name"].tolist() == ["between", "on 66003", "at the school"]
    assert plan.picks["gain"].tolist() == [500, 0, 0]  # x=50.3 reaches both B ZCTAs (0.3 and 0.9 mi)
    assert plan.after["children_within_reach"] == plan.before["children_within_reach"] + 500
    reversed_plan = what_if(zctas, schools, sites.iloc[[1, 0, 2]], state="KS")
    assert reversed_plan.picks["gain"].tolist() == [400, 100, 0]
    assert reversed_plan.after == plan.after
    assert sorted(plan.reached["zcta"]) == ["66003", "66004"]


def test_poverty_objective_counts_only_high_poverty_children():
    zctas, schools = _two_clusters()
    sites = _points([(50.0, 0), (51.2, 0)])
    unserved = plan_sites(zctas, schools, k=1, state="KS", candidates=sites)
    poverty = plan_sites(zctas, schools, k=1, state="KS", candidates=sites, objective="poverty")
    assert unserved.picks["gain"].tolist() == [400]
    assert poverty.picks["gain"].tolist() == [400]
    assert poverty.before["high_poverty_children"] == 700  # 300 (30%) + 400 (25%)
    assert poverty.before["high_poverty_children_within_reach"] == 300
    stricter = plan_sites(
        zctas, schools, k=1, state="KS", candidates=sites, objective="poverty", poverty_threshold=0.5
    )
    assert stricter.picks["gain"].tolist() == [0]
    assert any("no children" in note or "nothing" in note for note in stricter.assumptions["notes"])


def test_unknown_poverty_is_not_high_poverty():
    zctas, schools = _two_clusters()
    zctas.loc[2, "pct_below_poverty"] = np.nan
    plan = plan_sites(zctas, schools, k=1, state="KS", objective="poverty", candidates=_points([(50, 0)]))
    assert plan.picks["gain"].tolist() == [0]


def test_existing_school_across_the_border_counts_and_user_site_outside_scope_is_allowed():
    rows = [
        ("66001", "KS", 0.0, 0, 300, 0.3, "rural"),
        ("64001", "MO", 4.0, 0, 800, 0.3, "rural"),
        ("66002", "KS", 40.0, 0, 200, 0.3, "rural"),
    ]
    zctas = _zctas(rows)
    schools = _points([(6.0, 0)])  # "in MO", 6 miles from the KS ZCTA 66001
    plan = what_if(zctas, schools, _points([(45.0, 0)], stusps=["MO"]), state="KS")
    assert plan.before["children"] == 500  # only KS children count
    assert plan.before["children_within_reach"] == 300
    assert plan.picks["gain"].tolist() == [200]
    assert plan.picks["stusps"].tolist() == ["MO"]


def test_canadian_school_serves_no_one_as_in_the_metrics():
    zctas, _ = _two_clusters()
    schools = _points([(0.25, 0)], country=["CA"])
    plan = what_if(zctas, schools, _points([(0.25, 0)]), state="KS")
    assert plan.before["children_within_reach"] == 0
    assert plan.picks["gain"].tolist() == [500]


def test_default_candidates_are_the_scope_zctas_and_nation_excludes_territories():
    rows = [
        ("66001", "KS", 0, 0, 100, 0.1, "city"),
        ("64001", "MO", 30, 0, 100, 0.1, "city"),
        ("96910", "GU", 60, 0, 5000, 0.1, "city"),
    ]
    zctas = _zctas(rows)
    ks = plan_sites(zctas, NO_SCHOOLS, k=1, state="ks")
    assert ks.picks["candidate_id"].tolist() == ["66001"]
    assert ks.assumptions["scope"] == "KS"
    capped = plan_sites(zctas, NO_SCHOOLS, k=2, state="KS")  # one candidate in KS: k is capped to it
    assert capped.picks["candidate_id"].tolist() == ["66001"] and capped.assumptions["k"] == 1
    nation = plan_sites(zctas, NO_SCHOOLS, k=2)
    assert sorted(nation.picks["candidate_id"]) == ["64001", "66001"]
    assert nation.before["children"] == 200
    guam = plan_sites(zctas, NO_SCHOOLS, k=1, state="GU")
    assert guam.picks["gain"].tolist() == [5000]


def test_by_locale_adds_up_and_has_both_levels():
    zctas, candidates, schools = _random_world(5)
    plan = plan_sites(zctas, schools, k=4, state="KS", candidates=candidates)
    table = plan.by_locale
    levels = [("locale", ["urban", "suburban", "rural"]), ("locale4", ["city", "suburb", "town", "rural"])]
    for level, classes in levels:
        part = table[table["level"] == level]
        assert part["locale_class"].tolist() == classes
        assert part["gain"].sum() == pytest.approx(plan.picks["gain"].sum())
        assert part["children"].sum() == pytest.approx(plan.before["children"])
    city = table[(table["level"] == "locale4") & (table["locale_class"] == "city")].iloc[0]
    expected = zctas.loc[zctas["locale4"] == "city", "children"].sum()
    assert city["children"] == pytest.approx(expected)


def test_inputs_are_not_mutated():
    zctas, candidates, schools = _random_world(2)
    copies = (zctas.copy(), candidates.copy(), schools.copy())
    plan_sites(zctas, schools, k=2, state="KS", candidates=candidates)
    what_if(zctas, schools, candidates, state="KS")
    for original, copy in zip((zctas, candidates, schools), copies, strict=True):
        pd.testing.assert_frame_equal(original, copy)


def test_plan_serializes_and_maps():
    zctas, schools = _two_clusters()
    plan = plan_sites(zctas, schools, k=2, state="KS")
    assert isinstance(plan, Plan)
    document = json.loads(json.dumps(plan.to_json(), allow_nan=False))
    assert [p["order"] for p in document["picks"]] == [1, 2]
    assert document["assumptions"]["is_sample"] is True
    assert document["assumptions"]["reach_miles"] == REACH
    assert "ACS 2022" in document["assumptions"]["data_vintage"]
    assert document["gain"]["children_within_reach"] == pytest.approx(plan.picks["gain"].sum())
    points = plan.picks_geodataframe()
    assert isinstance(points, gpd.GeoDataFrame) and points.crs.to_epsg() == 4326
    assert points.geometry.x.tolist() == pytest.approx(plan.picks["lon"].tolist())
    assert points.geometry.y.tolist() == pytest.approx(plan.picks["lat"].tolist())


def test_reach_override_changes_coverage():
    zctas, schools = _two_clusters()
    wide = what_if(zctas, schools, _points([(25, 0)]), state="KS", reach_miles={"city": 30})
    assert wide.picks["gain"].tolist() == [500]
    assert wide.assumptions["reach_miles"]["city"] == 30


# --------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"k": 0}, "k"),
        ({"k": -2}, "k"),
        ({"k": 2.5}, "k"),
        ({"k": True}, "k"),
        ({"k": 1, "state": "ZZ"}, "state"),
        ({"k": 1, "objective": "richest"}, "objective"),
        ({"k": 1, "poverty_threshold": 20}, "poverty_threshold"),
        ({"k": 1, "reach_miles": {"metro": 2}}, "reach_miles"),
        ({"k": 1, "reach_miles": -1}, "reach_miles"),
        ({"k": 1, "method": "magic"}, "method"),
        ({"k": 1, "candidates": pd.DataFrame({"name": ["x"], "lat": [38.0]})}, "candidates"),
        ({"k": 1, "candidates": pd.DataFrame({"lat": [138.0], "lon": [-98.0]})}, "candidates"),
        ({"k": 1, "candidates": pd.DataFrame({"lat": ["north"], "lon": [-98.0]})}, "candidates"),
        ({"k": 1, "candidates": pd.DataFrame({"lat": [], "lon": []})}, "candidates"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(kwargs, parameter):
    zctas, schools = _two_clusters()
    with pytest.raises(InvalidParameterError) as err:
        plan_sites(zctas, schools, state=kwargs.pop("state", "KS"), **kwargs)
    assert err.value.parameter == parameter
    assert parameter.split("_")[0] in str(err.value).lower() or parameter == "candidates"


def test_bad_candidate_values_are_quoted():
    zctas, schools = _two_clusters()
    with pytest.raises(InvalidParameterError, match="138") as err:
        what_if(zctas, schools, pd.DataFrame({"lat": [38.0, 138.0], "lon": [-98.0, -98.0]}), state="KS")
    assert "row 3" in str(err.value)
    with pytest.raises(InvalidParameterError, match="swapped"):
        what_if(zctas, schools, pd.DataFrame({"lat": [-98.0], "lon": [38.0]}), state="KS")


def test_schools_without_coordinates_are_rejected():
    zctas, _ = _two_clusters()
    with pytest.raises(SchoolDataError, match="lat"):
        plan_sites(zctas, pd.DataFrame({"name": ["x"]}), k=1, state="KS")


# --------------------------------------------------------------------------
# read_candidates


def test_read_candidates_csv(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "\ufeffName,Latitude,Longitude,State\nLincoln Elementary,38.1,-98.2,ks\n,38.2,-98.3,\n",
        encoding="utf-8",
    )
    frame = read_candidates(path)
    assert frame["name"].tolist() == ["Lincoln Elementary", "site 2"]
    assert frame["candidate_id"].tolist() == ["site-1", "site-2"]
    assert frame["lat"].tolist() == [38.1, 38.2]
    assert frame["lon"].tolist() == [-98.2, -98.3]
    assert frame["stusps"].tolist()[0] == "KS" and pd.isna(frame["stusps"].tolist()[1])


def test_read_candidates_geojson(tmp_path):
    path = tmp_path / "sites.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"s{i}", "id": f"id{i}"},
            "geometry": {"type": "Point", "coordinates": [-98.0 + i, 38.0]},
        }
        for i in range(2)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    frame = read_candidates(path)
    assert frame["name"].tolist() == ["s0", "s1"]
    assert frame["candidate_id"].tolist() == ["id0", "id1"]
    assert frame["lon"].tolist() == [-98.0, -97.0]
    assert frame["lat"].tolist() == [38.0, 38.0]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("sites.csv", "name,lat\nA,38\n", "lat and lon"),
        ("sites.csv", "name,lat,lon\nA,38,-98\nB,abc,-98\n", "row 3"),
        ("sites.csv", "name,lat,lon\nA,-98,38\n", "swapped"),
        ("sites.csv", "", "empty"),
        ("sites.csv", "name,lat,lon\n", "no candidate sites"),
        ("sites.xlsx", "whatever", "unsupported file type"),
        ("sites.geojson", "{not json", "not readable GeoJSON"),
        (
            "sites.geojson",
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {},
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                            },
                        }
                    ],
                }
            ),
            "must be a Point",
        ),
    ],
)
def test_read_candidates_rejects_malformed_files(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SchoolDataError) as err:
        read_candidates(path)
    assert name in str(err.value)
    assert problem in str(err.value)


_POINTS = json.dumps(
    {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "a"},
                "geometry": {"type": "Point", "coordinates": [-98, 38]},
            }
        ],
    }
)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("sites.csv", "\ufeffName,Latitude,Longitude,State\nA,38.1,-98.2,ks\n,38.2,-98.3,\n", None),
        ("sites.txt", "lat,lon\n38.1,-98.2\n", None),
        ("sites.geojson", _POINTS, None),
        ("upload.json", _POINTS, None),
        ("sites.csv", "name,lat,lon\nA,38,-98\nB,abc,-98\n", "row 3"),
        ("sites.csv", "", "empty"),
        ("sites.geojson", "{not json", "not readable GeoJSON"),
        ("sites.xlsx", "whatever", "unsupported file type"),
    ],
)
def test_read_candidates_from_memory_reads_as_the_file_does(tmp_path, name, content, problem):
    """An upload is read from memory (a file object or bytes), with the answers and errors of a file."""
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))
    sources = [io.BytesIO(content.encode("utf-8")), content.encode("utf-8")]
    if problem is None:
        expected = read_candidates(path)
        assert len(expected) >= 1
        for source in sources:
            pd.testing.assert_frame_equal(read_candidates(source, name=name), expected)
        return
    for source in [path, *sources]:
        with pytest.raises(SchoolDataError) as err:
            read_candidates(source, name=name)
        assert name in str(err.value) and problem in str(err.value)


def test_read_candidates_in_memory_needs_a_name():
    with pytest.raises(SchoolDataError, match="needs its name"):
        read_candidates(b"lat,lon\n38,-98\n")


def test_read_candidates_missing_file(tmp_path):
    with pytest.raises(SchoolDataError, match="does not exist"):
        read_candidates(tmp_path / "nope.csv")


def test_plan_sites_reads_a_candidates_path(tmp_path):
    zctas, schools = _two_clusters()
    lat, lon = _at(50.3, 0)
    path = tmp_path / "sites.csv"
    path.write_text(f"name,lat,lon\nMidway,{lat},{lon}\n")
    plan = plan_sites(zctas, schools, k=1, state="KS", candidates=path)
    assert plan.picks["name"].tolist() == ["Midway"]
    assert plan.picks["gain"].tolist() == [500]
    assert plan.picks["stusps"].tolist() == ["KS"]  # from the nearest ZCTA


def test_celf_is_lazy(caplog):
    # 2,000 disjoint candidates: after each pick no other gain changes, so CELF
    # re-evaluates about one row per step where plain greedy evaluates all.
    rng = np.random.default_rng(0)
    csr = sparse.csr_array(sparse.identity(2_000, dtype=np.int64, format="csr"))
    weights = rng.integers(1, 10_000, 2_000)
    with caplog.at_level("DEBUG", logger="geo.max_coverage"):
        picks, gains = greedy_max_coverage(csr, weights, 20)
    assert gains.tolist() == sorted(weights.tolist(), reverse=True)[:20]
    message = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("CELF"))
    assert int(message.split()[1]) <= 2 * 20
