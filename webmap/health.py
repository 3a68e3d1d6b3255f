"""``/healthz``: liveness for load balancers and monitors, and nothing more.

It answers ``status``, ``build_id`` and ``is_sample`` only, never cached
(``Cache-Control: no-store``). ``status`` is ``ok``, or ``degraded`` while the
process serves its last good build because ``current`` names one it cannot
read (webmap.data); 503 when there is no build at all. The build's manifest is
not public: a subset is on ``/about`` (:func:`public_manifest`), and the whole
of it is for the staff pages (:func:`staff_manifest`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webmap.data import BuildData, get_data, stale_target

bp = Blueprint("health", __name__)

#: Manifest members shown to the public on /about: none of them names a file or folder.
#: ``coalitions`` says where the coalitions came from (sample, file, or left out beside a real list).
PUBLIC_MANIFEST_KEYS = (
    "build_id",
    "built_at",
    "is_sample",
    "school_list",
    "row_counts",
    "sources",
    "coalitions",
)


def public_manifest(data: BuildData) -> dict[str, Any]:
    """Return the public subset of the build's manifest (for ``/about``).

    ``school_list`` is kept only when it is not a filesystem path.
    """
    manifest = data.manifest
    subset = {key: manifest[key] for key in PUBLIC_MANIFEST_KEYS if key in manifest}
    subset.setdefault("build_id", data.build_id)
    subset.setdefault("is_sample", data.is_sample)
    school_list = str(subset.get("school_list") or "")
    if "/" in school_list or "\\" in school_list:
        subset["school_list"] = school_list.replace("\\", "/").rsplit("/", 1)[-1]
    return subset


def staff_manifest(data: BuildData) -> dict[str, Any]:
    """Return the whole manifest of the served build, for a signed-in staff page only.

    It holds filesystem paths (e.g. the load report's ``rejects_file``) and the
    build's options; never serve it on a public route.
    """
    return dict(data.manifest)


@bp.get("/healthz")
def healthz() -> Response:
    """Report whether the process serves a build, which one, and whether it is the sample."""
    data = get_data()
    response = jsonify(
        status="degraded" if stale_target() else "ok",
        build_id=data.build_id,
        is_sample=data.is_sample,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
