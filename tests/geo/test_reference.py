"""Reference geography from the PyPI packages: counts, CRS, spot checks, web weight."""

from __future__ import annotations

import socket

import geopandas as gpd
import pytest
import shapely

from geo import reference as ref
from geo.errors import SourceDataError
from geo.geojson import feature_collection


@pytest.fixture(scope="module")
def states():
    return ref.load_states()


@pytest.fixture(scope="module")
def counties():
    return ref.load_counties()


@pytest.fixture(scope="module")
def zctas():
    return ref.load_zctas()


@pytest.fixture(autouse=True, scope="module")
def no_network():
    """Every reference read works with the network switched off."""
    original = socket.socket.connect

    def refuse(*args, **kwargs):
        raise AssertionError("a reference loader tried to use the network")

    socket.socket.connect = refuse
    yield
    socket.socket.connect = original


def test_states_rows_and_flags(states):
    assert len(states) == 56
    assert states["in_scope"].sum() == 52  # 50 states, DC, PR
    assert sorted(states.loc[states["is_territory"], "stusps"]) == ["AS", "GU", "MP", "VI"]
    assert {"DC", "PR"} <= set(states.loc[states["in_scope"], "stusps"])
    assert states["statefp"].str.len().eq(2).all()


def test_counties_rows(counties):
    assert len(counties) == 3233
    assert counties["geoid"].is_unique
    assert counties["stusps"].notna().all()


def test_every_layer_has_wgs84(states, counties, zctas):
    for frame in (states, counties, zctas):
        assert frame.crs is not None and frame.crs.to_epsg() == 4326


def test_zctas_population_and_children(zctas):
    # 41,994 ZCTAs less 288 military APO/FPO ZIPs that have no location.
    assert len(zctas) == 41994 - 288
    assert zctas["population"].sum() == pytest.approx(334.4e6, rel=0.002)
    assert zctas["children"].sum() == pytest.approx(73.8e6, rel=0.002)
    assert zctas["population"].isna().sum() == 8220 - 288
    assert (zctas.loc[zctas["population"].isna(), "children"] == 0).all()
    assert (zctas.geometry.geom_type == "Point").all()


def _county_at(counties, lon, lat):
    hits = counties[counties.contains(shapely.Point(lon, lat))]
    return list(hits["geoid"])


def test_spot_checks(states, counties):
    assert _county_at(counties, -87.6298, 41.8781) == ["17031"]  # downtown Chicago, Cook County
    san_juan = states[states.contains(shapely.Point(-66.1057, 18.4655))]
    assert list(san_juan["statefp"]) == ["72"]
    assert _county_at(counties, -87.0, 43.5) == []  # the middle of Lake Michigan


def test_missing_source_names_the_file(tmp_path):
    with pytest.raises(SourceDataError, match="cb_2016_us_state_500k.shp"):
        ref.load_states(tmp_path)


def test_corrupt_source_names_the_file(tmp_path):
    (tmp_path / "cb_2016_us_state_500k.shp").write_bytes(b"not a shapefile at all")
    with pytest.raises(SourceDataError, match="cb_2016_us_state_500k.shp"):
        ref.load_states(tmp_path)


def test_web_layers_stay_valid_and_small(states, counties):
    from geo.build import COUNTIES_WEB_TOLERANCE, STATES_WEB_TOLERANCE, WEB_PRECISION

    states_web = ref.simplify_for_web(states, tolerance=STATES_WEB_TOLERANCE, precision=WEB_PRECISION)
    counties_web = ref.simplify_for_web(counties, tolerance=COUNTIES_WEB_TOLERANCE, precision=WEB_PRECISION)
    for full, web in ((states, states_web), (counties, counties_web)):
        assert len(web) == len(full)
        assert web.is_valid.all()
        assert not web.is_empty.any()  # no state or county disappears
        assert set(web.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    # Area is kept within a few percent nationally (equal-area CRS, not degrees).
    full_area = states.to_crs("EPSG:5070").area.sum()
    web_area = states_web.to_crs("EPSG:5070").area.sum()
    assert abs(web_area - full_area) / full_area < 0.02
    assert len(feature_collection(states_web, precision=4)) < 300_000
    assert len(feature_collection(counties_web, precision=4)) < 3_000_000


def test_gazetteer_has_us_and_canada():
    gaz = ref.load_gazetteer()
    assert set(gaz["country"]) == {"US", "CA"}
    chicago = gaz[(gaz["city_norm"] == "chicago") & (gaz["state"] == "IL")].iloc[0]
    assert chicago["lat"] == pytest.approx(41.85, abs=0.1)
    assert (gaz.loc[gaz["country"] == "CA", "state"].isin(ref.CANADA_PROVINCES.values())).all()


def test_zip_points_cover_zctas(zctas):
    zips = ref.load_zip_points(zctas)
    assert zips["zip"].is_unique
    assert set(zctas["zcta"]) <= set(zips["zip"])
    assert len(zips) > len(zctas)  # zipcodes adds PO-box and unique ZIPs


def test_simplify_refuses_projected_frames(states):
    with pytest.raises(ValueError, match="geographic"):
        ref.simplify_for_web(states.to_crs("EPSG:5070"), tolerance=1000)


def test_normalize_place():
    names = gpd.pd.Series(["St. Louis", "Ft Worth", "Montréal", None])
    assert list(ref.normalize_place(names)) == ["saint louis", "fort worth", "montreal", ""]
