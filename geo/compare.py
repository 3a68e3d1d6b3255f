"""A state's headline figures beside the nation's, with the state's rank among the states.

Used by the state one-pager and its PDF fact sheet (issue 16), so that both
print the same comparison. Input is the ``states`` and ``national`` members of
the build's metrics.json (docs/METRICS.md); nothing here reads files.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

#: The figures a state page and fact sheet lead with, in order.
HEADLINE_METRICS = (
    "community_schools",
    "children",
    "schools_per_10k_children",
    "reach_share",
    "high_poverty_reach_share",
    "unserved_children",
    "unserved_high_poverty_children",
    "desert_counties",
)


@dataclass(frozen=True)
class Comparison:
    """One headline figure of a state, the national value and the state's rank.

    Attributes
    ----------
    key : str
        The metric's column name (docs/METRICS.md).
    value : float or None
        The state's value.
    national : float or None
        The nation's value (a total for counts, the national share or rate otherwise).
    rank : int or None
        1 = the highest value among the states that have one; ties share the better rank.
    of : int
        How many states have a value (52 with DC and PR when all do).
    """

    key: str
    value: float | None
    national: float | None
    rank: int | None
    of: int


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def rank_of(states: Mapping[str, Mapping[str, Any]], code: str, key: str) -> tuple[int | None, int]:
    """Return ``(rank, of)``: where ``code`` stands on ``key`` among ``states``, 1 = highest.

    Ties share the better rank (``min`` ranking), as ``rank_unserved_high_poverty``
    does in :mod:`geo.metrics`. States with no value are not counted; a state with
    no value has rank None.
    """
    values = {c: _number(row.get(key)) for c, row in states.items()}
    present = [v for v in values.values() if v is not None]
    mine = values.get(code)
    if mine is None:
        return None, len(present)
    return 1 + sum(v > mine for v in present), len(present)


def state_comparison(
    states: Mapping[str, Mapping[str, Any]],
    national: Mapping[str, Any],
    code: str,
    keys: Sequence[str] = HEADLINE_METRICS,
) -> list[Comparison]:
    """Return each of ``keys`` for the state ``code`` with the national value and its rank.

    Parameters
    ----------
    states : mapping
        metrics.json ``states``: USPS code to that state's metrics.
    national : mapping
        metrics.json ``national``.
    code : str
        The state's USPS code; KeyError when ``states`` lacks it.
    keys : sequence of str
        The metrics to compare; those the state row lacks entirely are left out.

    Returns
    -------
    list of Comparison
    """
    row = states[code]
    out = []
    for key in keys:
        if key not in row:
            continue
        rank, of = rank_of(states, code, key)
        out.append(Comparison(key, _number(row.get(key)), _number(national.get(key)), rank, of))
    return out
