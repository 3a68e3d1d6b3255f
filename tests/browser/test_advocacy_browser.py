"""Issue 16 in a real browser: print layout, framing of the embeds, copy link, phone layout and taps.

Screenshots and printed PDFs go to tests/artifacts/advocacy_*.{png,pdf} (looked at by a person).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import ARTIFACTS_DIR, keep_local
from tests.browser.test_pages_browser import uncovered_point_of_state

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
#: Letter paper less the print stylesheet's 12 mm margins, in CSS pixels (96 per inch).
LETTER_TEXT_WIDTH_PX = round((8.5 - 2 * 12 / 25.4) * 96)
#: /gaps prints landscape (its own @page rule): 15 columns of figures.
LANDSCAPE_TEXT_WIDTH_PX = round((11 - 2 * 12 / 25.4) * 96)

OVERFLOW = """() => {
    const limit = document.documentElement.clientWidth + 1;
    const wide = [];
    for (const el of document.querySelectorAll('table, .map-wrap, .folium-map')) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && box.right > limit) { wide.push(el.id || el.className || el.tagName); }
    }
    for (const box of document.querySelectorAll('.table-scroll')) {
        if (box.scrollWidth > box.clientWidth + 1) {
            wide.push('scrolling ' + (box.firstElementChild || box).id);
        }
    }
    return wide;
}"""


def _context(browser, viewport, **options):
    context = browser.new_context(viewport=viewport, **options)
    keep_local(context)
    return context


@pytest.mark.parametrize("path", ["/states/OH", "/gaps", "/about", "/downloads/data-dictionary", "/states/"])
def test_print_fits_maps_and_tables_on_the_page(browser, site, path):
    width = LANDSCAPE_TEXT_WIDTH_PX if path == "/gaps" else LETTER_TEXT_WIDTH_PX
    context = _context(browser, {"width": width, "height": 1000})
    page = context.new_page()
    page.goto(site + path)
    if path.startswith("/states/OH"):
        page.wait_for_selector("html[data-schools-drawn]", timeout=20_000)
    page.emulate_media(media="print")
    header = page.evaluate(
        """() => ({nav: getComputedStyle(document.querySelector('.site-header nav')).display,
                  banner: document.getElementById('sample-banner') &&
                          getComputedStyle(document.getElementById('sample-banner')).display})"""
    )
    assert header["nav"] == "none"
    assert header["banner"] != "none"  # sample figures say so on paper too
    assert page.evaluate(OVERFLOW) == []
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    name = path.strip("/").replace("/", "_") or "index"
    page.pdf(path=str(ARTIFACTS_DIR / f"advocacy_print_{name}.pdf"), print_background=True)
    context.close()


def test_printed_state_map_fits_one_page(browser, site):
    context = _context(browser, {"width": LETTER_TEXT_WIDTH_PX, "height": 1000})
    page = context.new_page()
    page.goto(site + "/states/OH")
    page.wait_for_selector("html[data-schools-drawn]", timeout=20_000)
    page.emulate_media(media="print")
    box = page.evaluate("() => document.querySelector('.map-wrap').getBoundingClientRect().toJSON()")
    letter_height_px = (11 - 2 * 12 / 25.4) * 96
    assert 0 < box["height"] <= letter_height_px
    assert box["width"] <= LETTER_TEXT_WIDTH_PX + 1
    context.close()


def _frame_page(tmp_path: Path, src: str) -> Path:
    (tmp_path / "partner.html").write_text(
        f'<!doctype html><title>partner</title><iframe id="f" src="{src}" width="800" height="500"></iframe>',
        encoding="utf-8",
    )
    return tmp_path


def test_embed_is_framed_by_another_site_but_pages_are_not(browser, site, live_server, tmp_path):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    partner = live_server(_frame_page(tmp_path, site + "/embed/map"))
    assert partner != site  # another origin (another port)
    page.goto(partner + "/partner.html")
    frame = next(f for f in page.frames if "/embed/map" in f.url)
    frame.wait_for_selector("html[data-states-drawn][data-schools-drawn]", timeout=20_000)
    assert frame.locator("#sample-banner").is_visible()
    assert frame.locator("a.embed-open").get_attribute("href").endswith("/")

    denied = live_server(_frame_page(tmp_path / ".." / tmp_path.name, site + "/states/OH"))
    blocked = context.new_page()

    # Wait for the iframe's own navigation to end (refused, Chromium shows its error page there).
    def iframe_navigated(frame) -> bool:
        return frame is not blocked.main_frame and frame.url not in ("", "about:blank")

    with blocked.expect_event("framenavigated", iframe_navigated, timeout=20_000) as navigated:
        blocked.goto(denied + "/partner.html")
    inner = navigated.value
    inner.wait_for_load_state("load")
    assert inner.evaluate("() => document.querySelector('.site-header') === null")
    context.close()


def test_copy_link_button_copies_the_page_link(browser, site):
    context = _context(browser, DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page = context.new_page()
    page.goto(site + "/states/OH")
    page.click("button[data-copy='share-link']")
    page.wait_for_function("() => document.querySelector('.copy-status').textContent.length > 0")
    assert page.evaluate("() => navigator.clipboard.readText()") == site + "/states/OH"
    snippet = page.input_value("#embed-code")
    assert "<iframe" in snippet and "/embed/states/OH" in snippet
    context.close()


def test_plan_sidebar_does_not_overlap_the_tables_on_a_phone(browser, site):
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site + "/plan?state=RI&k=3")
    page.wait_for_selector(".map-aside", timeout=20_000)
    layout = page.evaluate(
        """() => {
            const aside = document.querySelector('.map-aside').getBoundingClientRect();
            const next = document.querySelector('.map-layout').nextElementSibling;
            return {asideBottom: aside.bottom + window.scrollY,
                    nextTop: next ? next.getBoundingClientRect().top + window.scrollY : null};
        }"""
    )
    assert layout["nextTop"] is None or layout["asideBottom"] <= layout["nextTop"] + 1
    page.screenshot(path=str(ARTIFACTS_DIR / "advocacy_plan_phone.png"), full_page=True)
    context.close()


def test_a_tap_on_a_state_opens_one_overlay(browser, site):
    context = _context(browser, PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(site + "/")
    page.wait_for_selector("html[data-states-drawn]", timeout=20_000)
    page.wait_for_selector("html[data-states-drawn][data-schools-drawn]", timeout=20_000)
    x, y = uncovered_point_of_state(page, "NV")
    # A browser turns a tap into mouseover, mousedown, mouseup and click: what page.mouse.click sends.
    assert page.evaluate("() => matchMedia('(hover: hover)').matches") is False
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup", timeout=5_000)
    assert "Nevada" in page.locator(".leaflet-popup").inner_text()
    page.wait_for_timeout(300)
    assert page.locator(".leaflet-tooltip").count() == 0
    context.close()


def test_what_if_sites_are_named_by_place_and_a_gain_of_zero_is_explained(browser, site):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    # Providence is served by the sample's schools there: a site in it adds no one.
    page.goto(site + "/plan?state=RI&k=3&site=41.824,-71.4128")
    page.wait_for_selector("#whatif-table tbody tr", timeout=20_000)
    row = page.locator("#whatif-table tbody tr").first
    assert "near Providence, RI" in row.inner_text()
    if row.get_attribute("data-gain") == "0":
        assert "Gain 0:" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS_DIR / "advocacy_plan_whatif.png"), full_page=True)
    context.close()
