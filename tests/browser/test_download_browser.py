"""A download link on /downloads, clicked in Chromium, yields GeoJSON that geopandas reads in full."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from geo import store
from geo.query import filter_schools

pytestmark = pytest.mark.browser


def test_schools_geojson_link_downloads_every_school(
    page, site, built_data_dir, tmp_path, screenshot, console_errors
):
    manifest = store.read_manifest(store.current_build_dir(built_data_dir))
    page.goto(f"{site}/downloads")
    screenshot(page, "downloads")
    with page.expect_download() as info:
        page.click("#download-schools-geojson")
    download = info.value
    assert download.failure() is None
    stamp = manifest["built_at"][:10].replace("-", "")
    sample = "-SAMPLE" if manifest["is_sample"] else ""
    assert download.suggested_filename == f"community-schools{sample}-{stamp}.geojson"
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    schools = gpd.read_file(path)
    assert len(schools) == manifest["row_counts"]["schools"]
    assert schools.crs.to_epsg() == 4326
    assert set(schools["is_sample"]) == {manifest["is_sample"]}
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["is_sample"] is manifest["is_sample"] and document["built_at"] == manifest["built_at"]
    assert console_errors == []


def test_filter_form_downloads_one_state(page, site, built_data_dir, tmp_path):
    expected = len(
        filter_schools(store.read_layer(store.current_build_dir(built_data_dir), "schools"), state="IL")
    )
    assert expected > 0
    page.goto(f"{site}/downloads")
    page.select_option("#school-filters select[name=state]", "IL")
    with page.expect_download() as info:
        page.click("#school-filters button:has-text('GeoJSON')")
    download = info.value
    assert "-IL-" in download.suggested_filename
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    schools = gpd.read_file(path)
    assert len(schools) == expected
