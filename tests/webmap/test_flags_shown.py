"""Issue 11, point 4: a school the loader flagged shows its note to people, not only in the API."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from geo.schools import prepare_schools
from tests.geo import schools_fixture as fx


def loader_note() -> str:
    """The note the loader writes for a point outside its stated state (stated NE, lies in KS)."""
    raw = pd.DataFrame({"School Name": ["Border School"], "State": ["NE"], "Lat": ["38.0"], "Lon": ["-99.0"]})
    [note] = prepare_schools(raw, fx.reference()).schools["geocode_note"]
    assert "outside the stated state NE" in note
    return note


@pytest.fixture
def flagged_app(fresh_app):
    """An app of its own over the session's build, its first school carrying the loader's note."""
    holder = fresh_app.extensions["csmap_data"]
    data = holder.get()
    schools = data.schools.copy()
    schools["geocode_note"] = schools["geocode_note"].astype(object)
    schools.iloc[0, schools.columns.get_loc("geocode_note")] = loader_note()
    holder.data = dataclasses.replace(data, schools=schools, cache={})
    return fresh_app, schools


def test_find_results_show_the_note(flagged_app):
    app, schools = flagged_app
    point = schools.geometry.iloc[0]
    page = app.test_client().get(f"/find?lat={point.y}&lon={point.x}&radius=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<span class="result-note">Note: {loader_note()}</span>' in html


def test_popup_fields_carry_the_note(flagged_app):
    app, _ = flagged_app
    build_id = app.extensions["csmap_data"].get().build_id
    record = app.test_client().get(f"/map/schools/0?build={build_id}").get_json()
    assert record["geocode_note"] == loader_note()
