"""Online geocoders, tested only against local fakes (tests/fakes) on 127.0.0.1."""

from __future__ import annotations

import math
import sqlite3

import pandas as pd
import pytest

from geo import _http
from geo.errors import GeocodeError, InvalidParameterError
from geo.geocode_online import (
    CENSUS_BENCHMARK,
    CENSUS_MAX_BATCH,
    DEFAULT_USER_AGENT,
    OUTPUT_COLUMNS,
    census_batch_csv,
    check_user_agent,
    geocode_online,
    normalize_address,
    parse_census_batch,
    parse_nominatim,
)
from tests.fakes.fake_census import FakeCensus
from tests.fakes.fake_nominatim import FakeNominatim

AGENT = "community-schools-map/test (+tests@example.org)"


@pytest.fixture
def census():
    with FakeCensus() as fake:
        yield fake


@pytest.fixture
def nominatim():
    with FakeNominatim(expected_user_agent=AGENT) as fake:
        yield fake


def addresses(rows):
    return pd.DataFrame(rows, columns=["key", "street", "city", "state", "zip"])


THREE = addresses(
    [
        ("a", "4600 Silver Hill Rd", "Washington", "DC", "20233"),
        ("b", "1 Nowhere Ln", "Springfield", "IL", "62701"),
        ("c", "100 Main St", "Springfield", "MA", "01103"),
    ]
)


def many_unknown(count):
    return addresses([(f"k{i}", f"{i} Unknown Rd", "Testville", "KS", "66000") for i in range(count)])


# --- pure parts ---------------------------------------------------------------------------------


def test_census_batch_csv_has_five_columns_no_header_and_quotes_commas():
    body = census_batch_csv(
        [
            ("0", "4600 Silver Hill Rd", "Washington", "DC", "20233"),
            ("1", "1 Main St, Apt 2", "Boston", "MA", ""),
        ]
    )
    assert body.decode().splitlines() == [
        "0,4600 Silver Hill Rd,Washington,DC,20233",
        '1,"1 Main St, Apt 2",Boston,MA,',
    ]
    with pytest.raises(InvalidParameterError, match="5 fields"):
        census_batch_csv([("0", "street only")])


def test_parse_census_batch_reads_lon_lat_order_and_every_flag():
    # The shape of a real answer: every field quoted, rows in any order, short unmatched rows.
    text = (
        '"2","1 Nowhere Ln, Springfield, IL, 62701","No_Match"\n'
        '"1","4600 Silver Hill Rd, Washington, DC, 20233","Match","Exact",'
        '"4600 SILVER HILL RD, WASHINGTON, DC, 20233","-76.92744,38.845985","76355984","L"\n'
        "\n"
        '"3","100 Main St, Springfield, MA, 01103","Tie"\n'
    )
    frame = parse_census_batch(text).set_index("id")
    assert frame.loc["1", "lon"] == pytest.approx(-76.92744)
    assert frame.loc["1", "lat"] == pytest.approx(38.845985)
    assert frame.loc["1", "precision"] == "street"
    assert frame.loc["1", "matched_address"] == "4600 SILVER HILL RD, WASHINGTON, DC, 20233"
    assert frame.loc["1", "match_type"] == "Exact"
    assert frame["status"].to_dict() == {"2": "no_match", "1": "match", "3": "tie"}
    assert math.isnan(frame.loc["2", "lat"]) and math.isnan(frame.loc["3", "lon"])


@pytest.mark.parametrize(
    "text, problem",
    [
        ("<html><body>down for maintenance</body></html>", "malformed row 1"),
        ('"1","x","Maybe"\n', "malformed row 1"),
        ('"1","x","Match","Exact","X","not-a-number","1","L"\n', "unreadable coordinates"),
        ('"1","x","Match","Exact","X","38.8,-76.9,1","1","L"\n', "unreadable coordinates"),
        ('"1","x","Match","Exact","X","-200,38.8","1","L"\n', "unreadable coordinates"),
        ('"1","x","Match","Exact"\n', "without coordinates"),
        ('"1","x","No_Match"\n"1","x","No_Match"\n', "answered twice"),
    ],
)
def test_parse_census_batch_rejects_malformed_answers(text, problem):
    with pytest.raises(GeocodeError, match=problem):
        parse_census_batch(text)


@pytest.mark.parametrize(
    "raw, status, precision",
    [
        (
            {"lat": "38.8977", "lon": "-77.0365", "place_rank": 30, "addresstype": "building"},
            "match",
            "street",
        ),
        ({"lat": "38.9", "lon": "-77.0", "place_rank": 26, "addresstype": "road"}, "match", "street"),
        ({"lat": "45.42", "lon": "-75.70", "place_rank": 21, "type": "postcode"}, "match", "zip"),
        ({"lat": "39.78", "lon": "-89.65", "place_rank": 16, "addresstype": "city"}, "match", "city"),
        ({"lat": "40.0", "lon": "-89.0", "place_rank": 8, "addresstype": "state"}, "match", "state"),
        ({"lat": "39.8", "lon": "-98.5", "place_rank": 4, "addresstype": "country"}, "no_match", None),
        ({"lat": "39.8", "lon": "-98.5"}, "match", "city"),
    ],
)
def test_parse_nominatim_maps_place_rank_to_precision(raw, status, precision):
    result = parse_nominatim(raw)
    assert (result["status"], result["precision"]) == (status, precision)
    if status == "match":
        assert (result["lat"], result["lon"]) == (float(raw["lat"]), float(raw["lon"]))


def test_parse_nominatim_none_is_no_match_and_junk_raises():
    assert parse_nominatim(None)["status"] == "no_match"
    assert math.isnan(parse_nominatim(None)["lat"])
    with pytest.raises(GeocodeError, match="lat/lon"):
        parse_nominatim({"display_name": "somewhere"})
    with pytest.raises(GeocodeError, match="out of range"):
        parse_nominatim({"lat": "95", "lon": "0"})


def test_normalize_address_ignores_case_and_spacing():
    assert normalize_address(" 4600  Silver Hill Rd", "washington", "dc", "20233") == normalize_address(
        "4600 SILVER HILL RD ", "Washington", "DC", "20233"
    )
    assert normalize_address("1 A St", "X", "DC", "20001") != normalize_address("1 A St", "X", "DC", "20002")


@pytest.mark.parametrize("agent", ["", "   ", "geopy/2.5.0", "python-requests/2.32", "my-application"])
def test_check_user_agent_refuses_anonymous_agents(agent):
    with pytest.raises(InvalidParameterError, match="user_agent") as caught:
        check_user_agent(agent)
    assert caught.value.parameter == "user_agent"


def test_check_user_agent_defaults_to_the_project():
    assert check_user_agent(None) == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("community-schools-map/")
    assert check_user_agent(f" {AGENT} ") == AGENT


# --- Census against the fake --------------------------------------------------------------------


def test_census_geocodes_matches_keeps_unmatched_and_sends_the_documented_form(census, tmp_path):
    given = THREE.copy()
    out = geocode_online(
        given,
        provider="census",
        cache_path=tmp_path / "g.sqlite",
        base_url=census.url,
        user_agent=AGENT,
        progress=False,
    )
    pd.testing.assert_frame_equal(given, THREE)  # input untouched
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert out["key"].tolist() == ["a", "b", "c"]
    assert out["status"].tolist() == ["match", "no_match", "tie"]
    assert out["method"].tolist() == ["census"] * 3
    a = out.iloc[0]
    assert (a["lat"], a["lon"]) == (pytest.approx(38.845985), pytest.approx(-76.92744))
    assert a["precision"] == "street"
    assert a["matched_address"] == "4600 SILVER HILL RD, WASHINGTON, DC, 20233"
    assert out.loc[1:, ["lat", "lon"]].isna().all().all()
    assert out.loc[1:, ["precision", "matched_address"]].isna().all().all()
    assert out["lat"].dtype == "float64"
    [request] = census.requests
    assert request["benchmark"] == CENSUS_BENCHMARK
    assert request["user_agent"] == AGENT
    sent = [record[1:] for record in request["records"]]
    assert sent == [list(row[1:]) for row in THREE.itertuples(index=False)]


def test_census_rerun_asks_nothing_twice_including_no_matches(census, tmp_path):
    cache = tmp_path / "g.sqlite"
    first = geocode_online(THREE, provider="census", cache_path=cache, base_url=census.url, progress=False)
    assert census.hits == 1
    second = geocode_online(THREE, provider="census", cache_path=cache, base_url=census.url, progress=False)
    assert census.hits == 1
    pd.testing.assert_frame_equal(first, second)
    with sqlite3.connect(cache) as connection:
        query = "SELECT status, count(*) FROM geocode_cache GROUP BY status"
        stored = dict(connection.execute(query).fetchall())
    assert stored == {"match": 1, "no_match": 1, "tie": 1}


def test_census_sends_duplicate_addresses_once_and_skips_rows_without_street(census, tmp_path):
    given = addresses(
        [
            ("x", "4600 Silver Hill Rd", "Washington", "DC", "20233"),
            ("y", "4600  SILVER HILL RD", "washington", "DC", "20233"),
            ("z", None, "Washington", "DC", "20233"),
        ]
    )
    out = geocode_online(
        given, provider="census", cache_path=tmp_path / "g.sqlite", base_url=census.url, progress=False
    )
    assert census.records_sent == [1]
    assert out["status"].tolist() == ["match", "match", "no_match"]
    assert out["lat"].iloc[1] == pytest.approx(38.845985)


def test_census_splits_more_than_10000_rows_into_batches(census, tmp_path):
    given = many_unknown(CENSUS_MAX_BATCH + 1)
    out = geocode_online(
        given, provider="census", cache_path=tmp_path / "g.sqlite", base_url=census.url, progress=False
    )
    assert census.records_sent == [CENSUS_MAX_BATCH, 1]
    assert len(out) == CENSUS_MAX_BATCH + 1
    assert (out["status"] == "no_match").all()


def test_fake_census_enforces_the_10000_record_limit(census):
    body = census_batch_csv((str(i), f"{i} Unknown Rd", "T", "KS", "") for i in range(CENSUS_MAX_BATCH + 1))
    with pytest.raises(GeocodeError, match="HTTP 400"):
        _http.post_census_batch(census.url, body, CENSUS_BENCHMARK, 30)


def test_census_interrupted_run_resumes_from_the_cache(tmp_path):
    cache = tmp_path / "g.sqlite"
    given = many_unknown(CENSUS_MAX_BATCH + 2)
    with FakeCensus(fail_after=1) as failing:
        with pytest.raises(GeocodeError, match=r"census.*HTTP 500") as caught:
            geocode_online(given, provider="census", cache_path=cache, base_url=failing.url, progress=False)
        assert failing.records_sent == [CENSUS_MAX_BATCH, 2]
    assert failing.url in str(caught.value)
    with FakeCensus() as healthy:
        out = geocode_online(given, provider="census", cache_path=cache, base_url=healthy.url, progress=False)
        assert healthy.records_sent == [2]
    assert len(out) == CENSUS_MAX_BATCH + 2


def test_census_malformed_answer_raises_geocode_error_and_caches_nothing(tmp_path):
    cache = tmp_path / "g.sqlite"
    with FakeCensus(mode="garbage") as fake:
        with pytest.raises(GeocodeError, match="malformed"):
            geocode_online(THREE, provider="census", cache_path=cache, base_url=fake.url, progress=False)
    with sqlite3.connect(cache) as connection:
        assert connection.execute("SELECT count(*) FROM geocode_cache").fetchone() == (0,)


def test_census_timeout_and_refused_connection_raise_geocode_error(tmp_path):
    body = census_batch_csv([("0", "4600 Silver Hill Rd", "Washington", "DC", "20233")])
    with FakeCensus(delay=1.0) as slow:
        with pytest.raises(GeocodeError, match="did not answer within 0.2 s"):
            _http.post_census_batch(slow.url, body, CENSUS_BENCHMARK, 0.2)
    closed_url = slow.url  # closed: nothing listens there any more
    with pytest.raises(GeocodeError, match="could not be reached"):
        geocode_online(
            THREE, provider="census", cache_path=tmp_path / "g.sqlite", base_url=closed_url, progress=False
        )


# --- Nominatim against the fake -----------------------------------------------------------------


def test_nominatim_rate_limit_user_agent_precision_and_cache(nominatim, tmp_path):
    given = addresses(
        [
            ("w", "1600 Pennsylvania Avenue NW", "Washington", "DC", "20500"),
            ("o", "", "Ottawa", "ON", "K1A 0A6"),
            ("n", "1 Nowhere Ln", "Springfield", "IL", "62701"),
        ]
    )
    cache = tmp_path / "g.sqlite"
    out = geocode_online(
        given,
        provider="nominatim",
        cache_path=cache,
        base_url=nominatim.url,
        user_agent=AGENT,
        progress=False,
    )
    assert out["status"].tolist() == ["match", "match", "no_match"]
    assert out["precision"].tolist()[:2] == ["street", "zip"] and pd.isna(out["precision"].iloc[2])
    assert out["method"].tolist() == ["nominatim"] * 3
    assert (out["lat"].iloc[0], out["lon"].iloc[0]) == (38.8976997, -77.0365532)
    assert nominatim.hits == 3
    assert {entry["user_agent"] for entry in nominatim.requests} == {AGENT}
    first = nominatim.requests[0]["params"]
    assert first["countrycodes"] == "us,ca"
    assert (first["street"], first["city"], first["state"], first["postalcode"]) == (
        "1600 Pennsylvania Avenue NW",
        "Washington",
        "DC",
        "20500",
    )
    assert "street" not in nominatim.requests[1]["params"]
    # Measured at arrival, as the server sees it (Nominatim policy: at most 1 request/s).
    assert len(nominatim.gaps) == 2 and min(nominatim.gaps) >= 1.0, nominatim.gaps

    again = geocode_online(
        given,
        provider="nominatim",
        cache_path=cache,
        base_url=nominatim.url,
        user_agent=AGENT,
        progress=False,
    )
    assert nominatim.hits == 3
    pd.testing.assert_frame_equal(out, again)


def test_nominatim_blocked_user_agent_raises_with_status(nominatim, tmp_path):
    with pytest.raises(GeocodeError, match=r"nominatim.*HTTP 403"):
        geocode_online(
            THREE.iloc[:1],
            provider="nominatim",
            cache_path=tmp_path / "g.sqlite",
            base_url=nominatim.url,
            user_agent="some-other-app/1.0",
            progress=False,
        )
    assert nominatim.requests[0]["user_agent"] == "some-other-app/1.0"


def test_nominatim_rejected_query_is_an_uncached_error_row(nominatim, tmp_path):
    given = addresses([("bad", "<bad query>", "X", "DC", "")])
    cache = tmp_path / "g.sqlite"
    out = geocode_online(
        given,
        provider="nominatim",
        cache_path=cache,
        base_url=nominatim.url,
        user_agent=AGENT,
        progress=False,
    )
    assert out["status"].tolist() == ["error"] and math.isnan(out["lat"].iloc[0])
    with sqlite3.connect(cache) as connection:
        assert connection.execute("SELECT count(*) FROM geocode_cache").fetchone() == (0,)


# --- argument checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, parameter",
    [
        ({"provider": "google"}, "provider"),
        ({"provider": "census", "base_url": "ftp://example.org"}, "base_url"),
        ({"provider": "nominatim", "user_agent": "geopy/2.5.0"}, "user_agent"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(kwargs, parameter, tmp_path):
    with pytest.raises(InvalidParameterError) as caught:
        geocode_online(THREE, cache_path=tmp_path / "g.sqlite", progress=False, **kwargs)
    assert caught.value.parameter == parameter
    assert not (tmp_path / "g.sqlite").exists()


def test_bad_input_frames_are_refused(census, tmp_path):
    with pytest.raises(InvalidParameterError, match="lack column"):
        geocode_online(
            THREE.drop(columns="zip"),
            provider="census",
            cache_path=tmp_path / "g.sqlite",
            base_url=census.url,
            progress=False,
        )
    duplicated = pd.concat([THREE, THREE.iloc[:1]], ignore_index=True)
    with pytest.raises(InvalidParameterError, match="unique"):
        geocode_online(
            duplicated,
            provider="census",
            cache_path=tmp_path / "g.sqlite",
            base_url=census.url,
            progress=False,
        )
    assert census.hits == 0


def test_empty_input_and_empty_addresses_ask_nothing(nominatim, tmp_path):
    cache = tmp_path / "g.sqlite"
    out = geocode_online(
        THREE.iloc[:0],
        provider="nominatim",
        cache_path=cache,
        base_url=nominatim.url,
        user_agent=AGENT,
        progress=False,
    )
    assert list(out.columns) == list(OUTPUT_COLUMNS) and out.empty
    blank = addresses([("e", None, " ", "", None)])
    out = geocode_online(
        blank,
        provider="nominatim",
        cache_path=cache,
        base_url=nominatim.url,
        user_agent=AGENT,
        progress=False,
    )
    assert out["status"].tolist() == ["no_match"]
    assert nominatim.hits == 0
