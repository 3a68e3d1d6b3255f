"""Accessibility in a real browser (issue 16, point 6): axe-core on every public and staff page at
desktop and phone sizes (no serious or critical violation), and the national map by keyboard alone.

axe-core is vendored for the tests only (tests/vendor/axe-core, MPL-2.0, see its README). Our
pages send a nonce CSP that blocks an injected script, so the context that runs axe, and only
that one, is made with ``bypass_csp=True``.

Speed: one app and server for the module (its caches stay warm from test to test), one page per
test, and each URL is loaded once and checked at both sizes by resizing the viewport (the map
pages redraw on resize), where a context per size and a page per URL took twice as long. axe is an
init script of the context (sent to the browser once, not 500 KB per page).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.conftest import keep_local

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
PAGES = [
    "/",
    "/states/",
    "/states/OH",
    "/find",
    "/find?q=78701",
    "/gaps",
    "/plan",
    "/plan?state=RI&k=3",
    "/plan?state=RI&k=3&keep=02903&site=41.8,-71.5",
    "/plan?mode=target&target_children=20000&state=RI",
    "/about",
    "/docs/METRICS",
    "/downloads/",
    "/downloads/data-dictionary",
    "/embed/map",
    "/embed/states/OH",
    "/states/ZZ",
    "/count",
    "/schools/<first>",  # the first school's page (its id read from its popup: the sample decides it)
]
#: Every staff page, signed in as an admin; "upload" is the report of a list uploaded by the test.
STAFF_PAGES = [
    "/staff/",
    "/staff/schools",
    "/staff/schools/1",
    "/staff/uploads",
    "upload",
    "/staff/builds",
    "/staff/manifest",
    "/staff/records",
    "/staff/records/coalitions",
    "/staff/records/coalitions/row/OH",
    "/staff/submissions",
    "/staff/audit",
    "/staff/users",
    "/staff/password",
]
ADMIN = ("admin@example.org", "admin password 1")
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
#: A small list with a duplicate and a row that cannot be placed: its report has every section.
UPLOAD = (
    "School Name,City,State,ZIP Code\n"
    "Lincoln Elementary,Chicago,IL,60614\n"
    "Lincoln Elementary,Chicago,IL,60614\n"
    "Nowhere,,,\n"
)

RUN_AXE = """async () => {
    // Two frames for a resize to be drawn: Leaflet redraws the map in the frame after the resize.
    await new Promise((drawn) => requestAnimationFrame(() => requestAnimationFrame(drawn)));
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.id + ' (' + v.impact + '): ' +
             v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; '));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def a11y_site(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole app (public and staff pages, one admin) on a private data folder, served for the module."""
    from webmap import accounts, create_app, db

    data = tmp_path_factory.mktemp("a11y") / "data"
    shutil.copytree(built_data_dir, data, symlinks=True, copy_function=os.link)
    url = f"sqlite:///{data / 'staff.sqlite'}"
    db.upgrade(url)
    with db.session_scope(url) as session:
        accounts.add_user(session, *ADMIN, "admin")
    app = create_app({"TESTING": True, "DATA_DIR": str(data), "DATABASE_URL": url, "SECRET_KEY": "a11y"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="a11y-site", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    db.dispose_engines()


def _axe_context(browser, axe_source: str):
    """A context whose every page gets axe-core before its own scripts (sent to the browser once)."""
    context = browser.new_context(viewport=SIZES["desktop"], bypass_csp=True)
    context.add_init_script(script=axe_source)
    keep_local(context)
    return context


def _axe_at_both_sizes(page, url: str, found: dict) -> None:
    """Run axe on the loaded page at each size; record serious or critical violations under ``found``."""
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        violations = page.evaluate(RUN_AXE)
        if violations:
            found[f"{url} ({size})"] = violations
    page.set_viewport_size(SIZES["desktop"])


def test_public_pages_have_no_serious_axe_violations(browser, a11y_site, axe_source):
    context = _axe_context(browser, axe_source)
    page = context.new_page()
    found: dict = {}
    for path in PAGES:
        if path == "/schools/<first>":
            path = context.request.get(a11y_site + "/map/schools/0").json()["page_url"]
        page.goto(a11y_site + path, wait_until="networkidle")  # map layers drawn from their data
        _axe_at_both_sizes(page, path, found)
    context.close()
    assert found == {}


def test_staff_pages_have_no_serious_axe_violations(browser, a11y_site, axe_source, tmp_path):
    context = _axe_context(browser, axe_source)
    page = context.new_page()
    found: dict = {}
    page.goto(a11y_site + "/staff/login")
    _axe_at_both_sizes(page, "/staff/login", found)
    page.fill("input[name=email]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/")
    upload = tmp_path / "list.csv"
    upload.write_text(UPLOAD, encoding="utf-8")
    for path in STAFF_PAGES:
        if path == "upload":
            page.goto(a11y_site + "/staff/uploads")
            page.set_input_files("input[name=file]", str(upload))
            page.click("button[type=submit]:has-text('Check it')")
            page.wait_for_selector("#upload-counts")
            path = page.url.removeprefix(a11y_site)
        else:
            response = page.goto(a11y_site + path)
            assert response.status == 200, (path, response.status)
        _axe_at_both_sizes(page, path, found)
    context.close()
    assert found == {}


def test_focus_is_visible_on_links_and_buttons(browser, a11y_site):
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(a11y_site + "/states/OH")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style == ["solid", "3px"]  # app.css :focus-visible, wider than the browser default
    context.close()


#: Records each focus stop as the keyboard reaches it: its name as a screen reader would find it
#: first (aria-label, text, title, label), whether it lies in a map or its controls, whether its
#: focus shows (an outline of 2 px or more; on an SVG shape, the focus stroke of app.css).
RECORD_FOCUS = """() => {
    window.csmapStops = [];
    document.addEventListener('focusin', (event) => {
        const t = event.target, s = getComputedStyle(t);
        const name = t.getAttribute('aria-label') || (t.textContent || '').trim() ||
            t.getAttribute('title') || (t.labels && t.labels.length ? t.labels[0].textContent.trim() : '');
        const ring = t.matches(':focus-visible') && (t instanceof SVGElement ?
            s.stroke === 'rgb(245, 158, 11)' : s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2);
        window.csmapStops.push({tag: t.tagName.toLowerCase(), name: name.slice(0, 80), ring: ring,
            map: !!t.closest('.leaflet-container'), control: !!t.closest('#map-controls'),
            marker: t.classList.contains('leaflet-marker-icon') || name.startsWith('Community School')});
    }, true);
}"""
ACTIVE_NAME = (
    "() => { const a = document.activeElement; return a.getAttribute('aria-label') || a.textContent.trim(); }"
)
#: Public map pages besides the national one, each swept by Tab for unnamed or invisible focus stops.
MAP_PAGES = ["/states/RI", "/find?q=78701", "/embed/states/RI"]


def _tab_through(page, limit: int = 600) -> list[dict]:
    """Press Tab until the focus has been in a map and left it again (or wrapped); return the stops."""
    page.evaluate(RECORD_FOCUS)
    entered = False
    for _ in range(0, limit, 20):
        for _ in range(20):
            page.keyboard.press("Tab")
        in_map = page.evaluate("() => !!document.activeElement.closest('.leaflet-container')")
        entered = entered or in_map
        if entered and not in_map:
            break
    return page.evaluate("() => window.csmapStops")


def _tab_to(page, name: str, limit: int = 200) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE_NAME) == name:
            return
    raise AssertionError(f"{name!r} not reached in {limit} Tab presses")


def test_keyboard_alone_reaches_and_opens_every_state_and_names_every_stop(browser, a11y_site):
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(a11y_site + "/", wait_until="networkidle")
    page.wait_for_selector("html[data-states-drawn][data-schools-drawn]")
    config = page.evaluate("() => JSON.parse(document.getElementById('csmap-config').textContent)")
    states = page.evaluate(f"async () => (await (await fetch({config['states_url']!r})).json()).features")
    names = {f["properties"]["name"] for f in states if f["geometry"]}

    # The skip link is the first stop; it leads to the map's controls, ahead of its shapes and markers.
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE_NAME) == "Skip to the map controls"
    page.keyboard.press("Enter")
    stops = _tab_through(page)
    assert stops[0]["name"] == "Zoom in" and stops[0]["control"]
    assert [s for s in stops if not s["name"]] == []
    assert [s for s in stops if not s["ring"]] == []
    reached = {s["name"] for s in stops if s["tag"] == "path" and s["map"]}
    assert names <= reached, sorted(names - reached)
    last_control = max(i for i, s in enumerate(stops) if s["control"])
    first_marker = min(i for i, s in enumerate(stops) if s["marker"])
    assert last_control < first_marker
    assert any(s["name"] == "Layers" for s in stops[: last_control + 1])  # the metric switcher

    # Enter on a state opens its overlay with the focus on its page's link; Escape comes back; Enter follows.
    page.goto(a11y_site + "/", wait_until="networkidle")
    page.wait_for_selector("html[data-states-drawn]")
    _tab_to(page, "Ohio")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.getAttribute('href')").endswith("/states/OH")
    page.keyboard.press("Escape")
    page.wait_for_selector(".leaflet-popup", state="detached")
    assert page.evaluate(ACTIVE_NAME) == "Ohio"
    page.keyboard.press("Enter")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == a11y_site + "/states/OH"

    # The other public map pages: every stop named, every focus visible.
    partners = page.evaluate(f"async () => (await fetch('{a11y_site}/partners')).text()")
    partner = re.search(r'href="(/partners/[^"]+)"', partners)
    found = {}
    for path in [*MAP_PAGES, *([partner.group(1)] if partner else [])]:
        page.goto(a11y_site + path, wait_until="networkidle")
        stops = _tab_through(page)
        bad = [s for s in stops if not s["name"] or not s["ring"]]
        if bad or not any(s["map"] for s in stops):
            found[path] = bad[:5] or "no stop in the map"
    context.close()
    assert found == {}
