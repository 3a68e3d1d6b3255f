"""Views that any site may frame: ``/embed/map`` and ``/embed/states/<ST>`` (issue 16, point 4).

Each is the map alone, with the sample note when the build is the sample and a link to the
full page (opened outside the frame). Only these responses carry ``frame-ancestors *``
(:func:`webmap.security.allow_framing`); every other page keeps ``frame-ancestors 'none'``
and ``X-Frame-Options: DENY``. A state clicked on the embedded national map opens the
embedded state view, so the visitor stays inside the frame that allows it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext

from webmap import maps
from webmap import page_data as pd_
from webmap.data import get_data
from webmap.figures import MAP_METRICS
from webmap.i18n import legend_dict, localized_metric
from webmap.pages import map_page
from webmap.security import allow_framing

logger = logging.getLogger(__name__)

bp = Blueprint("embed", __name__, url_prefix="/embed")

#: Height in pixels of the iframe the "Embed this map" snippets suggest.
EMBED_HEIGHT = 480


def embed_snippet(src: str, title: str) -> str:
    """Return the ``<iframe>`` HTML a partner pastes into their page to show ``src``."""
    from markupsafe import escape

    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" height="{EMBED_HEIGHT}" '
        'style="border:0" loading="lazy"></iframe>'
    )


@bp.get("/map")
def national():
    """Show the national map alone, frameable by any site."""
    allow_framing()
    data = get_data()
    labels = [(key, localized_metric(key).label) for key in MAP_METRICS]
    page = map_page(data, "national", lambda **kw: maps.national_map(labels, **kw))
    config = {
        "page": "national",
        "map": page.map_name,
        "layers": page.layers,
        "legends": [legend_dict(legend) for legend in pd_.national_legends(data)],
        "states_url": url_for("pages.states_geojson"),
        "schools_url": url_for("pages.schools_array"),
        "school_url": url_for("pages.school_popup", row=0).rsplit("/", 1)[0] + "/",
        "state_url": url_for("embed.state", code="XX").rsplit("/", 1)[0] + "/",
    }
    return render_template(
        "embed/map.html",
        map_page=page,
        config=config,
        title=gettext("Community Schools across the US"),
        full_url=url_for("pages.index", _external=True),
    )


@bp.get("/states/<code>")
def state(code: str):
    """Show one state's map alone, frameable by any site."""
    allow_framing()
    upper = code.strip().upper()
    if upper != code:
        return redirect(url_for("embed.state", code=upper), 301)
    data = get_data()
    row = pd_.state_row(data, code)
    bounds = pd_.state_bounds(data, code)
    page = map_page(data, f"state/{code}", lambda **kw: maps.state_map(bounds, **kw))
    config = {
        "page": "state",
        "map": page.map_name,
        "layers": page.layers,
        "legends": [legend_dict(pd_.county_legend(data, code))],
        "counties_url": url_for("pages.counties_geojson", code=code),
        "schools_url": url_for("pages.schools_array", state=code),
        "school_url": url_for("pages.school_popup", row=0).rsplit("/", 1)[0] + "/",
    }
    return render_template(
        "embed/map.html",
        map_page=page,
        config=config,
        title=gettext("Community Schools in %(state)s", state=row["name"]),
        full_url=url_for("pages.state_page", code=code, _external=True),
    )
