"""The census form end to end in a real browser: fill /count, see the place, send it, approve it in
/staff/submissions, publish, and find the school on the map's API.

Screenshots go to tests/artifacts/census_*.png at 1366x768 and 390x844.
"""

from __future__ import annotations

import pytest

from tests.browser.test_staff_browser import ADMIN, SIZES, _api_names, staff_site  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

NAME = "Qwerty Census Community School"


def test_fill_the_form_approve_publish_and_find_it_on_the_map(
    browser,
    page,
    shoot_both_sizes,
    staff_site,  # noqa: F811  (the staff browser flow's fixture)
    screenshot,
    console_errors,
) -> None:
    base, _data = staff_site
    shoot = shoot_both_sizes
    page.goto(f"{base}/")
    page.click("nav >> text=Be counted")
    assert page.url.endswith("/count")
    page.fill("#f-name", NAME)
    page.fill("#f-address", "2045 N Lincoln Ave")
    page.fill("#f-city", "Chicago")
    page.fill("#f-state", "IL")
    page.fill("#f-zip", "60614")
    page.click("#locate-button")
    page.wait_for_selector("#count-map[data-placed]")
    assert "Is this your school?" in page.inner_text("#locate-result")
    lat, lon = map(float, page.get_attribute("#count-map", "data-placed").split(","))
    assert 41.8 < lat < 42.0 and -87.8 < lon < -87.5
    page.wait_for_selector("#count-map img.leaflet-tile-loaded")
    shoot(f"{base}/count", "census_form")
    screenshot(page, "census_form_placed")
    page.fill("#f-contact_name", "Ada Lovelace")
    page.fill("#f-contact_email", "not an e-mail")
    page.fill("#f-grades", "K-8")
    for name, value in (
        ("element_coordination", "yes"),
        ("element_leadership", "in_progress"),
        ("element_planning", "no"),
    ):
        page.check(f"input[name={name}][value={value}]")
    page.select_option("#f-stage", "emerging")
    page.select_option("#f-setting", "urban")
    page.click("#send-button")
    assert "name@example.org" in page.inner_text("#e-contact_email")  # says what to fix, keeps the rest
    assert page.input_value("#f-name") == NAME
    screenshot(page, "census_form_errors")
    page.fill("#f-contact_email", "ada@example.org")
    page.check("input[name=element_coordination][value=yes]")
    page.check("input[name=element_leadership][value=in_progress]")
    page.check("input[name=element_planning][value=no]")
    page.click("#send-button")
    page.wait_for_selector("#thanks")
    assert NAME not in _api_names(page, base)

    # Without JavaScript, "Check the place" posts the form and the server marks the place on a tile.
    plain = browser.new_context(viewport=SIZES["phone"], java_script_enabled=False)
    no_js = plain.new_page()
    no_js.goto(f"{base}/count")
    for field, value in (
        ("name", NAME),
        ("address", "2045 N Lincoln Ave"),
        ("city", "Chicago"),
        ("state", "IL"),
        ("zip", "60614"),
    ):
        no_js.fill(f"#f-{field}", value)
    no_js.click("#locate-button")
    no_js.wait_for_selector("#tile-preview img")
    assert "Is this your school?" in no_js.inner_text("#locate-result")
    screenshot(no_js, "census_form_nojs_placed")
    plain.close()

    # Staff approve it in /staff/submissions.
    page.goto(f"{base}/staff/submissions")
    page.fill("input[name=email]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_selector("#submission-results")
    storage = page.context.storage_state()
    shoot(f"{base}/staff/submissions", "census_moderation_list", storage)
    page.click(f"#submission-results >> text={NAME}")
    page.wait_for_selector("#submission-fields")
    shoot(page.url, "census_moderation_one", storage)
    page.click("#approve-new")
    page.wait_for_selector("text=Approved")

    # Publish; the school reaches the map's data.
    page.goto(f"{base}/staff/builds")
    page.click("#publish-now")
    page.wait_for_selector(".job-succeeded", timeout=240_000)
    page.goto(f"{base}/")
    page.wait_for_selector("html[data-schools-drawn]", timeout=30_000)
    assert NAME in _api_names(page, base)
    # The one answer with a bad e-mail came back as a 400 (what to fix), which Chromium logs.
    assert [e for e in console_errors if "status of 400" not in e] == []
    assert len(console_errors) == 1
