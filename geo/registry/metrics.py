"""The metrics and the area-layer columns of the registry (docs/METRICS.md; see :mod:`geo.registry`)."""

from __future__ import annotations

from geo.registry.column import Column, count_column, share_column, text_column
from geo.registry.schools import IS_SAMPLE_DESCRIPTION

#: docs/METRICS.md defines the three representation columns together under this heading.
REPRESENTATION_SECTION = "representation-by-locale-locales-state_locales"

# --------------------------------------------------------------------------
# Metrics (docs/METRICS.md; computed in geo/metrics.py). The first ten are the
# figures every level carries, in output order.

LEVEL_METRICS: tuple[Column, ...] = (
    Column(
        "community_schools",
        "integer",
        "number of Community Schools whose point falls in the area",
        label="Community Schools",
        kind="count",
        unit="schools",
        nullable=False,
        header="schools",
    ),
    count_column("children", "Children (under 18)", "children under 18 (ACS 2022 5-year, by ZCTA)"),
    Column(
        "schools_per_10k_children",
        "number",
        "Community Schools per 10,000 children",
        label="Schools per 10k children",
        kind="rate",
        unit="schools per 10,000 children",
        header="per_10k",
    ),
    count_column(
        "children_within_reach",
        "Children within reach",
        "children living in ZCTAs within the locale's reach distance of a Community School",
    ),
    share_column(
        "reach_share", "Reach (share of children)", "children_within_reach / children (0-1)", header="reach"
    ),
    count_column(
        "unserved_children",
        "Unserved children",
        "children not within reach of any Community School",
        header="unserved",
    ),
    count_column(
        "high_poverty_children",
        "Children in high-poverty areas",
        "children in high-poverty ZCTAs (20%+ of people below poverty, the Census 'poverty area' definition)",
    ),
    count_column(
        "high_poverty_children_within_reach",
        "High-poverty children within reach",
        "high-poverty children within reach of a Community School",
    ),
    share_column(
        "high_poverty_reach_share",
        "High-poverty reach",
        "high_poverty_children_within_reach / high_poverty_children (0-1)",
        header="hp_reach",
    ),
    count_column(
        "unserved_high_poverty_children",
        "Unserved high-poverty children",
        "high-poverty children not within reach of any Community School",
        header="hp_unserved",
    ),
)

#: Present only when public-school denominators were given (``csmap metrics --public-schools``).
COVERAGE_METRICS: tuple[Column, ...] = (
    Column(
        "public_schools",
        "number",
        "public schools (NCES CCD), when the denominators were given",
        label="Public schools",
        kind="count",
        unit="schools",
        header="public",
    ),
    share_column(
        "coverage_share",
        "Share of public schools",
        "community_schools / public_schools, when the denominators were given",
        header="coverage",
    ),
)

COALITION_STATUS = text_column(
    "coalition_status",
    "state Community Schools coalition: existing, developing or none",
    label="Coalition",
    enum=("existing", "developing", "none"),
    header="coalition",
)

DESERT_COUNTIES = Column(
    "desert_counties",
    "integer",
    "counties with 1,000+ children and none within reach of a Community School",
    label="Desert counties",
    kind="count",
    unit="counties",
    nullable=False,
    header="deserts",
)

#: State-level figures beyond the level metrics (the nation also counts its desert counties).
STATE_METRICS: tuple[Column, ...] = (
    DESERT_COUNTIES,
    Column(
        "rank_unserved_high_poverty",
        "integer",
        "rank by unserved high-poverty children (1 = the most)",
        label="Rank by unserved high-poverty children",
        kind="rank",
        nullable=False,
        header="rank",
    ),
)

#: The representation of locales (docs/METRICS.md, "Representation by locale").
REPRESENTATION_METRICS: tuple[Column, ...] = (
    share_column(
        "school_share",
        "Share of the schools",
        "the locale class's share of the area's Community Schools",
        section=REPRESENTATION_SECTION,
    ),
    share_column(
        "children_share",
        "Share of the children",
        "the locale class's share of the area's children",
        section=REPRESENTATION_SECTION,
    ),
    Column(
        "representation",
        "number",
        "school_share / children_share: above 1, the class has more than its share of the schools",
        label="Representation (schools share / children share)",
        kind="ratio",
        header="repr",
        section=REPRESENTATION_SECTION,
    ),
)

#: National-only figures.
NATIONAL_METRICS: tuple[Column, ...] = (
    Column(
        "schools_outside_scope",
        "integer",
        "US schools whose point falls outside the 50 states, DC and PR",
        kind="count",
        unit="schools",
        nullable=False,
    ),
)

# --------------------------------------------------------------------------
# Area layers: the identity columns of states, counties and locale rows.

STATE_IDS: tuple[Column, ...] = (
    text_column("statefp", "state FIPS code", label="State FIPS", kind="code", nullable=False),
    text_column("stusps", "USPS state code", label="State", kind="code", nullable=False, required=True),
    text_column("name", "state name", label="State", nullable=False, required=True),
)

COUNTY_IDS: tuple[Column, ...] = (
    text_column(
        "geoid", "county FIPS code (state + county)", label="County FIPS", kind="code", nullable=False
    ),
    text_column("statefp", "state FIPS code", label="State FIPS", kind="code", nullable=False),
    text_column("stusps", "USPS state code", label="State", kind="code", nullable=False),
    text_column("name", "county name", label="County", nullable=False),
)

COUNTY_FIGURES: tuple[Column, ...] = (
    Column(
        "nearest_school_miles",
        "number",
        "great-circle miles from the county's closest populated ZCTA to a Community School",
        label="Nearest school (miles)",
        kind="miles",
        unit="miles",
        header="nearest_mi",
    ),
    Column(
        "is_desert",
        "boolean",
        "true when the county has 1,000+ children and none within reach (a Community School desert)",
        label="Desert",
        kind="flag",
        nullable=False,
        header="desert",
    ),
)

LOCALE_IDS: tuple[Column, ...] = (
    text_column(
        "locale_scheme",
        "locale4 (city, suburb, town, rural) or locale (urban, suburban, rural)",
        label="Scheme",
        kind="code",
        nullable=False,
        enum=("locale4", "locale"),
        header="scheme",
    ),
    text_column(
        "locale_class",
        "the locale class of the row",
        label="Locale",
        kind="code",
        nullable=False,
        header="locale",
    ),
)

#: The stages of the Coalition's rubric of state-coalition development, earliest first.
COALITION_STAGES = ("exploring", "emerging", "evolving", "expanding")

COALITION_STAGE = text_column(
    "coalition_stage",
    "the state coalition's stage of development: exploring, emerging, evolving, expanding or none "
    "(the most advanced of the state's coalitions)",
    label="Coalition stage",
    enum=(*COALITION_STAGES, "none"),
    header="stage",
)

PARTNER_ORGANIZATIONS = Column(
    "partner_organizations",
    "integer",
    "distinct partner organizations linked (as lead or supporting partner) to the area's Community Schools",
    label="Partner organizations",
    kind="count",
    unit="organizations",
    nullable=False,
    header="partners",
)

#: The coalitions table (docs/RECORDS.md, "State coalitions"): one row per state and territory.
COALITIONS: tuple[Column, ...] = (
    text_column("stusps", "USPS code of the coalition's state", label="State", kind="code", nullable=False),
    text_column(
        "stage",
        "stage of development on the Coalition's rubric: exploring, emerging, evolving, expanding; none "
        "without a coalition",
        label="Stage",
        kind="code",
        nullable=False,
        enum=(*COALITION_STAGES, "none"),
    ),
    text_column(
        "status",
        "existing (evolving or expanding), developing (exploring or emerging) or none; derived from stage",
        label="Status",
        kind="code",
        nullable=False,
        enum=("existing", "developing", "none"),
    ),
    text_column("coalition_name", "the coalition's name", label="Coalition"),
    text_column(
        "lead_organizations",
        "the coalition's lead organization(s), '; '-separated",
        label="Lead organizations",
    ),
    text_column("contact_name", "the coalition's contact person (published only when contact_public)"),
    text_column("contact_email", "the contact's email (published only when contact_public)"),
    text_column("contact_phone", "the contact's phone (published only when contact_public)"),
    Column(
        "contact_public",
        "boolean",
        "true when the coalition agreed to show its contact publicly",
        kind="flag",
        nullable=False,
    ),
    text_column("website", "the coalition's website (http or https URL)"),
    text_column("join_url", "where to join the coalition (http or https URL)", label="Join link"),
    text_column(
        "area_type",
        "state (the whole state) or counties (a regional or local coalition); none without a coalition",
        label="Area",
        kind="code",
        enum=("state", "counties"),
    ),
    text_column(
        "county_fips",
        "5-digit county FIPS codes of a counties coalition, ';'-separated",
        label="Counties",
        kind="code",
    ),
    Column("is_sample", "boolean", IS_SAMPLE_DESCRIPTION, kind="flag", nullable=False),
)
