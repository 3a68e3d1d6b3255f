"""axe-core on the public pages at desktop and phone sizes: no serious or critical violations (issue 16).

axe-core is vendored for the tests only (tests/vendor/axe-core, MPL-2.0, see its README). Our
pages send a nonce CSP that blocks an injected script, so the context that runs axe, and only
that one, is made with ``bypass_csp=True``. Staff pages come with the staff branch and should be
added to PAGES when it lands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
]
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => v.id + ' (' + v.impact + '): ' +
             v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; '));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.mark.parametrize("size", SIZES)
def test_public_pages_have_no_serious_axe_violations(browser, site, axe_source, size):
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if "127.0.0.1" in route.request.url else route.abort("blockedbyclient")
        ),
    )
    found = {}
    for path in PAGES:
        page = context.new_page()
        page.goto(site + path, wait_until="networkidle")  # map layers drawn from their data
        page.add_script_tag(content=axe_source)
        violations = page.evaluate(RUN_AXE)
        if violations:
            found[path] = violations
        page.close()
    context.close()
    assert found == {}


def test_focus_is_visible_on_links_and_buttons(browser, site):
    context = browser.new_context(viewport=SIZES["desktop"])
    page = context.new_page()
    page.goto(site + "/states/OH")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style == ["solid", "3px"]  # app.css :focus-visible, wider than the browser default
    context.close()
