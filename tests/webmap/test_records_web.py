"""The records on the web: the JSON API and downloads, partner pages, goal and state sections (issue 14)."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.mark.parametrize("name", ["coalitions", "communities", "partners"])
def test_record_api_is_labelled_and_downloads_as_csv(client, name):
    body = client.get(f"/api/{name}").get_json()
    assert body["is_sample"] is True and body["count"] == len(body[name]) > 0
    assert all(row["is_sample"] for row in body[name])
    response = client.get(f"/api/{name}?f=csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == body["count"] and {r["is_sample"] for r in rows} == {"True"}


def test_sample_sizes_and_stages(client):
    coalitions = client.get("/api/coalitions").get_json()["coalitions"]
    stages = {c["stage"] for c in coalitions}
    assert stages <= {"exploring", "emerging", "evolving", "expanding", "none"} and len(stages) == 5
    assert sum(c["stage"] != "none" for c in coalitions) == 40
    # A private contact is never published.
    assert all(c["contact_email"] is None for c in coalitions if not c["contact_public"])
    communities = client.get("/api/communities").get_json()["communities"]
    partners = client.get("/api/partners").get_json()["partners"]
    assert 50 <= len(communities) <= 70 and 250 <= len(partners) <= 350
    assert all(c["name"].startswith("Sample") for c in communities + partners)
    assert sum(c["school_count"] > 0 for c in communities) >= len(communities) - 2


def test_partner_search_and_filters_refuse_bad_values(client):
    everything = client.get("/api/partners").get_json()["partners"]
    health = client.get("/api/partners?type=health").get_json()["partners"]
    assert health and len(health) < len(everything) and {p["partner_type"] for p in health} == {"health"}
    bad = client.get("/api/partners?type=alien")
    assert (
        bad.status_code == 400
        and bad.get_json()["parameter"] == "type"
        and "'alien'" in bad.get_json()["description"]
    )
    state = client.get("/api/communities?state=ZZ")
    assert state.status_code == 400 and "'ZZ'" in state.get_json()["description"]


def test_partner_directory_and_page(client):
    partners = client.get("/api/partners").get_json()["partners"]
    first = max(partners, key=lambda p: p["school_count"])
    word = first["name"].split()[1]
    page = client.get(f"/partners?q={word}").get_data(as_text=True)
    assert first["name"].replace("&", "&amp;") in page
    assert client.get("/partners?q=zzzqqq").get_data(as_text=True).count("No partner matches") == 1
    one = client.get(f"/partners/{first['partner_id']}")
    assert one.status_code == 200 and "SAMPLE" in one.get_data(as_text=True)
    assert one.get_data(as_text=True).count('<tr><th scope="row">') == first["school_count"]
    assert client.get("/partners/no-such-partner").status_code == 404


def test_state_metrics_count_distinct_partners(client):
    states = {s["stusps"]: s for s in client.get("/api/states").get_json()["states"]}
    partners = client.get("/api/partners").get_json()["partners"]
    illinois = states["IL"]
    assert illinois["partner_organizations"] > 0
    assert illinois["partner_organizations"] >= sum(
        p["stusps"] == "IL" and p["school_count"] > 0 for p in partners
    )
    assert illinois["coalition_stage"] in {"exploring", "emerging", "evolving", "expanding", "none"}


def test_landing_page_goal_and_state_sections(client):
    national = client.get("/api/states").get_json()["national"]
    page = client.get("/").get_data(as_text=True)
    assert 'id="national-goal"' in page
    assert f"{national['community_schools']:,} of 25,000 Community Schools" in page
    assert f"{national['community_schools'] / 25000:.0%}" in page
    state = client.get("/states/IL").get_data(as_text=True)
    assert 'id="community-table"' in state or "No Coalition Community" in state
    assert client.get("/map/communities.geojson?state=IL").get_json()["type"] == "FeatureCollection"


def test_goal_is_configurable(fresh_app):
    fresh_app.config.update(GOAL_SCHOOLS="10000", GOAL_CHILDREN="5000000")
    page = fresh_app.test_client().get("/").get_data(as_text=True)
    assert "of 10,000 Community Schools" in page and "of 5,000,000 children" in page


def test_target_mode_api_and_page(client):
    answer = client.get("/api/plan/target?target_children=50000&state=IL").get_json()
    assert answer["reachable"] and answer["k"] == len(answer["plan"]["picks"])
    assert (
        answer["plan"]["picks"][-1]["cumulative"]
        >= 50000
        > (answer["plan"]["picks"][-2]["cumulative"] if answer["k"] > 1 else 0)
    )
    too_many = client.get("/api/plan/target?target_children=90000000&state=RI").get_json()
    assert not too_many["reachable"] and "cannot reach" in too_many["message"]
    # The former target page sends its query to /plan's target mode, which shows the same answer.
    moved = client.get("/plan/target?target_children=50000&state=IL")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/plan?mode=target&target_children=50000&state=IL"
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert f"{answer['k']} new site" in page


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("/api/coalitions", "CoalitionList"),
        ("/api/communities?state=IL", "CommunityList"),
        ("/api/partners?type=health", "PartnerList"),
        ("/api/plan/target?target_children=5000&state=RI", "TargetAnswer"),
        ("/api/partners?type=x", "Error"),
    ],
)
def test_record_answers_match_their_documented_schemas(client, url, schema):
    from webmap import openapi

    validator_module = pytest.importorskip("openapi_schema_validator")
    document = openapi.document()
    validator = validator_module.OAS30Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    )
    body = client.get(url).get_json()
    assert [e.message for e in validator.iter_errors(body)] == []
