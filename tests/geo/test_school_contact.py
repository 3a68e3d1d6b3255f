"""A school's phone, website and email: synonyms, normalization, notes, never a lost row (issue 15)."""

from __future__ import annotations

import pandas as pd
import pytest

from geo import registry
from geo.school_columns import resolve_columns
from geo.school_contact import is_email, is_http_url, normalize_contact
from geo.schools import prepare_schools
from tests.geo import schools_fixture as fx


@pytest.fixture(scope="module")
def reference():
    return fx.reference()


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Phone Number", "phone"),
        ("Telephone", "phone"),
        ("Tel.", "phone"),
        ("Web site", "website"),
        ("URL", "website"),
        ("Website", "website"),
        ("E-mail", "email"),
        ("Email Address", "email"),
    ],
)
def test_contact_headers_are_recognized(header, field):
    assert resolve_columns(["School Name", "ZIP", header]) == {
        "name": "School Name",
        "zip": "ZIP",
        field: header,
    }


def test_contact_columns_are_declared_once_in_the_registry():
    columns = registry.columns_by_name("schools")
    for name in ("phone", "website", "email"):
        assert columns[name].origin == "input" and columns[name].nullable
        assert name in registry.school_fields()
        assert columns[name] in registry.api_school_columns()


@pytest.mark.parametrize(
    ("given", "phone"),
    [
        ("312.555.0100", "(312) 555-0100"),
        ("+1 (312) 555-0100", "(312) 555-0100"),
        ("1-800-555-0199 ext. 4", "(800) 555-0199 x4"),
        ("3125550100", "(312) 555-0100"),
    ],
)
def test_north_american_phones_are_normalized(given, phone):
    out, notes = normalize_contact(pd.DataFrame({"phone": [given]}))
    assert out["phone"].tolist() == [phone]
    assert notes.tolist() == [""]


@pytest.mark.parametrize(
    ("given", "website"),
    [
        ("www.lincoln.example.org", "https://www.lincoln.example.org"),
        ("lincoln.example.org/about?x=1", "https://lincoln.example.org/about?x=1"),
        ("http://lincoln.example.org", "http://lincoln.example.org"),
        ("HTTPS://Lincoln.example.org/a", "HTTPS://Lincoln.example.org/a"),
    ],
)
def test_websites_get_a_scheme_and_stay_http(given, website):
    out, notes = normalize_contact(pd.DataFrame({"website": [given]}))
    assert out["website"].tolist() == [website]
    assert is_http_url(website) and notes.tolist() == [""]


@pytest.mark.parametrize(
    ("column", "given"),
    [
        ("website", "javascript:alert(1)"),
        ("website", "ftp://files.example.org"),
        ("website", "data:text/html,<b>x</b>"),
        ("website", "not a web address"),
        ("email", "office at lincoln"),
        ("email", "a@b"),
    ],
)
def test_bad_links_are_left_out_with_a_note_quoting_them(column, given):
    out, notes = normalize_contact(pd.DataFrame({column: [given]}))
    assert out[column].tolist() == [""]
    assert repr(given) in notes[0] and column in notes[0]


def test_an_odd_phone_is_kept_as_given_with_a_note():
    out, notes = normalize_contact(pd.DataFrame({"phone": ["555-0100"]}))
    assert out["phone"].tolist() == ["555-0100"]
    assert "'555-0100'" in notes[0]


def test_mailto_prefix_is_dropped():
    out, _ = normalize_contact(pd.DataFrame({"email": ["mailto:office@lincoln.example.org"]}))
    assert out["email"].tolist() == ["office@lincoln.example.org"]
    assert is_email("office@lincoln.example.org") and not is_email("javascript:x@y.z w")


def test_contact_through_the_loader_keeps_every_row(reference):
    raw = pd.DataFrame(
        {
            "School Name": ["Alpha School", "Beta School", "Gamma School"],
            "ZIP": ["67001", "67002", "67001"],
            "Phone Number": ["(620) 555 0101", "12", ""],
            "Web site": ["alpha.example.org", "javascript:alert(1)", ""],
            "E-mail": ["office@alpha.example.org", "not-an-email", ""],
        }
    )
    result = prepare_schools(raw, reference)
    schools = result.schools.set_index("name")
    assert len(schools) == 3 and result.rejects.empty
    assert schools.loc["Alpha School", "phone"] == "(620) 555-0101"
    assert schools.loc["Alpha School", "website"] == "https://alpha.example.org"
    assert schools.loc["Alpha School", "email"] == "office@alpha.example.org"
    beta = schools.loc["Beta School"]
    assert beta["phone"] == "12"  # kept as given, flagged
    assert pd.isna(beta["website"]) and pd.isna(beta["email"])
    for quoted in ("'12'", "'javascript:alert(1)'", "'not-an-email'"):
        assert quoted in beta["geocode_note"]
    gamma = schools.loc["Gamma School"]
    assert pd.isna(gamma["phone"]) and pd.isna(gamma["website"]) and pd.isna(gamma["email"])
