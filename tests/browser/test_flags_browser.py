"""Issue 11, point 4, in Chromium: a flagged school's note shows in the find results and its popup."""

from __future__ import annotations

import dataclasses

from tests.webmap.test_flags_shown import loader_note


def test_flag_note_in_find_results_and_popup(live_server, csmap_app, page, console_errors, screenshot):
    holder = csmap_app.extensions["csmap_data"]
    data = holder.get()
    schools = data.schools.copy()
    schools["geocode_note"] = schools["geocode_note"].astype(object)
    schools.iloc[0, schools.columns.get_loc("geocode_note")] = loader_note()
    holder.data = dataclasses.replace(data, schools=schools, cache={})

    base = live_server(csmap_app)
    point = schools.geometry.iloc[0]
    page.goto(f"{base}/find?lat={point.y}&lon={point.x}&radius=1", wait_until="load")
    page.wait_for_selector("html[data-results-drawn]", timeout=10_000)
    assert page.inner_text("#results li .result-note >> nth=0") == f"Note: {loader_note()}"
    page.click(".csmap-result-icon >> nth=0", force=True)
    note = page.locator(".csmap-flag-note")
    note.wait_for(timeout=5_000)
    assert note.inner_text() == f"Note: {loader_note()}"
    screenshot(page, "find-flagged-school")
    assert console_errors == []
