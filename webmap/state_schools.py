"""A state's Community Schools as a sortable list, a page at a time (the state one-pager, issue 16).

The list is sorted and paged on the server, so it works with scripts off and a long
state (Texas has hundreds of schools) sends one page of rows. Parameters are named for
the list (``schools_sort``, ``schools_order``, ``schools_page``) so they cannot clash with
anything else on the state page.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.errors import InvalidParameterError
from webmap import page_data as pd_
from webmap.data import BuildData
from webmap.exports import cached
from webmap.i18n import N_

logger = logging.getLogger(__name__)

#: Columns the list shows and can be sorted by, with their headers.
#: The list's columns and their headers (marked for the Spanish catalog; the page translates them).
LIST_COLUMNS = {"name": N_("School"), "city": N_("City"), "district": N_("District"), "grades": N_("Grades")}
PAGE_SIZE = 25
ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class SchoolList:
    """One page of a state's schools.

    Attributes
    ----------
    rows : list of dict
        The schools on this page (``row`` is the position in the build's schools layer).
    total : int
        Schools in the state.
    page, pages : int
        This page (1-based) and how many there are (at least 1).
    sort, order : str
        The column and direction the list is sorted by.
    """

    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    sort: str
    order: str


def parse_list_args(args: Any) -> tuple[str, str, int]:
    """Validate ``schools_sort``, ``schools_order`` and ``schools_page``; 400 naming a bad one."""
    sort = args.get("schools_sort", "name").strip() or "name"
    if sort not in LIST_COLUMNS:
        msg = f"schools_sort must be one of {', '.join(LIST_COLUMNS)}, got {sort!r}"
        raise InvalidParameterError("schools_sort", msg)
    order = args.get("schools_order", "asc").strip().lower() or "asc"
    if order not in ORDERS:
        raise InvalidParameterError("schools_order", f"schools_order must be 'asc' or 'desc', got {order!r}")
    text = args.get("schools_page", "1").strip() or "1"
    try:
        page = int(text)
    except ValueError:
        page = 0
    if page < 1:
        raise InvalidParameterError(
            "schools_page", f"schools_page must be a whole number from 1, got {text!r}"
        )
    return sort, order, page


def _state_table(data: BuildData, code: str) -> list[dict[str, Any]]:
    """Return the state's schools as plain rows (cached per build and state)."""

    def build() -> list[dict[str, Any]]:
        positions = np.flatnonzero((pd_.school_states(data) == code).to_numpy())
        frame = data.schools.iloc[positions]
        rows = []
        for position, record in zip(positions.tolist(), frame.to_dict("records"), strict=True):
            row: dict[str, Any] = {"row": position}
            for column in (*LIST_COLUMNS, "precision", "school_id"):
                value = record.get(column)
                row[column] = (
                    "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
                )
            rows.append(row)
        return rows

    return cached(data, f"pages/state_school_list/{code}", build)


def school_list(data: BuildData, code: str, sort: str, order: str, page: int) -> SchoolList:
    """Return one page of the state's schools sorted by ``sort`` (blank values last, then by name)."""
    rows = _state_table(data, code)
    filled = [r for r in rows if r[sort]]
    blank = [r for r in rows if not r[sort]]
    filled.sort(key=lambda r: (r[sort].casefold(), r["name"].casefold()), reverse=order == "desc")
    ordered = filled + sorted(blank, key=lambda r: r["name"].casefold())
    pages = max(1, math.ceil(len(ordered) / PAGE_SIZE))
    if page > pages:
        msg = f"schools_page must be from 1 to {pages} for this state, got {str(page)!r}"
        raise InvalidParameterError("schools_page", msg)
    start = (page - 1) * PAGE_SIZE
    return SchoolList(ordered[start : start + PAGE_SIZE], len(ordered), page, pages, sort, order)
