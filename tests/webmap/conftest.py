"""Shared web-app fixtures (flaskr style): one real build per session, an app and a test client."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

# ``built_data_dir`` (one real build per session) and ``shared_app`` come from tests/conftest.py.


def _new_app(data_dir: Path):
    from webmap import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(data_dir)})


def _settings(app) -> dict:
    """The app's config, less the secret key that the app itself reads on its first /staff request."""
    return {key: value for key, value in app.config.items() if key != "SECRET_KEY"}


@contextmanager
def _kept_read_only(app):
    """Lend the shared ``app`` to one test, then check that the test left it as it was.

    A test that changes the app's config, adds a route or swaps the build it holds
    takes ``fresh_app`` (or ``fresh_tiny_app``) instead: otherwise what it changed
    would reach every later test on the same worker.
    """
    config = _settings(app)
    rules = len(list(app.url_map.iter_rules()))
    holder = app.extensions["csmap_data"]
    data = holder.data
    yield app
    assert _settings(app) == config, "a test changed the shared app's config: give it fresh_app"
    assert len(list(app.url_map.iter_rules())) == rules, "a test added a route to the shared app"
    assert data is None or holder.data is data, "a test swapped the shared app's build: give it fresh_app"


@pytest.fixture
def app(shared_app):
    """The app serving the session's build (tests/conftest.py), shared by the tests that only read it.

    Building an app and loading the national sample into it costs far more than most
    tests that use it, so the tests share one (each gets its own test client). Tests
    that change the app, or that count what it computes afresh, take ``fresh_app``.
    """
    with _kept_read_only(shared_app) as shared:
        yield shared


@pytest.fixture
def client(app):
    """A Flask test client of ``app`` (its own cookie jar)."""
    return app.test_client()


@pytest.fixture
def fresh_app(built_data_dir: Path):
    """An app of this test's own over the session's build: free to change, and with empty caches."""
    return _new_app(built_data_dir)


@pytest.fixture
def fresh_client(fresh_app):
    """A test client of ``fresh_app``."""
    return fresh_app.test_client()


# --------------------------------------------------------------------------
# A tiny hand-made build (two square states, three counties, six schools),
# written through geo.store and geo.metrics like the real one but in well
# under a second. Its school names and addresses carry HTML and spreadsheet-
# formula payloads, for the escaping and CSV-injection tests.

XSS_NAME = "Lincoln <img src=x onerror=alert(1)>"
FORMULA_NAME = '=HYPERLINK("http://example.invalid","click")'


def _square(west: float, south: float, east: float, north: float):
    import shapely

    return shapely.box(west, south, east, north)


def write_tiny_build(
    root: Path, *, is_sample: bool = True, built_at: str = "2026-11-28T12:00:00+00:00"
) -> Path:
    """Write a complete small build into the data folder ``root``; return the build folder."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from geo import store
    from geo.metrics import compute_metrics, metrics_tables_for_export

    crs = "EPSG:4326"
    states = gpd.GeoDataFrame(
        {
            "statefp": ["17", "18"],
            "stusps": ["IL", "IN"],
            "name": ["Illinois", "Indiana"],
            "in_scope": [True, True],
            "is_territory": [False, False],
            "aland": [1, 1],
            "awater": [0, 0],
        },
        geometry=[_square(-91, 37, -87, 42.5), _square(-87, 37, -84, 42.5)],
        crs=crs,
    )
    counties = gpd.GeoDataFrame(
        {
            "geoid": ["17001", "17003", "18001"],
            "statefp": ["17", "17", "18"],
            "stusps": ["IL", "IL", "IN"],
            "name": ["West <b>County</b>", "East", "Marion"],
            "aland": [1, 1, 1],
        },
        geometry=[_square(-91, 37, -89, 42.5), _square(-89, 37, -87, 42.5), _square(-87, 37, -84, 42.5)],
        crs=crs,
    )
    rows = [
        # school_id, name, address, state, lon, lat, stusps, statefp, county, locale4, locale, country
        ("cs-1", XSS_NAME, "1 Main St", "IL", -87.60, 41.80, "IL", "17", "17003", "city", "urban", "US"),
        (
            "cs-2",
            FORMULA_NAME,
            "+1 Farm Rd",
            "IL",
            -90.50,
            38.00,
            "IL",
            "17",
            "17001",
            "rural",
            "rural",
            "US",
        ),
        (
            "cs-3",
            "Oak Park Elementary",
            "@2 Oak Ave",
            "IL",
            -88.00,
            41.90,
            "IL",
            "17",
            "17003",
            "suburb",
            "suburban",
            "US",
        ),
        (
            "cs-4",
            "Indy Central",
            "3 Meridian St",
            "IN",
            -86.10,
            39.80,
            "IN",
            "18",
            "18001",
            "city",
            "urban",
            "US",
        ),
        (
            "cs-5",
            "Hoosier Rural",
            "-4 County Rd",
            "IN",
            -85.00,
            38.50,
            "IN",
            "18",
            "18001",
            "rural",
            "rural",
            "US",
        ),
        (
            "cs-6",
            "Toronto Community Hub",
            "5 Queen St",
            "ON",
            -79.40,
            43.70,
            None,
            None,
            None,
            "city",
            "urban",
            "CA",
        ),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "school_id",
            "name",
            "address",
            "state",
            "lon",
            "lat",
            "stusps",
            "statefp",
            "county_fips",
            "locale4",
            "locale",
            "country",
        ],
    )
    schools = gpd.GeoDataFrame(
        frame.assign(
            city="Somewhere",
            zip="60601",
            nces_id=None,
            district=None,
            grades="K-8",
            lead_partner="Partners & Co",
            year_started=pd.array([2015, None, 2018, 2020, None, 2019], dtype="Int64"),
            nces_locale=pd.array([None] * 6, dtype="Int64"),
            geocode_method="given",
            precision="given",
            geocode_note="",
            zcta="60601",
            locale_source="derived",
            source_rows=[str(i + 2) for i in range(6)],
            is_sample=is_sample,
        ),
        geometry=shapely.points(frame["lon"], frame["lat"]),
        crs=crs,
    )
    zctas = pd.DataFrame(
        {
            "stusps": ["IL", "IL", "IN"],
            "county_fips": ["17003", "17001", "18001"],
            "lat": [41.81, 41.90, 39.81],
            "lon": [-87.61, -90.90, -86.10],
            "children": [2000.0, 5000.0, 3000.0],
            "pct_below_poverty": [0.30, 0.25, 0.10],
            "locale4": ["city", "rural", "city"],
        }
    )
    coalitions = pd.DataFrame(
        {
            "stusps": ["IL", "IN"],
            "status": ["existing", "none"],
            "coalition_name": ["Illinois CS Coalition", ""],
            "area_type": ["counties", "state"],
            "county_fips": ["17001;17003", ""],
            "is_sample": [is_sample] * 2,
        }
    )
    result = compute_metrics(zctas, schools, states=states, counties=counties, coalitions=coalitions)
    tables = metrics_tables_for_export(result, states, counties)
    with store.new_build(root) as out:
        for name, layer in (
            ("states", states),
            ("counties", counties),
            ("schools", schools),
            ("coalitions", coalitions),
            ("state_metrics", tables["state_metrics"]),
            ("county_metrics", tables["county_metrics"]),
        ):
            out.write_layer(layer, name)
        document = result.to_json()
        document["is_sample"] = is_sample
        out.write_json("metrics.json", document)
        out.write_csv(schools.drop(columns="geometry"), "schools.csv")
        out.write_json(
            "manifest.json",
            {
                "build_id": out.path.name,
                "built_at": built_at,
                "is_sample": is_sample,
                "row_counts": dict(out.layers),
            },
        )
    build = store.current_build_dir(root)
    manifest = store.read_manifest(build)
    manifest["build_id"] = build.name  # the folder was renamed on publishing
    (build / store.MANIFEST_NAME).write_text(__import__("json").dumps(manifest), encoding="utf-8")
    return build


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the tiny sample build (see :func:`write_tiny_build`)."""
    root = tmp_path_factory.mktemp("csmap-tiny")
    write_tiny_build(root)
    return root


@pytest.fixture(scope="session")
def shared_tiny_app(tiny_data_dir: Path):
    """One app over the tiny build (see ``shared_app``)."""
    return _new_app(tiny_data_dir)


@pytest.fixture
def tiny_app(shared_tiny_app):
    """The app serving the tiny build, shared by the tests that only read it (see ``app``)."""
    with _kept_read_only(shared_tiny_app) as shared:
        yield shared


@pytest.fixture
def tiny_client(tiny_app):
    """A test client of ``tiny_app``."""
    return tiny_app.test_client()


@pytest.fixture
def fresh_tiny_app(tiny_data_dir: Path):
    """An app of this test's own over the tiny build: free to change, and with empty caches."""
    return _new_app(tiny_data_dir)


@pytest.fixture
def fresh_tiny_client(fresh_tiny_app):
    """A test client of ``fresh_tiny_app``."""
    return fresh_tiny_app.test_client()


@pytest.fixture(scope="session")
def make_tiny_build():
    """The :func:`write_tiny_build` function, for tests that need a variant (e.g. real, not sample, data)."""
    return write_tiny_build
