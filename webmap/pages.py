"""The HTML pages: national map, states, "schools near me", gap tables, about, docs.

Views stay thin: parse and validate the query, ask geo/ or the per-build
caches (webmap.page_data), build the map skeleton (webmap.maps) and render.
Map data the page scripts fetch is served under ``/map/`` as compact JSON.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext

from geo.errors import BuildChangedError, InvalidParameterError, NotFoundError
from geo.find import nearby_schools, search
from webmap import assets, docs, maps
from webmap import page_data as pd_
from webmap.context import context_urls
from webmap.data import BuildData, get_data
from webmap.exports import cached, school_index
from webmap.figures import LOCALE_TABLE, MAP_METRICS, STATE_TABLE, metric
from webmap.health import public_manifest
from webmap.http_cache import send_bytes
from webmap.i18n import current_language, format_figure, format_number, legend_dict, localized_metric
from webmap.params import STATE, Param, Parameters
from webmap.security import get_nonce
from webmap.tiles import tile_layer

logger = logging.getLogger(__name__)

bp = Blueprint("pages", __name__)

#: Seconds a browser may reuse map data before revalidating by ETag.
MAP_DATA_MAX_AGE = 300
#: Most schools listed on /find; beyond the radius, the nearest few.
FIND_MAX_RESULTS = 100
FIND_NEAREST_BEYOND = 5
FIND_DEFAULT_RADIUS = 10
SORT_ORDERS = ("asc", "desc")

#: /find's query, declared once (webmap.params). A page ignores parameters it does not
#: know (fbclid, utm_source) and treats empty form fields as absent.
FIND_PARAMETERS = Parameters(
    (
        Param("q", "An address, ZIP code or city (the first 200 characters are used)."),
        Param("lat", "Latitude, WGS84 degrees (with lon).", type="number", minimum=-90, maximum=90),
        Param("lon", "Longitude, WGS84 degrees (with lat).", type="number", minimum=-180, maximum=180),
        Param(
            "radius",
            "Search radius in miles, one of the offered choices.",
            type="integer",
            enum=maps.FIND_RADII_MILES,
            default=FIND_DEFAULT_RADIUS,
        ),
    ),
    page=True,
)
#: /gaps' table order; ``sort``'s allowed columns depend on the build, so the view checks them.
GAPS_PARAMETERS = Parameters(
    (
        Param("sort", "The column to sort by: name or a column of the table."),
        Param("order", "asc or desc.", enum=SORT_ORDERS, fold="lower", default="desc"),
    ),
    page=True,
)
#: The map data the page scripts fetch (JSON: stray parameters are refused).
MAP_SCHOOLS_PARAMETERS = Parameters((STATE,))
POPUP_PARAMETERS = Parameters((Param("build", "The build the row number came from."),))


@bp.app_template_filter("figure")
def figure_filter(value: Any, key: str) -> str:
    """Format a metric value for people (``{{ row.reach_share | figure('reach_share') }}``)."""
    return format_figure(value, metric(key).kind)


@bp.app_template_filter("miles")
def miles_filter(value: Any) -> str:
    """Format a distance in miles: one decimal under 10 miles, whole miles beyond."""
    if value is None:
        return "—"
    number = float(value)
    return format_number(number, 1 if number < 10 else 0)


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    """Give every template the build facts (for the sample banner) and the metric lookup."""
    try:
        data = get_data()
        build = {
            "is_sample": data.is_sample,
            "build_id": data.build_id,
            "built_at": data.manifest.get("built_at"),
        }
    except Exception:  # the error page must render even with no build
        build = None
    return {"build": build, "metric": localized_metric}


def map_page(data: BuildData | None, kind: str, build) -> maps.MapPage:
    """Render a map skeleton; with ``data``, once per build, page kind and tile setting.

    ``build(tiles=..., attribution=..., max_native_zoom=...)`` is one of the :mod:`webmap.maps`
    builders, returning the map and its layer roles. Pass ``data=None`` for maps that depend on the visitor's
    query (/find), so the cache cannot grow with every place searched.
    """
    basemap = tile_layer()
    tiles, attribution = (basemap.url, basemap.attribution) if basemap else (None, None)

    def render() -> maps.MapPage:
        native = basemap.max_native_zoom if basemap else None
        m, layers = build(tiles=tiles, attribution=attribution, max_native_zoom=native)
        page = maps.render_map(m, layers, lambda path: url_for("static", filename=f"vendor/{path}"))
        return assets.bundle_page(page)

    if data is None:
        return render()
    key = f"pages/map/{current_language()}/{kind}/{request.script_root}/{tiles}/{attribution}"
    return cached(data, key, render)


#: Stands in for the CSP nonce in a cached page; random per process, so no data can contain it.
NONCE_SLOT = f"csmap-nonce-slot-{secrets.token_hex(16)}"


def cached_html(data: BuildData, key: str, render: Callable[[], str]) -> str:
    """Render a public page once per build and ``key``; each answer gets its own CSP nonce.

    Public pages read no cookie and vary only with the build and the app's settings,
    so the HTML is the same for every visitor except the nonce, which is rendered
    as :data:`NONCE_SLOT` and replaced per request, and the language (webmap.i18n),
    which is part of the cache key. ``key`` must come from a bounded
    set (e.g. a state code the build knows), so the cache cannot grow without end.
    """
    nonce = get_nonce()

    def make() -> str:
        g.csp_nonce = NONCE_SLOT
        g.csmap_shared_page = True
        try:
            return render()
        finally:
            g.csp_nonce = nonce
            g.csmap_shared_page = False

    html = cached(data, f"pages/html/{current_language()}/{request.script_root}/{key}", make)
    return html.replace(NONCE_SLOT, nonce)


# --------------------------------------------------------------------------
# National map


@bp.get("/")
def index():
    """Show the national map: state choropleth, coalition outlines, clustered schools."""
    data = get_data()
    return cached_html(data, "national", lambda: _national_page(data))


def _national_page(data: BuildData) -> str:
    document = pd_.metrics_document(data)
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
        "state_url": url_for("pages.state_list"),
        **context_urls(outlines=False),
    }
    return render_template(
        "pages/index.html",
        map_page=page,
        config=config,
        states_url=config["states_url"],
        schools_url=config["schools_url"],
        national=document.get("national", {}),
        canada=document.get("canada", {}),
        parameters=document.get("parameters", {}),
        map_metrics=MAP_METRICS,
    )


# --------------------------------------------------------------------------
# States


@bp.get("/states/")
def state_list():
    """Every state with its headline figures, linking to its page."""
    data = get_data()
    return render_template("pages/states.html", states=pd_.state_rows(data))


@bp.get("/states/<code>")
def state_page(code: str):
    """One state: its counties by unserved children, its schools, locale table, deserts, coalition."""
    upper = code.strip().upper()
    if upper != code:
        return redirect(url_for("pages.state_page", code=upper), 301)
    data = get_data()
    row = pd_.state_row(data, code)  # an unknown code is a 404 here, so only known codes are cached
    from webmap.state_schools import parse_list_args, school_list

    # The schools list's sort and page are part of the page: validated first (400 naming a bad
    # one, and a page beyond the list), so each cached page is a real, bounded variant.
    listing = parse_list_args(request.args)
    school_list(data, code, *listing)
    key = "state/{}/{}/{}/{}".format(code, *listing)
    return cached_html(data, key, lambda: _state_page(data, code, row, listing))


def _state_page(data: BuildData, code: str, row: dict[str, Any], listing: tuple[str, str, int]) -> str:
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
        "state": code,
        **context_urls(code),
    }
    locales = pd_.metrics_document(data).get("state_locales", {}).get(code, {})
    return render_template(
        "pages/state.html",
        **state_one_pager(data, code, row, listing),
        map_page=page,
        config=config,
        state=row,
        code=code,
        counties_url=config["counties_url"],
        schools_url=config["schools_url"],
        locale3=pd_.locale_rows(locales, "locale"),
        locale4=pd_.locale_rows(locales, "locale4"),
        locale_columns=LOCALE_TABLE,
        deserts=pd_.state_deserts(data, code),
        coalitions=pd_.state_coalitions(data, code),
    )


def state_one_pager(
    data: BuildData, code: str, row: dict[str, Any], listing: tuple[str, str, int]
) -> dict[str, Any]:
    """Return what the state page adds for advocates (issue 16): comparison, schools, share, downloads."""
    from webmap.embed import embed_snippet
    from webmap.factsheet import comparison_rows
    from webmap.state_schools import LIST_COLUMNS, school_list

    sort, order, page = listing
    return {
        "comparison": comparison_rows(data, code),
        "schools": school_list(data, code, sort, order, page),
        "list_columns": LIST_COLUMNS,
        "share_link": url_for("pages.state_page", code=code, _external=True),
        "embed_code": embed_snippet(
            url_for("embed.state", code=code, _external=True),
            gettext("Community Schools in %(state)s", state=row.get("name", code)),
        ),
        "pdf_url": url_for("factsheet.state_pdf", code=code),
        "downloads": {
            gettext("Schools (CSV)"): url_for("downloads.download", name="schools.csv", state=code),
            gettext("Schools (GeoJSON)"): url_for("downloads.download", name="schools.geojson", state=code),
            gettext("Counties with their figures (GeoJSON)"): url_for(
                "downloads.download", name="counties.geojson", state=code
            ),
        },
    }


# --------------------------------------------------------------------------
# Find schools near me


def _find_parameters() -> tuple[str, float | None, float | None, int]:
    """Validate /find's query: q, or lat and lon; radius among the offered choices."""
    values = FIND_PARAMETERS.parse(request.args)
    lat, lon = values["lat"], values["lon"]
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise InvalidParameterError(missing, f"give both lat and lon, or neither; {missing} is missing")
    return (values["q"] or "")[:200], lat, lon, values["radius"]


@bp.get("/find")
def find():
    """Find Community Schools near an address, ZIP, city, state, school or district name."""
    query, lat, lon, radius = _find_parameters()
    data = get_data()
    context: dict[str, Any] = {
        "query": query,
        "radius": radius,
        "radii": maps.FIND_RADII_MILES,
        "location": None,
        "results": [],
        "within_radius": True,
        "not_found": False,
        "search": None,
    }
    if lat is not None and lon is not None:
        point = {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}"}
        context["location"] = {
            "lat": lat,
            "lon": lon,
            "label": gettext("your location (%(lat)s, %(lon)s)", **point),
            "precision": "point",
            "note": "",
        }
    elif query:
        zips, gazetteer = pd_.find_tables(data)
        states = frozenset(pd_.state_rows(data))
        found = search(query, zips, gazetteer, pd_.search_schools(data), us_states=states)
        if found.state is not None:  # "Ohio": the state's own page says more than a radius search
            return redirect(url_for("pages.state_page", code=found.state))
        context["search"] = found
        if found.location is None:
            context["not_found"] = not (found.choices or found.names or found.message)
        else:
            context["location"] = asdict(found.location)
    location = context["location"]
    if location is None:
        return render_template("pages/find.html", **context)

    nearby = nearby_schools(
        data.schools,
        school_index(data),
        location["lat"],
        location["lon"],
        k=FIND_MAX_RESULTS,
        radius_mi=float(radius),
        beyond=FIND_NEAREST_BEYOND,
    )
    results = [{**pd_.school_popup(data, hit["row"]), **hit} for hit in nearby.rows]
    # From a ZIP or city centre the distances are only as good as that centre: say "about".
    approximate = location["precision"] in ("zip", "city")
    page = map_page(None, "find", lambda **kw: maps.find_map(location["lat"], location["lon"], radius, **kw))
    config = {
        "page": "find",
        "map": page.map_name,
        "layers": page.layers,
        "origin": location,
        "approximate": approximate,
        "results": [
            {k: r[k] for k in ("row", "lat", "lon", "name", "distance_mi", "low_precision")} for r in results
        ],
        "school_url": url_for("pages.school_popup", row=0).rsplit("/", 1)[0] + "/",
        "build": data.build_id,
        **context_urls(),
    }
    context.update(
        results=results,
        within_radius=nearby.within_radius,
        total_within=nearby.total_within,
        beyond_list=max(0, nearby.total_within - len(results)) if nearby.within_radius else 0,
        approximate=approximate,
        map_page=page,
        config=config,
        limit_reached=len(results) == FIND_MAX_RESULTS,
    )
    return render_template("pages/find.html", **context)


# --------------------------------------------------------------------------
# Gaps, about, docs


@bp.get("/gaps")
def gaps():
    """Every state and its metrics (sortable), and the national urban/suburban/rural breakdown."""
    data = get_data()
    document = pd_.metrics_document(data)
    rows = list(pd_.state_rows(data).values())
    columns = [c for c in STATE_TABLE if any(c in row for row in rows)]
    values = GAPS_PARAMETERS.parse(request.args)
    sort, order = values["sort"] or "", values["order"]
    if sort:
        if sort not in ("name", *columns):
            msg = f"sort must be 'name' or one of the table's columns ({', '.join(columns)}), got {sort!r}"
            raise InvalidParameterError("sort", msg)
        present = [r for r in rows if r.get(sort) is not None]
        missing = [r for r in rows if r.get(sort) is None]  # missing values always sort last
        rows = sorted(present, key=lambda r: r[sort], reverse=order == "desc") + missing
    locales = pd_.locale_rows(document.get("locales", {}), "locale")
    return render_template(
        "pages/gaps.html",
        rows=rows,
        columns=columns,
        sort=sort,
        order=order,
        national=document.get("national", {}),
        locales=locales,
        locale_columns=LOCALE_TABLE,
        chart=_locale_chart(locales),
    )


def _locale_chart(locales: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars (0-100 widths) for the urban/suburban/rural chart: reach, high-poverty reach, shares."""
    series = [
        ("reach_share", gettext("Children within reach")),
        ("high_poverty_reach_share", gettext("High-poverty children within reach")),
        ("children_share", gettext("Share of all children")),
        ("school_share", gettext("Share of Community Schools")),
    ]
    chart = []
    for key, label in series:
        bars = []
        for row in locales:
            value = row.get(key)
            share = 0.0 if value is None else max(0.0, min(1.0, float(value)))
            bars.append({"locale": row.get("locale_class"), "value": value, "width": round(share * 100, 1)})
        chart.append({"key": key, "label": label, "bars": bars})
    return chart


@bp.get("/about")
def about():
    """How to read the maps, where the data comes from, and whether it is the sample."""
    data = get_data()
    document = pd_.metrics_document(data)
    return render_template(
        "pages/about.html",
        manifest=public_manifest(data),
        parameters=document.get("parameters", {}),
        docs=docs.doc_names(),
    )


@bp.get("/docs/")
def doc_index():
    """List the project's docs."""
    return render_template("pages/doc_index.html", docs=docs.doc_names())


@bp.get("/docs/<name>")
def doc(name: str):
    """Render one of the project's docs/*.md as HTML."""
    path = docs.find_doc(name)
    if path is None:
        raise NotFoundError(f"no document called {name!r}; see /docs/ for the list")
    text = path.read_text(encoding="utf-8")
    return render_template(
        "pages/doc.html", title=docs.doc_title(text, path.stem), body=docs.render_markdown(text)
    )


# --------------------------------------------------------------------------
# Map data for the page scripts


@bp.get("/map/states.geojson")
def states_geojson():
    """Serve the states with their map metrics (GeoJSON)."""
    return send_bytes(pd_.states_geojson(get_data()), "application/geo+json", max_age=MAP_DATA_MAX_AGE)


@bp.get("/map/states/<code>/counties.geojson")
def counties_geojson(code: str):
    """One state's counties with their metrics (GeoJSON)."""
    data = get_data()
    pd_.state_row(data, code)
    return send_bytes(pd_.counties_geojson(data, code), "application/geo+json", max_age=MAP_DATA_MAX_AGE)


@bp.get("/map/schools.json")
def schools_array():
    """All schools, or one state's (``?state=TX``), as a compact columnar array."""
    state = MAP_SCHOOLS_PARAMETERS.parse(request.args)["state"]
    data = get_data()
    if state is not None:
        pd_.state_row(data, state)
    return send_bytes(pd_.schools_array(data, state), "application/json", max_age=MAP_DATA_MAX_AGE)


@bp.get("/map/schools/<int:row>")
def school_popup(row: int):
    """Serve one school's popup fields; ``?build=`` must name the build the row came from."""
    build = POPUP_PARAMETERS.parse(request.args)["build"]
    data = get_data()
    if build is not None and build != data.build_id:
        msg = f"build {build!r} is no longer served (now {data.build_id!r}); reload the page"
        raise BuildChangedError(msg)
    record = pd_.school_popup(data, row)
    return send_bytes(
        json.dumps(record, ensure_ascii=False).encode("utf-8"), "application/json", max_age=MAP_DATA_MAX_AGE
    )
