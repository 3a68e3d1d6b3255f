"""/find as one search box, and the map context data (labels, outlines), on the session's real build."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import shapely

from geo.find import great_circle_miles


def find_html(client, **args) -> str:
    response = client.get("/find", query_string=args)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def page_config(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="csmap-config">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_a_state_name_redirects_to_its_page(client):
    response = client.get("/find", query_string={"q": "Ohio"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/states/OH")


@pytest.mark.parametrize("place", ["Springfield", "Columbus", "Portland"])
def test_ambiguous_places_show_a_pick_list_with_states_most_populous_first(client, place):
    html = find_html(client, q=place)
    assert 'id="find-choices"' in html and 'id="results"' not in html
    items = re.findall(
        r"<li><a href=\"[^\"]*\">" + place + r", ([A-Z]{2})</a> <span class=\"muted\">\(([\d,]+) people\)",
        html,
    )
    assert len(items) >= 2
    populations = [int(p.replace(",", "")) for _, p in items]
    assert populations == sorted(populations, reverse=True)


def test_columbus_and_new_york_are_found(client):
    html = find_html(client, q="Columbus, OH")
    assert "Columbus, OH" in html and 'id="results"' in html
    html = find_html(client, q="New York")
    assert "New York City, NY" in html and 'id="state-also"' in html


def test_zip_far_from_its_town_says_so_and_distances_read_about(client):
    html = find_html(client, q="93706", radius=25)
    assert 'id="location-note"' in html and "from the centre of Fresno, CA" in html
    distances = re.findall(r'<span class="distance">(about )?[\d.,]+ mi</span>', html)
    assert distances and all(d == "about " for d in distances)
    exact = find_html(client, lat="36.7477", lon="-119.7724", radius=25)
    assert "about " not in "".join(re.findall(r'<span class="distance">[^<]*</span>', exact))


def test_canadian_postal_code_gets_a_message_and_a_city_link(client):
    html = find_html(client, q="K1A 0B1")
    assert 'id="find-message"' in html and "only Canadian cities" in html
    assert re.search(r'id="find-suggestion" href="/find\?q=Ottawa(,|%2C)\+ON', html)


def test_school_names_are_found_fuzzily(client, app):
    with app.app_context():
        from webmap.data import get_data

        name = str(get_data().schools["name"].iloc[41])
    typo = name.replace("Community", "Comunity")
    html = find_html(client, q=typo)
    assert 'id="find-names"' in html
    assert name in html


def test_a_full_50_mile_list_says_how_many_lie_beyond(client, app):
    html = find_html(client, q="New York", radius=50)
    with app.app_context():
        from webmap.data import get_data

        schools = get_data().schools
    miles = np.array([great_circle_miles(40.71427, -74.00597, p.y, p.x) for p in schools.geometry])
    within = int((miles <= 50).sum())
    assert within > 100  # the sample is dense round New York: the list stops at 100
    assert 'id="beyond-list"' in html
    assert (
        f"{within - 100:,} more Community Schools lie within 50 mi beyond this list ({within:,} in all)"
        in html
    )


def test_find_config_carries_context_urls_and_approximate(client):
    config = page_config(find_html(client, q="93706"))
    assert config["approximate"] is True and config["origin"]["note"]
    for key in ("places_major_url", "places_all_url", "state_outlines_url"):
        assert client.get(config[key]).status_code == 200


def test_place_tiers(client):
    major = client.get("/map/context/places/major.json").get_json()
    every = client.get("/map/context/places/all.json").get_json()
    assert major["count"] == len(major["name"]) and 0 < major["count"] < every["count"]
    assert min(major["pop"]) >= 50_000 and major["pop"] == sorted(major["pop"], reverse=True)
    assert "Fresno" in major["name"]
    assert client.get("/map/context/places/tiny.json").status_code == 404


def test_state_label_points_lie_inside_their_states(client):
    states = client.get("/map/context/states.geojson").get_json()
    assert len(states["features"]) >= 52
    for feature in states["features"]:
        props = feature["properties"]
        shape = shapely.geometry.shape(feature["geometry"])
        point = shapely.Point(props["label_lon"], props["label_lat"])
        assert shape.buffer(0.01).contains(point), props["stusps"]
    alaska = next(f for f in states["features"] if f["properties"]["stusps"] == "AK")
    assert alaska["properties"]["label_lon"] < -140  # on the mainland, not the Aleutians


def test_county_labels_of_a_state(client):
    labels = client.get("/map/context/counties/OH.json").get_json()
    assert labels["count"] == 88 and "Franklin" in labels["name"]
    assert client.get("/map/context/counties/ZZ.json").status_code == 404


def test_state_page_config_names_its_county_labels(client):
    config = page_config(client.get("/states/OH").get_data(as_text=True))
    assert config["state"] == "OH" and config["county_labels_url"].endswith("/counties/OH.json")


def test_national_page_asks_for_state_label_points_only(client):
    config = page_config(client.get("/").get_data(as_text=True))
    assert "state_outlines_url" not in config  # the choropleth already outlines the states
    labels = client.get(config["state_labels_url"]).get_json()
    outlines = client.get("/map/context/states.geojson").get_json()
    by_code = {f["properties"]["stusps"]: f["properties"] for f in outlines["features"]}
    assert labels["count"] == len(by_code) == len(labels["code"])
    for code, lat, lon in zip(labels["code"], labels["lat"], labels["lon"], strict=True):
        assert (lat, lon) == (by_code[code]["label_lat"], by_code[code]["label_lon"])
