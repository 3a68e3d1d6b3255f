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
    assert documented["locale"]["schema"]["enum"] == ["urban", "rural"]
    assert documented["site"]["schema"]["maxItems"] == 2
    assert "allowEmptyValue" not in documented["k"]
    allowing = Parameters((Param("state", "Scope.", allow_empty=True),))
    assert allowing.openapi()[0]["allowEmptyValue"] is True
    assert parse(allowing, "state=") == {"state": None}


def test_a_name_is_declared_once():
    with pytest.raises(ValueError, match="declared twice"):
        Parameters((K, K))
