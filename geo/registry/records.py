"""The record tables' columns: Coalition Communities, partners and their links (docs/RECORDS.md).

State coalitions are in :mod:`geo.registry.metrics` (``COALITIONS``), beside the
state metrics that read them; see :mod:`geo.registry` for the registry itself.
"""

from __future__ import annotations

from geo.registry.column import Column, text_column
from geo.registry.schools import IS_SAMPLE_DESCRIPTION

#: Who leads a Coalition Community (issue 14): the Coalition's own list of lead types.
COMMUNITY_LEAD_TYPES = ("district", "county", "university", "nonprofit", "united_way", "other")
#: A community's area: a list of counties, or one school district (matched by name in its state).
COMMUNITY_AREA_TYPES = ("counties", "district")
#: Kinds of partner organizations (docs/RECORDS.md, "Partners").
PARTNER_TYPES = (
    "nonprofit",
    "united_way",
    "university",
    "health",
    "government",
    "business",
    "faith",
    "other",
)
#: How a partner works with a school.
PARTNER_ROLES = ("lead", "supporting")

_SAMPLE = Column("is_sample", "boolean", IS_SAMPLE_DESCRIPTION, kind="flag", nullable=False)

#: The Coalition Communities table (inputs/communities.csv).
COMMUNITIES: tuple[Column, ...] = (
    text_column("community_id", "stable id of the community", label="Id", kind="code", nullable=False),
    text_column("name", "the Coalition Community's name", label="Community", nullable=False),
    text_column("stusps", "USPS code of its state", label="State", kind="code", nullable=False),
    text_column("lead_organization", "the organization that leads it", label="Lead organization"),
    text_column(
        "lead_type",
        "the lead organization's type: district, county, university, nonprofit, united_way or other",
        label="Lead type",
        kind="code",
        nullable=False,
        enum=COMMUNITY_LEAD_TYPES,
    ),
    text_column(
        "area_type",
        "counties (a list of counties) or district (one school district, by name)",
        label="Area",
        kind="code",
        nullable=False,
        enum=COMMUNITY_AREA_TYPES,
    ),
    text_column(
        "county_fips",
        "5-digit county FIPS codes of a counties area, ';'-separated",
        label="Counties",
        kind="code",
    ),
    text_column("district", "the school district of a district area, as the school list names it"),
    text_column(
        "school_ids",
        "school_id values linked by hand, ';'-separated (the area's schools are linked too)",
        label="Linked schools",
        kind="code",
    ),
    text_column("website", "the community's website (http or https URL)"),
    Column(
        "school_count",
        "integer",
        "Community Schools linked to the community: in its area, or linked by hand (computed by the build)",
        label="Schools",
        kind="count",
        unit="schools",
        nullable=False,
    ),
    _SAMPLE,
)

#: The partner directory (inputs/partners.csv).
PARTNERS: tuple[Column, ...] = (
    text_column("partner_id", "stable id of the partner", label="Id", kind="code", nullable=False),
    text_column("name", "the partner organization's name", label="Partner", nullable=False),
    text_column(
        "partner_type",
        "kind of organization: " + ", ".join(PARTNER_TYPES),
        label="Type",
        kind="code",
        nullable=False,
        enum=PARTNER_TYPES,
    ),
    text_column("website", "the partner's website (http or https URL)"),
    text_column("stusps", "USPS code of its home state, if any", label="State", kind="code"),
    Column(
        "school_count",
        "integer",
        "Community Schools the partner works with, as lead or supporting partner (computed by the build)",
        label="Schools",
        kind="count",
        unit="schools",
        nullable=False,
    ),
    Column(
        "lead_count",
        "integer",
        "Community Schools the partner leads (computed by the build)",
        label="Lead partner of",
        kind="count",
        unit="schools",
        nullable=False,
    ),
    _SAMPLE,
)

#: Links of partners to schools (inputs/partner_schools.csv).
PARTNER_SCHOOLS: tuple[Column, ...] = (
    text_column("partner_id", "the partner (partners.partner_id)", kind="code", nullable=False),
    text_column("school_id", "the school (schools.school_id)", kind="code", nullable=False),
    text_column("role", "lead or supporting", kind="code", nullable=False, enum=PARTNER_ROLES),
    _SAMPLE,
)
