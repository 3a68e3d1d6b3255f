"""Translate a sentence that geo/ wrote in English, by its shape (issue 16 point 5).

geo/ stays free of translation machinery and writes its sentences (a census form's per-field
message, a planner note) in English with values in them. A *shape* is such a sentence with
``%(name)s`` where geo/ puts a value; it is the catalog's msgid. :func:`translate_by_shape`
finds the shape a sentence has, translates the shape and puts the values back, each through
a function that may translate or reformat it (a label, a number). A sentence of no known shape
is returned as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from flask_babel import gettext

from webmap.i18n import current_language, format_number

logger = logging.getLogger(__name__)

_SLOT = re.compile(r"%\((\w+)\)s")
_ENGLISH_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


@lru_cache(maxsize=32)
def _patterns(shapes: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Return each shape as a full-match regex with one named group per slot."""
    patterns = []
    for shape in shapes:
        parts = _SLOT.split(shape)  # text, name, text, name, ..., text
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
        patterns.append((re.compile(regex + r"\Z", re.S), shape))
    return tuple(patterns)


def localize_number(text: str) -> str:
    """Return an English-formatted whole number (``12,345``) in the page's language; else ``text``."""
    if current_language() == "en" or not _ENGLISH_NUMBER.fullmatch(text):
        return text
    return format_number(int(text.replace(",", "")))


def translate_by_shape(
    text: str,
    shapes: Sequence[str],
    slot: Callable[[str, str], str] | None = None,
) -> str:
    """Return ``text`` in the page's language when it has one of ``shapes``; else ``text`` itself.

    Parameters
    ----------
    text : str
        An English sentence as geo/ wrote it.
    shapes : sequence of str
        The English shapes (msgids) with ``%(name)s`` slots, most specific first.
    slot : callable, optional
        ``slot(name, value)`` returns the value to put back in the translation (default: the
        value, with an English whole number reformatted by :func:`localize_number`).
    """
    for pattern, shape in _patterns(tuple(shapes)):
        found = pattern.match(text)
        if found:
            fill = slot or (lambda _name, value: localize_number(value))
            return gettext(shape, **{name: fill(name, value) for name, value in found.groupdict().items()})
    logger.debug("a sentence of no known shape, shown as written: %r", text)
    return text
