"""The records in a real browser: the communities layer on the maps and a partner's schools on its map.

Screenshots go to tests/artifacts/ (records-state.png, records-partner.png), for a person to look at.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_communities_layer_draws_and_toggles(site, page, page_log, console_errors, screenshot):
    base = site
    communities = page.request.get(f"{base}/api/communities").json()["communities"]
    state = max(communities, key=lambda c: c["school_count"])["stusps"]
    expected = sum(c["stusps"] == state for c in communities)
    page.goto(f"{base}/states/{state}", wait_until="load")
    page.wait_for_selector("#csmap-communities[data-drawn]", timeout=20_000)
    assert page.get_attribute("#csmap-communities", "data-drawn") == str(expected)
    paths = "() => document.querySelectorAll('.leaflet-overlay-pane path[stroke=\"#b35806\"]').length"
    assert page.evaluate(paths) == expected
    page.click("#show-communities")
    assert page.evaluate(paths) == 0
    page.click("#show-communities")
    assert page.evaluate(paths) == expected
    screenshot(page, "records-state")
    page.goto(f"{base}/", wait_until="load")
    page.wait_for_selector("#csmap-communities[data-drawn]", timeout=20_000)
    assert page.get_attribute("#csmap-communities", "data-drawn") == str(len(communities))
    assert console_errors == [] and page_log.non_local_requests() == []


def test_partner_page_maps_its_schools(site, page, page_log, console_errors, screenshot):
    base = site
    partners = page.request.get(f"{base}/api/partners").json()["partners"]
    partner = max(partners, key=lambda p: p["school_count"])
    page.goto(f"{base}/partners?q={partner['name'].split()[1]}", wait_until="load")
    page.click(f"text={partner['name']}")
    page.wait_for_selector("#partner-map[data-schools-drawn]", timeout=20_000)
    assert page.get_attribute("#partner-map", "data-schools-drawn") == str(partner["school_count"])
    dots = page.evaluate("() => document.querySelectorAll('#partner-map path.leaflet-interactive').length")
    assert dots == partner["school_count"]
    screenshot(page, "records-partner")
    assert console_errors == [] and page_log.non_local_requests() == []
