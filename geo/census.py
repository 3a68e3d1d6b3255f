"""The Community Schools Census form: its fields, declared once, and the check of one answer.

The public form at ``/count`` (webmap/census.py), its template, the staff
moderation pages and docs/CENSUS.md all read :data:`CENSUS_FIELDS`. A school
answers for itself: who it is and where, a contact (public only with consent),
the grades it serves, its setting *as it reports it* (kept apart from the
locale the build computes from NCES and Census data, docs/LOCALE.md), the
three elements of a Community School, its stage, its partners and its
Coalition Community.

:func:`check_census` is pure: text in, normalized values and one message per
bad field out, so that the form can keep what was typed and say what to fix.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from geo.registry.metrics import COALITION_STAGES
from geo.school_fields import CANADIAN_POSTAL, state_codes

logger = logging.getLogger(__name__)

#: The answers for each of the three elements (issue 14, point 1).
ELEMENT_ANSWERS = ("yes", "in_progress", "no")
#: The setting as the school reports it; the build's own locale is computed apart (docs/LOCALE.md).
SETTINGS = ("urban", "suburban", "rural")
#: A school's stage of development, on the Coalition's four-stage rubric (geo.registry.metrics),
#: plus "not sure" for a school that has not placed itself on it.
STAGES = (*COALITION_STAGES, "not_sure")
COUNTRIES = ("US", "CA")
#: More partners than this in one answer is not a school's list but a paste of a directory.
MAX_OTHER_PARTNERS = 30
#: The whole answer, in bytes: far above any honest answer (the longest fields total ~6 KB).
MAX_BODY_BYTES = 32 * 1024

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"[0-9+().\-\s/x]{7,40}")
_NCES = re.compile(r"[0-9]{12}")
_GRADE = r"(?:PK|TK|K|[1-9]|1[0-2])"
_GRADES = re.compile(rf"{_GRADE}(?:\s*-\s*{_GRADE})?(?:\s*,\s*{_GRADE}(?:\s*-\s*{_GRADE})?)*", re.IGNORECASE)
_US_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")


@dataclass(frozen=True)
class CensusField:
    """One field of the census form.

    Parameters
    ----------
    name, label : str
        The form's field name and its label.
    section : str
        The fieldset it belongs to.
    required : bool
    max_length : int
        The longest value accepted, in characters.
    choices : tuple of str
        For a choice field, its values (the form shows them with ``_`` as a space).
    hint : str
        How to fill it in, shown under the label.
    school_field : str
        The school-list field (geo.registry) it fills when approved; "" when census-only.
    """

    name: str
    label: str
    section: str
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    hint: str = ""
    school_field: str = ""


CENSUS_FIELDS: tuple[CensusField, ...] = (
    CensusField("name", "School name", "school", True, 200, school_field="name"),
    CensusField(
        "nces_id",
        "NCES school ID",
        "school",
        False,
        20,
        hint="12 digits, if you know it",
        school_field="nces_id",
    ),
    CensusField("address", "Street address", "school", True, 200, school_field="address"),
    CensusField("city", "City", "school", True, 100, school_field="city"),
    CensusField(
        "state", "State or province", "school", True, 40, hint="e.g. IL or Illinois", school_field="state"
    ),
    CensusField("zip", "ZIP or postal code", "school", True, 10, school_field="zip"),
    CensusField("country", "Country", "school", True, 2, COUNTRIES, school_field="country"),
    CensusField("contact_name", "Your name", "contact", True, 120),
    CensusField("contact_role", "Your role", "contact", False, 120, hint="e.g. community school coordinator"),
    CensusField("contact_email", "E-mail", "contact", True, 254),
    CensusField("contact_phone", "Phone", "contact", False, 40),
    CensusField("contact_public", "Show this contact publicly", "contact", False, 3, ("yes",)),
    CensusField(
        "grades",
        "Grades served",
        "school_profile",
        True,
        40,
        hint="e.g. K-8, or PK-5, 9-12",
        school_field="grades",
    ),
    CensusField("setting", "Setting, as you would describe it", "school_profile", False, 10, SETTINGS),
    CensusField(
        "element_coordination",
        "Coordinating infrastructure (a coordinator, a site team)",
        "elements",
        True,
        12,
        ELEMENT_ANSWERS,
    ),
    CensusField(
        "element_leadership",
        "Collaborative leadership (school, families, partners decide together)",
        "elements",
        True,
        12,
        ELEMENT_ANSWERS,
    ),
    CensusField(
        "element_planning",
        "Planning (a needs and assets assessment, a plan)",
        "elements",
        True,
        12,
        ELEMENT_ANSWERS,
    ),
    CensusField("stage", "Stage of development", "school_profile", True, 12, STAGES),
    CensusField(
        "lead_partner",
        "Lead partner",
        "partners",
        False,
        200,
        hint="the organization that leads with the school",
        school_field="lead_partner",
    ),
    CensusField(
        "other_partners",
        "Other partners",
        "partners",
        False,
        3000,
        hint=f"one per line, at most {MAX_OTHER_PARTNERS}",
    ),
    CensusField(
        "community",
        "Coalition Community",
        "partners",
        False,
        200,
        hint="the local initiative the school belongs to, if any",
    ),
)
FIELDS_BY_NAME = {f.name: f for f in CENSUS_FIELDS}
SECTIONS = {
    "school": "The school",
    "contact": "Who we can contact",
    "school_profile": "About the school",
    "elements": "The three elements",
    "partners": "Partners",
}


@dataclass
class CensusCheck:
    """A checked answer: the values as typed (trimmed), their normalized form, and what to fix."""

    typed: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no field needs fixing."""
        return not self.errors


def choice_label(value: str) -> str:
    """Return a choice as words: ``in_progress`` → ``in progress``."""
    return value.replace("_", " ")


def other_partner_list(text: str) -> list[str]:
    """Return the partners of the "other partners" box: one per line (or ``;``), blanks dropped."""
    return [p.strip() for p in re.split(r"[\n;]+", text or "") if p.strip()]


def school_values(values: Mapping[str, str]) -> dict[str, str]:
    """Return the school-list fields (geo.registry names) an approved answer fills."""
    return {f.school_field: values.get(f.name, "") for f in CENSUS_FIELDS if f.school_field}


def check_census(form: Mapping[str, str]) -> CensusCheck:
    """Check one census answer; return what was typed, the normalized values and per-field errors.

    Every message names the field and quotes the bad value. Nothing is
    dropped: a bad value stays in ``typed`` so that the form shows it again.

    Parameters
    ----------
    form : mapping of str to str
        The submitted fields (missing ones count as empty).
    """
    typed = {f.name: str(form.get(f.name) or "").strip() for f in CENSUS_FIELDS}
    check = CensusCheck(typed=typed)
    errors = check.errors
    for spec in CENSUS_FIELDS:
        value = typed[spec.name]
        if len(value) > spec.max_length:
            errors[spec.name] = (
                f"{spec.label} is too long: {len(value):,} characters, at most {spec.max_length:,}"
            )
        elif spec.required and not value:
            errors[spec.name] = f"{spec.label} is required"
        elif value and spec.choices and value not in spec.choices:
            allowed = ", ".join(choice_label(c) for c in spec.choices)
            errors[spec.name] = f"{spec.label} must be one of {allowed}; got {value[:40]!r}"
    values = {k: v for k, v in typed.items() if k not in errors}
    _check_formats(values, errors)
    check.values = {k: v for k, v in values.items() if k not in errors}
    return check


def _check_formats(values: dict[str, str], errors: dict[str, str]) -> None:
    """Normalize and check the fields with a format: e-mail, phone, NCES id, grades, state, ZIP."""
    email = values.get("contact_email", "")
    if email and not _EMAIL.fullmatch(email):
        errors["contact_email"] = f"E-mail must look like name@example.org; got {email[:60]!r}"
    phone = values.get("contact_phone", "")
    if phone and not _PHONE.fullmatch(phone):
        errors["contact_phone"] = f"Phone may hold digits, spaces and + ( ) - only; got {phone[:40]!r}"
    nces = re.sub(r"\s", "", values.get("nces_id", ""))
    if nces and not _NCES.fullmatch(nces):
        errors["nces_id"] = f"NCES school ID must be 12 digits; got {values['nces_id']!r}"
    elif nces:
        values["nces_id"] = nces
    grades = values.get("grades", "")
    if grades and not _GRADES.fullmatch(grades):
        errors["grades"] = f"Grades served must look like K-8 or PK-5, 9-12; got {grades!r}"
    elif grades:
        values["grades"] = re.sub(r"\s*-\s*", "-", re.sub(r"\s*,\s*", ", ", grades.upper()))
    partners = other_partner_list(values.get("other_partners", ""))
    if len(partners) > MAX_OTHER_PARTNERS:
        errors["other_partners"] = (
            f"Other partners lists {len(partners)} partners; give at most {MAX_OTHER_PARTNERS}"
        )
    elif any(len(p) > 200 for p in partners):
        errors["other_partners"] = "Other partners: each name may have at most 200 characters"
    else:
        values["other_partners"] = "\n".join(partners)
    country = values.get("country", "")
    state = values.get("state", "")
    if state:
        code = state_codes().get(re.sub(r"[^a-z0-9]+", "", state.lower()))
        canadian = code is not None and code in _canadian_codes()
        if code is None:
            errors["state"] = f"State or province is not one we know; got {state!r} (use e.g. IL or Illinois)"
        elif country and canadian != (country == "CA"):
            errors["state"] = f"State or province {state!r} is not in {country}"
        else:
            values["state"] = code
    zip_code = values.get("zip", "")
    if zip_code and country == "CA":
        match = re.fullmatch(CANADIAN_POSTAL, zip_code.upper())
        if match is None:
            errors["zip"] = f"Postal code must look like K1A 0B1; got {zip_code!r}"
        else:
            values["zip"] = f"{match.group(1)} {match.group(2)}"
    elif zip_code and not _US_ZIP.fullmatch(zip_code):
        errors["zip"] = f"ZIP code must be 5 digits (or ZIP+4); got {zip_code!r}"
    elif zip_code:
        values["zip"] = zip_code[:5]


def _canadian_codes() -> set[str]:
    from geo.reference import CANADA_PROVINCES

    return set(CANADA_PROVINCES.values())
