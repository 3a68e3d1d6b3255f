import geopandas as gpd
import pytest
import shapely

from geo.crs import projected_crs_for_state, require_crs, require_same_crs, to_wgs84
from geo.errors import CRSError


def test_require_crs_refuses_missing():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(CRSError, match="no CRS"):
        require_crs(frame)


def test_require_same_crs():
    a = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs="EPSG:4326")
    b = a.to_crs("EPSG:5070")
    require_same_crs(a, a)
    with pytest.raises(CRSError, match="mismatch"):
        require_same_crs(a, b)


def test_to_wgs84_from_nad83():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(-87.6, 41.9)], crs="EPSG:4269")
    out = to_wgs84(frame)
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x == pytest.approx(-87.6, abs=1e-4)


@pytest.mark.parametrize(("usps", "epsg"), [("CA", 5070), ("AK", 3338), ("PR", 32161)])
def test_region_crs(usps, epsg):
    from pyproj import CRS

    assert CRS(projected_crs_for_state(usps)).to_epsg() == epsg


def test_hawaii_crs_is_equal_area():
    from pyproj import CRS

    crs = CRS(projected_crs_for_state("HI"))
    assert crs.is_projected and "Albers" in crs.to_wkt()
