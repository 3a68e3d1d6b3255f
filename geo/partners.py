"""Partner organizations and their links to schools: read, checked, counted (docs/RECORDS.md).

A partner has a name, a type and a website; its links say which Community
Schools it works with, as the **lead** partner or a **supporting** one. The
build publishes the directory with each partner's school counts and counts
the distinct partners of each state's schools (``partner_organizations``,
docs/METRICS.md). Frames in, frames out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from typing import Any

import pandas as pd

from geo import registry
from geo.communities import slug
from geo.records import (
    RecordImport,
    RowCheck,
    RowRejected,
    account_rows,
    as_text_columns,
    is_true,
    rename_synonyms,
    require_columns,
)
from geo.registry.records import PARTNER_ROLES, PARTNER_TYPES

logger = logging.getLogger(__name__)

PARTNER_COLUMNS = tuple(c.name for c in registry.PARTNERS)
LINK_COLUMNS = tuple(c.name for c in registry.PARTNER_SCHOOLS)
SYNONYMS = {
    "partner_id": ("id",),
    "name": ("partner", "partner_name", "organization", "organisation"),
    "partner_type": ("type", "organization_type", "kind"),
    "website": ("url", "web_site"),
    "stusps": ("state", "state_code", "st"),
}
LINK_SYNONYMS = {
    "partner_id": ("partner",),
    "school_id": ("school",),
    "role": ("partner_role", "relationship"),
}
#: Spellings of the partner types (lower case, punctuation as spaces).
TYPE_WORDS = {
    **{t.replace("_", " "): t for t in PARTNER_TYPES},
    "non profit": "nonprofit",
    "community based organization": "nonprofit",
    "cbo": "nonprofit",
    "college": "university",
    "higher education": "university",
    "health center": "health",
    "health care": "health",
    "hospital": "health",
    "government agency": "government",
    "city": "government",
    "county": "government",
    "company": "business",
    "corporate": "business",
    "faith based": "faith",
    "church": "faith",
}
ROLE_WORDS = {
    "lead": "lead",
    "lead partner": "lead",
    "primary": "lead",
    "supporting": "supporting",
    "support": "supporting",
    "partner": "supporting",
    "": "supporting",
}
_URL = re.compile(r"https?://\S+$", re.IGNORECASE)


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _state_codes() -> set[str]:
    import us

    return {s.abbr for s in (*us.states.STATES_AND_TERRITORIES, us.states.DC)}


def _partner_check() -> RowCheck:
    states = _state_codes()

    def check(row: dict[str, str]) -> dict[str, Any]:
        name = row.get("name", "")
        if not name:
            raise RowRejected("the partner has no name")
        kind = TYPE_WORDS.get(_words(row.get("partner_type", "")) or "other")
        if kind is None:
            raise RowRejected(
                f"unknown partner_type {row['partner_type']!r} for {name!r}; expected one of {PARTNER_TYPES}"
            )
        website = row.get("website", "")
        if website and not _URL.match(website):
            raise RowRejected(f"website {website!r} for {name!r} must start with http:// or https://")
        stusps = row.get("stusps", "").upper()
        if stusps and stusps not in states:
            raise RowRejected(f"unknown state {row['stusps']!r} for {name!r}")
        return {
            "partner_id": row.get("partner_id") or f"p-{slug(name)}",
            "name": name,
            "partner_type": kind,
            "website": website or None,
            "stusps": stusps or None,
            "school_count": 0,
            "lead_count": 0,
            "is_sample": is_true(row.get("is_sample", "")),
        }

    return check


def import_partners(raw: pd.DataFrame, *, source: str = "partners table") -> RecordImport:
    """Check a partner directory row by row, accounting for every row.

    Parameters
    ----------
    raw : DataFrame
        Text columns: ``name``; optional ``partner_id`` (default ``p-<name>``, so
        two rows with one name merge), ``partner_type``, ``website``,
        ``stusps``, ``is_sample``.
    source : str
        Where the rows come from, for messages.
    """
    raw = rename_synonyms(raw, SYNONYMS)
    require_columns(raw, ["name"], what="partners", source=source)
    result = account_rows(
        raw, _partner_check(), key=["partner_id"], columns=PARTNER_COLUMNS, table="partners", source=source
    )
    out = result.table.copy()
    for column in ("school_count", "lead_count"):
        out[column] = pd.to_numeric(out[column]).fillna(0).astype("int64")
    out["is_sample"] = out["is_sample"].astype(bool)
    result.table = as_text_columns(
        out, [c for c in PARTNER_COLUMNS if c in out.columns and out[c].dtype == object]
    )
    return result


def import_partner_schools(
    raw: pd.DataFrame,
    *,
    partner_ids: Collection[str] | None = None,
    school_ids: Collection[str] | None = None,
    source: str = "partner_schools table",
) -> RecordImport:
    """Check the partner–school links row by row, accounting for every row.

    Parameters
    ----------
    raw : DataFrame
        Text columns ``partner_id``, ``school_id`` and ``role`` (lead or
        supporting; default supporting), optional ``is_sample``.
    partner_ids, school_ids : collection of str, optional
        When given, a link to an unknown partner or school is rejected.
    source : str
        Where the rows come from, for messages.
    """
    raw = rename_synonyms(raw, LINK_SYNONYMS)
    require_columns(raw, ["partner_id", "school_id"], what="partner_schools", source=source)
    partners = set(partner_ids) if partner_ids is not None else None
    schools = set(school_ids) if school_ids is not None else None

    def check(row: dict[str, str]) -> dict[str, Any]:
        partner, school = row.get("partner_id", ""), row.get("school_id", "")
        if not partner or not school:
            raise RowRejected("a link needs both partner_id and school_id")
        if partners is not None and partner not in partners:
            raise RowRejected(f"unknown partner_id {partner!r}")
        if schools is not None and school not in schools:
            raise RowRejected(f"unknown school_id {school!r}")
        role = ROLE_WORDS.get(_words(row.get("role", "")))
        if role is None:
            raise RowRejected(f"unknown role {row['role']!r}; expected one of {PARTNER_ROLES}")
        return {
            "partner_id": partner,
            "school_id": school,
            "role": role,
            "is_sample": is_true(row.get("is_sample", "")),
        }

    result = account_rows(
        raw,
        check,
        key=["partner_id", "school_id"],
        columns=LINK_COLUMNS,
        table="partner_schools",
        source=source,
    )
    out = result.table.copy()
    out["is_sample"] = out["is_sample"].astype(bool)
    result.table = as_text_columns(out, ("partner_id", "school_id", "role"))
    return result


def with_school_counts(partners: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Return the partners with ``school_count`` and ``lead_count`` from their links."""
    out = partners.copy()
    out["school_count"] = out["partner_id"].map(links.groupby("partner_id").size()).fillna(0).astype("int64")
    leads = links[links["role"] == "lead"].groupby("partner_id").size()
    out["lead_count"] = out["partner_id"].map(leads).fillna(0).astype("int64")
    return out


def partners_per_state(links: pd.DataFrame, schools: pd.DataFrame) -> pd.Series:
    """Return the number of distinct partners linked to each state's schools (``partner_organizations``).

    Parameters
    ----------
    links : DataFrame
        ``partner_id``, ``school_id``.
    schools : DataFrame
        ``school_id``, ``stusps`` (the state the school's point falls in).

    Returns
    -------
    Series
        Counts indexed by USPS code (states with no linked partner are absent).
    """
    state_of = schools.drop_duplicates("school_id").set_index("school_id")["stusps"]
    placed = links.assign(stusps=links["school_id"].map(state_of)).dropna(subset=["stusps"])
    return placed.groupby("stusps")["partner_id"].nunique().astype("int64")


def search_partners(
    partners: pd.DataFrame, text: str | None, *, partner_type: str | None = None
) -> pd.DataFrame:
    """Return the partners whose name contains every word of ``text`` (case-insensitive), by name.

    Parameters
    ----------
    partners : DataFrame
        :data:`PARTNER_COLUMNS`.
    text : str, optional
        Words to look for; None or blank matches every partner.
    partner_type : str, optional
        Only partners of this type.
    """
    names = partners["name"].astype("str").str.lower()
    hit = pd.Series(True, index=partners.index)
    for word in _words(text or "").split():
        hit &= names.str.contains(word, regex=False)
    if partner_type:
        hit &= partners["partner_type"] == partner_type
    return partners[hit].sort_values("name", key=lambda s: s.str.lower(), kind="stable")
