"""The /plan page's target mode, keep/exclude re-runs and typed places (issues 14.9, 16.6, 16.8).

Runs on the session's real build of the embedded sample, with one module-scoped app.
Rhode Island keeps every plan small: it has fewer ZCTA candidates than the page's
largest k, so the cap on k shows too.
"""

from __future__ import annotations

import re

import pytest

from tests.webmap.test_plan import page_config, page_parts


@pytest.fixture(scope="module")
def client(shared_app):
    """A client of the session's shared app (tests/webmap/conftest.py); this module only reads it."""
    return shared_app.test_client()


def get_json(client, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------
# Target mode on the page


@pytest.mark.parametrize(("state", "share"), [("RI", 0.1), ("RI", 0.6), ("DE", 0.35)])
def test_page_target_k_is_the_brute_force_smallest_k(client, state, share):
    # The most the scope's candidates can reach, then N as a share of it.
    most = get_json(client, f"/api/plan/target?target_children=100000000&state={state}")["most_reachable"]
    target = max(1, int(most * share))
    config = page_config(get_page(client, f"/plan?mode=target&target_children={target}&state={state}"))
    # Brute force over k with the plain planner: the first k whose gain reaches N.
    expected = next(
        k
        for k in range(1, 101)
        if sum(p["gain"] for p in get_json(client, f"/api/plan?state={state}&k={k}")["picks"]) >= target
    )
    assert len(config["picks"]) == expected
    plain = get_json(client, f"/api/plan?state={state}&k={expected}")["picks"]
    assert [p["candidate_id"] for p in config["picks"]] == [p["candidate_id"] for p in plain]
    assert config["page_query"] == {
        "mode": "target",
        "state": state,
        "objective": "unserved",
        "target_children": target,
    }


def test_page_target_unreachable_says_so_plainly_without_a_map(client):
    html = get_page(client, "/plan?mode=target&target_children=90000000&state=RI")
    assert "cannot reach 90,000,000 more children" in html
    assert 'id="plan-config"' not in html and 'id="mode-target" checked' in html


def test_page_target_mode_without_n_is_the_form_set_to_a_target(client):
    html = get_page(client, "/plan?mode=target")
    assert 'id="mode-target" checked' in html and 'id="plan-config"' not in html


def test_page_target_bad_n_is_400_naming_it(client):
    response = client.get("/plan?mode=target&target_children=many")
    assert response.status_code == 400 and "target_children" in response.get_data(as_text=True)


# --------------------------------------------------------------------------
# Keep and exclude


def test_keep_and_exclude_rerun_the_plan(client):
    plain = [p["candidate_id"] for p in get_json(client, "/api/plan?state=RI&k=4")["picks"]]
    keep, drop = plain[3], plain[0]
    answer = get_json(client, f"/api/plan?state=RI&k=4&keep={keep}&exclude={drop}")
    ids = [p["candidate_id"] for p in answer["picks"]]
    assert ids[0] == keep and drop not in ids and len(ids) == 4
    assert answer["query"]["keep"] == [keep] and answer["query"]["exclude"] == [drop]
    assert f"keep={keep}" in answer["links"]["csv"] and f"exclude={drop}" in answer["links"]["page"]
    # The page shows the same picks, the kept one ticked, the excluded one listed to undo.
    html = get_page(client, answer["links"]["page"])
    assert [p["candidate_id"] for p in page_config(html)["picks"]] == ids
    assert re.search(rf'name="keep" value="{keep}" id="keep-1" aria-label="[^"]+" checked', html)
    assert f'name="exclude" value="{drop}" checked' in html
    # The CSV download carries the same sites.
    csv = client.get(answer["links"]["csv"]).get_data(as_text=True)
    assert all(cid in csv for cid in ids) and drop not in csv.split("\n", 1)[1]


@pytest.mark.parametrize(
    ("query", "parameter", "quoted"),
    [
        ("k=3&keep=99999&keep=00000", "keep", ["'99999'", "'00000'"]),
        ("k=3&exclude=12345", "exclude", ["'12345'"]),
        ("k=3&keep=abc", "keep", ["'abc'"]),
        ("site=41.8,-71.5&keep=02903", "keep", ["'02903'"]),
    ],
)
def test_unknown_or_misplaced_ids_are_400_naming_them(client, query, parameter, quoted):
    body = get_json(client, f"/api/plan?state=RI&{query}", status=400)
    assert body["parameter"] == parameter
    for text in quoted:
        assert text in body["description"]


def test_k_above_the_scopes_candidates_is_capped_and_said(client):
    answer = get_json(client, "/api/plan?state=RI&k=100")
    n = answer["assumptions"]["candidates"]
    assert n < 100 and len(answer["picks"]) == answer["assumptions"]["k"] == n
    assert any("k=100 was asked" in note and f"k={n}" in note for note in answer["assumptions"]["notes"])


# --------------------------------------------------------------------------
# A typed place as a what-if site


def test_a_typed_place_becomes_a_what_if_site_named_by_it(client):
    config = page_config(get_page(client, "/plan?state=RI&k=3&site=41.5,-71.3&place=Providence,+RI"))
    whatif = config["whatif"]
    assert len(whatif["query"]["sites"]) == 2  # the typed place comes after the clicked site
    lat, lon = whatif["query"]["sites"][1]
    assert abs(lat - 41.82) < 0.1 and abs(lon + 71.41) < 0.1  # Providence's centre
    assert whatif["picks"][1]["name"] == "Your site 2, near Providence, RI"


@pytest.mark.parametrize(
    ("place", "needle"),
    [
        ("Springfield", "is in several states"),
        ("Ohio", "is a state"),
        ("Xyzzyqville", "No place or ZIP called"),
    ],
)
def test_a_place_that_cannot_be_placed_says_why_and_adds_nothing(client, place, needle):
    html = get_page(client, f"/plan?state=RI&k=3&place={place}")
    assert needle in html and "whatif-error" in html
    assert page_config(html)["whatif"] is None


def test_a_zip_is_placed_too(client):
    html = get_page(client, "/plan?state=RI&k=3&place=02903")
    assert "Added “ZIP 02903" in html
    assert len(page_config(html)["whatif"]["query"]["sites"]) == 1


def test_page_forms_carry_the_mode_and_sites(client):
    html = get_page(client, "/plan?state=RI&k=3&site=41.5,-71.3")
    parts = page_parts(html)
    assert parts.pick_rows == 3
    assert html.count('name="site" value="41.5,-71.3"') == 2  # the place form and the re-run form


# --------------------------------------------------------------------------
# POST bodies: what the OpenAPI document allows is accepted, what it does not is refused


@pytest.mark.parametrize(
    ("body", "parameter", "needle"),
    [
        ({"candidates": [{"lat": "30", "lon": -98}]}, "candidates", "lat must be a number"),
        ({"candidates": [{"lat": True, "lon": -98}]}, "candidates", "lat must be a number"),
        ({"candidates": [{"lat": 30, "lon": -98, "latitude": 30}]}, "candidates", "'latitude'"),
        ({"candidates": [{"lat": 30, "lon": -98, "name": 7}]}, "candidates", "name must be a string"),
        ({"candidates": [30, -98]}, "candidates", "must be an object"),
        ({"k": "5", "candidates": [{"lat": 30, "lon": -98}]}, "k", "JSON integer"),
        ({"what_if": 1, "candidates": [{"lat": 30, "lon": -98}]}, "what_if", "JSON boolean"),
        ({"candidates": {"type": "FeatureCollection", "features": []}}, "candidates", "application/geo+json"),
    ],
)
def test_post_json_outside_the_schema_is_400(client, body, parameter, needle):
    response = client.post("/api/plan", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["parameter"] == parameter and needle in response.get_json()["description"]


def test_post_k_above_the_candidates_is_capped(client):
    body = {"state": "RI", "k": 5, "candidates": [{"lat": 41.8, "lon": -71.4}, {"lat": 41.5, "lon": -71.3}]}
    answer = client.post("/api/plan", json=body).get_json()
    assert len(answer["picks"]) == answer["assumptions"]["k"] == 2
    assert any("k=5 was asked" in note for note in answer["assumptions"]["notes"])


def test_every_csv_the_document_describes_is_accepted(client):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from webmap.plan_request import CSV_PATTERN

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.from_regex(f"^(?:{CSV_PATTERN})$", fullmatch=True))
    def accepted(text):
        response = client.post("/api/plan?state=RI&k=1", data=text.encode(), content_type="text/csv")
        assert response.status_code == 200, (text, response.get_data(as_text=True))

    accepted()
