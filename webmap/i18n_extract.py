"""A pybabel extractor for the metric labels of :mod:`geo.registry` (``babel.cfg``, ``[registry: ...]``).

The labels are written once, in English, in the registry, which stays free of any
translation machinery (geo/ is pure); this extractor puts them in the catalog so that
the pages can translate them like any other string, and so that the catalog test
notices a new metric whose label has no Spanish yet.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

logger = logging.getLogger(__name__)


def registry_labels() -> list[str]:
    """Return every metric label the pages show, in registry order, each once."""
    from webmap.figures import METRICS

    return list(dict.fromkeys(m.label for m in METRICS.values()))


def extract_metric_labels(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield ``(line, None, label, comments)`` for each metric label, at its line in ``fileobj``.

    Follows Babel's extractor protocol (``babel.messages.extract``). A label whose text is
    not found in the file (built from another module) is reported at line 0.
    """
    lines = fileobj.read().decode("utf-8").splitlines()
    for label in registry_labels():
        quoted = f'"{label}"'
        lineno = next((i for i, line in enumerate(lines, start=1) if quoted in line), 0)
        yield lineno, None, label, ["metric label (geo.registry)"]


def school_field_words() -> list[str]:
    """Return the titles and descriptions of the school fields the school page shows, each once."""
    from webmap.school_page import shown_columns

    words = [word for column in shown_columns() for word in (column.title, column.description)]
    return list(dict.fromkeys(word for word in words if word))


def extract_school_fields(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield ``(line, None, text, comments)`` for each school field's title and description.

    The school page (webmap.school_page) shows them in its "Details" table; like the metric
    labels, they are written once, in English, in :mod:`geo.registry`.
    """
    lines = fileobj.read().decode("utf-8").splitlines()
    for text in school_field_words():
        quoted = f'"{text}"'
        lineno = next((i for i, line in enumerate(lines, start=1) if quoted in line), 0)
        yield lineno, None, text, ["school field (geo.registry)"]
