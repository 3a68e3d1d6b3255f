"""The schools columns and the provenance columns of the registry (docs/SCHEMA.md; see :mod:`geo.registry`).

To add a column to the ``schools`` layer, the API, the OpenAPI document and
the data dictionary, add one :class:`Column` to :data:`SCHOOLS`; a column read
from the school list gets ``origin="input"`` and its header synonyms.
"""

from __future__ import annotations

from geo.registry.column import Column, text_column

# --------------------------------------------------------------------------
# Provenance: every download says what it is (issue #5).

IS_SAMPLE_DESCRIPTION = "true when the schools are the generated sample, not a real Community Schools list"

PROVENANCE: tuple[Column, ...] = (
    Column("is_sample", "boolean", IS_SAMPLE_DESCRIPTION, kind="flag", nullable=False, required=True),
    text_column(
        "built_at",
        "when the build this file comes from was made (ISO 8601, UTC); in GeoJSON once, at the top",
        kind="date",
    ),
)

# --------------------------------------------------------------------------
# Schools: the fields of a school list and the columns of the ``schools`` layer,
# in layer order (docs/SCHEMA.md). Header synonyms are compared after folding case,
# accents and punctuation ("ZIP Code" -> "zip_code"); NCES Common Core of Data names
# (SCH_NAME, LSTREET1, LCITY, LSTATE, LZIP, NCESSCH, LEA_NAME, ULOCALE, LAT, LON)
# are included so CCD extracts load as is (docs/SCHOOLS.md lists them for users).

SCHOOLS: tuple[Column, ...] = (
    text_column(
        "school_id",
        "stable id: nces-<id> when an NCES id exists, else cs-<hash> of the input row",
        label="School id",
        kind="code",
        nullable=False,
        required=True,
    ),
    text_column(
        "name",
        "school name, as given",
        label="School",
        origin="input",
        synonyms=(
            "school_name",
            "name",
            "school",
            "schoolname",
            "name_of_school",
            "sch_name",
            "community_school",
            "community_school_name",
            "campus",
            "campus_name",
            "site_name",
            "site",
            "institution_name",
            "school_site",
        ),
    ),
    text_column(
        "address",
        "street address, as given",
        origin="input",
        synonyms=(
            "address",
            "street_address",
            "street",
            "address_1",
            "address1",
            "address_line_1",
            "street_address_1",
            "physical_address",
            "location_address",
            "site_address",
            "lstreet1",
            "street1",
            "addr",
            "school_address",
        ),
    ),
    text_column(
        "city",
        "city, as given",
        origin="input",
        synonyms=("city", "town", "city_town", "municipality", "locality", "lcity", "school_city"),
    ),
    text_column(
        "state",
        "state or province as given in the file (USPS / Canadian postal code)",
        kind="code",
        origin="input",
        synonyms=(
            "state",
            "st",
            "state_code",
            "state_abbr",
            "state_abbreviation",
            "stusps",
            "lstate",
            "state_province",
            "province",
            "state_or_province",
            "school_state",
        ),
    ),
    text_column(
        "zip",
        "ZIP or postal code, as given",
        label="ZIP",
        kind="code",
        origin="input",
        synonyms=(
            "zip",
            "zip_code",
            "zipcode",
            "zip5",
            "postal_code",
            "postcode",
            "post_code",
            "lzip",
            "zip_postal_code",
            "postal",
            "school_zip",
        ),
    ),
    text_column(
        "country", "US or CA", kind="code", origin="input", synonyms=("country", "country_code", "nation")
    ),
    text_column(
        "nces_id",
        "NCES school id, when given",
        label="NCES id",
        kind="code",
        origin="input",
        synonyms=(
            "nces_id",
            "ncesid",
            "nces_school_id",
            "ncessch",
            "nces",
            "nces_number",
            "school_id_nces",
            "nces_sch_id",
        ),
    ),
    text_column(
        "district",
        "school district, when given",
        origin="input",
        synonyms=("district", "school_district", "district_name", "lea_name", "leaname", "lea"),
    ),
    text_column(
        "grades",
        "grades served, as given",
        origin="input",
        synonyms=(
            "grades",
            "grade_span",
            "grades_served",
            "grade_levels",
            "grade_range",
            "grade",
            "grade_band",
        ),
    ),
    text_column(
        "lead_partner",
        "the community school's lead partner organisation, when given",
        label="Lead partner",
        origin="input",
        synonyms=(
            "lead_partner",
            "lead_partner_agency",
            "lead_partner_organization",
            "partner",
            "lead_agency",
            "lead_organization",
            "community_partner",
            "partner_organization",
        ),
    ),
    # Contact (issue 15): optional, normalized by geo.school_contact; a bad value is a note, not a lost row.
    text_column(
        "phone",
        "the school's phone number; US and Canadian numbers as (NNN) NNN-NNNN, others as given",
        label="Phone",
        origin="input",
        synonyms=(
            "phone",
            "phone_number",
            "telephone",
            "telephone_number",
            "tel",
            "school_phone",
            "phone_no",
            "contact_phone",
        ),
    ),
    text_column(
        "website",
        "the school's website: an http(s) URL (https:// added when no scheme is given)",
        label="Website",
        origin="input",
        synonyms=(
            "website",
            "web_site",
            "url",
            "web",
            "web_address",
            "homepage",
            "school_website",
            "site_url",
        ),
    ),
    text_column(
        "email",
        "the school's public email address",
        label="Email",
        origin="input",
        synonyms=("email", "e_mail", "email_address", "e_mail_address", "school_email", "contact_email"),
    ),
    Column(
        "year_started",
        "integer",
        "year the school became a community school, when given",
        label="Year started",
        kind="code",
        origin="input",
        synonyms=(
            "year_started",
            "start_year",
            "year_began",
            "year_launched",
            "year_joined",
            "started",
            "year",
        ),
    ),
    Column(
        "nces_locale",
        "integer",
        "NCES locale code 11-43 from the file, when given",
        label="NCES locale",
        kind="code",
        origin="input",
        synonyms=(
            "nces_locale",
            "locale_code",
            "nces_locale_code",
            "locale",
            "ulocale",
            "urban_centric_locale",
        ),
    ),
    # Coordinates from a GeoJSON/GeoPackage geometry come first: they are the file's own location.
    Column(
        "lat",
        "number",
        "latitude, WGS84 degrees",
        label="Latitude",
        kind="degrees",
        unit="degrees",
        nullable=False,
        required=True,
        origin="input",
        synonyms=(
            "geometry_lat",
            "latitude",
            "lat",
            "y",
            "lat_dd",
            "latitude_dd",
            "point_y",
            "school_latitude",
        ),
    ),
    Column(
        "lon",
        "number",
        "longitude, WGS84 degrees",
        label="Longitude",
        kind="degrees",
        unit="degrees",
        nullable=False,
        required=True,
        origin="input",
        synonyms=(
            "geometry_lon",
            "longitude",
            "lon",
            "lng",
            "long",
            "x",
            "lon_dd",
            "longitude_dd",
            "point_x",
            "school_longitude",
        ),
    ),
    text_column(
        "geocode_method",
        "how the point was found: given, given-swapped, given-fixed, census, nominatim, zip-centroid, "
        "gazetteer or state-centroid",
        kind="code",
    ),
    text_column(
        "precision",
        "how precise the point is: given, street, zip, city or state (zip and coarser are approximate)",
        kind="code",
        nullable=False,
        enum=("given", "street", "zip", "city", "state"),
    ),
    text_column("geocode_note", "geocoding notes, e.g. 'lat/lon swapped and fixed'"),
    text_column(
        "statefp", "state FIPS code of the state the point falls in", label="State FIPS", kind="code"
    ),
    text_column(
        "stusps",
        "USPS code of the state the point falls in (point-in-polygon)",
        label="State",
        kind="code",
        origin="build",
    ),
    text_column(
        "county_fips",
        "county FIPS code (state + county) of the county the point falls in",
        label="County FIPS",
        kind="code",
    ),
    text_column("zcta", "nearest ZIP Code Tabulation Area", label="ZCTA", kind="code"),
    text_column(
        "locale4",
        "locale class, NCES-style: city, suburb, town or rural (docs/LOCALE.md)",
        label="Locale (4 classes)",
        kind="code",
    ),
    text_column("locale", "locale class rolled up to three: urban, suburban or rural", kind="code"),
    text_column(
        "locale_source", "nces (the file's NCES locale code) or derived (docs/LOCALE.md)", kind="code"
    ),
    text_column(
        "source_rows",
        "input row numbers, ';'-joined (several when duplicates were merged)",
        api=False,
    ),
    Column(
        "is_sample",
        "boolean",
        IS_SAMPLE_DESCRIPTION,
        kind="flag",
        nullable=False,
        required=True,
        origin="input",
        synonyms=("is_sample", "sample"),
    ),
)
