"""Spanish for the census form (/count): its labels, hints, choices and per-field messages.

:mod:`geo.census` writes the form's words and its messages once, in English, and stays free of
any translation machinery (geo/ is pure). This module marks those words for the catalog
(``pybabel extract`` reads the ``N_`` calls here) and translates a message on display by
matching it against :data:`MESSAGES`, the English shapes geo.census writes, so that the
public sees each per-field message in the page's language with its quoted value intact.
A message of no known shape is shown as written (tests/webmap/test_census_words.py checks
that every message geo.census writes has a shape here).
"""

from __future__ import annotations

import logging

from flask_babel import gettext

from webmap.i18n import N_
from webmap.i18n_shapes import localize_number, translate_by_shape

logger = logging.getLogger(__name__)

#: The form's section titles, field labels, choices (as words) and hints (geo.census).
WORDS: tuple[str, ...] = (
    # Sections (geo.census.SECTIONS).
    N_("The school"),
    N_("Who we can contact"),
    N_("About the school"),
    N_("The three elements"),
    N_("Partners"),
    # Field labels (geo.census.CENSUS_FIELDS).
    N_("School name"),
    N_("NCES school ID"),
    N_("Street address"),
    N_("City"),
    N_("State or province"),
    N_("ZIP or postal code"),
    N_("Country"),
    N_("Your name"),
    N_("Your role"),
    N_("E-mail"),
    N_("Phone"),
    N_("Show this contact publicly"),
    N_("Grades served"),
    N_("Setting, as you would describe it"),
    N_("Coordinating infrastructure (a coordinator, a site team)"),
    N_("Collaborative leadership (school, families, partners decide together)"),
    N_("Planning (a needs and assets assessment, a plan)"),
    N_("Stage of development"),
    N_("Lead partner"),
    N_("Other partners"),
    N_("Coalition Community"),
    # Choices as words (geo.census.choice_label); settings and stages are in webmap.i18n.TERMS.
    N_("yes"),
    N_("in progress"),
    N_("no"),
    N_("not sure"),
    # Hints.
    N_("12 digits, if you know it"),
    N_("e.g. IL or Illinois"),
    N_("e.g. community school coordinator"),
    N_("e.g. K-8, or PK-5, 9-12"),
    N_("the organization that leads with the school"),
    N_("the local initiative the school belongs to, if any"),
)

#: The English shapes of the messages the public sees (geo.census.check_census, webmap.census),
#: with ``%(name)s`` where geo.census puts a value. The same text is the catalog's msgid.
MESSAGES: tuple[str, ...] = (
    N_("%(label)s is too long: %(count)s characters, at most %(limit)s"),
    N_("%(label)s is required"),
    N_("%(label)s must be one of %(allowed)s; got %(value)s"),
    N_("E-mail must look like name@example.org; got %(value)s"),
    N_("Phone may hold digits, spaces and + ( ) - only; got %(value)s"),
    N_("NCES school ID must be 12 digits; got %(value)s"),
    N_("Grades served must look like K-8 or PK-5, 9-12; got %(value)s"),
    N_("Other partners lists %(count)s partners; give at most %(limit)s"),
    N_("Other partners: each name may have at most 200 characters"),
    N_("State or province is not one we know; got %(value)s (use e.g. IL or Illinois)"),
    N_("State or province %(value)s is not in %(country)s"),
    N_("Postal code must look like K1A 0B1; got %(value)s"),
    N_("ZIP code must be 5 digits (or ZIP+4); got %(value)s"),
    N_("We could not place this school: %(why)s. Check the address, city, state and ZIP."),
    N_("We could not place this school: %(why)s."),
    # A hint with a number in it.
    N_("one per line, at most %(limit)s"),
)


def _word(text: str) -> str:
    return gettext(text) if text in WORDS else text


def _slot_value(name: str, text: str) -> str:
    if name == "label":
        return _word(text)
    if name == "allowed":
        return ", ".join(_word(choice) for choice in text.split(", "))
    return localize_number(text)


def translate_census_text(text: str | None) -> str:
    """Return a census word, hint or message of :mod:`geo.census` in the page's language.

    Parameters
    ----------
    text : str or None
        English as geo.census or webmap.census wrote it. A word of :data:`WORDS` is looked
        up; a message is matched against :data:`MESSAGES` and rebuilt from its translation,
        with the label and choices translated and the quoted value kept. Anything else is
        returned as it is.
    """
    if not text:
        return ""
    if text in WORDS:
        return gettext(text)
    return translate_by_shape(text, MESSAGES, _slot_value)
