"""Spanish in a real browser (issue 16 point 5): the header's switch, then the scripts' own words.

The server-rendered text is checked page by page in tests/webmap/test_i18n.py; this checks
what only the scripts write: the legend, the school popups, and that the switch sticks.
Screenshots go to tests/artifacts/i18n_*.png.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_switch_turns_the_maps_and_popups_spanish(page, site, console_errors, screenshot):
    page.goto(site + "/gaps")
    assert page.get_attribute("html", "lang") == "en"
    page.click(".language-switch a[lang=es]")
    page.wait_for_url(site + "/gaps")
    assert page.get_attribute("html", "lang") == "es"

    # The choice is remembered: the home page comes in Spanish with no parameter.
    page.goto(site + "/")
    page.wait_for_selector("html[data-states-drawn][data-schools-drawn] .csmap-legend-row", timeout=20_000)
    legend = page.inner_text(".csmap-legend")
    assert page.get_attribute("html", "lang") == "es"
    assert "Escuelas por cada 10 mil niños" in legend and "sin datos" in legend
    assert "coalición: existente" in legend and "no data" not in legend
    assert "," in page.inner_text(".csmap-legend-row >> nth=1")  # a decimal comma in the classes
    screenshot(page, "i18n_home_es")

    # A school's popup, written by csmap-map.js from the JSON blob's words.
    page.goto(site + "/find?q=43215")
    page.wait_for_selector("#results li .result-open", timeout=20_000)
    page.click("#results li .result-open >> nth=0")
    popup = page.wait_for_selector(".csmap-popup:has(.csmap-figures)", timeout=10_000)
    text = popup.inner_text()
    assert "Ubicada por" in text and "Located by" not in text
    assert "Datos de muestra (generados)" in text
    screenshot(page, "i18n_find_es")
    assert console_errors == []
