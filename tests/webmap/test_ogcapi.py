"""OGC API – Features (issue #6): the framework-free core on tiny inline frames, then the blueprint.

The core tests build a :class:`webmap.ogc_core.Service` from 14 hand-made schools
and two square states, and read answers as a client would. The blueprint tests
use the tiny build of conftest.py (``tiny_client``) and the real sample build
(``client``) for headers, caching and counts.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from jinja2 import Environment, FileSystemLoader

from geo.query import filter_schools
from webmap import ogc_collection, ogc_core, ogc_params

TEMPLATES = Path(ogc_core.__file__).parent / "templates"
BASE = "http://example.test/ogcapi"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
SCRIPT_NAME = "Evil <script>alert(1)</script> & Co"

# --------------------------------------------------------------------------
# Fixtures: 14 schools spread over two squares and a Canadian point


def school_rows() -> gpd.GeoDataFrame:
    lons = [-90.5, -90.0, -89.5, -89.0, -88.5, -88.0, -87.6, -86.5, -86.0, -85.5, -85.0, -84.5, -79.4, -87.9]
    lats = [37.5, 38.0, 38.5, 39.0, 39.5, 40.0, 41.8, 38.0, 39.0, 40.0, 41.0, 41.5, 43.7, 41.95]
    stusps = ["IL"] * 7 + ["IN"] * 5 + [None, "IL"]
    state = ["IL"] * 7 + ["IN"] * 4 + ["in", "ON", "IL"]
    locale4 = [
        "rural",
        "town",
        "suburb",
        "city",
        "rural",
        "suburb",
        "city",
        "city",
        "town",
        "rural",
        "suburb",
        "city",
        "city",
        "suburb",
    ]
    locale = [
        "rural",
        "rural",
        "suburban",
        "urban",
        "rural",
        "suburban",
        "urban",
        "urban",
        "rural",
        "rural",
        "suburban",
        "urban",
        "urban",
        "suburban",
    ]
    names = [f"School {i}" for i in range(14)]
    names[3] = SCRIPT_NAME
    return gpd.GeoDataFrame(
        {
            "school_id": [f"cs-{i:02d}" for i in range(14)],
            "name": names,
            "state": state,
            "stusps": stusps,
            "locale4": locale4,
            "locale": locale,
            "year_started": pd.array([2010 + i if i % 4 else None for i in range(14)], dtype="Int64"),
            "children": np.linspace(0.5, 13.5, 14),
            "is_sample": True,
        },
        geometry=shapely.points(lons, lats),
        crs="EPSG:4326",
    )


def state_rows() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"stusps": ["IL", "IN"], "name": ["Illinois", "Indiana"], "aland": [143_793_000_000, 92_789_000_000]},
        geometry=[shapely.box(-91.5, 37.0, -87.5, 42.5), shapely.box(-87.5, 37.8, -84.8, 41.8)],
        crs="EPSG:4326",
    )


def render(template: str, context) -> str:
    """Jinja with autoescaping, as Flask renders .html templates."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template(template).render(**context)


def make_service(*, is_sample: bool = True, schools: gpd.GeoDataFrame | None = None) -> ogc_core.Service:
    schools = school_rows() if schools is None else schools
    collections = {
        "schools": ogc_core.Collection(
            id="schools",
            title="Schools",
            description="points",
            frame=schools,
            id_column="school_id",
            filters=("state", "locale"),
            column_descriptions={"name": "school name"},
        ),
        "states": ogc_core.Collection(
            id="states", title="States", description="polygons", frame=state_rows(), id_column="stusps"
        ),
    }
    provenance = {"is_sample": is_sample, "built_at": "2026-01-02T03:04:05+00:00", "build_id": "b1"}
    return ogc_core.Service(base_url=BASE, collections=collections, provenance=provenance, render=render)


@pytest.fixture
def service() -> ogc_core.Service:
    return make_service()


def args(query: str = "") -> dict[str, list[str]]:
    return parse_qs(query, keep_blank_values=True)


def items(service, query: str = "", collection: str = "schools", accept: str | None = None):
    answer = ogc_core.items(service, collection, args(query), accept)
    return answer, (json.loads(answer.body) if answer.headers["Content-Type"].endswith("json") else None)


def link(document: dict, rel: str, media: str | None = None) -> dict | None:
    found = [x for x in document["links"] if x["rel"] == rel and (media is None or x["type"] == media)]
    assert len(found) <= 1, found
    return found[0] if found else None


def ids(document: dict) -> list[str]:
    return [f["id"] for f in document["features"]]


# --------------------------------------------------------------------------
# Landing page, conformance, collections


def test_landing_page_links_to_the_api_definition_conformance_and_data(service):
    answer = ogc_core.landing_page(service, args())
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/json"
    doc = json.loads(answer.body)
    assert link(doc, "service-desc")["href"] == BASE + "/api"
    assert link(doc, "service-desc")["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert link(doc, "service-doc")["type"] == "text/html"
    assert link(doc, "conformance")["href"] == BASE + "/conformance"
    assert link(doc, "data")["href"] == BASE + "/collections"
    assert link(doc, "self")["type"] == "application/json"
    assert link(doc, "alternate")["type"] == "text/html"
    assert doc["is_sample"] is True and "SAMPLE" in doc["description"] and "SAMPLE" in doc["notice"]


def test_real_data_is_not_labelled_sample():
    doc = json.loads(ogc_core.landing_page(make_service(is_sample=False), args()).body)
    assert doc["is_sample"] is False
    assert "notice" not in doc and "SAMPLE" not in doc["description"]
    collections = json.loads(ogc_core.collections(make_service(is_sample=False), args()).body)
    assert all("SAMPLE" not in c["description"] for c in collections["collections"])


def test_conformance_declares_core_geojson_html_and_oas30(service):
    doc = json.loads(ogc_core.conformance(service, args()).body)
    prefix = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert sorted(doc["conformsTo"]) == sorted(prefix + c for c in ("core", "geojson", "html", "oas30"))


def test_collections_have_crs84_extents_from_the_frames_and_item_links(service):
    doc = json.loads(ogc_core.collections(service, args()).body)
    by_id = {c["id"]: c for c in doc["collections"]}
    assert list(by_id) == ["schools", "states"]
    schools = by_id["schools"]
    assert schools["extent"]["spatial"]["bbox"] == [list(school_rows().total_bounds)]
    assert schools["extent"]["spatial"]["crs"] == CRS84
    assert schools["crs"] == [CRS84]
    assert by_id["states"]["extent"]["spatial"]["bbox"] == [[-91.5, 37.0, -84.8, 42.5]]
    items_json = link(schools, "items", "application/geo+json")
    assert items_json["href"] == BASE + "/collections/schools/items"
    assert link(schools, "items", "text/html")["href"].endswith("/collections/schools/items?f=html")
    assert schools["description"].startswith("SAMPLE DATA")


def test_one_collection_and_an_unknown_one(service):
    doc = json.loads(ogc_core.collection(service, "states", args()).body)
    assert doc["id"] == "states" and doc["itemType"] == "feature"
    assert link(doc, "self")["href"] == BASE + "/collections/states?f=json"
    missing = ogc_core.collection(service, "rivers", args())
    assert missing.status == 404
    assert missing.headers["Content-Type"] == "application/json"
    body = json.loads(missing.body)
    assert body["code"] == "NotFound" and "'rivers'" in body["description"]


def test_a_collection_with_no_crs_is_refused():
    frame = school_rows().set_crs(None, allow_override=True)
    with pytest.raises(Exception, match="no CRS"):
        ogc_core.Collection(id="x", title="x", description="x", frame=frame, id_column="school_id")


def test_a_projected_frame_is_served_in_crs84_without_changing_the_input():
    projected = school_rows().to_crs("EPSG:5070")
    before = projected.copy()
    found = ogc_core.Collection(id="s", title="s", description="s", frame=projected, id_column="school_id")
    np.testing.assert_allclose(found.extent(), school_rows().total_bounds, atol=1e-9)
    assert projected.crs.to_epsg() == 5070
    assert_geodataframe_equal(projected, before)


# --------------------------------------------------------------------------
# Items: paging, limits, filters


def test_items_default_page_of_ten_with_counts_links_and_timestamp(service):
    answer, doc = items(service)
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/geo+json"
    assert doc["type"] == "FeatureCollection"
    assert doc["numberMatched"] == 14 and doc["numberReturned"] == 10 == len(doc["features"])
    assert ids(doc) == [f"cs-{i:02d}" for i in range(10)]
    assert doc["timeStamp"].endswith("Z") and doc["is_sample"] is True
    nxt = parse_qs(urlsplit(link(doc, "next")["href"]).query)
    assert nxt["offset"] == ["10"] and nxt["limit"] == ["10"]
    assert link(doc, "next")["type"] == "application/geo+json"
    assert link(doc, "alternate")["type"] == "text/html"
    assert link(doc, "collection")["href"] == BASE + "/collections/schools"
    assert link(doc, "prev") is None


def test_following_next_links_returns_every_feature_once_in_order(service):
    seen, query, pages = [], "limit=4", 0
    while query is not None:
        _, doc = items(service, query)
        seen += ids(doc)
        pages += 1
        nxt = link(doc, "next")
        query = urlsplit(nxt["href"]).query if nxt else None
        assert pages < 10
    assert pages == 4
    assert seen == school_rows()["school_id"].tolist()


def test_offset_past_the_end_is_an_empty_page_with_a_prev_link(service):
    _, doc = items(service, "offset=50&limit=5")
    assert doc["numberMatched"] == 14 and doc["numberReturned"] == 0 and doc["features"] == []
    assert link(doc, "next") is None
    assert parse_qs(urlsplit(link(doc, "prev")["href"]).query)["offset"] == ["45"]


def test_limit_above_the_maximum_is_clamped_not_refused(service, monkeypatch):
    _, doc = items(service, "limit=50000")
    assert doc["numberReturned"] == 14
    assert parse_qs(urlsplit(link(doc, "self")["href"]).query)["limit"] == ["10000"]
    # The bound lives in the declaration only, which the parser and the document both read.
    limit, *rest = ogc_params.ITEMS_QUERY
    monkeypatch.setattr(ogc_params, "ITEMS_QUERY", (dataclasses.replace(limit, maximum=5), *rest))
    _, doc = items(service, "limit=6")
    assert doc["numberReturned"] == 5 and doc["numberMatched"] == 14


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=ten", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=-88,45,-87,40", "bbox"),
        ("bbox=0,0,0,0,0", "bbox"),
        ("bbox=-200,0,10,10", "bbox"),
        ("bbox=nan,0,1,1", "bbox"),
        ("state=Illinois", "state"),
        ("locale=metro", "locale"),
        ("datetime=yesterday", "datetime"),
        ("datetime=../..", "datetime"),
        ("crs=EPSG:3857", "crs"),
        ("bbox-crs=EPSG:3857", "bbox-crs"),
        ("f=xml", "f"),
        ("sortby=name", "sortby"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_bad_parameters_are_400_with_an_ogc_exception(service, query, parameter):
    answer, doc = items(service, query)
    assert answer.status == 400
    assert answer.headers["Content-Type"] == "application/json"
    assert doc["code"] == "InvalidParameterValue"
    assert parameter in doc["description"]


def test_unknown_parameters_are_refused_on_every_resource(service):
    extra = args("x=1")
    for answer in (
        ogc_core.landing_page(service, extra),
        ogc_core.conformance(service, extra),
        ogc_core.collections(service, extra),
        ogc_core.collection(service, "schools", extra),
        ogc_core.schema(service, "schools", extra),
        ogc_core.item(service, "schools", "cs-01", extra),
        ogc_core.api_definition(service, extra),
    ):
        assert answer.status == 400
        assert "'x'" in json.loads(answer.body)["description"]


def test_locale_is_not_a_filter_of_the_states_collection(service):
    answer, doc = items(service, "locale=urban", collection="states")
    assert answer.status == 400 and "'locale'" in doc["description"]


def test_bbox_selects_exactly_the_features_intersecting_it(service):
    frame = school_rows()
    box = (-90.1, 37.9, -87.7, 40.2)
    expected = frame.loc[frame.intersects(shapely.box(*box)), "school_id"].tolist()
    _, doc = items(service, "bbox=" + ",".join(map(str, box)) + "&limit=100")
    assert ids(doc) == expected and doc["numberMatched"] == len(expected) == 5
    # The 3D form (minx,miny,minz,maxx,maxy,maxz) selects the same features.
    _, doc3 = items(service, "bbox=-90.1,37.9,0,-87.7,40.2,100&limit=100")
    assert ids(doc3) == expected
    query = parse_qs(urlsplit(link(doc, "self")["href"]).query)
    assert query["bbox"] == [",".join(map(str, box))]


def test_bbox_on_polygons_uses_their_shapes(service):
    _, doc = items(service, "bbox=-88,41.9,-87,42.2", collection="states")
    assert ids(doc) == ["IL"]  # Indiana's square reaches west to -87.5 but north only to 41.8
    _, doc = items(service, "bbox=-86,38,-85,39", collection="states")
    assert ids(doc) == ["IN"]


def test_bbox_crossing_the_antimeridian():
    schools = school_rows()
    schools.loc[0, "geometry"] = shapely.Point(179.5, 52.0)
    schools.loc[1, "geometry"] = shapely.Point(-179.5, 52.0)
    service = make_service(schools=schools)
    _, doc = items(service, "bbox=179,51,-179,53")
    assert ids(doc) == ["cs-00", "cs-01"]


def test_bbox_goes_through_the_spatial_index_and_touches_only_matched_features(service, monkeypatch):
    calls = []
    real = ogc_collection.bbox_positions

    def spy(frame, bbox):
        calls.append(bbox)
        return real(frame, bbox)

    monkeypatch.setattr(ogc_collection, "bbox_positions", spy)

    class CountingList(list):
        reads = 0

        def __getitem__(self, index):
            CountingList.reads += 1
            return super().__getitem__(index)

    found = service.collections["schools"]
    serialized = CountingList(found.features())
    monkeypatch.setattr(found, "features", lambda: serialized)
    monkeypatch.setattr(
        found.frame.geometry.array.__class__,
        "intersects",
        lambda *a, **k: pytest.fail("bbox scanned the geometries one by one"),
    )
    _, doc = items(service, "bbox=-86.1,38.9,-85.4,40.1")
    assert ids(doc) == ["cs-08", "cs-09"]
    assert calls == [(-86.1, 38.9, -85.4, 40.1)]
    assert CountingList.reads == 2


@pytest.mark.parametrize(
    "query",
    [
        "state=IL",
        "state=in",
        "locale=urban",
        "locale=rural",
        "locale=suburb",
        "locale=city",
        "locale=town",
        "state=IN&locale=rural",
    ],
)
def test_state_and_locale_filters_answer_as_geo_query_does(service, query):
    given = {k: v[0] for k, v in args(query).items()}
    expected = filter_schools(school_rows(), **given)["school_id"].tolist()
    _, doc = items(service, query + "&limit=100")
    assert ids(doc) == expected and expected
    assert doc["numberMatched"] == len(expected)


def test_state_filter_on_states_and_combined_with_bbox(service):
    _, doc = items(service, "state=in", collection="states")
    assert ids(doc) == ["IN"]
    _, doc = items(service, "state=IL&bbox=-86.9,37,-84,42&limit=50")
    assert ids(doc) == []  # no Illinois school east of -86.9
    _, doc = items(service, "state=IN&bbox=-86.1,38.9,-85.4,40.1")
    assert ids(doc) == ["cs-08", "cs-09"]
    _, doc = items(service, "state=TX")
    assert doc["numberMatched"] == 0  # a valid code with no features is an empty result, not an error


def test_datetime_and_crs84_are_accepted(service):
    for query in (
        "datetime=2020-01-01T00:00:00Z",
        "datetime=2020-01-01/..",
        "datetime=../2030-01-01T00:00:00Z",
        f"crs={CRS84}",
        f"bbox-crs={CRS84}&bbox=-91,37,-80,45",
    ):
        answer, doc = items(service, query + "&limit=100")
        assert answer.status == 200, doc
        assert doc["numberMatched"] == (13 if "bbox" in query else 14)
    answer, _ = items(service, f"crs={CRS84}")
    assert answer.headers["Content-Crs"] == f"<{CRS84}>"


def test_features_carry_ids_properties_and_exact_geometry(service):
    _, doc = items(service, "limit=100")
    frame = school_rows()
    first = doc["features"][0]
    assert first["id"] == "cs-00"
    assert first["properties"]["school_id"] == "cs-00"
    assert first["properties"]["year_started"] is None  # missing values are null
    assert first["geometry"] == {"type": "Point", "coordinates": [-90.5, 37.5]}
    served = shapely.from_geojson([json.dumps(f["geometry"]) for f in doc["features"]])
    assert shapely.equals_exact(served, frame.geometry.array, tolerance=0).all()


# --------------------------------------------------------------------------
# One item


def test_one_feature_with_links_and_sample_flag(service):
    answer = ogc_core.item(service, "schools", "cs-05", args())
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/geo+json"
    doc = json.loads(answer.body)
    assert doc["type"] == "Feature" and doc["id"] == "cs-05"
    assert doc["properties"]["name"] == "School 5"
    assert link(doc, "self")["href"] == BASE + "/collections/schools/items/cs-05?f=json"
    assert link(doc, "collection")["href"] == BASE + "/collections/schools"
    assert doc["is_sample"] is True


def test_unknown_feature_is_404(service):
    answer = ogc_core.item(service, "schools", "cs-99", args())
    assert answer.status == 404
    assert json.loads(answer.body)["code"] == "NotFound"
    assert ogc_core.item(service, "rivers", "cs-01", args()).status == 404


# --------------------------------------------------------------------------
# Encodings: f= and Accept, HTML escaping


@pytest.mark.parametrize(
    "query, accept, html",
    [
        ("", None, False),
        ("", "*/*", False),
        ("", "application/geo+json, application/json", False),
        ("", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("f=json", "text/html", False),
        ("f=html", "application/json", True),
    ],
)
def test_encoding_is_chosen_by_f_then_accept(service, query, accept, html):
    answer = ogc_core.items(service, "schools", args(query), accept)
    assert answer.status == 200
    expected = "text/html; charset=utf-8" if html else "application/geo+json"
    assert answer.headers["Content-Type"] == expected


def test_html_pages_escape_data_and_say_sample(service):
    pages = [
        ogc_core.landing_page(service, args("f=html")),
        ogc_core.conformance(service, args("f=html")),
        ogc_core.collections(service, args("f=html")),
        ogc_core.collection(service, "schools", args("f=html")),
        ogc_core.items(service, "schools", args("f=html&limit=100")),
        ogc_core.item(service, "schools", "cs-03", args("f=html")),
        ogc_core.api_definition(service, args("f=html")),
    ]
    for answer in pages:
        assert answer.status == 200
        text = answer.body.decode()
        assert "Sample data" in text
        assert "<script>" not in text
    items_page = pages[4].body.decode()
    assert "Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in items_page
    assert 'href="http://example.test/ogcapi/collections/schools/items/cs-03?f=html"' in items_page
    assert "14 of 14 matching features" in items_page
    real = ogc_core.landing_page(make_service(is_sample=False), args("f=html"))
    assert "Sample data" not in real.body.decode()


def test_html_paging_links_stay_html(service):
    text = ogc_core.items(service, "schools", args("f=html&limit=5&offset=5")).body.decode()
    nxt = "http://example.test/ogcapi/collections/schools/items?limit=5&amp;offset=10&amp;f=html"
    assert f'rel="next" href="{nxt}"' in text
    assert 'rel="prev"' in text


def test_validators_name_the_representation(service):
    first = ogc_core.items(service, "schools", args("limit=5")).headers["ETag"]
    assert first == ogc_core.items(service, "schools", args("limit=5")).headers["ETag"]
    assert first.startswith('W/"')
    assert first != ogc_core.items(service, "schools", args("limit=6")).headers["ETag"]
    assert first != ogc_core.items(service, "schools", args("limit=5&f=html")).headers["ETag"]
    assert first != ogc_core.items(make_service(is_sample=False), "schools", args("limit=5")).headers["ETag"]


# --------------------------------------------------------------------------
# The API definition and the schema


def test_openapi_document_is_valid_and_matches_the_accepted_parameters(service):
    answer = ogc_core.api_definition(service, args())
    assert answer.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = json.loads(answer.body)
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    assert doc["servers"] == [{"url": BASE}]
    for cid, found in service.collections.items():
        listed = {p["name"] for p in doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]}
        assert listed == set(ogc_core.ITEMS_PARAMETERS) | set(found.filters)
        limit = next(
            p for p in doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"] if p["name"] == "limit"
        )
        # Clamped, not refused: no maximum in the schema; the description names it.
        assert "maximum" not in limit["schema"] and limit["schema"]["default"] == 10
        assert f"{ogc_core.MAX_LIMIT:,}" in limit["description"]
        one = doc["paths"][f"/collections/{cid}/items/{{featureId}}"]["get"]["parameters"]
        assert {p["name"] for p in one} == {"featureId", *ogc_core.ITEM_PARAMETERS}
    assert "SAMPLE" in doc["info"]["description"]


def test_schema_types_follow_the_frame(service):
    answer = ogc_core.schema(service, "schools", args())
    assert answer.headers["Content-Type"] == "application/schema+json"
    document = json.loads(answer.body)
    assert document["x-is-sample"] is True
    props = document["properties"]["properties"]["properties"]
    assert props["school_id"]["type"] == "string" and props["is_sample"]["type"] == "boolean"
    assert props["year_started"]["type"] == "integer" and props["children"]["type"] == "number"
    assert props["name"]["description"] == "school name"
    states = json.loads(ogc_core.schema(service, "states", args()).body)
    states = states["properties"]["properties"]["properties"]
    assert states["aland"] == {"type": "number", "format": "int64"}  # beyond 32 bits: GDAL would overflow


# --------------------------------------------------------------------------
# The blueprint, on the tiny build of conftest.py and on the real sample build


@pytest.mark.parametrize(
    "url, media",
    [
        ("/ogcapi", "application/json"),
        ("/ogcapi/", "application/json"),
        ("/ogcapi/conformance", "application/json"),
        ("/ogcapi/collections", "application/json"),
        ("/ogcapi/collections/schools", "application/json"),
        ("/ogcapi/collections/counties/schema", "application/schema+json"),
        ("/ogcapi/collections/schools/items", "application/geo+json"),
        ("/ogcapi/collections/states/items?state=IL", "application/geo+json"),
        ("/ogcapi/collections/schools/items/cs-4", "application/geo+json"),
        ("/ogcapi/collections/counties/items/17003", "application/geo+json"),
        ("/ogcapi/api", "application/vnd.oai.openapi+json;version=3.0"),
        ("/ogcapi/collections?f=html", "text/html; charset=utf-8"),
    ],
)
def test_routes_answer_with_exact_media_types(tiny_client, url, media):
    response = tiny_client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == media
    assert "Accept" in response.headers["Vary"]


def test_errors_through_the_app(tiny_client):
    for url, status in [
        ("/ogcapi/collections/rivers", 404),
        ("/ogcapi/collections/schools/items/nope", 404),
        ("/ogcapi/collections/schools/items?limit=0", 400),
        ("/ogcapi/collections/schools/items?bbox=1,2,3", 400),
        ("/ogcapi/collections/schools/items?colour=red", 400),
    ]:
        response = tiny_client.get(url)
        assert response.status_code == status
        assert response.mimetype == "application/json"
        assert set(response.get_json()) >= {"code", "description"}


def test_links_are_absolute_urls_of_the_configured_base_url(tiny_data_dir):
    # Issue #17: the public origin comes from CSMAP_BASE_URL, never from the request's Host.
    from webmap import create_app

    client = create_app({"DATA_DIR": str(tiny_data_dir), "BASE_URL": "http://gis.example:8080"}).test_client()
    doc = client.get("/ogcapi/collections/schools/items?limit=2", base_url="http://evil.example").get_json()
    assert link(doc, "next")["href"].startswith("http://gis.example:8080/ogcapi/collections/schools/items?")
    assert doc["numberMatched"] == 6 and ids(doc) == ["cs-1", "cs-2"]


def test_answers_revalidate_with_a_weak_etag(tiny_client):
    url = "/ogcapi/collections/schools/items?limit=3"
    first = tiny_client.get(url)
    tag = first.headers["ETag"]
    assert tag.startswith('W/"')
    again = tiny_client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert tiny_client.get(url + "&offset=3", headers={"If-None-Match": tag}).status_code == 200
    html = tiny_client.get(url, headers={"If-None-Match": tag, "Accept": "text/html"})
    assert html.status_code == 200 and html.mimetype == "text/html"


def test_html_items_page_escapes_school_names_from_the_build(tiny_client):
    from tests.webmap.conftest import XSS_NAME

    response = tiny_client.get("/ogcapi/collections/schools/items", headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert XSS_NAME not in text
    assert "Lincoln &lt;img src=x onerror=alert(1)&gt;" in text
    assert 'class="site-header"' in text  # inside the site's page shell (base.html)
    assert 'id="sample-banner"' in text


def test_a_new_build_is_served_after_it_is_published(tmp_path, make_tiny_build):
    from webmap import create_app

    make_tiny_build(tmp_path, is_sample=True)
    client = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}).test_client()
    assert client.get("/ogcapi/collections/schools/items").get_json()["is_sample"] is True
    make_tiny_build(tmp_path, is_sample=False)
    doc = client.get("/ogcapi/collections/schools/items").get_json()
    assert doc["is_sample"] is False and "notice" not in doc
    assert all(f["properties"]["is_sample"] is False for f in doc["features"])


def test_real_build_counts_and_extents_match_the_geopackage(client, built_data_dir):
    import pyogrio

    gpkg = built_data_dir / "current" / "csmap.gpkg"
    collections = {c["id"]: c for c in client.get("/ogcapi/collections").get_json()["collections"]}
    for cid, layer in (("schools", "schools"), ("states", "state_metrics"), ("counties", "county_metrics")):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        doc = client.get(f"/ogcapi/collections/{cid}/items?limit=1").get_json()
        assert doc["numberMatched"] == len(frame) > 0
        np.testing.assert_allclose(collections[cid]["extent"]["spatial"]["bbox"][0], frame.total_bounds)
    doc = client.get("/ogcapi/collections/schools/items?limit=50000").get_json()
    assert doc["numberReturned"] == min(len(pyogrio.read_dataframe(gpkg, layer="schools")), 10_000)


def test_a_build_without_metric_layers_serves_plain_boundaries_or_leaves_them_out():
    from webmap.ogcapi import build_collections

    class Build:
        build_id = "old"
        schools = school_rows()

        def layer(self, name):
            if name == "states_web":
                return state_rows()
            raise FileNotFoundError(name)

    collections = build_collections(Build())
    assert list(collections) == ["schools", "states"]  # no county layer at all: left out
    assert collections["states"].frame["stusps"].tolist() == ["IL", "IN"]


def test_without_a_renderer_html_is_not_acceptable_but_json_still_works():
    collections = make_service().collections
    bare = ogc_core.Service(base_url=BASE, collections=collections, provenance={"is_sample": True})
    assert ogc_core.landing_page(bare, args("f=html")).status == 406
    assert ogc_core.landing_page(bare, args()).status == 200
