"""The state fact sheet: ``/states/<ST>.pdf``, one or two Letter pages (issue 16, point 2).

Rendered on the server with WeasyPrint from an HTML template
(``factsheet/state.html``), with the state's map drawn by matplotlib
(:mod:`webmap.static_map`) because WeasyPrint runs no JavaScript. The headline
figures sit beside the national values and the state's rank
(:func:`geo.compare.state_comparison`), the same comparison the state page shows.
Each PDF is made once per build and state, and kept in the build's cache.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from geo.compare import state_comparison
from webmap import page_data as pd_
from webmap.data import BuildData, get_data
from webmap.exports import built_on, cached
from webmap.http_cache import send_bytes
from webmap.i18n import current_language, format_figure, localized_metric

logger = logging.getLogger(__name__)

bp = Blueprint("factsheet", __name__)

#: Seconds a browser may keep a fact sheet before revalidating (it changes only with the build).
FACTSHEET_MAX_AGE = 300
#: Desert counties listed on the sheet (most children first); the page lists them all.
DESERTS_LISTED = 5


def comparison_rows(data: BuildData, code: str) -> list[dict[str, Any]]:
    """Return the state's headline figures, formatted, with the national value and rank.

    Each row has ``key``, ``label``, ``anchor``, ``value``, ``national``, ``rank`` and
    ``of`` (the rank and count as numbers; the others as text for people).
    """
    document = pd_.metrics_document(data)
    states = document.get("states", {})
    rows = []
    for item in state_comparison(states, document.get("national", {}), code):
        info = localized_metric(item.key)
        rows.append(
            {
                "key": item.key,
                "label": info.label,
                "anchor": info.anchor,
                "value": format_figure(item.value, info.kind),
                "national": format_figure(item.national, info.kind),
                "rank": item.rank,
                "of": item.of,
            }
        )
    return rows


def state_map_uri(data: BuildData, code: str) -> str:
    """Return the state's static map as a ``data:`` URI of a PNG (cached per build)."""
    from webmap.static_map import state_map_image

    def draw() -> str:
        states = data.layer("state_metrics")  # web-weight outlines, as the state page draws
        outline = states[states["stusps"].astype(str) == code]
        schools = data.schools[(pd_.school_states(data) == code).to_numpy()]
        png = state_map_image(
            code, outline, pd_.county_frame(data, code), schools, pd_.county_legend(data, code)
        )
        return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

    return cached(data, f"factsheet/map/{code}", draw)


def factsheet_html(data: BuildData, code: str, *, site: str) -> str:
    """Return the fact sheet's HTML (what WeasyPrint prints), for a state ``code`` of the build.

    ``site`` is the absolute URL of the app's root, printed so a reader can find the live page.
    """
    row = pd_.state_row(data, code)
    legend = pd_.county_legend(data, code)
    return render_template(
        "factsheet/state.html",
        state=row,
        code=code,
        comparison=comparison_rows(data, code),
        map_uri=state_map_uri(data, code),
        legend=list(zip(legend.colors, legend.range_labels(current_language()), strict=True)),
        coalitions=[c for c in pd_.state_coalitions(data, code) if c.get("status") not in (None, "none")],
        deserts=pd_.state_deserts(data, code)[:DESERTS_LISTED],
        desert_total=len(pd_.state_deserts(data, code)),
        manifest=data.manifest,
        is_sample=data.is_sample,
        site=site,
    )


def render_pdf(html: str) -> bytes:
    """Print HTML to PDF bytes with WeasyPrint (no base URL: the sheet embeds all it shows)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def factsheet_pdf(data: BuildData, code: str, *, site: str) -> bytes:
    """Return the state's fact sheet PDF, made once per build, state and language."""
    key = f"factsheet/pdf/{code}/{current_language()}/{site}"
    return cached(data, key, lambda: render_pdf(factsheet_html(data, code, site=site)))


@bp.get("/states/<code>.pdf")
def state_pdf(code: str) -> WerkzeugResponse:
    """Serve the PDF fact sheet of a state (404 naming the code for one the map does not cover)."""
    upper = code.strip().upper()
    if upper != code:
        return redirect(url_for("factsheet.state_pdf", code=upper), 301)
    data = get_data()
    pd_.state_row(data, code)  # NotFoundError -> 404 before any drawing
    site = request.host_url.rstrip("/") + request.script_root
    body = factsheet_pdf(data, code, site=site)
    filename = f"community-schools-{code}-{built_on(data)}{'-SAMPLE' if data.is_sample else ''}.pdf"
    response = send_bytes(body, "application/pdf", filename=filename, inline=True, max_age=FACTSHEET_MAX_AGE)
    current_app.logger.debug("fact sheet %s: %d bytes", code, len(body))
    return response
