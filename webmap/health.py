"""``/healthz``: liveness plus the build manifest."""

from __future__ import annotations

from flask import Blueprint, jsonify

from webmap.data import get_data

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report the build the process serves; 503 when there is none."""
    data = get_data()
    manifest = data.manifest
    return jsonify(
        status="ok",
        build_id=data.build_id,
        is_sample=data.is_sample,
        built_at=manifest.get("built_at"),
        row_counts=manifest.get("row_counts"),
        manifest=manifest,
    )
