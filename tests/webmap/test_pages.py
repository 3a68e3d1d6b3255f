"""The HTML pages and their map data, on the session's real build (tests/webmap/conftest.py)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from html.parser import HTMLParser

import pytest

from webmap import page_data
from webmap.vendor import find_asset_urls, find_external_assets

EVIL = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
PAGES = [
    "/",
    "/states/",
    "/states/TX",
    "/find",
    "/find?q=78701",
    "/find?q=Atlantis%20Nowhere",
    "/gaps",
    "/gaps?sort=reach_share&order=asc",
    "/about",
    "/docs/",
    "/docs/SCHEMA",
    "/states/ZZ",
    "/find?radius=7",
]


class ScriptTags(HTMLParser):
    """Collects every <script>'s attributes and every on* event-handler attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]


def scripts_of(html: str) -> ScriptTags:
    parser = ScriptTags()
    parser.feed(html)
    return parser


def column_values(html: str, key: str) -> list[str]:
    """The data-value of one column of the /gaps state table, in row order."""
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    keys = re.findall(r'<th scope="col" data-key="([^"]+)"', head)
    body = re.search(
        r'<table class="figures sortable" id="state-table">.*?<tbody>(.*?)</tbody>', html, re.S
    ).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    index = keys.index(key)
    return [re.findall(r'data-value="([^"]*)"', row)[index] for row in rows]


# --------------------------------------------------------------------------
# Every page


@pytest.mark.parametrize("url", PAGES)
def test_every_page_loads_only_local_assets(client, url):
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 400, 404)
    assert response.mimetype == "text/html"
    assert find_asset_urls(html), "the page should load at least its stylesheet"
    assert find_external_assets(html) == []


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_csp_and_nonces_its_inline_scripts(client, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]+)'", policy).group(1)
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    tags = scripts_of(response.get_data(as_text=True))
    for attrs in tags.scripts:
        if "src" not in attrs and attrs.get("type") != "application/json":
            assert attrs.get("nonce") == nonce
    assert tags.handlers == []  # inline handlers would need 'unsafe-inline'
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_nonce_changes_per_request(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


@pytest.mark.parametrize("url", ["/", "/states/TX"])
def test_cached_pages_render_once_per_build_with_a_nonce_per_answer(fresh_client, monkeypatch, url):
    """The landing and state pages are rendered once per build; only the CSP nonce differs."""
    from webmap import pages

    calls = []
    render = pages.render_template
    monkeypatch.setattr(pages, "render_template", lambda *a, **k: calls.append(a[0]) or render(*a, **k))
    answers = [fresh_client.get(url) for _ in range(3)]
    assert len(calls) == 1  # this test's own app, and so a build cache of its own
    nonces = []
    for response in answers:
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and pages.NONCE_SLOT not in html
        policy_nonce = re.search(r"'nonce-([A-Za-z0-9_-]+)'", response.headers["Content-Security-Policy"])
        found = set(re.findall(r'nonce="([^"]+)"', html))
        assert found == {policy_nonce.group(1)}
        nonces.append(policy_nonce.group(1))
    assert len(set(nonces)) == 3
    bodies = {re.sub(r'nonce="[^"]+"', "", r.get_data(as_text=True)) for r in answers}
    assert len(bodies) == 1


@pytest.mark.parametrize("url", ["/", "/states/", "/states/TX", "/find", "/gaps", "/about"])
def test_sample_banner_shows_on_sample_builds(client, app, url):
    with app.app_context():
        is_sample = app.extensions["csmap_data"].get().is_sample
    html = client.get(url).get_data(as_text=True)
    assert is_sample  # the session's build is the generated sample
    assert 'id="sample-banner"' in html and "Sample data." in html


def test_pages_are_gzipped_for_clients_that_accept_it(client):
    plain = client.get("/gaps")
    zipped = client.get("/gaps", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 3


# --------------------------------------------------------------------------
# National map


def test_national_page_has_the_map_totals_and_how_to_read(client, app):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(
        re.search(r'<script type="application/json" id="csmap-config">(.*?)</script>', html, re.S).group(1)
    )
    assert config["page"] == "national"
    assert [legend["key"] for legend in config["legends"]] == [
        "schools_per_10k_children",
        "reach_share",
        "high_poverty_reach_share",
        "unserved_children",
    ]
    for legend in config["legends"]:
        assert 1 <= len(legend["bins"]) <= 5 and len(legend["colors"]) == len(legend["bins"])
        assert legend["bins"] == sorted(legend["bins"])
    assert f"var {config['map']} = L.map(" in html
    assert all(f"var {name} = " in html for name in config["layers"].values())
    assert "How to read this map" in html
    with app.app_context():
        national = page_data.metrics_document(app.extensions["csmap_data"].get())["national"]
    assert f"{national['community_schools']:,}" in html
    assert "L.marker(" not in html  # the schools are never inline markers


def test_schools_array_holds_every_school_compactly(client, app):
    response = client.get("/map/schools.json", headers={"Accept-Encoding": "gzip"})
    document = json.loads(gzip.decompress(response.data))
    with app.app_context():
        schools = app.extensions["csmap_data"].get().schools
    assert (
        document["count"]
        == len(schools)
        == len(document["lat"])
        == len(document["lon"])
        == len(document["p"])
    )
    assert "row" not in document
    assert document["lat"][0] == pytest.approx(schools.geometry.y.iloc[0], abs=1e-4)
    low = [p for p in document["p"] if document["precisions"][p] in ("zip", "city", "state")]
    assert len(low) == int(schools["precision"].isin(["zip", "city", "state"]).sum())
    assert len(response.data) < 60_000  # about 10 bytes a school on the wire


def test_state_schools_array_carries_rows_of_that_state(client, app):
    document = client.get("/map/schools.json?state=TX").get_json()
    with app.app_context():
        schools = app.extensions["csmap_data"].get().schools
    assert document["count"] == len(document["row"]) > 0
    # Counted where the point falls (statefp 48), as the metrics count them.
    assert set(schools.iloc[document["row"]]["statefp"]) == {"48"}
    with app.app_context():
        texas = int(
            page_data.metrics_document(app.extensions["csmap_data"].get())["states"]["TX"][
                "community_schools"
            ]
        )
    assert document["count"] == texas
    assert client.get("/map/schools.json?state=ZZ").status_code == 404


def test_school_popup_fields_and_build_check(client, app):
    with app.app_context():
        data = app.extensions["csmap_data"].get()
        first = data.schools.iloc[0]
    popup = client.get(f"/map/schools/0?build={data.build_id}").get_json()
    assert popup["name"] == first["name"] and popup["precision"] == first["precision"]
    assert popup["low_precision"] == (first["precision"] in ("zip", "city", "state"))
    assert {"address", "grades", "lead_partner"} <= set(popup)
    assert client.get("/map/schools/0?build=old-build").status_code == 409
    assert client.get(f"/map/schools/{len(data.schools)}").status_code == 404


def test_states_geojson_has_the_map_metrics(client):
    document = json.loads(client.get("/map/states.geojson").data)
    assert len(document["features"]) == 52
    props = document["features"][0]["properties"]
    assert {
        "name",
        "stusps",
        "coalition_status",
        "schools_per_10k_children",
        "reach_share",
        "high_poverty_reach_share",
        "unserved_children",
    } <= set(props)


def test_map_data_revalidates_with_etag(client):
    first = client.get("/map/states.geojson")
    again = client.get("/map/states.geojson", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# --------------------------------------------------------------------------
# States


def test_state_list_links_every_state(client):
    html = client.get("/states/").get_data(as_text=True)
    assert len(re.findall(r'href="/states/[A-Z]{2}"', html)) == 52
    assert 'href="/states/TX"' in html


def test_state_page(client, app):
    html = client.get("/states/TX").get_data(as_text=True)
    assert '<h1 id="state-name">Texas</h1>' in html
    assert 'id="coalition-status"' in html
    for locale in ("urban", "suburban", "rural", "city", "suburb", "town"):
        assert f'<th scope="row">{locale}</th>' in html
    with app.app_context():
        deserts = page_data.state_deserts(app.extensions["csmap_data"].get(), "TX")
    if deserts:
        assert f'<th scope="row">{deserts[0]["name"]}</th>' in html
    config = json.loads(re.search(r'id="csmap-config">(.*?)</script>', html, re.S).group(1))
    assert config["counties_url"] == "/map/states/TX/counties.geojson"
    counties = json.loads(client.get(config["counties_url"]).data)
    assert counties["features"] and all(f["id"].startswith("48") for f in counties["features"])


def test_state_codes_are_normalized_and_unknown_ones_are_404(client):
    assert client.get("/states/tx").headers["Location"].endswith("/states/TX")
    response = client.get("/states/ZZ")
    assert response.status_code == 404
    assert "unknown state &#39;ZZ&#39;" in response.get_data(as_text=True)


# --------------------------------------------------------------------------
# Find


def listed_distances(html: str) -> list[float]:
    return [float(d) for d in re.findall(r'data-distance="([0-9.]+)"', html)]


def test_find_by_zip_lists_schools_by_distance(client):
    response = client.get("/find?q=78701&radius=10")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "ZIP 78701" in html
    distances = listed_distances(html)
    assert distances and distances == sorted(distances) and max(distances) <= 10
    assert 'href="/find?q=78701&amp;radius=10"' in html  # the shareable link


def test_find_by_coordinates(client):
    html = client.get("/find?lat=30.27&lon=-97.74&radius=5").get_data(as_text=True)
    assert "your location" in html
    distances = listed_distances(html)
    assert distances == sorted(distances) and max(distances) <= 5


def test_find_with_nothing_in_radius_shows_the_nearest_beyond(client):
    # Mid-Pacific: no school within a mile.
    html = client.get("/find?lat=0&lon=-150&radius=1").get_data(as_text=True)
    assert 'id="none-in-radius"' in html and "No Community Schools within 1 mi" in html
    distances = listed_distances(html)
    assert 1 <= len(distances) <= 5 and min(distances) > 1 and distances == sorted(distances)


def test_ungeocodable_query_gets_help_not_an_error(client):
    response = client.get("/find?q=Qwxyz%20Zzyzx%20Nowhere")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="find-not-found"' in html and "Qwxyz Zzyzx Nowhere" in html and "78701" in html


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("radius=7", "radius"),
        ("radius=ten", "radius"),
        ("lat=abc&lon=1", "lat"),
        ("lat=95&lon=1", "lat"),
        ("lat=30", "lon"),
        ("lat=30&lon=nan", "lon"),
    ],
)
def test_find_refuses_bad_parameters_with_a_400_page(client, query, parameter):
    response = client.get(f"/find?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert parameter in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/find?q=78701", "/gaps?sort=name", "/plan?state=TX&k=2", "/"])
def test_pages_ignore_stray_parameters_that_shared_links_gain(client, url):
    plain = client.get(url)
    tagged = client.get(f"{url}{'&' if '?' in url else '?'}fbclid=abc123&utm_source=newsletter&ref=x")
    assert plain.status_code == tagged.status_code == 200


# --------------------------------------------------------------------------
# Gaps, docs


def test_gaps_table_lists_every_state_with_metric_links(client):
    html = client.get("/gaps").get_data(as_text=True)
    assert len(column_values(html, "reach_share")) == 52
    for key in ("schools_per_10k_children", "reach_share", "unserved_children", "high_poverty_reach_share"):
        assert f'href="/docs/METRICS#{key}"' in html
    assert 'id="locale-chart"' in html and "<svg" in html
    assert html.count('class="bar bar-') == 12  # 4 series x urban/suburban/rural


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_gaps_server_side_sort(client, order):
    html = client.get(f"/gaps?sort=unserved_children&order={order}").get_data(as_text=True)
    values = [float(v) for v in column_values(html, "unserved_children") if v]
    assert values == sorted(values, reverse=order == "desc")


def test_gaps_refuses_unknown_sort(client):
    response = client.get("/gaps?sort=password")
    assert response.status_code == 400 and "sort" in response.get_data(as_text=True)
    assert client.get("/gaps?sort=name&order=sideways").status_code == 400


def test_docs_render_and_unknown_docs_are_404(client):
    html = client.get("/docs/SCHEMA").get_data(as_text=True)
    assert "<h1" in html and "<table>" in html
    assert client.get("/docs/..%2Fpyproject").status_code == 404
    assert client.get("/docs/nope").status_code == 404


# --------------------------------------------------------------------------
# Escaping data strings


@pytest.fixture
def evil_client(fresh_app):
    """The app with a school, a state name and a coalition name set to an HTML-injection attempt."""
    holder = fresh_app.extensions["csmap_data"]
    data = holder.get()
    schools = data.schools.copy()
    for column in ("name", "grades", "lead_partner", "address"):
        schools[column] = schools[column].astype(object)
        schools.iloc[0, schools.columns.get_loc(column)] = EVIL
    document = json.loads(json.dumps(page_data.metrics_document(data)))
    document["states"]["TX"]["name"] = EVIL
    cache = {
        "pages/metrics": document,
        "pages/coalitions/TX": [{"coalition_name": EVIL, "status": "existing", "area_type": "state"}],
    }
    holder.data = dataclasses.replace(data, schools=schools, cache=cache)
    yield fresh_app.test_client(), schools.iloc[0]
    holder.data = data


def test_data_strings_are_escaped_in_pages(evil_client):
    client, school = evil_client
    lat, lon = school.geometry.y, school.geometry.x
    for url in (f"/find?lat={lat}&lon={lon}&radius=1", "/states/TX", "/states/", "/gaps"):
        html = client.get(url).get_data(as_text=True)
        assert EVIL not in html, url
        assert ESCAPED in html, url
    popup = client.get("/map/schools/0").get_json()
    assert popup["name"] == EVIL  # JSON carries it as data; the map script sets it with textContent


def test_find_query_is_escaped(client):
    html = client.get("/find", query_string={"q": EVIL}).get_data(as_text=True)
    assert EVIL not in html and ESCAPED in html


def test_metric_links_land_on_their_definitions(client):
    from webmap.docs import find_doc

    if find_doc("METRICS") is None:
        pytest.skip("docs/METRICS.md is not written yet")
    doc = client.get("/docs/METRICS").get_data(as_text=True)
    pages = "".join(client.get(url).get_data(as_text=True) for url in ("/gaps", "/states/TX", "/"))
    linked = set(re.findall(r'href="/docs/METRICS#([a-z0-9_-]+)"', pages))
    assert {"reach_share", "representation-by-locale-locales-state_locales"} <= linked
    missing = sorted(key for key in linked if f'id="{key}"' not in doc)
    assert missing == []


def test_configured_tiles_are_drawn_and_allowed_by_the_csp(built_data_dir):
    from webmap import create_app

    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(built_data_dir),
            "TILES": tiles,
            "TILES_ATTRIBUTION": "© Example contributors",
        }
    )
    response = app.test_client().get("/")
    html = response.get_data(as_text=True)
    assert "L.tileLayer(" in html and '"https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert "img-src 'self' data: https://tiles.example.org" in response.headers["Content-Security-Policy"]
    # A tile URL is configuration, not a page asset: still no external <script> or <link>.
    assert find_external_assets(html) == []
