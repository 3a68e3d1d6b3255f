"""The planner's totals before and after new sites: in all, and by locale class (docs/PLANNER.md).

Split from :mod:`geo.planner` so that it stays a readable size; the planner
imports these as before.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: NCES-style four classes rolled up to three (city → urban, suburb →
#: suburban, town and rural → rural), as in docs/LOCALE.md.
LOCALE_ROLLUP = {"city": "urban", "suburb": "suburban", "town": "rural", "rural": "rural"}
LOCALE_ORDER = {"locale": ("urban", "suburban", "rural"), "locale4": ("city", "suburb", "town", "rural")}


def totals(children: np.ndarray, high_poverty: np.ndarray, covered: np.ndarray) -> dict[str, Any]:
    """Return the scope's totals (children, within reach, shares, high-poverty) for a coverage mask."""
    total, reached = float(children.sum()), float(children[covered].sum())
    hp_total, hp_reached = float(children[high_poverty].sum()), float(children[high_poverty & covered].sum())
    return {
        "children": total,
        "children_within_reach": reached,
        "share_within_reach": reached / total if total else None,
        "unserved_children": total - reached,
        "high_poverty_children": hp_total,
        "high_poverty_children_within_reach": hp_reached,
        "high_poverty_share_within_reach": hp_reached / hp_total if hp_total else None,
        "zctas_with_children": int((children > 0).sum()),
        "zctas_with_children_within_reach": int(((children > 0) & covered).sum()),
    }


def by_locale(
    scope: pd.DataFrame, high_poverty: np.ndarray, before: np.ndarray, after: np.ndarray
) -> pd.DataFrame:
    """Return :func:`totals` before and after, per locale class (three classes, then four)."""
    children = scope["children"].to_numpy(float)
    rows = []
    for level, order in LOCALE_ORDER.items():
        classes = scope[level].astype("string").fillna("unknown").to_numpy(object)
        for name in (*order, *sorted(set(classes) - set(order))):
            mask = classes == name
            was = totals(children[mask], high_poverty[mask], before[mask])
            now = totals(children[mask], high_poverty[mask], after[mask])
            rows.append(
                {
                    "level": level,
                    "locale_class": name,
                    "children": was["children"],
                    "within_reach_before": was["children_within_reach"],
                    "within_reach_after": now["children_within_reach"],
                    "gain": now["children_within_reach"] - was["children_within_reach"],
                    "share_before": was["share_within_reach"],
                    "share_after": now["share_within_reach"],
                    "high_poverty_children": was["high_poverty_children"],
                    "high_poverty_within_reach_before": was["high_poverty_children_within_reach"],
                    "high_poverty_within_reach_after": now["high_poverty_children_within_reach"],
                }
            )
    return pd.DataFrame(rows)
