"""``/downloads``: the page, the files behind it and the data dictionary.

A download's name is only ever a key of :data:`DOWNLOADS`, a fixed table of
what can be served; it never reaches the file system, so no path given in a
URL can open a file. Whole-layer files are serialized once per build and
served from memory; filtered ones are made from the in-memory layer
(webmap.exports) and kept per build in a bounded, least-recently-used cache
(:class:`FilteredCache`). Every response has a Content-Disposition filename,
an ETag, Cache-Control, 304 revalidation and gzip (webmap.http_cache).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from flask import Blueprint, render_template, request, url_for

from geo.errors import NotFoundError
from geo.query import LOCALES
from geo.store import json_safe
from webmap import exports
from webmap.data import BuildData, get_data
from webmap.data_dictionary import TITLES, dictionary_rows
from webmap.http_cache import body_etag, send_bytes
from webmap.i18n import N_
from webmap.params import SCHOOL_FILTERS, Parameters, SchoolFilters, known_state, school_filters

logger = logging.getLogger(__name__)

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

#: Downloads change only with a new build, and the ETag says when: an hour
#: of reuse, then revalidation.
DOWNLOAD_MAX_AGE = 3600


#: Filtered files kept per build: the most recently used, up to this many files and bytes in all.
FILTERED_CACHE_FILES = 256
FILTERED_CACHE_BYTES = 64 * 1024 * 1024


class FilteredCache:
    """A thread-safe, least-recently-used cache of filtered files, bounded in count and bytes.

    One lives in each build's cache, so a new build starts empty and the old
    build's files go with it. A file larger than the byte budget is never kept.
    """

    def __init__(self, max_files: int = FILTERED_CACHE_FILES, max_bytes: int = FILTERED_CACHE_BYTES) -> None:
        self.max_files, self.max_bytes = max_files, max_bytes
        self.lock = threading.Lock()
        self.items: OrderedDict[object, tuple[bytes, str]] = OrderedDict()
        self.size = 0

    def get(self, key: object) -> tuple[bytes, str] | None:
        """Return the cached (body, etag) of ``key``, or None."""
        with self.lock:
            item = self.items.get(key)
            if item is not None:
                self.items.move_to_end(key)
            return item

    def put(self, key: object, item: tuple[bytes, str]) -> None:
        """Keep ``item`` under ``key``, dropping the least recently used files over the bounds."""
        if len(item[0]) > self.max_bytes:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old[0])
            self.items[key] = item
            self.size += len(item[0])
            while len(self.items) > self.max_files or self.size > self.max_bytes:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped[0])


def filtered_file(
    data: BuildData, name: str, filters: SchoolFilters, make: Callable[[], tuple[bytes, str]]
) -> tuple[bytes, str]:
    """Return (body, etag) of download ``name`` under ``filters``: cached per build, else ``make()``."""
    cache = data.cache.get("downloads/filtered")
    if cache is None:
        cache = data.cache.setdefault("downloads/filtered", FilteredCache())
    key = (name, filters)
    item = cache.get(key)
    if item is None:
        item = make()
        cache.put(key, item)
    return item


@dataclass(frozen=True)
class Format:
    """A file format: extension, media type and serializer name."""

    extension: str
    mimetype: str
    label: str
    charset: str | None = None


FORMATS = {
    # RFC 7946 §12 registers application/geo+json.
    "geojson": Format("geojson", "application/geo+json", "GeoJSON"),
    # RFC 4180; "header=present" tells a reader the first row names the columns.
    "csv": Format("csv", "text/csv", "CSV", charset="utf-8; header=present"),
    # OGC GeoPackage's IANA media type.
    "gpkg": Format("gpkg", "application/geopackage+sqlite3", "GeoPackage"),
}


#: The filters of the files, declared once (webmap.params). Empty values mean "no filter",
#: because the /downloads form sends every field, filled in or not.
FILTERS = Parameters(tuple(replace(p, allow_empty=True) for p in SCHOOL_FILTERS.params))


@dataclass(frozen=True)
class Download:
    """One downloadable file: a dataset in a format, and the filters it takes."""

    dataset: str
    format: str
    filters: tuple[str, ...]

    @property
    def parameters(self) -> Parameters:
        """The query parameters of this file (its filters); anything else is a 400."""
        return FILTERS.only(*self.filters)


#: The only files /downloads/<name> serves. Schools take every filter;
#: counties can be narrowed to a state; states are one small file.
DOWNLOADS: dict[str, Download] = {
    f"{dataset}.{fmt}": Download(dataset, fmt, filters)
    for dataset, filters in (
        ("schools", ("state", "locale", "bbox")),
        ("states", ()),
        ("counties", ("state",)),
    )
    for fmt in FORMATS
}

#: The data dictionary's files: media type and extension.
DICTIONARY_FILES = {
    "data-dictionary.json": ("application/json", "json"),
    "data-dictionary.csv": ("text/csv", "csv"),
}

FILE_STEMS = {
    "schools": "community-schools",
    "states": "community-schools-state-metrics",
    "counties": "community-schools-county-metrics",
}


def download_filename(data: BuildData, download: Download, filters: SchoolFilters) -> str:
    """Return e.g. ``community-schools-SAMPLE-IL-urban-20261128.geojson``.

    Built only from our own words, a validated USPS code, a locale name from
    a fixed list and the build date, so it is always a safe ASCII name.
    """
    parts = [FILE_STEMS[download.dataset]]
    if data.is_sample:
        parts.append("SAMPLE")
    if filters.state:
        parts.append(filters.state)
    if filters.locale:
        parts.append(filters.locale)
    if filters.bbox:
        parts.append("bbox")
    parts.append(exports.built_on(data))
    return "-".join(parts) + "." + FORMATS[download.format].extension


def _parse_filters(data: BuildData, download: Download) -> SchoolFilters:
    values = download.parameters.parse(request.args)
    if download.dataset == "schools":
        return school_filters(values, exports.known_states(data))
    if download.dataset == "counties":
        return SchoolFilters(state=known_state(values["state"], exports.county_states(data)))
    return SchoolFilters()


def _serialize(data: BuildData, download: Download, filters: SchoolFilters) -> bytes:
    positions = exports.select_positions(data, download.dataset, filters)
    if download.format == "geojson":
        members = {"filters": filters.query()} if not filters.is_empty() else None
        return exports.geojson_bytes(data, download.dataset, positions, members=members)
    if download.format == "csv":
        return exports.csv_bytes(data, download.dataset, positions)
    return exports.gpkg_bytes(data, download.dataset, positions)


@bp.get("/<name>")
def download(name: str):
    """Serve one file of :data:`DOWNLOADS`, whole or filtered."""
    entry = DOWNLOADS.get(name)
    if entry is None:
        if name in DICTIONARY_FILES:
            return data_dictionary_file(DICTIONARY_FILES[name][1])
        # The name is not echoed back: it is attacker-controlled and only ever a lookup key.
        msg = f"no such download; the files are listed at {url_for('downloads.index')}"
        raise NotFoundError(msg)
    data = get_data()
    filters = _parse_filters(data, entry)
    fmt = FORMATS[entry.format]
    filename = download_filename(data, entry, filters)
    if filters.is_empty():
        body, tag = exports.cached(
            data, f"downloads/{name}", lambda: _with_tag(_serialize(data, entry, filters))
        )
        return send_bytes(
            body, fmt.mimetype, filename=filename, max_age=DOWNLOAD_MAX_AGE, etag=tag, charset=fmt.charset
        )
    body, tag = filtered_file(data, name, filters, lambda: _with_tag(_serialize(data, entry, filters)))
    return send_bytes(
        body, fmt.mimetype, filename=filename, max_age=DOWNLOAD_MAX_AGE, etag=tag, charset=fmt.charset
    )


def _with_tag(body: bytes) -> tuple[bytes, str]:
    return body, body_etag(body)


# --------------------------------------------------------------------------
# The data dictionary


def _dictionary(data: BuildData) -> list[dict[str, str]]:
    frames = {dataset: exports.export_frame(data, dataset) for dataset in exports.DATASETS}
    return exports.cached(data, "downloads/dictionary", lambda: dictionary_rows(frames))


def data_dictionary_file(extension: str):
    """Serve the data dictionary as JSON (with the build's provenance) or CSV."""
    Parameters(()).parse(request.args)
    data = get_data()
    rows = _dictionary(data)
    stem = f"community-schools-data-dictionary-{exports.built_on(data)}"
    if extension == "json":
        document = {**exports.provenance(data), "datasets": TITLES, "columns": rows}
        body = json.dumps(json_safe(document), ensure_ascii=False, indent=1).encode("utf-8")
        return send_bytes(
            body, "application/json", filename=f"{stem}.json", max_age=DOWNLOAD_MAX_AGE, inline=True
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["dataset", "column", "type", "description"], lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return send_bytes(
        buffer.getvalue().encode("utf-8"),
        "text/csv",
        filename=f"{stem}.csv",
        max_age=DOWNLOAD_MAX_AGE,
        charset="utf-8; header=present",
    )


def state_groups(codes: Iterable[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Group the state filter's codes for the form, by name: US states, territories, Canadian provinces."""
    import us

    from geo.reference import CANADA_PROVINCES, TERRITORIES

    provinces = {code: name for name, code in CANADA_PROVINCES.items()}
    groups: dict[str, list[tuple[str, str]]] = {
        N_("States, DC and Puerto Rico"): [],
        N_("Other US territories"): [],
        N_("Canadian provinces and territories"): [],
        N_("Other codes"): [],
    }
    for code in codes:
        place = us.states.lookup(code)
        if code in provinces:
            groups["Canadian provinces and territories"].append((code, provinces[code]))
        elif place is not None and code in TERRITORIES:
            groups["Other US territories"].append((code, place.name))
        elif place is not None:
            groups["States, DC and Puerto Rico"].append((code, place.name))
        else:
            groups["Other codes"].append((code, code))
    return [(title, sorted(items, key=lambda item: item[1])) for title, items in groups.items() if items]


@bp.get("/data-dictionary")
def data_dictionary():
    """Show the data dictionary as an HTML page (HTML pages ignore stray parameters, e.g. utm_source)."""
    data = get_data()
    return render_template(
        "downloads/data_dictionary.html",
        rows=_dictionary(data),
        titles=TITLES,
        facts=exports.provenance(data),
    )


# --------------------------------------------------------------------------
# The page


@bp.get("")
@bp.get("/")
def index():
    """List every file with links, and a form for filtered school files."""
    data = get_data()
    datasets = []
    for dataset in exports.DATASETS:
        files = [
            {
                "name": name,
                "label": FORMATS[d.format].label,
                "url": url_for("downloads.download", name=name),
                "filename": download_filename(data, d, SchoolFilters()),
            }
            for name, d in DOWNLOADS.items()
            if d.dataset == dataset
        ]
        datasets.append(
            {
                "dataset": dataset,
                "title": TITLES[dataset],
                "files": files,
                "rows": len(exports.export_frame(data, dataset)),
            }
        )
    return render_template(
        "downloads/index.html",
        datasets=datasets,
        state_groups=state_groups(exports.known_states(data)),
        locales=LOCALES,
        facts=exports.provenance(data),
    )
