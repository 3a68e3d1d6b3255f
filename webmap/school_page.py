"""A page for every school: ``/schools/<school_id>`` and its JSON, ``/api/schools/<school_id>`` (issue 15).

Both show the same document, built once per build and school
(:func:`school_detail`): every public field of the school (geo.registry), how
precisely it is placed, its contact, directions, its state coalition,
Coalition Communities and partners, and the Community Schools nearby. The joins
and distances are geo/'s (:mod:`geo.school_profile`); this module reads the
per-build tables and renders.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd
from flask import Blueprint, render_template, url_for
from flask_babel import gettext

from geo import registry
from geo.errors import NotFoundError
from geo.school_contact import is_email, is_http_url
from geo.school_profile import (
    SCHOOL_ID_PATTERN,
    directions_links,
    nearby_positions,
    school_coalition,
    school_communities,
    school_partners,
)
from geo.store import json_safe
from webmap import record_data
from webmap.context import context_urls
from webmap.data import BuildData, get_data
from webmap.exports import cached, coalitions_table, provenance, school_index, school_records
from webmap.http_cache import send_bytes
from webmap.i18n import TERMS, translate_term
from webmap.page_data import LOW_PRECISIONS
from webmap.params import Param, Parameters

logger = logging.getLogger(__name__)

bp = Blueprint("schools", __name__)

API_MAX_AGE = 60
SCHOOL_ID = Param(
    "school_id",
    "The school's id (its school_id in every file and answer): nces-<NCES id>, or cs-<16 hex digits> "
    "for a school without one. It stays the same across builds of the same list.",
    where="path",
    pattern=SCHOOL_ID_PATTERN,
    pattern_hint="nces-<NCES id> or cs-<16 hex digits> (a school_id from /api/schools)",
)
#: The endpoint's parameters, declared once (webmap.api merges them; webmap.openapi documents them).
PARAMETERS: dict[str, Parameters] = {"/api/schools/{school_id}": Parameters((SCHOOL_ID,))}
API_PARAMETERS = PARAMETERS["/api/schools/{school_id}"]
#: Fields shown as the school's "where" rather than in its table of fields.
PLACE_FIELDS = ("address", "city", "state", "zip", "country")
CONTACT_FIELDS = ("phone", "website", "email")


def school_positions(data: BuildData) -> dict[str, int]:
    """Return ``{school_id: row}`` over the build's schools layer (cached per build)."""

    def build() -> dict[str, int]:
        ids = data.schools["school_id"].astype("str").tolist()
        return {school_id: row for row, school_id in enumerate(ids)}

    return cached(data, "schools/positions", build)


def find_school(data: BuildData, school_id: str) -> int:
    """Return the row of ``school_id``: 400 for a malformed id, 404 for one the build does not hold."""
    SCHOOL_ID.parse(school_id)
    row = school_positions(data).get(school_id)
    if row is None:
        msg = f"no school {school_id!r} in this build; /api/schools lists them, /find searches them"
        raise NotFoundError(msg)
    return row


def _table(data: BuildData, name: str) -> pd.DataFrame:
    if name == "coalitions":
        try:
            return coalitions_table(data)
        except Exception as exc:  # an older build without the layer: no coalition to show  # noqa: BLE001
            logger.warning("build %s has no coalitions table: %s", data.build_id, exc)
            return pd.DataFrame()
    return record_data.table(data, name)


def _partner_links(data: BuildData, school_id: str) -> pd.DataFrame:
    """Return the partner–school links of one school (the links grouped once per build)."""

    def build() -> tuple[pd.DataFrame, dict[str, Any]]:
        links = _table(data, "partner_schools")
        return links, links.groupby(links["school_id"].astype("str")).indices

    links, groups = cached(data, "schools/partner_links", build)
    return links.iloc[groups.get(school_id, [])]


def _state_communities(data: BuildData, state: str | None) -> pd.DataFrame:
    """Return the communities that may hold a school of ``state``: its own, and those listing schools."""

    def build() -> pd.DataFrame:
        table = _table(data, "communities")
        if table.empty:
            return table
        by_hand = table["school_ids"].fillna("").astype("str") != ""
        return table[(table["stusps"].astype("str") == str(state)) | by_hand]

    return cached(data, f"schools/communities/{state}", build)


def school_detail(data: BuildData, row: int) -> dict[str, Any]:
    """Return the school at ``row`` with its setting, as the page and the API show it (cached)."""

    def build() -> dict[str, Any]:
        school = data.schools.iloc[row]
        record = school_records(data)[row]
        point = school.geometry
        lat, lon = float(point.y), float(point.x)
        one = data.schools.iloc[[row]]
        needed = ["school_id", "stusps", "county_fips", "district"]
        communities = school_communities(
            _state_communities(data, record.get("stusps")),
            pd.DataFrame({c: one[c].astype("str") for c in needed if c in one}),
        )
        partners = school_partners(
            _table(data, "partners"), _partner_links(data, record["school_id"]), record["school_id"]
        )
        positions, miles, within = nearby_positions(school_index(data), row, lat, lon)
        records = school_records(data)
        nearby = [
            {
                "school_id": records[p]["school_id"],
                "name": records[p]["name"],
                "city": records[p].get("city"),
                "state": records[p].get("stusps") or records[p].get("state"),
                "distance_mi": round(float(d), 2),
            }
            for p, d in zip(positions.tolist(), miles.tolist(), strict=True)
        ]
        coalition = school_coalition(
            _table(data, "coalitions"), record.get("stusps"), record.get("county_fips")
        )
        return json_safe(
            {
                "school": record,
                "contact": {name: record.get(name) for name in CONTACT_FIELDS},
                "directions": directions_links(lat, lon),
                "coalition": coalition,
                "communities": communities[
                    [c for c in ("community_id", "name", "lead_organization", "website") if c in communities]
                ].to_dict("records"),
                "partners": partners[
                    [c for c in ("partner_id", "name", "partner_type", "role", "website") if c in partners]
                ].to_dict("records"),
                "nearby": nearby,
                "nearby_within_radius": within,
            }
        )

    return cached(data, f"schools/detail/{row}", build)


def _links(detail: dict[str, Any]) -> dict[str, Any]:
    """Return the answer's links (relative URLs, and the outbound directions)."""
    school_id = detail["school"]["school_id"]
    return {
        "self": url_for("schools.api_school", school_id=school_id),
        "page": url_for("schools.page", school_id=school_id),
        "correction": correction_url(school_id),
        "directions": detail["directions"]["osm"],
        "geo": detail["directions"]["geo"],
    }


def correction_url(school_id: str) -> str:
    """Return the census form's URL prefilled for this school (``/count?school_id=``; webmap.census)."""
    from urllib.parse import urlencode

    prefix = url_for("schools.page", school_id=school_id).rsplit("/schools/", 1)[0]
    return f"{prefix}/count?{urlencode({'school_id': school_id})}"


@bp.get("/api/schools/<school_id>")
def api_school(school_id: str):
    """One school with its coalition, communities, partners, nearby schools and directions (JSON)."""
    from flask import request

    API_PARAMETERS.parse(request.args)
    data = get_data()
    detail = school_detail(data, find_school(data, school_id))
    document = {**provenance(data), **detail, "links": _links(detail)}
    document["nearby"] = [
        {**n, "link": url_for("schools.api_school", school_id=n["school_id"])} for n in detail["nearby"]
    ]
    document["partners"] = [
        {**p, "link": url_for("records.partner_page", partner_id=p["partner_id"])} for p in detail["partners"]
    ]
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return send_bytes(body, "application/json", max_age=API_MAX_AGE)


@bp.get("/schools/<school_id>")
def page(school_id: str):
    """Show the school's page: fields, contact, directions, coalition, communities, partners, nearby, map."""
    from webmap.pages import cached_html

    data = get_data()
    row = find_school(data, school_id)  # only ids the build holds are cached: the cache stays bounded
    return cached_html(data, f"school/{school_id}", lambda: _render(data, row))


def _render(data: BuildData, row: int) -> str:
    from webmap import maps
    from webmap.pages import map_page

    detail = school_detail(data, row)
    school = detail["school"]
    point = data.schools.geometry.iloc[row]
    points = data.schools.geometry.iloc[_nearby_rows(data, detail)]
    nearby = list(zip(points.y.tolist(), points.x.tolist(), strict=True))
    page = map_page(
        None, "school", lambda **kw: maps.school_map(float(point.y), float(point.x), nearby, **kw)
    )
    config = {
        "page": "school",
        "map": page.map_name,
        "layers": page.layers,
        **context_urls(school.get("stusps")),
    }
    return render_template(
        "pages/school.html",
        detail=detail,
        school=school,
        fields=_fields(school),
        contact=safe_contact(detail["contact"]),
        links=_links(detail),
        low_precision=str(school.get("precision")) in LOW_PRECISIONS,
        map_page=page,
        config=config,
    )


def _nearby_rows(data: BuildData, detail: dict[str, Any]) -> list[int]:
    positions = school_positions(data)
    return [positions[n["school_id"]] for n in detail["nearby"] if n["school_id"] in positions]


def shown_columns() -> list[registry.Column]:
    """Return the registry columns the page's "Details" table shows (its labels reach the catalog)."""
    hidden = (*PLACE_FIELDS, *CONTACT_FIELDS, "name", "is_sample")
    return [column for column in registry.api_school_columns() if column.name not in hidden]


def _fields(school: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the school's public fields (geo.registry) in layer order, in the page's language."""
    shown = []
    for column in shown_columns():
        value = school.get(column.name)
        if isinstance(value, str) and value.replace("_", " ") in TERMS:
            value = translate_term(value)  # a stored word: "suburban", "given", "derived"
        shown.append(
            {
                "name": column.name,
                "label": gettext(column.title),
                "description": gettext(column.description) if column.description else "",
                "value": value,
            }
        )
    return shown


def safe_contact(contact: dict[str, Any]) -> dict[str, Any]:
    """Return the contact with link-safe targets only: an http(s) website, an email, a dialable phone."""
    website, email, phone = contact.get("website"), contact.get("email"), contact.get("phone")
    number = str(phone or "").split(" x", 1)[0]  # geo.school_contact writes an extension as " x12"
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return {
        "phone": phone,
        "tel": f"tel:{digits}" if phone and len(digits) >= 7 else None,
        "website": website,
        "website_href": website if is_http_url(website) else None,
        "email": email,
        "mailto": f"mailto:{email}" if is_email(email) else None,
    }
