"""The registry's declared types agree with the files served, and the API with the registry."""

from __future__ import annotations

import json

from geo import registry
from webmap import openapi


def test_every_downloaded_column_has_the_registry_type(tiny_client):
    # The data dictionary takes each type from the frame as served; the registry declares it.
    # A column that drifts from its declaration (e.g. a count turned float) fails here.
    response = tiny_client.get("/downloads/data-dictionary.json")
    assert response.status_code == 200
    rows = [r for r in json.loads(response.data)["columns"] if r["column"] != "geometry"]
    assert {r["dataset"] for r in rows} == {"schools", "states", "counties"}
    plain = {"text": "string"}
    mismatched = [
        (r["dataset"], r["column"], r["type"], registry.columns_by_name(r["dataset"])[r["column"]].dtype)
        for r in rows
        if plain.get(r["type"], r["type"]) != registry.columns_by_name(r["dataset"])[r["column"]].dtype
    ]
    assert mismatched == []


def test_api_school_records_carry_the_registry_fields_in_order(tiny_client):
    body = json.loads(tiny_client.get("/api/schools?limit=2").data)
    served = list(body["schools"][0])
    declared = [c.name for c in registry.api_school_columns()]
    assert served == [c for c in declared if c in served]
    assert set(served) <= set(openapi.document()["components"]["schemas"]["School"]["properties"])
