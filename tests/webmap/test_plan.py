"""The expansion planner on the web: /api/plan, /plan.geojson, /plan.csv and the /plan page.

Runs on the session's real build of the embedded sample (tests/conftest.py). The app is
module-scoped here, so the build's ZCTAs are read once for the whole file.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo import store
from geo.planner import plan_sites
from webmap import openapi
from webmap import plan as web_plan
from webmap.vendor import find_external_assets

EVIL = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://example.invalid","click")'


@pytest.fixture(scope="module")
def plan_app(shared_app):
    """The session's shared app (tests/webmap/conftest.py); this module only reads it."""
    return shared_app


@pytest.fixture
def plan_client(plan_app):
    return plan_app.test_client()


@pytest.fixture(scope="module")
def build(built_data_dir):
    """(zctas, schools, manifest) of the session's build, read independently of the app."""
    folder = store.current_build_dir(built_data_dir)
    return store.read_table(folder, "zctas"), store.read_layer(folder, "schools"), store.read_manifest(folder)


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def objective_key(objective: str) -> str:
    return "high_poverty_children_within_reach" if objective == "poverty" else "children_within_reach"


# --------------------------------------------------------------------------
# /api/plan: the plan


def test_plan_answer_shape_and_assumptions(plan_client, build):
    _, _, manifest = build
    body = get_json(plan_client, "/api/plan?state=TX&k=5")
    assert body["mode"] == "plan"
    assert body["query"] == {
        "state": "TX",
        "objective": "unserved",
        "k": 5,
        "sites": [],
        "keep": [],
        "exclude": [],
    }
    assert [p["order"] for p in body["picks"]] == [1, 2, 3, 4, 5]
    assert all(p["stusps"] == "TX" for p in body["picks"])
    a = body["assumptions"]
    assert a["scope"] == "TX" and a["k"] == 5 and a["method"] == "celf"
    assert set(a["reach_miles"]) == {"city", "suburb", "town", "rural"}
    assert "ACS 2022" in a["data_vintage"]
    assert a["is_sample"] is manifest["is_sample"] is body["is_sample"]
    assert a["built_at"] == manifest["built_at"] == body["built_at"]
    assert a["build_id"] == body["build_id"]
    if manifest["is_sample"]:
        assert any("SAMPLE" in note for note in a["notes"])
    assert body["links"]["page"].startswith("/plan?")


@pytest.mark.parametrize("objective", ["unserved", "poverty"])
def test_gains_shrink_in_pick_order_and_add_up_to_the_change(plan_client, objective):
    body = get_json(plan_client, f"/api/plan?state=CA&k=8&objective={objective}")
    gains = [p["gain"] for p in body["picks"]]
    assert gains == sorted(gains, reverse=True)  # CELF picks in order of (non-increasing) marginal gain
    assert gains[0] > 0
    assert [p["cumulative"] for p in body["picks"]] == pytest.approx(np.cumsum(gains).tolist())
    key = objective_key(objective)
    assert body["gain"][key] == pytest.approx(sum(gains))
    assert body["after"][key] - body["before"][key] == pytest.approx(sum(gains))


def test_totals_after_are_at_least_before_in_total_and_by_locale(plan_client):
    body = get_json(plan_client, "/api/plan?state=NY&k=6")
    before, after = body["before"], body["after"]
    for key in (
        "children_within_reach",
        "high_poverty_children_within_reach",
        "zctas_with_children_within_reach",
    ):
        assert after[key] >= before[key]
    assert after["children_within_reach"] > before["children_within_reach"]
    assert after["children"] == before["children"]
    three = [row for row in body["by_locale"] if row["level"] == "locale"]
    assert {row["locale_class"] for row in three} >= {"urban", "suburban", "rural"}
    for row in body["by_locale"]:
        assert row["within_reach_after"] >= row["within_reach_before"]
    assert sum(row["children"] for row in three) == pytest.approx(before["children"])
    assert sum(row["gain"] for row in three) == pytest.approx(body["gain"]["children_within_reach"])


def test_reached_zctas_account_for_each_sites_children(plan_client):
    body = get_json(plan_client, "/api/plan?state=TX&k=4")
    for pick in body["picks"]:
        mine = [z for z in body["reached"] if z["order"] == pick["order"]]
        assert len(mine) == pick["zctas_newly_reached"]
        assert sum(z["children"] for z in mine) == pytest.approx(pick["children_newly_reached"])


def test_web_plan_equals_the_planner_on_the_same_build(plan_client, build):
    """The web uses the build's reach and threshold, as ``csmap plan`` does: same picks as geo/ directly."""
    zctas, schools, _ = build
    expected = plan_sites(zctas, schools, k=5, state="FL", objective="poverty")
    body = get_json(plan_client, "/api/plan?state=fl&k=5&objective=poverty")
    assert [p["candidate_id"] for p in body["picks"]] == expected.picks["candidate_id"].tolist()
    assert [p["gain"] for p in body["picks"]] == pytest.approx(expected.picks["gain"].tolist())


def test_nation_scope_when_state_is_omitted_or_empty(plan_client):
    body = get_json(plan_client, "/api/plan?k=3")
    assert body["assumptions"]["scope"] == "US" and body["query"]["state"] is None
    assert get_json(plan_client, "/api/plan?k=3&state=")["picks"] == body["picks"]
    state = get_json(plan_client, "/api/plan?k=1&state=TX")
    assert body["before"]["children"] > state["before"]["children"]


def test_plans_are_cached_per_build_and_request(plan_app):
    with plan_app.test_request_context("/api/plan"):
        data = web_plan.get_data()
        req = web_plan.PlanRequest("OH", "unserved", 3)
        first = web_plan.compute_plan(data, req)
        assert web_plan.compute_plan(data, web_plan.PlanRequest("OH", "unserved", 3)) is first
        assert web_plan.compute_plan(data, web_plan.PlanRequest("OH", "unserved", 4)) is not first


def test_answers_revalidate_with_304(plan_client):
    response = plan_client.get("/api/plan?state=TX&k=2")
    again = plan_client.get("/api/plan?state=TX&k=2", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


# --------------------------------------------------------------------------
# What-if


def texas_school(plan_client) -> tuple[float, float]:
    school = get_json(plan_client, "/api/schools?state=TX&limit=1")["schools"][0]
    return school["lat"], school["lon"]


def test_what_if_site_at_an_existing_school_gains_nothing(plan_client):
    lat, lon = texas_school(plan_client)
    body = get_json(plan_client, f"/api/plan?state=TX&site={lat},{lon}")
    assert body["mode"] == "what_if" and body["query"]["k"] is None
    (site,) = body["picks"]
    assert site["gain"] == 0 and site["zctas_newly_reached"] == 0 and site["children_newly_reached"] == 0
    assert body["after"] == body["before"] and body["reached"] == []


def test_what_if_reports_each_sites_gain_in_order(plan_client):
    plan = get_json(plan_client, "/api/plan?state=TX&k=1")["picks"][0]
    school = texas_school(plan_client)
    best = f"{plan['lat']},{plan['lon']}"
    body = get_json(plan_client, f"/api/plan?state=TX&site={best}&site={school[0]},{school[1]}&site={best}")
    gains = [p["gain"] for p in body["picks"]]
    assert gains[0] == pytest.approx(plan["gain"])  # the plan's first pick, alone, gains what the plan said
    assert gains[1:] == [0, 0]  # at a school; then the same site again
    # Named by their nearest place (issue 16): "Your site 1, near <city>, <ST>".
    assert [p["name"].split(",")[0] for p in body["picks"]] == ["Your site 1", "Your site 2", "Your site 3"]
    assert all(", near " in p["name"] for p in body["picks"])
    assert body["gain"]["children_within_reach"] == pytest.approx(plan["gain"])
    assert body["links"]["page"].count("site=") == 3


# --------------------------------------------------------------------------
# POST: a candidate list


def test_post_json_candidates_plans_among_them(plan_client):
    lat, lon = texas_school(plan_client)
    best = get_json(plan_client, "/api/plan?state=TX&k=1")["picks"][0]
    candidates = [
        {"name": "At a school", "lat": lat, "lon": lon},
        {"name": EVIL, "lat": best["lat"], "lon": best["lon"]},
    ]
    response = plan_client.post("/api/plan", json={"state": "TX", "k": 1, "candidates": candidates})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert [p["name"] for p in body["picks"]] == [EVIL]  # JSON is data: the name comes back verbatim
    assert body["picks"][0]["gain"] == pytest.approx(best["gain"])
    assert "links" not in body


def test_post_csv_file_what_if(plan_client):
    lat, lon = texas_school(plan_client)
    text = f"name,lat,lon\nSchool site,{lat},{lon}\nFar out west,31.0,-104.5\n"
    response = plan_client.post(
        "/api/plan",
        data={"state": "TX", "what_if": "true", "candidates": (io.BytesIO(text.encode()), "sites.csv")},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["mode"] == "what_if"
    assert [p["name"] for p in body["picks"]] == ["School site", "Far out west"]
    assert body["picks"][0]["gain"] == 0


def test_post_geojson_body(plan_client):
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "A"},
                "geometry": {"type": "Point", "coordinates": [-98.2, 26.2]},
            }
        ],
    }
    response = plan_client.post(
        "/api/plan?state=TX&what_if=1", data=json.dumps(collection), content_type="application/geo+json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [p["name"] for p in response.get_json()["picks"]] == ["A"]


def test_post_too_large_is_413(plan_client):
    big = b"name,lat,lon\n" + b"x" * (web_plan.MAX_UPLOAD_BYTES + 1)
    response = plan_client.post("/api/plan", data=big, content_type="text/csv")
    assert response.status_code == 413
    assert f"{web_plan.MAX_UPLOAD_BYTES:,}" in response.get_json()["description"]


# --------------------------------------------------------------------------
# Bad input: 400 naming the parameter


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("state=TX&k=0", "k"),
        ("state=TX&k=-3", "k"),
        ("state=TX&k=101", "k"),
        ("state=TX&k=ten", "k"),
        ("state=TX&k=2.5", "k"),
        ("state=ZZ&k=3", "state"),
        ("state=Texas", "state"),
        ("state=TX&objective=richest", "objective"),
        ("state=TX&site=abc", "site"),
        ("state=TX&site=91,-98", "site"),
        ("state=TX&site=30,-181", "site"),
        ("state=TX&site=30", "site"),
        ("state=TX&site=30,-98,1", "site"),
        ("state=TX&site=nan,-98", "site"),
        ("state=TX&site=30,-98&k=3", "k"),
        ("state=TX&sites=30,-98", "sites"),
        ("state=TX&state=CA", "state"),
        ("state=TX&" + "&".join(["site=30,-98"] * (web_plan.MAX_SITES + 1)), "site"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(plan_client, query, parameter):
    body = get_json(plan_client, f"/api/plan?{query}", status=400)
    assert body["parameter"] == parameter
    assert parameter in body["description"]
    for download in ("/plan.geojson", "/plan.csv", "/plan"):
        response = plan_client.get(f"{download}?{query}")
        if download == "/plan" and query.endswith("site=30,-98&k=3"):
            assert response.status_code == 200  # the page shows the plan of k sites *and* the what-if
            continue
        if download == "/plan" and parameter not in web_plan.PARAMETERS.names:
            assert response.status_code == 200  # a page ignores stray parameters (fbclid, utm_source)
            continue
        assert response.status_code == 400
        assert parameter in response.get_data(as_text=True)
        if download != "/plan":  # the downloads answer errors in JSON, as the API does
            assert response.get_json()["parameter"] == parameter


def test_cli_and_web_write_the_same_plan_files(plan_client, built_data_dir, tmp_path):
    """One serializer (geo.plan_files): csmap plan's CSV is /plan.csv byte for byte, GeoJSON but its name."""
    from click.testing import CliRunner

    from scripts.cmd_plan import plan_command

    out = tmp_path / "plans"
    args = ["--data-dir", str(built_data_dir), "--state", "TX", "--k", "3", "--out", str(out)]
    result = CliRunner().invoke(plan_command, args)
    assert result.exit_code == 0, result.output
    web_csv = plan_client.get("/plan.csv?state=TX&k=3")
    assert web_csv.status_code == 200
    cli_csv = (out / "plan-TX-unserved-k3.csv").read_bytes()
    assert cli_csv == web_csv.get_data()
    header = cli_csv.split(b"\r\n", 1)[0].decode()
    assert header.endswith(",is_sample,built_at")
    web_geojson = json.loads(plan_client.get("/plan.geojson?state=TX&k=3").get_data())
    cli_geojson = json.loads((out / "plan-TX-unserved-k3.geojson").read_bytes())
    assert cli_geojson.pop("name") == "expansion plan plan-TX-unserved-k3"
    web_geojson.pop("name")
    assert cli_geojson == web_geojson
    assert cli_geojson["build_id"] == store.current_build_dir(built_data_dir).name


def _csv_upload(text: str, name: str = "sites.csv") -> dict:
    return {"state": "TX", "k": "1", "candidates": (io.BytesIO(text.encode()), name)}


@pytest.mark.parametrize(
    ("kwargs", "parameter", "needle"),
    [
        ({"json": {"state": "TX", "k": 0, "candidates": [{"lat": 30, "lon": -98}]}}, "k", "k must be"),
        ({"json": {"state": "ZZ", "candidates": [{"lat": 30, "lon": -98}]}}, "state", "ZZ"),
        (
            {"json": {"state": "TX", "objective": "x", "candidates": [{"lat": 30, "lon": -98}]}},
            "objective",
            "'x'",
        ),
        ({"json": {"state": "TX", "candidates": [{"x": 1}]}}, "candidates", "lat and lon"),
        ({"json": {"state": "TX", "candidates": [{"lat": 120, "lon": -98}]}}, "candidates", "out of range"),
        ({"json": {"state": "TX", "candidates": []}}, "candidates", "non-empty"),
        ({"json": {"state": "TX"}}, "candidates", "POST needs"),
        ({"json": ["not", "an", "object"]}, "candidates", "object"),
        ({"json": {"candidates": [{"lat": 30, "lon": -98}], "kk": 1}}, "kk", "kk"),
        ({"json": {"what_if": "maybe", "candidates": [{"lat": 30, "lon": -98}]}}, "what_if", "maybe"),
        ({"json": {"what_if": True, "k": 2, "candidates": [{"lat": 30, "lon": -98}]}}, "k", "what-if"),
        ({"data": _csv_upload("name,lat,lon\nA,30,-98\nB,abc,-97\n")}, "candidates", "row 3"),
        ({"data": _csv_upload("name,where\nA,somewhere\n")}, "candidates", "lat and lon"),
        ({"data": _csv_upload("")}, "candidates", "empty"),
        (
            {
                "data": _csv_upload(
                    '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}]}',
                    "s.geojson",
                )
            },
            "candidates",
            "Point",
        ),
        ({"data": _csv_upload("{not json", "s.geojson")}, "candidates", "GeoJSON"),
        ({"data": {"state": "TX"}}, "candidates", "POST needs"),
    ],
)
def test_bad_posts_are_400_naming_the_parameter(plan_client, kwargs, parameter, needle):
    response = plan_client.post("/api/plan", **kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["parameter"] == parameter
    assert needle in body["description"]


def test_a_build_without_zctas_is_503(tiny_client):
    body = get_json(tiny_client, "/api/plan?state=IL&k=1", status=503)
    assert "zctas" in body["description"]


# --------------------------------------------------------------------------
# Downloads


def test_geojson_download_parses_and_says_sample(plan_client, build):
    _, _, manifest = build
    api = get_json(plan_client, "/api/plan?state=TX&k=5")
    response = plan_client.get("/plan.geojson?state=TX&k=5")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="csmap-plan-TX-unserved-k5-'
    )
    document = json.loads(response.data)
    assert document["is_sample"] is manifest["is_sample"] and document["built_at"] == manifest["built_at"]
    assert document["csmap:assumptions"]["data_vintage"] == api["assumptions"]["data_vintage"]
    frame = gpd.read_file(io.BytesIO(response.data))
    assert frame.crs.to_epsg() == 4326 and len(frame) == 5
    assert frame["is_sample"].astype(bool).tolist() == [manifest["is_sample"]] * 5
    assert frame["gain"].tolist() == pytest.approx([p["gain"] for p in api["picks"]])
    assert frame.geometry.x.tolist() == pytest.approx([p["lon"] for p in api["picks"]])
    assert frame.geometry.y.tolist() == pytest.approx([p["lat"] for p in api["picks"]])


def test_csv_download_parses_and_says_sample(plan_client, build):
    _, _, manifest = build
    api = get_json(plan_client, "/api/plan?state=TX&k=5&objective=poverty")
    response = plan_client.get("/plan.csv?state=TX&k=5&objective=poverty")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="csmap-plan-TX-poverty-k5-' in response.headers["Content-Disposition"]
    table = pd.read_csv(io.BytesIO(response.data), dtype={"candidate_id": str})
    assert table["order"].tolist() == [1, 2, 3, 4, 5]
    assert table["candidate_id"].tolist() == [p["candidate_id"] for p in api["picks"]]
    assert table["is_sample"].tolist() == [manifest["is_sample"]] * 5
    assert set(table["built_at"]) == {manifest["built_at"]}


def test_what_if_downloads_carry_the_sites(plan_client):
    response = plan_client.get("/plan.geojson?state=TX&site=26.2,-98.2&site=30.27,-97.74")
    frame = gpd.read_file(io.BytesIO(response.data))
    assert [name.split(",")[0] for name in frame["name"]] == ["Your site 1", "Your site 2"]
    assert "csmap-whatif-TX-unserved-2sites-" in response.headers["Content-Disposition"]


def test_csv_download_is_formula_safe(plan_client):
    body = {"state": "TX", "what_if": True, "candidates": [{"name": FORMULA, "lat": 30.0, "lon": -98.0}]}
    response = plan_client.post("/plan.csv", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    table = pd.read_csv(io.BytesIO(response.data))
    assert table["name"].tolist() == ["'" + FORMULA]
    assert table["lon"].tolist() == [-98.0]  # a negative number stays a number


# --------------------------------------------------------------------------
# The page


class PageParts(HTMLParser):
    """Scripts (attributes and text), the picks table's rows and on* handlers of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.handlers: list[str] = []
        self._script: dict | None = None
        self.pick_rows = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"{tag} {name}" for name in attrs if name.startswith("on")]
        if tag == "script":
            self._script = attrs
            self.scripts.append((attrs, ""))
        if tag == "tr" and "data-order" in attrs:
            self.pick_rows += 1

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None


def page_parts(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    return parser


def page_config(html: str) -> dict:
    parts = page_parts(html)
    (text,) = [text for attrs, text in parts.scripts if attrs.get("id") == "plan-config"]
    return json.loads(text)


def test_page_shows_the_plan_with_local_assets_and_nonced_scripts(plan_client):
    response = plan_client.get("/plan?state=TX&k=5")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert find_external_assets(html) == []
    assert "/static/js/plan.js" in html
    (bundle,) = re.findall(r'<script src="(/assets/[0-9a-f]+\.js)">', html)
    assert b"Leaflet 1.9.3" in plan_client.get(bundle).data  # the map's vendored scripts, bundled
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", policy).group(1)
    parts = page_parts(html)
    inline = [
        attrs for attrs, _ in parts.scripts if "src" not in attrs and attrs.get("type") != "application/json"
    ]
    assert inline and all(attrs.get("nonce") == nonce for attrs in inline)
    assert parts.handlers == []
    assert parts.pick_rows == 5
    assert '"maxZoom": 18' in html
    config = page_config(html)
    assert [p["order"] for p in config["picks"]] == [1, 2, 3, 4, 5]
    assert config["whatif"] is None and config["query"]["state"] == "TX"
    assert set(config["layers"]) == {"land", "schools", "reached", "picks", "sites"}
    assert config["counties_url"] == "/map/states/TX/counties.geojson"
    assert 'id="plan-sample-notice"' in html and "ACS 2022" in html
    assert '<a href="/plan">Plan</a>' in html
    assert 'id="locale-table"' in html and 'id="totals-table"' in html


def test_page_download_links_work(plan_client):
    html = plan_client.get("/plan?state=TX&k=3&objective=poverty").get_data(as_text=True)
    for link_id in ("download-geojson", "download-csv", "download-json"):
        href = re.search(rf'href="([^"]+)" id="{link_id}"', html).group(1).replace("&amp;", "&")
        assert "objective=poverty" in href and "k=3" in href
        assert plan_client.get(href).status_code == 200


def test_page_with_sites_embeds_the_what_if(plan_client):
    html = plan_client.get("/plan?state=TX&k=3&site=26.2,-98.2&site=31,-104.5").get_data(as_text=True)
    config = page_config(html)
    assert config["whatif"]["mode"] == "what_if"
    assert [p["name"].split(",")[0] for p in config["whatif"]["picks"]] == ["Your site 1", "Your site 2"]
    assert len(config["picks"]) == 3


def test_page_without_parameters_is_the_form(plan_client):
    response = plan_client.get("/plan")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="plan-form"' in html
    assert "plan-config" not in html and find_external_assets(html) == []
    assert html.count("<option value=") >= 53  # the nation, 50 states, DC and PR, and the objectives


def test_page_covers_the_nation(plan_client):
    html = plan_client.get("/plan?state=&k=4").get_data(as_text=True)
    assert page_parts(html).pick_rows == 4 and "the nation" in html


def test_page_escapes_what_it_echoes(plan_client):
    response = plan_client.get("/plan", query_string={"state": "<script>alert(1)</script>"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    response = plan_client.get("/plan", query_string={"site": EVIL})
    assert response.status_code == 400 and EVIL not in response.get_data(as_text=True)


def test_page_refuses_a_state_it_cannot_map(plan_client):
    response = plan_client.get("/plan?state=GU&k=2")
    assert response.status_code == 400 and "50 states, DC and PR" in response.get_data(as_text=True)


# --------------------------------------------------------------------------
# OpenAPI


def _validator(schema_name: str):
    schema_validator = pytest.importorskip("openapi_schema_validator")
    document = openapi.document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return schema_validator.OAS30Validator(schema)


@pytest.mark.parametrize(
    "url",
    [
        "/api/plan?state=TX&k=5",
        "/api/plan?k=2&objective=poverty",
        "/api/plan?state=TX&site=26.2,-98.2&site=30,-98",
    ],
)
def test_answers_match_the_documented_schema(plan_client, url):
    errors = [e.message for e in _validator("PlanAnswer").iter_errors(get_json(plan_client, url))]
    assert errors == []


def test_post_answer_matches_the_schema_and_undocumented_fields_fail(plan_client):
    body = {"state": "TX", "k": 1, "candidates": [{"lat": 30.0, "lon": -98.0}]}
    answer = plan_client.post("/api/plan", json=body).get_json()
    validator = _validator("PlanAnswer")
    assert [e.message for e in validator.iter_errors(answer)] == []
    answer["picks"][0]["secret"] = 1
    assert not validator.is_valid(answer)
    error = get_json(plan_client, "/api/plan?k=0", status=400)
    assert _validator("Error").is_valid(error)


def test_openapi_documents_get_and_post():
    path = openapi.document()["paths"]["/api/plan"]
    assert {p["name"] for p in path["get"]["parameters"]} == set(web_plan.PARAMETERS.names)
    assert set(path["post"]["requestBody"]["content"]) >= {"application/json", "multipart/form-data"}
    assert "/plan.geojson" in openapi.document()["paths"]


# --------------------------------------------------------------------------
# The map object


def test_plan_map_has_empty_layers_a_max_zoom_and_local_assets():
    import folium

    from webmap import maps

    bounds = [[25.8, -106.6], [36.5, -93.5]]
    m, layers = maps.plan_map(bounds)
    assert set(layers) == {"land", "schools", "reached", "picks", "sites"}
    groups = {g.get_name(): g for g in m._children.values() if isinstance(g, folium.FeatureGroup)}
    assert set(layers.values()) <= set(groups)
    assert all(not group._children for group in groups.values())  # no data goes into folium's script
    assert not groups[layers["land"]].control  # the backdrop is not a layer to switch off
    page = maps.render_map(m, layers, "/static/vendor")
    assert m.options["maxZoom"] == maps.MAX_ZOOM
    assert page.js and all(url.startswith("/static/vendor/") for url in page.js + page.css)
    assert "fitBounds" in page.script and "25.8" in page.script


def test_page_summary_uses_the_objectives_share(plan_client):
    body = get_json(plan_client, "/api/plan?state=TX&k=3&objective=poverty")
    html = plan_client.get("/plan?state=TX&k=3&objective=poverty").get_data(as_text=True)
    summary = re.search(r'id="plan-summary">(.*?)</p>', html, re.S).group(1)
    assert f"{body['after']['high_poverty_share_within_reach']:.1%}" in summary
    assert "of high-poverty children" in summary
    assert f"{sum(p['gain'] for p in body['picks']):,.0f}" in summary
