"""Issue 16 on the server: embeds may be framed (only they), the state one-pager, downloads form."""

from __future__ import annotations

import re

import pytest

from geo.compare import state_comparison
from webmap import page_data
from webmap.figures import format_value, metric


def frame_policy(response) -> str:
    policy = response.headers.get("Content-Security-Policy", "")
    return next(d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors"))


@pytest.mark.parametrize("url", ["/embed/map", "/embed/states/OH"])
def test_embeds_may_be_framed_by_any_site(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert frame_policy(response) == "frame-ancestors *"
    assert "X-Frame-Options" not in response.headers
    html = response.get_data(as_text=True)
    assert 'id="sample-banner"' in html  # sample data is labelled inside the frame too
    assert 'class="site-header"' not in html  # minimal: the map, a title and a link out
    assert 'target="_blank"' in html


@pytest.mark.parametrize(
    "url", ["/", "/states/OH", "/gaps", "/about", "/downloads/", "/plan", "/states/OH.pdf"]
)
def test_every_other_page_still_refuses_framing(client, url):
    response = client.get(url)
    assert response.headers["X-Frame-Options"] == "DENY"
    if response.mimetype == "text/html":
        assert frame_policy(response) == "frame-ancestors 'none'"


def test_embedded_national_map_opens_embedded_state_views(client):
    html = client.get("/embed/map").get_data(as_text=True)
    config = re.search(r'<script type="application/json" id="csmap-config">(.*?)</script>', html, re.S).group(
        1
    )
    assert '"state_url": "/embed/states/"' in config


def test_unknown_embedded_state_is_a_404(client):
    assert client.get("/embed/states/ZZ").status_code == 404
    assert client.get("/embed/states/oh").status_code == 301


def test_state_page_sets_each_figure_beside_the_national_value_and_rank(client, app):
    html = client.get("/states/OH").get_data(as_text=True)
    table = re.search(r'<table class="compare" id="state-comparison">(.*?)</table>', html, re.S).group(1)
    with app.app_context():
        from webmap.data import get_data

        document = page_data.metrics_document(get_data())
    rows = state_comparison(document["states"], document["national"], "OH")
    body_rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, re.S)
    assert len(body_rows) == len(rows) >= 6
    for row, cells in zip(rows, body_rows, strict=True):
        info = metric(row.key)
        assert info.label in cells
        values = re.findall(r"<td>(.*?)</td>", cells, re.S)
        assert values[0] == format_value(row.value, info.kind)
        assert values[1] == format_value(row.national, info.kind)
        assert re.sub(r"<[^>]+>", "", values[2]).strip() == str(row.rank)
    assert 'Rank<span class="of"> of 52</span>' in table


def test_state_page_has_get_involved_downloads_share_and_marked_coalition_places(client):
    html = client.get("/states/OH").get_data(as_text=True)
    for heading in ("Districts and organizations", "School leaders", "Policy makers"):
        assert heading in html
    assert 'href="/states/OH.pdf"' in html
    assert "/downloads/schools.csv?state=OH" in html
    assert 'id="share-link"' in html and "/embed/states/OH" in html
    # The coalition box is filled from the records: stage, leads, join link (no placeholder left).
    assert 'data-pending="records"' not in html and "not yet recorded on this site" not in html
    box = html[html.index('id="state-records"') : html.index('id="get-involved"')]
    assert "stage:" in box and 'class="coalition-leads"' in box and 'class="coalition-join"' in box


def _list_names(html: str) -> list[str]:
    body = re.search(
        r'<table class="figures school-list" id="school-list">.*?<tbody>(.*?)</tbody>', html, re.S
    )
    return [
        # The name is the link to the school's page; an "(approximate location)" tag may follow it.
        re.sub(r"<[^>]+>", "", re.sub(r"</a>.*", "", n)).strip()
        for n in re.findall(r'<th scope="row">(.*?)</th>', body.group(1))
    ]


def test_state_school_list_is_sorted_and_paged_on_the_server(client, app):
    with app.app_context():
        from webmap.data import get_data

        data = get_data()
        positions = (page_data.school_states(data) == "TX").to_numpy()
        expected = sorted(data.schools.loc[positions, "name"].astype(str), key=str.casefold)
    first = _list_names(client.get("/states/TX").get_data(as_text=True))
    second = _list_names(client.get("/states/TX?schools_page=2").get_data(as_text=True))
    assert first == expected[:25] and second == expected[25:50]
    descending = _list_names(client.get("/states/TX?schools_order=desc").get_data(as_text=True))
    assert descending == expected[::-1][:25]
    html = client.get("/states/TX").get_data(as_text=True)
    assert f"{len(expected):,} schools, page 1 of {-(-len(expected) // 25)}" in html


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("schools_sort=bogus", "schools_sort"),
        ("schools_order=up", "schools_order"),
        ("schools_page=0", "schools_page"),
        ("schools_page=abc", "schools_page"),
        ("schools_page=9999", "schools_page"),
    ],
)
def test_state_school_list_refuses_bad_parameters_with_a_400(client, query, parameter):
    response = client.get(f"/states/TX?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert parameter in text
    assert "&#39;" in text  # quotes the value


def test_state_with_no_schools_says_so_plainly(fresh_client, monkeypatch):
    from webmap import state_schools

    monkeypatch.setattr(state_schools, "_state_table", lambda data, code: [])
    html = fresh_client.get("/states/WY").get_data(as_text=True)
    assert 'id="no-schools"' in html
    assert "no Community Schools on the map in Wyoming" in html
    assert 'id="school-list"' not in html


def test_downloads_form_names_states_and_groups_canadian_provinces(client):
    html = client.get("/downloads/").get_data(as_text=True)
    form = re.search(r'<select name="state">(.*?)</select>', html, re.S).group(1)
    groups = re.findall(r'<optgroup label="([^"]+)">', form)
    assert groups[0] == "States, DC and Puerto Rico"
    assert "Canadian provinces and territories" in groups
    assert '<option value="OH">Ohio (OH)</option>' in form
    canada = re.search(
        r'<optgroup label="Canadian provinces and territories">(.*?)</optgroup>', form, re.S
    ).group(1)
    assert '<option value="ON">Ontario (ON)</option>' in canada
    assert "Ohio" not in canada


def test_plan_csv_counts_are_whole_numbers(client):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(client.get("/plan.csv?state=RI&k=3").get_data(as_text=True))))
    assert len(rows) == 3
    for row in rows:
        for column in ("gain", "cumulative", "children_newly_reached", "zctas_newly_reached"):
            assert re.fullmatch(r"\d+", row[column]), (column, row[column])
    assert int(rows[-1]["cumulative"]) == sum(int(r["gain"]) for r in rows)


def test_what_if_sites_are_named_by_their_nearest_place(client):
    answer = client.get("/api/plan?site=41.824,-71.4128&site=39.96,-83.0").get_json()
    names = [p["name"] for p in answer["picks"]]
    assert names == ["Your site 1, near Providence, RI", "Your site 2, near Columbus, OH"]
