"""A page for every school and its JSON (issue 15, point 3), and the links to it (popups, find, states)."""

from __future__ import annotations

import html
import json
import math
import re

import pytest

from geo import registry

OHIO_FIRST = "/api/schools?state=OH&limit=5"


def _haversine(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 3958.7613 * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def ohio(shared_app):
    """The API records of a few Ohio schools, and every school by id (the session's shared app)."""
    client = shared_app.test_client()
    schools = client.get(OHIO_FIRST).get_json()["schools"]
    everything = {}
    offset = 0
    while True:
        page = client.get(f"/api/schools?limit=1000&offset={offset}").get_json()
        everything.update({s["school_id"]: s for s in page["schools"]})
        offset += 1000
        if offset >= page["total"]:
            break
    return schools, everything


def test_api_school_answers_the_record_and_its_setting(client, ohio):
    schools, everything = ohio
    school = schools[0]
    response = client.get(f"/api/schools/{school['school_id']}")
    assert response.status_code == 200 and response.headers["ETag"]
    body = response.get_json()
    assert body["is_sample"] is True and body["build_id"] and body["built_at"]
    assert body["school"] == school  # the same record /api/schools serves
    assert body["contact"] == {"phone": None, "website": None, "email": None}  # the sample has none
    lat, lon = school["lat"], school["lon"]
    assert body["directions"]["geo"] == f"geo:{lat:.5f},{lon:.5f}"
    assert body["directions"]["osm"] == f"https://www.openstreetmap.org/directions?to={lat:.5f}%2C{lon:.5f}"
    assert body["links"]["page"] == f"/schools/{school['school_id']}"
    assert body["links"]["correction"] == f"/count?school_id={school['school_id']}"
    # Nearby: closest first, never the school itself, distances as the great circle says.
    nearby = body["nearby"]
    assert nearby and school["school_id"] not in {n["school_id"] for n in nearby}
    miles = [n["distance_mi"] for n in nearby]
    assert miles == sorted(miles)
    for n in nearby:
        other = everything[n["school_id"]]
        assert n["distance_mi"] == pytest.approx(_haversine(lat, lon, other["lat"], other["lon"]), abs=0.01)
        assert n["link"] == f"/api/schools/{n['school_id']}"
    # No school of the build lies closer than the last one listed, except those listed.
    listed = {n["school_id"] for n in nearby} | {school["school_id"]}
    closer = [
        sid
        for sid, s in everything.items()
        if sid not in listed and _haversine(lat, lon, s["lat"], s["lon"]) < miles[-1] - 0.01
    ]
    assert closer == []


def test_api_school_coalition_and_partners_match_the_record_tables(app, client, ohio):
    schools, _ = ohio
    coalitions = {c["stusps"]: c for c in client.get("/api/coalitions").get_json()["coalitions"]}
    partners = {p["partner_id"]: p for p in client.get("/api/partners").get_json()["partners"]}
    with app.app_context():
        from webmap import record_data
        from webmap.data import get_data

        links = record_data.table(get_data(), "partner_schools").astype("str").to_dict("records")
    seen_partners = 0
    for school in schools:
        body = client.get(f"/api/schools/{school['school_id']}").get_json()
        expected = coalitions["OH"]
        if expected["stage"] == "none":
            assert body["coalition"] is None
        else:
            assert body["coalition"]["stage"] == expected["stage"]
            assert body["coalition"]["join_url"] == expected["join_url"]
            if not expected["contact_public"]:
                assert body["coalition"]["contact_email"] is None
        mine = {(r["partner_id"], r["role"]) for r in links if r["school_id"] == school["school_id"]}
        assert {(p["partner_id"], p["role"]) for p in body["partners"]} == mine
        for p in body["partners"]:
            assert p["name"] == partners[p["partner_id"]]["name"]
            assert p["link"] == f"/partners/{p['partner_id']}"
        seen_partners += len(mine)
    assert seen_partners > 0  # the sample links partners to schools: the join was exercised


def test_api_school_errors_name_the_id(client):
    missing = client.get("/api/schools/cs-0000000000000000")
    assert missing.status_code == 404 and missing.is_json
    assert "'cs-0000000000000000'" in missing.get_json()["description"]
    bad = client.get("/api/schools/bad%20id!")
    assert bad.status_code == 400 and bad.get_json()["parameter"] == "school_id"
    assert "'bad id!'" in bad.get_json()["description"]
    stray = client.get("/api/schools/cs-0000000000000000?fbclid=x")
    assert stray.status_code == 400 and stray.get_json()["parameter"] == "fbclid"


def test_openapi_documents_the_school_endpoint(client):
    document = client.get("/api/openapi.json").get_json()
    path = document["paths"]["/api/schools/{school_id}"]["get"]
    (param,) = path["parameters"]
    assert param["in"] == "path" and param["name"] == "school_id" and param["required"]
    assert re.fullmatch(param["schema"]["pattern"], "cs-59f28c7ab68ee74a")
    assert "404" in path["responses"]
    school = document["components"]["schemas"]["School"]["properties"]
    assert {"phone", "website", "email"} <= set(school)


def test_school_page_shows_fields_contact_directions_and_links(client, ohio):
    schools, _ = ohio
    school = schools[0]
    sid = school["school_id"]
    response = client.get(f"/schools/{sid}?fbclid=abc&utm_source=x")  # shared links keep working
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    api = client.get(f"/api/schools/{sid}").get_json()
    assert html.escape(school["name"]) in page
    assert 'id="school-sample"' in page and "SAMPLE" in page
    assert "No contact on file in the sample" in page
    for column in registry.api_school_columns():
        if column.name not in (
            "name",
            "address",
            "city",
            "state",
            "zip",
            "country",
            "phone",
            "website",
            "email",
            "is_sample",
        ):
            assert f">{html.escape(column.title)}</th>" in page, column.name
    assert f'href="{html.escape(api["directions"]["osm"])}"' in page
    assert f'href="{api["directions"]["geo"]}"' in page
    assert f'href="/count?school_id={sid}"' in page
    for p in api["partners"]:
        assert f'href="/partners/{p["partner_id"]}"' in page
    for n in api["nearby"]:
        assert f'href="/schools/{n["school_id"]}"' in page
    if api["coalition"]:
        assert api["coalition"]["stage"].capitalize() in page
    # The small map: local basemap tiles and the context layers of the other maps.
    config = json.loads(
        re.search(r'<script type="application/json" id="csmap-config">(.*?)</script>', page, re.S).group(1)
    )
    assert config["page"] == "school" and config["places_major_url"] and config["state_outlines_url"]
    assert "/tiles/{z}/{x}/{y}.png" in page


def test_school_page_is_cached_per_build_with_a_fresh_nonce(client, ohio):
    sid = ohio[0][1]["school_id"]
    first = client.get(f"/schools/{sid}")
    second = client.get(f"/schools/{sid}")
    nonce = re.compile(r'nonce="[^"]+"')
    assert nonce.search(first.get_data(as_text=True))
    assert nonce.sub("", first.get_data(as_text=True)) == nonce.sub("", second.get_data(as_text=True))
    assert nonce.findall(first.get_data(as_text=True)) != nonce.findall(second.get_data(as_text=True))


def test_school_page_errors(client):
    assert client.get("/schools/cs-0000000000000000").status_code == 404
    bad = client.get("/schools/bad!")
    assert bad.status_code == 400 and "school_id" in bad.get_data(as_text=True)


def test_contact_links_only_for_safe_targets():
    from webmap.school_page import safe_contact

    bad = safe_contact({"phone": "call us", "website": "javascript:alert(1)", "email": "nope"})
    assert bad["website_href"] is None and bad["mailto"] is None and bad["tel"] is None
    good = safe_contact({"phone": "(312) 555-0100", "website": "https://a.example.org", "email": "a@b.org"})
    assert good["website_href"] == "https://a.example.org"
    assert good["mailto"] == "mailto:a@b.org" and good["tel"] == "tel:3125550100"
    assert safe_contact({"phone": "(800) 555-0199 x4"})["tel"] == "tel:8005550199"


def test_popups_find_results_and_state_list_link_to_school_pages(client, ohio):
    _, everything = ohio
    popup = client.get("/map/schools/0").get_json()
    assert popup["page_url"] == f"/schools/{popup['school_id']}"
    assert client.get(popup["page_url"]).status_code == 200
    school = next(s for s in everything.values() if s["zip"] and s["stusps"] == "OH")
    found = client.get(f"/find?q={school['zip']}").get_data(as_text=True)
    items = re.findall(r'<li data-row="(\d+)".*?<a class="result-page" href="([^"]+)"', found, re.S)
    assert items
    for row, href in items:
        assert href == client.get(f"/map/schools/{row}").get_json()["page_url"]
    state = client.get("/states/OH").get_data(as_text=True)
    rows = re.findall(r'<tr data-row="(\d+)"><th scope="row"><a href="([^"]+)">', state)
    assert len(rows) == 25
    for row, href in rows[:5]:
        assert href == client.get(f"/map/schools/{row}").get_json()["page_url"]


def test_contact_columns_reach_the_downloads_and_the_dictionary(client):
    header = client.get("/downloads/schools.csv").get_data(as_text=True).splitlines()[0].split(",")
    assert {"phone", "website", "email"} <= set(header)
    dictionary = client.get("/downloads/data-dictionary.json").get_json()
    described = {r["column"]: r["description"] for r in dictionary["columns"] if r["dataset"] == "schools"}
    for name in ("phone", "website", "email"):
        assert described[name] == registry.describe("schools", name)


def test_state_coalition_box_shows_a_contact_only_when_public(client):
    coalitions = [c for c in client.get("/api/coalitions").get_json()["coalitions"] if c["stage"] != "none"]
    public = next(c for c in coalitions if c["contact_public"] and c["contact_email"])
    private = next(c for c in coalitions if not c["contact_public"])
    for row, shown in ((public, True), (private, False)):
        page = client.get(f"/states/{row['stusps']}").get_data(as_text=True)
        box = page[page.index('id="state-records"') : page.index('id="get-involved"')]
        assert row["stage"].capitalize() in box
        assert ('class="coalition-contact"' in box) is shown
        if shown:
            assert f'href="mailto:{row["contact_email"]}"' in box
        if row["join_url"]:
            assert f'href="{html.escape(row["join_url"])}"' in box


def test_page_links_a_contact_only_to_safe_targets(fresh_app, ohio):
    """A list's contact reaches the page as text; only a dialable phone, an email and http(s) are links."""
    sid = ohio[0][0]["school_id"]
    with fresh_app.app_context():
        from webmap.data import get_data
        from webmap.school_page import find_school, school_detail

        data = get_data()  # this test's own app: its per-build cache is its own
        detail = school_detail(data, find_school(data, sid))
        detail["contact"] = {
            "phone": "(312) 555-0100 x7",
            "website": "javascript:alert(1)",
            "email": "office@lincoln.example.org",
        }
    page = fresh_app.test_client().get(f"/schools/{sid}").get_data(as_text=True)
    assert 'href="tel:3125550100"' in page and 'href="mailto:office@lincoln.example.org"' in page
    assert "javascript:alert(1)" in page and 'href="javascript' not in page
    assert "No contact on file" not in page
