"""The parameter tables of webmap.params: one declaration, parsed and documented."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from geo.errors import InvalidParameterError
from webmap.params import Param, Parameters

K = Param("k", "How many.", type="integer", minimum=1, maximum=100, default=10)
RADIUS = Param("radius_mi", "Miles.", type="number", minimum=0, exclusive_minimum=True, maximum=500)
LIMIT = Param("limit", "Page size.", type="integer", minimum=1, maximum=50, clamp=True, default=10)
LOCALE = Param("locale", "Class.", enum=("urban", "rural"), fold="lower")
SITE = Param("site", "Sites.", type="array", max_items=2, convert=lambda text: tuple(text.split(",")))
API = Parameters((K, RADIUS, LIMIT, LOCALE, SITE))


def parse(table: Parameters, query: str) -> dict:
    pairs = [tuple(part.split("=", 1)) for part in query.split("&") if part]
    return table.parse(MultiDict(pairs))


def test_defaults_bounds_folding_and_clamping():
    assert parse(API, "") == {"k": 10, "radius_mi": None, "limit": 10, "locale": None, "site": []}
    values = parse(API, "k=100&radius_mi=0.5&limit=51&locale=RURAL&site=1,2&site=3,4")
    sites = [("1", "2"), ("3", "4")]
    assert values == {"k": 100, "radius_mi": 0.5, "limit": 50, "locale": "rural", "site": sites}


@pytest.mark.parametrize(
    ("query", "parameter", "quoted"),
    [
        ("k=101", "k", "'101'"),
        ("k=0", "k", "'0'"),
        ("k=2.5", "k", "'2.5'"),
        ("radius_mi=0", "radius_mi", "'0'"),
        ("radius_mi=nan", "radius_mi", "'nan'"),
        ("limit=0", "limit", "'0'"),
        ("locale=downtown", "locale", "'downtown'"),
        ("k=", "k", "''"),
        ("k=1&k=2", "k", "['1', '2']"),
        ("site=1&site=2&site=3", "site", "3"),
        ("radius=5", "radius", "'radius'"),
    ],
)
def test_errors_name_the_parameter_and_quote_the_value(query, parameter, quoted):
    with pytest.raises(InvalidParameterError) as caught:
        parse(API, query)
    assert caught.value.parameter == parameter
    assert parameter in str(caught.value) and quoted in str(caught.value)


def test_a_page_ignores_stray_parameters_and_empty_fields():
    page = API.as_page()
    assert parse(page, "fbclid=x&utm_source=y&k=&locale=urban") == {**parse(API, ""), "locale": "urban"}
    with pytest.raises(InvalidParameterError):
        parse(page, "k=0")  # a known parameter is still checked


def test_the_document_is_written_from_the_same_rows():
    documented = {p["name"]: p for p in API.openapi()}
    assert documented["k"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
    assert documented["radius_mi"]["schema"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 500,
    }
    # A case-insensitive enum is a pattern of its values in any case (JSON Schema's enum has no case).
    assert documented["locale"]["schema"]["pattern"] == "^(?:[Uu][Rr][Bb][Aa][Nn]|[Rr][Uu][Rr][Aa][Ll])$"
    assert documented["locale"]["schema"]["minLength"] == 1
    assert "maximum" not in documented["limit"]["schema"]  # clamped, not refused
    assert documented["site"]["schema"]["maxItems"] == 2
    assert "allowEmptyValue" not in documented["k"]
    allowing = Parameters((Param("state", "Scope.", allow_empty=True),))
    assert allowing.openapi()[0]["allowEmptyValue"] is True
    assert parse(allowing, "state=") == {"state": None}


def test_a_name_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        Parameters((K, K))


def test_apis_take_values_as_sent_pages_trim_them():
    """An API is exactly as strict as its document: no trimming, numbers in JSON notation."""
    for query in ("locale=%20rural", "k=%205", "k=1_0", "radius_mi=1e400", "k=\u0665"):
        with pytest.raises(InvalidParameterError):
            parse(API, query.replace("%20", " "))
    assert parse(API.as_page(), "locale= rural&k= 5")["locale"] == "rural"
    assert parse(API, "radius_mi=2.5e1&k=05")["radius_mi"] == 25.0


def test_with_values_documents_the_codes_a_build_knows():
    state = Param("state", "Code.", pattern="[A-Za-z]{2}", fold="upper")
    (documented,) = Parameters((state,)).with_values("state", {"IN", "IL"}).openapi()
    assert documented["schema"]["pattern"] == "^(?:[Ii][Ll]|[Ii][Nn])$"
