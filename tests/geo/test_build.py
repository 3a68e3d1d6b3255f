"""The build pipeline end to end on real reference data and the sample."""

from __future__ import annotations

import pytest

from geo import build, store
from geo import reference as ref
from geo.errors import BuildError, SourceDataError


def test_build_contents(built_data_dir):
    current = store.current_build_dir(built_data_dir)
    manifest = store.read_manifest(current)
    assert manifest["build_id"] == current.name
    assert manifest["is_sample"] is True
    counts = manifest["row_counts"]
    assert counts["states"] == 56 and counts["counties"] == 3233 and counts["zctas"] == 41706
    assert counts["schools"] == 5589
    for layer in (
        "states",
        "counties",
        "zctas",
        "schools",
        "coalition_areas",
        "state_metrics",
        "county_metrics",
    ):
        assert layer in store.list_layers(current)
        assert store.read_layer(current, layer).crs.to_epsg() == 4326
    assert set(manifest["package_versions"]) == set(ref.SOURCE_PACKAGES)
    # The app serialises what it serves from these layers (webmap.exports, webmap.page_data); the
    # build writes no GeoJSON copies that nothing would read.
    assert not (current / "web").exists()
    assert "web_layer_bytes" not in manifest


def test_unchanged_inputs_skip_the_build(data_dir_copy):
    before = store.current_build_dir(data_dir_copy)
    summary = build.run_build(data_dir_copy)
    assert summary.skipped
    assert store.current_build_dir(data_dir_copy) == before


def test_injected_failure_keeps_previous_build(data_dir_copy):
    before = store.current_build_dir(data_dir_copy)
    manifest = store.read_manifest(before)
    with pytest.raises(BuildError, match="injected failure"):
        build.run_build(data_dir_copy, force=True, fail_after="schools")
    assert store.current_build_dir(data_dir_copy) == before
    assert store.read_manifest(before) == manifest
    assert not list((data_dir_copy / "builds").glob(".tmp-*"))


def test_missing_source_names_it_and_keeps_previous_build(data_dir_copy, monkeypatch, tmp_path):
    before = store.current_build_dir(data_dir_copy)
    for cached in (data_dir_copy / "cache").glob("reference-*.gpkg"):
        cached.unlink()
    monkeypatch.setattr(ref, "plotly_geo_dir", lambda: tmp_path / "empty")
    with pytest.raises(SourceDataError, match="cb_2016_us_state_500k.shp"):
        build.run_build(data_dir_copy, force=True)
    assert store.current_build_dir(data_dir_copy) == before
