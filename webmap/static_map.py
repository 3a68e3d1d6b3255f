"""A state's map drawn on the server (matplotlib), for the PDF fact sheet.

WeasyPrint runs no JavaScript, so the Leaflet map of the state page cannot go
into a PDF; this draws the same picture as a PNG: counties shaded by unserved
children in the state page's classes (:func:`webmap.page_data.county_legend`),
the state outline, and the state's Community Schools as points. Geometry is
projected to the state's equal-area CRS (:func:`geo.crs.projected_crs_for_state`)
so shapes are not stretched as they are in degrees.
"""

from __future__ import annotations

import io
import logging

import geopandas as gpd
import numpy as np

from geo.crs import projected_crs_for_state, require_crs
from webmap.figures import NO_DATA_COLOR, Legend

logger = logging.getLogger(__name__)

#: Size of the drawing in inches: the width of a Letter page's text block, half its height.
FIGURE_INCHES = (5.2, 3.6)
SCHOOL_COLOR = "#1b4f9c"
OUTLINE_COLOR = "#333333"
#: A raster, not SVG: WeasyPrint draws SVG in Python, several seconds for a state's counties
#: (scripts/bench/bench_factsheet.py), while a PNG is placed at once. 150 dpi is sharp enough
#: for a map on Letter paper.
PRINT_DPI = 150


def _county_colors(values: np.ndarray, legend: Legend) -> list[str]:
    """Colour each county by the legend's class (a value v is in the first class with v <= bound)."""
    if not legend.bins:
        return [NO_DATA_COLOR] * len(values)
    bins = np.asarray(legend.bins, dtype=float)
    colors = []
    for value in values:
        if not np.isfinite(value):
            colors.append(NO_DATA_COLOR)
            continue
        index = int(np.searchsorted(bins, value, side="left"))
        colors.append(legend.colors[min(index, len(legend.colors) - 1)])
    return colors


def state_map_image(
    code: str,
    state: gpd.GeoDataFrame,
    counties: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    legend: Legend,
    *,
    image_format: str = "png",
) -> bytes:
    """Draw one state's counties, outline and schools; return a PNG (or SVG) image.

    Parameters
    ----------
    code : str
        The state's USPS code (chooses the projection).
    state : GeoDataFrame
        The state's outline (one or more rows), any CRS.
    counties : GeoDataFrame
        Its counties with ``unserved_children``.
    schools : GeoDataFrame
        Its schools (points).
    legend : Legend
        The classes of ``unserved_children`` (colours and labels).
    image_format : {"png", "svg"}
        PNG for the fact sheet; SVG is kept for the benchmark's comparison.

    Returns
    -------
    bytes
        The image (:data:`FIGURE_INCHES`; a PNG at :data:`PRINT_DPI`). The legend is left to
        the page (HTML text that WeasyPrint sets faster and sharper than matplotlib draws it).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    crs = projected_crs_for_state(code)
    outline = require_crs(state, name="state").to_crs(crs)
    areas = require_crs(counties, name="counties").to_crs(crs)
    points = require_crs(schools, name="schools").to_crs(crs)
    # A printed map needs no detail finer than about 1/1500 of its width (about 0.1 mm on paper):
    # simplifying keeps drawing fast (Alaska's coast has tens of thousands of vertices).
    west, south, east, north = outline.total_bounds
    tolerance = max(east - west, north - south) / 1500
    outline = outline.set_geometry(outline.geometry.simplify(tolerance, preserve_topology=False))
    areas = areas.set_geometry(areas.geometry.simplify(tolerance, preserve_topology=False))

    figure = Figure(figsize=FIGURE_INCHES)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    axes.set_aspect("equal")
    if len(areas):
        values = areas["unserved_children"].to_numpy(dtype=float, na_value=np.nan)
        areas.plot(ax=axes, color=_county_colors(values, legend), edgecolor="#ffffff", linewidth=0.3)
    outline.boundary.plot(ax=axes, color=OUTLINE_COLOR, linewidth=0.8)
    if len(points):
        axes.scatter(
            points.geometry.x,
            points.geometry.y,
            s=6,
            color=SCHOOL_COLOR,
            edgecolors="#ffffff",
            linewidths=0.3,
            zorder=3,
        )
    out = io.BytesIO()
    if image_format == "svg":
        figure.savefig(out, format="svg", transparent=True, metadata={"Date": None})
    else:
        # Fast zlib level: the image is embedded once per build; size matters less than time.
        figure.savefig(out, format="png", dpi=PRINT_DPI, transparent=True, pil_kwargs={"compress_level": 1})
    return out.getvalue()
