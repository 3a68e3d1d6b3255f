"""English and Spanish for the public pages (issue 16 point 5), with Flask-Babel.

The language comes, in this order, from ``?lang=`` (a link that always opens one
language), the ``csmap_lang`` cookie the header's "English | Español" switch sets
(``/language/<code>``), the browser's ``Accept-Language``, and else English. Staff
pages stay English. Every response whose body used the language says so with
``Vary: Accept-Language, Cookie`` and ``Content-Language``; the page caches
(:func:`webmap.pages.cached_html`) keep one copy per language.

The catalog is ``webmap/translations/es/LC_MESSAGES/messages.po`` (``babel.cfg``
says where strings are extracted from; README "Translations"). Metric labels are
written once, in English, in :mod:`geo.registry` and translated through the same
catalog (:mod:`webmap.i18n_extract` extracts them). Scripts get their strings as a
JSON blob in the page (:func:`script_messages`), never translated in the JS files.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.numbers import format_decimal, format_percent
from flask import Blueprint, Flask, Response, g, redirect, request
from flask_babel import Babel, get_locale, gettext
from werkzeug.wrappers import Response as WerkzeugResponse

from geo.errors import InvalidParameterError, NotFoundError
from webmap.figures import Legend, Metric, format_value, metric

logger = logging.getLogger(__name__)

bp = Blueprint("i18n", __name__)

#: The languages of the public pages, each named in itself (the switch shows these names).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
#: The catalogs' folder, inside the webmap package (``<lang>/LC_MESSAGES/messages.po``).
TRANSLATIONS = "translations"
#: The switch's cookie: a year, so a visitor's choice outlives the session.
COOKIE_NAME = "csmap_lang"
COOKIE_MAX_AGE = timedelta(days=365)
#: Where pages stay English: the staff workspace (its blueprints "staff" and "auth" live under /staff).
ENGLISH_ONLY_PREFIX = "/staff"


def N_(text: str) -> str:  # noqa: N802 - gettext's conventional name for "mark, don't translate yet"
    """Mark ``text`` for the catalog without translating it here (pybabel extracts ``N_``)."""
    return text


#: Words the scripts show (static/js/*.js read them through csmap.t), with {name} slots. The
#: literal t("...") calls are checked against this list (tests/webmap/test_i18n.py); the rest are
#: words the scripts look up from data: precisions, layer names, the find list's distances.
SCRIPT_MESSAGES: tuple[str, ...] = (
    N_("Approximate location: this school is placed at its {precision} centre, not its street address."),
    N_("Asking your browser for your location…"),
    N_("Children within reach"),
    N_("Children"),
    N_("Classes: {method}"),
    N_("Click for the state page"),
    N_("Coalition"),
    N_("Community School"),
    N_("Community Schools"),
    N_("Copied."),
    N_("Could not load this school's details ({error}). Reload the page to try again."),
    N_("District"),
    N_("Grades"),
    N_("High-poverty reach"),
    N_("Lead partner"),
    N_("Loading…"),
    N_("Located by"),
    N_("Note: {note}"),
    N_("Open the {name} page →"),
    N_("Places"),
    N_("Sample data (generated)"),
    N_("Schools per 10k children"),
    N_("Selected: press Ctrl+C (⌘C) to copy."),
    N_("Show or hide the legend"),
    N_("Show the Coalition Communities on the map (orange)"),
    N_("Show {name} on the main map"),
    N_("The communities layer could not be loaded."),
    N_("The {what} could not be drawn ({error})."),
    N_("The {what} could not be loaded ({error})."),
    N_("Unnamed school"),
    N_("Unserved children"),
    N_("Your location is not available ({error}). Type a ZIP code or a city instead."),
    N_("approximate location"),
    N_("coalition: developing"),
    N_("coalition: existing"),
    N_("coalitions: not recorded"),
    N_("desert county"),
    N_("group of schools (count)"),
    N_("led by {name}"),
    N_("no data"),
    N_("{name} — desert county"),
    N_("{n} schools: click to zoom in"),
    N_("{n} school"),
    N_("{n} schools"),
    N_("about {distance} mi"),
    N_("{distance} mi"),
    N_("coordinates given in the school list"),
    N_("street address"),
    N_("ZIP code centre (approximate)"),
    N_("city centre (approximate)"),
    N_("state centre (very approximate)"),
    N_("unknown"),
    N_("not recorded"),
    N_("states"),
    N_("counties"),
    N_("schools"),
    N_("School page: contact, directions, nearby schools ›"),
    # The census form's place check (csmap-count.js) and the planner (plan.js).
    N_(
        "Is this your school? We placed it at {lat}, {lon} "
        "({precision} precision{note}). If it is far off, correct the address."
    ),
    N_("Placing the school…"),
    N_("The address could not be placed."),
    N_("The place could not be checked just now; you can still send the form."),
    N_("All unserved children newly reached"),
    N_("At most {max} sites; remove one first."),
    N_("Computing what your site adds…"),
    N_("Computing what your {n} sites add…"),
    N_("Could not compute the what-if: {error}"),
    N_("Download your sites ({format})"),
    N_(
        "Gain 0: every ZIP area within reach of this site is already "
        "within reach of a school (or of one of your earlier sites)."
    ),
    N_("Gain 0: the ZIP areas it newly reaches have no {objective}."),
    N_("Gain"),
    N_("Gain: {objective}"),
    N_("High-poverty area"),
    N_("Location"),
    N_("Map of the sites: arrow keys move it, plus and minus zoom"),
    N_("Newly reached by"),
    N_("Proposed site {order}: {name}"),
    N_("Running total"),
    N_("The existing schools could not be drawn ({error})."),
    N_("The state outlines could not be drawn ({error})."),
    N_(
        "Together your sites would bring {gain} more {objective} within "
        "reach: reach goes from {before} to {after} of children."
    ),
    N_(
        "Together your sites would bring {gain} more {objective} within "
        "reach: reach goes from {before} to {after} of high-poverty children."
    ),
    N_("Your site (nearest place)"),
    N_("Your site {n} (computing…)"),
    N_("Your site {n}"),
    N_("Your site {n}: +{gain}"),
    N_("ZCTAs newly reached"),
    N_("no"),
    N_("site"),
    N_("yes"),
    N_("your site"),
)

#: Data words the pages show as they are stored (locale classes, coalition stages, partner
#: and lead types, legend methods): translated on display by the ``term`` filter.
TERMS: tuple[str, ...] = (
    # Locale classes (geo.locale) and the four NCES-style ones.
    N_("urban"),
    N_("suburban"),
    N_("rural"),
    N_("city"),
    N_("suburb"),
    N_("town"),
    # Coalition status and stages (geo.registry.metrics COALITION_STAGES).
    N_("existing"),
    N_("developing"),
    N_("none"),
    N_("exploring"),
    N_("emerging"),
    N_("evolving"),
    N_("expanding"),
    # Community lead types and partner types (geo.registry.records), shown with spaces.
    N_("district"),
    N_("county"),
    N_("university"),
    N_("nonprofit"),
    N_("united way"),
    N_("health"),
    N_("government"),
    N_("business"),
    N_("faith"),
    N_("other"),
    N_("lead"),
    N_("supporting"),
    # How a school was placed (geo.registry.schools precision).
    N_("given"),
    N_("street"),
    N_("zip"),
    N_("state"),
    # Where a school's locale class came from (geo.registry.schools locale_source).
    N_("derived"),
    # Value types in the data dictionary (webmap.data_dictionary.column_type).
    N_("boolean"),
    N_("integer"),
    N_("number"),
    N_("text"),
    N_("geometry"),
    # Legend class methods (webmap.figures.classify).
    N_("Fisher-Jenks natural breaks"),
    N_("unique values"),
)


#: The error page's titles (HTTP reason phrases, webmap.errors), translated by the ``status_title`` filter.
STATUS_TITLES: tuple[str, ...] = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Gone"),
    N_("Request Entity Too Large"),
    N_("Content Too Large"),
    N_("Unprocessable Content"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
    N_("Error"),
)


def current_language() -> str:
    """Return the language of this request's page: ``"en"`` or ``"es"``."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def select_language() -> str:
    """Pick the request's language: ``?lang=``, the switch's cookie, Accept-Language, else English."""
    g.csmap_language_used = True
    if request.path == ENGLISH_ONLY_PREFIX or request.path.startswith(ENGLISH_ONLY_PREFIX + "/"):
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return str(asked)
    remembered = request.cookies.get(COOKIE_NAME)
    if remembered in LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE


def translate_term(value: Any) -> str:
    """Translate a stored data word (``rural``, ``developing``, ``school_district``) for display."""
    if value is None:
        return ""
    text = str(value).replace("_", " ")
    return gettext(text) if text in TERMS else text


def localized_metric(key: str) -> Metric:
    """Return a metric (:func:`webmap.figures.metric`) with its label in the page's language."""
    info = metric(key)
    if current_language() == DEFAULT_LANGUAGE:
        return info
    return replace(info, label=gettext(info.label))


def legend_dict(legend: Legend) -> dict[str, Any]:
    """Return a legend for the map script (:meth:`Legend.as_dict`) in the page's language."""
    document = legend.as_dict()
    language = current_language()
    if language != DEFAULT_LANGUAGE:
        document.update(
            label=gettext(legend.label),
            labels=legend.range_labels(language),
            method=translate_term(legend.method),
        )
    return document


def format_figure(value: Any, kind: str) -> str:
    """Format a metric value of ``kind`` for the page's language; a stored word is translated."""
    if kind == "text" and value is not None:
        return translate_term(value)
    return format_value(value, kind, current_language())


def translate_status_title(title: str) -> str:
    """Translate an HTTP reason phrase the error page shows (English when it is not listed)."""
    return gettext(title) if title in STATUS_TITLES else title


def script_messages() -> dict[str, str]:
    """Return the scripts' strings in the page's language (empty in English: the scripts' own text)."""
    if current_language() == DEFAULT_LANGUAGE:
        return {}
    # The data words too: the tooltips show coalition stages and placements as stored.
    return {text: gettext(text) for text in (*SCRIPT_MESSAGES, *TERMS)}


def format_number(value: Any, decimals: int = 0, *, language: str | None = None) -> str:
    """Format a number for the page's language (``12,345.6`` / ``12.345,6``); a dash when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    language = language or current_language()
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    if language == DEFAULT_LANGUAGE:
        return f"{float(value):,.{decimals}f}"
    return format_decimal(float(value), format=pattern, locale=language)


def format_share(value: float, decimals: int = 1, *, language: str | None = None) -> str:
    """Format a 0-1 share as a percentage for the language (``48.3%`` / ``48,3 %``)."""
    language = language or current_language()
    if language == DEFAULT_LANGUAGE:
        return f"{value:.{decimals}%}"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "\u00a0%"
    return format_percent(value, format=pattern, locale=language)


def format_timestamp(value: Any, *, date_only: bool = False) -> str:
    """Format a build's ISO timestamp for the page's language (kept as written in English).

    Spanish reads ``30 de noviembre de 2026, 21:26`` (Babel's CLDR month names); a value that
    is not an ISO timestamp is shown as it is.
    """
    if value is None:
        return ""
    text = str(value)
    language = current_language()
    if language == DEFAULT_LANGUAGE:
        return text[:10] if date_only else text
    from datetime import datetime

    from babel.dates import format_date, format_datetime

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if date_only:
        return format_date(moment, "d 'de' MMMM 'de' y", locale=language)
    return format_datetime(moment, "d 'de' MMMM 'de' y, HH:mm", tzinfo=moment.tzinfo, locale=language)


def language_url(code: str) -> str:
    """Return the switch's link to ``code``: it sets the cookie and comes back to this page.

    A page cached for every visitor (``g.csmap_shared_page``) comes back to its path only, so
    one visitor's stray query parameters are never baked into the copy others get.
    """
    path = request.path
    if not g.get("csmap_shared_page"):
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        if args:
            path += "?" + urlencode(args)
    return f"{request.script_root}/language/{code}?{urlencode({'next': path})}"


def _safe_next(target: str | None) -> str:
    """Return ``target`` when it is a path on this site (no scheme, host or ``//``), else the root."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@bp.get("/language/<code>")
def switch_language(code: str) -> WerkzeugResponse:
    """Remember the visitor's language in a cookie and go back to the page they were on."""
    if code not in LANGUAGES:
        msg = f"no language {code!r}; this site speaks {', '.join(LANGUAGES)}"
        raise NotFoundError(msg)
    from flask import current_app

    response = redirect(request.script_root + _safe_next(request.args.get("next")), 303)
    response.set_cookie(
        COOKIE_NAME,
        code,
        max_age=COOKIE_MAX_AGE,
        samesite="Lax",
        secure=str(current_app.config.get("SECURE_COOKIES", "")).lower() in ("1", "true"),
        httponly=True,
    )
    return response


def _check_lang_parameter() -> None:
    """Refuse a ``?lang=`` the site does not speak (400 naming it), before any view runs."""
    asked = request.args.get("lang")
    if asked is not None and asked not in LANGUAGES:
        msg = f"lang must be one of {', '.join(LANGUAGES)}; got {asked!r}"
        raise InvalidParameterError("lang", msg)


def _say_language(response: Response) -> Response:
    """Tell caches the body depends on the language, and say which one it is in."""
    if g.get("csmap_language_used"):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        response.headers["Content-Language"] = current_language()
    return response


def template_globals() -> Mapping[str, Any]:
    """Return what every template needs for the language switch and the scripts' strings."""
    return {
        "languages": LANGUAGES,
        "current_language": current_language,
        "language_url": language_url,
        "script_messages": script_messages,
    }


def compile_catalogs(directory: Path) -> list[Path]:
    """Compile each ``*.po`` under ``directory`` to its ``.mo`` when the ``.mo`` is missing or older.

    ``make`` does this at install time (``make translations``); doing it here too means a fresh
    clone served or tested any other way still speaks Spanish. The ``.mo`` is written to a
    temporary file and renamed, so processes starting together never read half a file. Returns
    the catalogs compiled; a folder that cannot be written is logged, and the pages stay English.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = []
    for po in sorted(directory.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source)
            with tempfile.NamedTemporaryFile(dir=mo.parent, suffix=".mo.tmp", delete=False) as target:
                write_mo(target, catalog)
            os.replace(target.name, mo)
            compiled.append(mo)
        except OSError as exc:
            logger.warning("could not compile %s (%s); pages in that language fall back to English", po, exc)
    if compiled:
        logger.info("compiled %d translation catalog(s)", len(compiled))
    return compiled


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the switch's route, the ``Vary`` headers and the template helpers."""
    compile_catalogs(Path(app.root_path) / TRANSLATIONS)
    Babel(app, locale_selector=select_language, default_translation_directories=TRANSLATIONS)
    app.register_blueprint(bp)
    app.before_request(_check_lang_parameter)
    app.after_request(_say_language)
    app.jinja_env.globals.update(template_globals())
    app.jinja_env.filters["term"] = translate_term
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["share"] = format_share
    app.jinja_env.filters["timestamp"] = format_timestamp
    app.jinja_env.filters["status_title"] = translate_status_title
