"""The JSON API (/api): filters, paging, nearest, states, errors, caching and the OpenAPI document."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qs, urlsplit

import pytest

from webmap import api, openapi

SCHOOL_POINTS = {  # from the tiny build in conftest.py: id -> (lon, lat)
    "cs-1": (-87.60, 41.80),
    "cs-2": (-90.50, 38.00),
    "cs-3": (-88.00, 41.90),
    "cs-4": (-86.10, 39.80),
    "cs-5": (-85.00, 38.50),
    "cs-6": (-79.40, 43.70),
}


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine great-circle miles on the IUGG mean sphere (an independent check of the API)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 2 * 3958.7613 * math.asin(math.sqrt(a))


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.parametrize(
    "url", ["/api", "/api/schools", "/api/schools/nearest?lat=40&lon=-88", "/api/states", "/api/states/IL"]
)
def test_every_answer_says_sample_and_build_time(tiny_client, url):
    body = get_json(tiny_client, url)
    assert body["is_sample"] is True
    assert body["built_at"] == "2026-11-28T12:00:00+00:00"
    assert body["build_id"]


def test_schools_without_filters_lists_every_school(tiny_client):
    body = get_json(tiny_client, "/api/schools")
    assert body["total"] == len(SCHOOL_POINTS) == body["count"]
    assert {s["school_id"] for s in body["schools"]} == set(SCHOOL_POINTS)
    assert body["links"]["next"] is None and body["links"]["prev"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=IL", {"cs-1", "cs-2", "cs-3"}),
        ("state=in", {"cs-4", "cs-5"}),
        ("locale=rural", {"cs-2", "cs-5"}),
        ("locale=suburb", {"cs-3"}),
        ("bbox=-88.5,41,-87,42.5", {"cs-1", "cs-3"}),
        ("state=IL&locale=urban", {"cs-1"}),
        ("state=IN&bbox=-88.5,41,-87,42.5", set()),
    ],
)
def test_schools_filters(tiny_client, query, expected):
    body = get_json(tiny_client, f"/api/schools?{query}")
    assert {s["school_id"] for s in body["schools"]} == expected
    assert body["total"] == len(expected)


def test_school_fields_keep_hostile_text_verbatim_as_json_data(tiny_client):
    body = get_json(tiny_client, "/api/schools?state=IL&locale=urban")
    school = body["schools"][0]
    assert (
        school["name"] == "Lincoln <img src=x onerror=alert(1)>"
    )  # JSON is data; escaping is the HTML pages' job
    assert (school["lon"], school["lat"]) == SCHOOL_POINTS["cs-1"]
    assert school["year_started"] == 2015 and isinstance(school["year_started"], int)


def test_paging_walks_every_school_once(tiny_client):
    url, seen, pages = "/api/schools?limit=4", [], 0
    while url:
        body = get_json(tiny_client, url)
        assert body["limit"] == 4 and body["total"] == len(SCHOOL_POINTS)
        seen += [s["school_id"] for s in body["schools"]]
        url, pages = body["links"]["next"], pages + 1
    assert sorted(seen) == sorted(SCHOOL_POINTS) and pages == 2
    last = get_json(tiny_client, "/api/schools?limit=4&offset=4")
    prev = parse_qs(urlsplit(last["links"]["prev"]).query)
    assert prev["offset"] == ["0"] and prev["limit"] == ["4"]


def test_paging_links_keep_the_filters(tiny_client):
    body = get_json(tiny_client, "/api/schools?state=IL&limit=1")
    query = parse_qs(urlsplit(body["links"]["next"]).query)
    assert query == {"state": ["IL"], "limit": ["1"], "offset": ["1"]}
    assert body["links"]["geojson"] == "/downloads/schools.geojson?state=IL"


def test_offset_past_the_end_is_an_empty_page(tiny_client):
    body = get_json(tiny_client, "/api/schools?offset=50")
    assert body["schools"] == [] and body["total"] == len(SCHOOL_POINTS) and body["links"]["next"] is None


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/schools?limit=0", "limit"),
        ("/api/schools?limit=1001", "limit"),
        ("/api/schools?limit=ten", "limit"),
        ("/api/schools?offset=-1", "offset"),
        ("/api/schools?state=ZZ", "state"),
        ("/api/schools?state=Illinois", "state"),
        ("/api/schools?locale=downtown", "locale"),
        ("/api/schools?bbox=1,2,3", "bbox"),
        ("/api/schools?bbox=-88,42,-87,41", "bbox"),
        ("/api/schools?bbox=a,b,c,d", "bbox"),
        ("/api/schools?stat=IL", "stat"),
        ("/api/schools?state=IL&state=IN", "state"),
        ("/api/schools/nearest?lon=-87", "lat"),
        ("/api/schools/nearest?lat=91&lon=-87", "lat"),
        ("/api/schools/nearest?lat=40&lon=-181", "lon"),
        ("/api/schools/nearest?lat=nan&lon=-87", "lat"),
        ("/api/schools/nearest?lat=40&lon=inf", "lon"),
        ("/api/schools/nearest?lat=40&lon=-87&k=0", "k"),
        ("/api/schools/nearest?lat=40&lon=-87&k=101", "k"),
        ("/api/schools/nearest?lat=40&lon=-87&k=2.5", "k"),
        ("/api/schools/nearest?lat=40&lon=-87&radius_mi=0", "radius_mi"),
        ("/api/schools/nearest?lat=40&lon=-87&radius_mi=-5", "radius_mi"),
        ("/api/schools/nearest?lat=40&lon=-87&radius_mi=501", "radius_mi"),
        ("/api/schools/nearest?lat=40&lon=-87&radius=5", "radius"),
        ("/api/states?state=IL", "state"),
        ("/api/states/I1", "state"),
        ("/api/states/ILL", "state"),
    ],
)
def test_bad_parameters_are_json_400_naming_the_parameter(tiny_client, url, parameter):
    body = get_json(tiny_client, url, status=400)
    assert body["status"] == 400
    assert body["parameter"] == parameter
    assert parameter in body["description"]


@pytest.mark.parametrize(
    "url", ["/api/states/ZZ", "/api/states/GU", "/api/nothing", "/api/schools/cs-ffffffffffffffff"]
)
def test_unknown_things_are_json_404(tiny_client, url):
    body = get_json(tiny_client, url, status=404)
    assert body["status"] == 404


def test_nearest_orders_by_distance_in_miles(tiny_client):
    lat, lon = 41.85, -87.7
    body = get_json(tiny_client, f"/api/schools/nearest?lat={lat}&lon={lon}&k=4")
    ids = [s["school_id"] for s in body["schools"]]
    expected = sorted(
        SCHOOL_POINTS, key=lambda i: miles_between(lat, lon, SCHOOL_POINTS[i][1], SCHOOL_POINTS[i][0])
    )
    assert ids == expected[:4]
    for school in body["schools"]:
        x, y = SCHOOL_POINTS[school["school_id"]]
        assert school["distance_mi"] == pytest.approx(miles_between(lat, lon, y, x), abs=0.01)
    assert body["within_radius"] is None and body["message"] is None and body["count"] == 4


def test_nearest_default_k_is_capped_by_the_schools_there_are(tiny_client):
    body = get_json(tiny_client, "/api/schools/nearest?lat=40&lon=-88")
    assert body["query"]["k"] == api.DEFAULT_K
    assert body["count"] == len(SCHOOL_POINTS)  # fewer schools than k


def test_nearest_within_radius_only(tiny_client):
    body = get_json(tiny_client, "/api/schools/nearest?lat=41.8&lon=-87.6&radius_mi=25&k=10")
    assert body["within_radius"] is True
    assert [s["school_id"] for s in body["schools"]] == ["cs-1", "cs-3"]
    assert all(s["distance_mi"] <= 25 for s in body["schools"])


def test_nearest_says_when_nothing_is_within_the_radius_and_shows_the_nearest_beyond(tiny_client):
    body = get_json(tiny_client, "/api/schools/nearest?lat=45.5&lon=-100&radius_mi=5&k=2")
    assert body["within_radius"] is False
    assert "no schools within 5 miles" in body["message"]
    assert body["count"] == 2
    assert all(s["distance_mi"] > 5 for s in body["schools"])
    assert body["schools"][0]["distance_mi"] <= body["schools"][1]["distance_mi"]


def test_states_lists_every_state_with_metrics(tiny_client, tiny_data_dir):
    metrics = json.loads((tiny_data_dir / "current" / "metrics.json").read_text())
    body = get_json(tiny_client, "/api/states")
    assert body["count"] == len(metrics["states"]) == 2
    by_code = {s["stusps"]: s for s in body["states"]}
    assert by_code["IL"]["community_schools"] == 3
    assert by_code["IL"]["unserved_children"] == metrics["states"]["IL"]["unserved_children"] == 5000
    assert by_code["IN"]["links"] == {
        "self": "/api/states/IN",
        "page": "/states/IN",
        "schools": "/api/schools?state=IN",
    }
    assert body["national"]["community_schools"] == 5  # the Canadian school is outside the 52 areas


def test_state_detail(tiny_client):
    body = get_json(tiny_client, "/api/states/il")
    assert body["state"]["stusps"] == "IL" and body["state"]["coalition_status"] == "existing"
    assert [d["geoid"] for d in body["desert_counties"]] == ["17001"]
    assert body["coalition"]["status"] == "existing"
    assert body["coalition"]["coalitions"][0]["county_fips"] == ["17001", "17003"]
    assert body["locales"]["locale"]["rural"]["community_schools"] == 1
    assert set(body["locales"]["locale4"]) == {"city", "suburb", "town", "rural"}


def test_state_without_deserts(tiny_client):
    body = get_json(tiny_client, "/api/states/IN")
    assert body["desert_counties"] == [] and body["coalition"]["status"] == "none"


def test_api_answers_revalidate_with_304(tiny_client):
    first = tiny_client.get("/api/schools?state=IL")
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = tiny_client.get("/api/schools?state=IL", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = tiny_client.get("/api/schools?state=IN", headers={"If-None-Match": first.headers["ETag"]})
    assert other.status_code == 200


def test_no_build_is_a_json_503(tmp_path):
    from webmap import create_app

    client = create_app({"TESTING": True, "DATA_DIR": str(tmp_path)}).test_client()
    response = client.get("/api/schools")
    assert response.status_code == 503 and response.get_json()["status"] == 503


# --------------------------------------------------------------------------
# OpenAPI


def test_openapi_document_is_valid_openapi_3():
    validator = pytest.importorskip("openapi_spec_validator")
    document = openapi.document()
    validator.validate(document)
    assert document["openapi"].startswith("3.")


def test_openapi_is_served(tiny_client):
    from webmap.data import get_data

    body = get_json(tiny_client, "/api/openapi.json")
    with tiny_client.application.app_context():
        codes = openapi.state_codes(get_data())
    assert body == json.loads(json.dumps(openapi.document(codes)))
    # The build's codes, in any case: a well-formed code the build lacks is refused by both.
    (state,) = [p for p in body["paths"]["/api/schools"]["get"]["parameters"] if p["name"] == "state"]
    assert state["schema"]["pattern"] == "^(?:[Ii][Ll]|[Ii][Nn]|[Oo][Nn])$", state
    assert tiny_client.get("/api/schools?state=ZZ").status_code == 400


def test_openapi_paths_and_parameters_match_the_views(tiny_app):
    document = openapi.document()
    documented = {
        path: {p["name"] for p in op["get"]["parameters"] if p["in"] == "query"}
        for path, op in document["paths"].items()
        if path.startswith("/api")
    }
    assert documented == {path: set(table.names) for path, table in api.PARAMETERS.items()}
    routes = {
        rule.rule.replace("<code>", "{state}").replace("<school_id>", "{school_id}").rstrip("/")
        for rule in tiny_app.url_map.iter_rules()
        # The records' API (webmap.records) and the school answer (webmap.school_page) live in
        # their own blueprints, under /api too.
        if rule.endpoint.startswith("api.")
        or (rule.endpoint.split(".")[0] in ("records", "schools") and rule.rule.startswith("/api"))
    }
    assert routes == set(documented)


def _validator(document: dict, schema_name: str):
    schema_validator = pytest.importorskip("openapi_schema_validator")
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return schema_validator.OAS30Validator(schema)


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("/api/schools?limit=3", "SchoolPage"),
        ("/api/schools/nearest?lat=40&lon=-88&radius_mi=5", "NearestAnswer"),
        ("/api/states", "StateList"),
        ("/api/states/IL", "StateDetail"),
        ("/api/states/ZZ", "Error"),
        ("/api/schools?k=1", "Error"),
    ],
)
def test_answers_match_their_documented_schemas(tiny_client, url, schema):
    validator = _validator(openapi.document(), schema)
    body = tiny_client.get(url).get_json()
    errors = [e.message for e in validator.iter_errors(body)]
    assert errors == []


def test_schema_check_catches_an_undocumented_field(tiny_client):
    validator = _validator(openapi.document(), "SchoolPage")
    body = tiny_client.get("/api/schools?limit=1").get_json()
    body["schools"][0]["secret"] = 1
    assert not validator.is_valid(body)


# --------------------------------------------------------------------------
# The real build (built once per session by conftest.built_data_dir)


@pytest.mark.slow
def test_real_build_schools_and_states(client, built_data_dir):
    from geo import store

    manifest = store.read_manifest(store.current_build_dir(built_data_dir))
    body = get_json(client, "/api/schools?limit=1000")
    assert body["total"] == manifest["row_counts"]["schools"]
    assert body["is_sample"] is manifest["is_sample"]
    states = get_json(client, "/api/states")
    assert states["count"] == 52
    chicago = get_json(client, "/api/schools/nearest?lat=41.88&lon=-87.63&k=5")
    distances = [s["distance_mi"] for s in chicago["schools"]]
    assert distances == sorted(distances) and len(distances) == 5
