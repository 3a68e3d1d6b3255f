"""Tests for geo.registry: the one declaration of every column and metric, and what reads it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geo import registry
from geo.school_columns import FIELD_BY_KEY, FIELDS, SCHOOL_COLUMNS, SYNONYMS, header_key

ROOT = Path(__file__).resolve().parents[2]


def test_every_header_synonym_names_one_field():
    # resolve_columns hands each header to the first field that claims it, so a
    # synonym claimed by two fields would make the field order matter.
    claimed = [header_key(s) for c in registry.SCHOOLS for s in c.synonyms]
    assert len(claimed) == len(set(claimed))
    assert all(s == header_key(s) for s in claimed)  # written as compared
    assert set(FIELD_BY_KEY) == set(claimed)


def test_school_schema_comes_from_the_registry():
    assert FIELDS == tuple(c.name for c in registry.SCHOOLS if c.synonyms)
    assert set(SYNONYMS) == set(FIELDS)
    assert SCHOOL_COLUMNS[0] == "school_id" and SCHOOL_COLUMNS[-1] == "is_sample"
    assert "stusps" not in SCHOOL_COLUMNS  # added by the build, not the loader
    api = [c.name for c in registry.api_school_columns()]
    assert "stusps" in api and "source_rows" not in api  # bookkeeping is left to the downloads
    assert [c for c in api if c != "stusps"] == [c for c in SCHOOL_COLUMNS if c != "source_rows"]


def test_every_dataset_names_each_column_once_and_describes_it():
    for dataset in ("schools", "states", "counties", "national", "locales", "coalitions"):
        columns = registry.dataset_columns(dataset)
        names = [c.name for c in columns]
        assert len(names) == len(set(names)), dataset
        assert all(c.description for c in columns), dataset
    with pytest.raises(KeyError, match="'nowhere'"):
        registry.dataset_columns("nowhere")


def test_a_column_outside_the_vocabularies_is_refused():
    with pytest.raises(ValueError, match="unknown dtype 'text'"):
        registry.Column("phone", "text", "a phone number")
    with pytest.raises(ValueError, match="unknown kind 'percent'"):
        registry.Column("share", "number", "a share", kind="percent")


def test_json_schema_of_a_column():
    precision = registry.columns_by_name("schools")["precision"]
    assert precision.json_schema() == {
        "type": "string",
        "enum": ["given", "street", "zip", "city", "state"],
        "description": precision.description,
    }
    status = registry.columns_by_name("states")["coalition_status"]
    assert status.json_schema(describe=False) == {
        "type": "string",
        "nullable": True,
        "enum": ["existing", "developing", "none", None],
    }


def test_the_metrics_every_level_carries_are_computed_in_that_order():
    from geo.metrics import METRIC_COLUMNS

    assert METRIC_COLUMNS == registry.level_metric_names()
    assert {
        "community_schools",
        "desert_counties",
        "rank_unserved_high_poverty",
    } <= registry.integer_columns()
    assert "children" not in registry.integer_columns()  # sums of ACS estimates are floats


#: Run in a fresh interpreter: a trial column and a trial metric are put into the
#: registry before anything else is imported, as one new entry in a tuple would be.
TRIAL = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    sys.path.insert(0, "tests/geo")
    from geo import registry

    fax = registry.Column(
        "fax", "string", "school fax number, as given", label="Fax", origin="input",
        synonyms=("fax", "fax_number", "facsimile"),
    )
    partners = registry.Column(
        "trial_member_organizations", "integer", "partner organisations of the state's coalition",
        label="Partner organisations", kind="count", nullable=False, header="members",
    )
    after = [c.name for c in registry.SCHOOLS].index("lead_partner") + 1
    registry.SCHOOLS = (*registry.SCHOOLS[:after], fax, *registry.SCHOOLS[after:])
    registry.STATE_METRICS = (*registry.STATE_METRICS, partners)

    import schools_fixture
    from geo.schools import FIELDS, SCHOOL_COLUMNS, prepare_schools
    from scripts.cmd_metrics import HEADERS
    from webmap import openapi
    from webmap.data_dictionary import describe, dictionary_rows
    from webmap.exports import API_SCHOOL_FIELDS, WHOLE_NUMBER_COLUMNS
    from webmap.figures import metric

    raw = pd.DataFrame(
        {"School Name": ["A", "B"], "ZIP": ["67001", "68001"], "Fax Number": ["785-555-0100", ""]}
    )
    schools = prepare_schools(raw, schools_fixture.reference()).schools
    schemas = openapi.document()["components"]["schemas"]
    rows = dictionary_rows({"schools": schools.drop(columns="geometry")})
    print(json.dumps({
        "fields": list(FIELDS),
        "layer": list(SCHOOL_COLUMNS),
        "loaded": [None if pd.isna(v) else v for v in schools["fax"]],
        "api": list(API_SCHOOL_FIELDS),
        "school_schema": schemas["School"]["properties"].get("fax"),
        "state_schema": schemas["StateMetrics"]["properties"].get("trial_member_organizations"),
        "dictionary": [r for r in rows if r["column"] == "fax"],
        "state_description": describe("states", "trial_member_organizations"),
        "label": metric("trial_member_organizations").label,
        "header": HEADERS.get("trial_member_organizations"),
        "whole": "trial_member_organizations" in WHOLE_NUMBER_COLUMNS,
    }))
    """
)


def test_adding_a_column_is_one_entry_in_the_registry():
    done = subprocess.run(
        [sys.executable, "-c", TRIAL], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # The loader reads it (header synonym), keeps it and writes it after lead_partner.
    assert "fax" in seen["fields"]
    assert seen["layer"][seen["layer"].index("lead_partner") + 1] == "fax"
    assert seen["loaded"] == ["785-555-0100", None]
    # The JSON API serves it, and the OpenAPI document and the data dictionary describe it.
    assert seen["api"][seen["api"].index("lead_partner") + 1] == "fax"
    assert seen["school_schema"] == {
        "type": "string",
        "nullable": True,
        "description": "school fax number, as given",
    }
    assert seen["dictionary"] == [
        {
            "dataset": "schools",
            "column": "fax",
            "type": "text",
            "description": "school fax number, as given",
        }
    ]
    # A state metric: OpenAPI, data dictionary, figure label, CLI header, whole-number exports.
    assert seen["state_schema"] == {
        "type": "integer",
        "description": "partner organisations of the state's coalition",
    }
    assert seen["state_description"] == "partner organisations of the state's coalition"
    assert seen["label"] == "Partner organisations"
    assert seen["header"] == "members"
    assert seen["whole"] is True
