"""How the pages name, format and class the metrics (docs/METRICS.md defines them).

One table of labels and kinds serves the map legends, the tooltips, the gap
table and the state pages, so a figure reads the same everywhere. Legend bins
come from mapclassify (Fisher–Jenks natural breaks, k=5).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo import registry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    """A metric column as the pages show it (read from :mod:`geo.registry`).

    Attributes
    ----------
    key : str
        Column name in metrics.json and the metrics layers.
    label : str
        Short human label.
    kind : str
        ``count``, ``share`` (0-1, shown as %), ``rate`` (per 10k children), ``ratio``, ``rank`` or ``text``.
    section : str, optional
        Anchor of its definition in docs/METRICS.md when that is a section rather than the
        table row named after the column (which webmap.docs gives the column's name as id).
    """

    key: str
    label: str
    kind: str
    section: str | None = None

    @property
    def anchor(self) -> str:
        """Return the fragment of the metric's definition in /docs/METRICS."""
        return self.section or self.key


def _from_registry(column: registry.Column) -> Metric:
    # The pages format a metric that is not a number (coalition_status) as text.
    kind = column.kind if column.dtype in ("integer", "number") else "text"
    return Metric(column.name, column.title, kind, column.section)


METRICS: dict[str, Metric] = {name: _from_registry(c) for name, c in registry.metrics().items()}

#: The state table's columns, in order (those present in the data are shown).
STATE_TABLE = [
    "community_schools",
    "children",
    "schools_per_10k_children",
    "reach_share",
    "children_within_reach",
    "unserved_children",
    "high_poverty_children",
    "high_poverty_reach_share",
    "high_poverty_children_within_reach",
    "unserved_high_poverty_children",
    "rank_unserved_high_poverty",
    "desert_counties",
    "coalition_status",
    "public_schools",
    "coverage_share",
]
#: The locale tables' columns.
LOCALE_TABLE = [
    "community_schools",
    "children",
    "schools_per_10k_children",
    "reach_share",
    "unserved_children",
    "high_poverty_reach_share",
    "unserved_high_poverty_children",
    "school_share",
    "children_share",
    "representation",
]
#: The metrics the national choropleth switches between (issue #5).
MAP_METRICS = ["schools_per_10k_children", "reach_share", "high_poverty_reach_share", "unserved_children"]

#: ColorBrewer 2.0 sequential schemes, 5 classes (Brewer, colorbrewer2.org; Apache-2.0 licence).
#: YlGnBu where more is better, OrRd where more is worse (unserved children).
YLGNBU_5 = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
ORRD_5 = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
NO_DATA_COLOR = "#d9d9d9"
WORSE_WHEN_HIGHER = {"unserved_children", "unserved_high_poverty_children"}
LEGEND_CLASSES = 5


def metric(key: str) -> Metric:
    """Return the :class:`Metric` of a column (a plain one for unknown columns)."""
    return METRICS.get(key) or Metric(key, key.replace("_", " ").capitalize(), "count")


def format_value(value: Any, kind: str, language: str = "en") -> str:
    """Format a figure for people: thousands separators, % for shares, an em dash when missing.

    ``language`` other than English formats with Babel's CLDR rules for it (``12.345``,
    ``48,3 %`` in Spanish).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if kind == "text":
        return str(value)
    number = float(value)
    if language != "en":
        from babel.numbers import format_decimal, format_percent

        if kind == "share":
            return format_percent(number, format="#,##0.0\u00a0%", locale=language)
        pattern = "#,##0.00" if kind in ("rate", "ratio") else "#,##0"
        return format_decimal(number, format=pattern, locale=language)
    if kind == "share":
        return f"{number:.1%}"
    if kind in ("rate", "ratio"):
        return f"{number:,.2f}"
    return f"{number:,.0f}"


@dataclass(frozen=True)
class Legend:
    """Classed bins of a metric for a choropleth.

    Attributes
    ----------
    key, label, kind : str
        The metric.
    bins : list of float
        Upper bound of each class (a value v is in the first class with v <= bound).
    colors : list of str
        One colour per class.
    labels : list of str
        "low – high" per class, formatted for the metric.
    method : str
        The mapclassify classifier used.
    """

    key: str
    label: str
    kind: str
    bins: list[float]
    colors: list[str]
    labels: list[str]
    method: str
    #: Lower bound of each class (the first is the smallest value), for relabelling in another language.
    lows: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict for the page's map script."""
        return {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "bins": self.bins,
            "colors": self.colors,
            "labels": self.labels,
            "method": self.method,
            "no_data_color": NO_DATA_COLOR,
        }

    def range_labels(self, language: str) -> list[str]:
        """Return the classes' "low – high" labels with numbers formatted for ``language``."""
        if language == "en" or len(self.lows) != len(self.bins):
            return list(self.labels)
        unique = self.method == "unique values"
        return [
            _range_label(low, high, self.kind, first=i == 0, unique=unique, language=language)
            for i, (low, high) in enumerate(zip(self.lows, self.bins, strict=True))
        ]


def classify(key: str, values: Iterable[Any], *, k: int = LEGEND_CLASSES) -> Legend:
    """Class a metric's values into at most ``k`` natural-break bins (mapclassify.FisherJenks).

    Missing values are left out (the map paints them ``NO_DATA_COLOR``). With
    fewer distinct values than ``k``, each distinct value is its own class.
    """
    import mapclassify

    info = metric(key)
    numbers = np.array([float(v) for v in values if v is not None], dtype=float)
    numbers = numbers[np.isfinite(numbers)]
    palette = ORRD_5 if key in WORSE_WHEN_HIGHER or key.startswith("unserved") else YLGNBU_5
    distinct = np.unique(numbers)
    if len(distinct) == 0:
        return Legend(key, info.label, info.kind, [], [], [], "none")
    if len(distinct) <= k:
        bins, method = [float(v) for v in distinct], "unique values"
    else:
        with warnings.catch_warnings():
            # Without numba mapclassify warns that it uses pure Python: fast enough for 52 states or a
            # state's counties.
            warnings.filterwarnings("ignore", message="Numba not installed")
            breaks = mapclassify.FisherJenks(numbers, k=k).bins
        bins, method = [float(b) for b in breaks], "Fisher-Jenks natural breaks"
    colors = _spread(palette, len(bins))
    lows = [float(distinct.min())] + bins[:-1]
    labels = [
        _range_label(low, high, info.kind, first=i == 0, unique=method == "unique values")
        for i, (low, high) in enumerate(zip(lows, bins, strict=True))
    ]
    return Legend(key, info.label, info.kind, bins, colors, labels, method, lows)


def _spread(palette: Sequence[str], n: int) -> list[str]:
    """Pick ``n`` colours spread over a palette, light to dark."""
    if n >= len(palette):
        return list(palette)
    positions = np.linspace(0, len(palette) - 1, n).round().astype(int)
    return [palette[i] for i in positions]


def _range_label(
    low: float, high: float, kind: str, *, first: bool, unique: bool, language: str = "en"
) -> str:
    if unique or low == high:
        return format_value(high, kind, language)
    prefix = "" if first else "> "
    return f"{prefix}{format_value(low, kind, language)} – {format_value(high, kind, language)}"
