"""The expansion planner page in a real browser: the plan's numbered sites, and a what-if by clicking the map.

The screenshot goes to tests/artifacts/plan.png (looked at by a person after changes).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

#: A point in the empty west of Texas (Pecos County) and one on the Gulf coast near Corpus Christi.
WEST_TEXAS = (30.9, -102.9)
GULF_COAST = (27.8, -97.4)


def container_point(page, lat: float, lon: float) -> tuple[float, float]:
    """The viewport point of a (lat, lon), checked to be bare map (no marker or path on top)."""
    point = page.evaluate(
        """([lat, lon]) => {
            const config = JSON.parse(document.getElementById('plan-config').textContent);
            const map = window[config.map];
            const box = map.getContainer().getBoundingClientRect();
            const p = map.latLngToContainerPoint([lat, lon]);
            const x = box.left + p.x, y = box.top + p.y;
            const hit = document.elementFromPoint(x, y);
            const bare = hit === map.getContainer() || hit.tagName === 'CANVAS';
            return bare ? [x, y] : null;
        }""",
        [lat, lon],
    )
    assert point, f"({lat}, {lon}) is covered by a marker or outside the map"
    return point[0], point[1]


def test_plan_page_draws_sites_and_runs_a_what_if(site, page, page_log, console_errors, screenshot):
    base = site
    page.goto(f"{base}/plan?state=TX&k=5", wait_until="load")
    page.wait_for_selector("html[data-plan-drawn='5'][data-schools-drawn][data-land-drawn]", timeout=20_000)

    state = page.evaluate(
        """() => {
            const config = JSON.parse(document.getElementById('plan-config').textContent);
            const map = window[config.map];
            return {
                isMap: map instanceof L.Map,
                maxZoom: map.getMaxZoom(),
                icons: [...document.querySelectorAll('.plan-pick-icon')].map(i => i.textContent),
                rows: [...document.querySelectorAll('#picks-table tbody tr')].map(r => +r.dataset.order),
                reached: window[config.layers.reached].getLayers().length,
                schools: window[config.layers.schools].getLayers().length,
                land: document.querySelectorAll('.leaflet-plan-land-pane path').length,
            };
        }"""
    )
    assert state["isMap"] and state["maxZoom"] == 18
    assert state["icons"] == ["1", "2", "3", "4", "5"]
    assert state["rows"] == [1, 2, 3, 4, 5]
    assert state["reached"] >= 5 and state["schools"] > 0
    assert state["land"] > 52  # the states and Texas's counties, drawn with no tiles

    # A proposed site's tooltip gives its gain.
    page.hover(".plan-pick-icon >> nth=0", force=True)
    tooltip = page.inner_text(".leaflet-tooltip", timeout=5_000)
    assert tooltip.startswith("1. ZCTA") and ": +" in tooltip

    # Click the bare map: a candidate site appears and the what-if answers.
    page.mouse.move(0, 0)
    x, y = container_point(page, *GULF_COAST)
    page.mouse.click(x, y)
    page.wait_for_selector("html[data-whatif-state='done'][data-whatif-sites='1']", timeout=15_000)
    assert page.locator(".plan-site-icon").count() == 1
    assert page.locator("#whatif-table tbody tr").count() == 1
    assert "Together your sites would bring" in page.inner_text("#whatif-total")

    x, y = container_point(page, *WEST_TEXAS)
    page.mouse.click(x, y)
    page.wait_for_selector("html[data-whatif-state='done'][data-whatif-sites='2']", timeout=15_000)
    gains = page.eval_on_selector_all("#whatif-table tbody tr", "rows => rows.map(r => +r.dataset.gain)")
    assert len(gains) == 2 and all(g >= 0 for g in gains)
    screenshot(page, "plan")

    # The address bar now holds a shareable URL with both sites; opening it shows the same what-if.
    query = parse_qs(urlsplit(page.url).query)
    assert query["state"] == ["TX"] and query["k"] == ["5"] and len(query["site"]) == 2
    page.goto(page.url, wait_until="load")
    page.wait_for_selector("html[data-plan-drawn='5'][data-whatif-sites='2']", timeout=20_000)
    again = page.eval_on_selector_all("#whatif-table tbody tr", "rows => rows.map(r => +r.dataset.gain)")
    assert again == gains

    # Remove the last site: one is left, and the URL follows.
    page.click("#whatif-undo")
    page.wait_for_selector("html[data-whatif-state='done'][data-whatif-sites='1']", timeout=15_000)
    assert len(parse_qs(urlsplit(page.url).query)["site"]) == 1

    assert console_errors == []
    assert page_log.failed_requests == []
    assert page_log.non_local_requests() == []


def test_plan_page_keeps_excludes_and_adds_a_typed_place(site, page, page_log, console_errors, screenshot):
    """Issue 16: keep/exclude toggles re-run the plan; a typed place becomes a what-if site (no mouse)."""
    base = site
    page.goto(f"{base}/plan?state=RI&k=3", wait_until="load")
    page.wait_for_selector("html[data-plan-drawn='3'][data-land-drawn]", timeout=20_000)
    picks = page.eval_on_selector_all("#picks-table tbody tr", "rows => rows.map(r => r.dataset.id)")
    assert len(picks) == 3

    # A clicked site, then a typed place: the form sends the clicked site along, the place is added after it.
    page.mouse.move(0, 0)
    x, y = container_point(page, 41.45, -71.75)
    page.mouse.click(x, y)
    page.wait_for_selector("html[data-whatif-state='done'][data-whatif-sites='1']", timeout=15_000)
    page.fill("#place-input", "Providence, RI")
    page.press("#place-input", "Enter")
    page.wait_for_selector("html[data-whatif-state='done'][data-whatif-sites='2']", timeout=20_000)
    assert "Added “Providence, RI” as your site 2." in page.inner_text("#whatif-status")
    names = page.eval_on_selector_all(
        "#whatif-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)"
    )
    assert names[1].startswith("Your site 2, near Providence, RI")
    query = parse_qs(urlsplit(page.url).query)
    assert "place" not in query and len(query["site"]) == 2  # a reload does not add the place again

    # Keep the third pick, exclude the first (ticking one unticks the other), and re-run.
    page.check("#exclude-3")
    page.check("#keep-3")
    assert not page.is_checked("#exclude-3")
    page.check("#exclude-1")
    page.click("#rerun-button")
    page.wait_for_selector("html[data-plan-drawn='3'][data-whatif-sites='2']", timeout=20_000)
    rerun = page.eval_on_selector_all("#picks-table tbody tr", "rows => rows.map(r => r.dataset.id)")
    assert rerun[0] == picks[2] and picks[0] not in rerun and len(rerun) == 3
    assert page.is_checked("#keep-1") and page.is_checked(f"#excluded-list input[value='{picks[0]}']")
    screenshot(page, "plan-keep-exclude")

    assert console_errors == []
    assert page_log.failed_requests == []
    assert page_log.non_local_requests() == []
