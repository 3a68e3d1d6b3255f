"""Map design choices (issue 15, point 7) that can be checked without a browser."""

from __future__ import annotations

import json
import re

from webmap.figures import MAP_METRICS, metric


def test_the_national_map_opens_on_a_rate_not_a_raw_count(client):
    html = client.get("/").get_data(as_text=True)
    config = json.loads(re.search(r'id="csmap-config">(.*?)</script>', html, re.S).group(1))
    first = config["legends"][0]["key"]
    assert first == MAP_METRICS[0]
    assert metric(first).kind in ("rate", "share")  # per children: comparable across states
    assert metric(first).kind != "count"


def test_the_basemap_carries_the_osm_credit_on_every_map_page(client):
    for path in ("/", "/states/OH", "/find?q=78701"):
        html = client.get(path).get_data(as_text=True)
        assert "OpenStreetMap" in html and "contributors" in html, path
