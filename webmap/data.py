"""The current build, loaded once per process and reloaded when a new build is published."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from flask import Flask, current_app

from geo import store
from geo.errors import NoBuildError

logger = logging.getLogger(__name__)


@dataclass
class BuildData:
    """Everything the app serves from one build, in memory.

    Attributes
    ----------
    build_dir : Path
    manifest : dict
    schools : GeoDataFrame
    cache : dict
        Serialized responses (e.g. GeoJSON bytes) keyed by name, filled lazily.
    """

    build_dir: Path
    manifest: dict[str, Any]
    schools: gpd.GeoDataFrame
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sample(self) -> bool:
        """True when the schools are the generated sample."""
        return bool(self.manifest.get("is_sample", True))

    @property
    def build_id(self) -> str:
        """The build's folder name."""
        return self.build_dir.name

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """Return a GeoPackage layer of the build, read once."""
        key = f"layer/{name}"
        if key not in self.cache:
            self.cache[key] = store.read_layer(self.build_dir, name)
        return self.cache[key]


def load_build(build_dir: Path) -> BuildData:
    """Read a build folder into memory."""
    manifest = store.read_manifest(build_dir)
    schools = store.read_layer(build_dir, "schools")
    logger.info("loaded build %s: %d schools", build_dir.name, len(schools))
    return BuildData(build_dir=build_dir, manifest=manifest, schools=schools)


#: Seconds between two attempts to load a ``current`` build that failed to load.
RETRY_SECONDS = 10.0
#: Said when there is no build at all: no folder names, so no response shows a path.
NO_BUILD_MESSAGE = "no build has been published yet; run 'csmap build' (or 'make serve') first"
UNREADABLE_MESSAGE = "the current build cannot be read; see the server log, or run 'csmap build' again"


class _Holder:
    """The build this process serves: reloaded when ``current`` moves, kept when the new one fails.

    If ``current`` points at a build that cannot be read (deleted, half written,
    corrupt), the process keeps serving the last good build it has in memory,
    logs the failure once per target, and tries the target again every
    :data:`RETRY_SECONDS`. ``stale`` names the build it could not load.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.data: BuildData | None = None
        self.target: str | None = None
        self.failed_target: str | None = None
        self.failed_at = 0.0

    @property
    def stale(self) -> str | None:
        """The ``current`` target that failed to load while an older build is served, or None."""
        return self.failed_target if self.data is not None else None

    def get(self) -> BuildData:
        link = self.root / "current"
        try:
            target = os.readlink(link)
        except OSError:
            target = None
        if self.data is not None and target == self.target:
            return self.data
        recent = time.monotonic() - self.failed_at < RETRY_SECONDS
        if target == self.failed_target and recent:
            return self._fallback()
        with self.lock:
            if self.data is not None and target == self.target:
                return self.data
            try:
                self.data = load_build(store.current_build_dir(self.root))
                self.target = target
                self.failed_target = None
            except Exception as exc:
                if self.failed_target != target:  # log once per bad target, not on every request
                    shown = self.data.build_id if self.data is not None else "nothing"
                    logger.error("cannot load the current build (%s): %s; serving %s", target, exc, shown)
                self.failed_target, self.failed_at = target, time.monotonic()
                if self.data is None:
                    message = NO_BUILD_MESSAGE if isinstance(exc, NoBuildError) else UNREADABLE_MESSAGE
                    raise NoBuildError(message) from exc
        return self.data

    def _fallback(self) -> BuildData:
        if self.data is None:
            raise NoBuildError(NO_BUILD_MESSAGE if self.failed_target is None else UNREADABLE_MESSAGE)
        return self.data


def init_app(app: Flask) -> None:
    """Attach the build holder to the app and load the build eagerly if present."""
    holder = _Holder(Path(app.config["DATA_DIR"]))
    app.extensions["csmap_data"] = holder
    try:
        holder.get()
    except Exception as exc:  # the app still starts; /healthz reports the problem
        logger.warning("no build loaded at start-up: %s", exc)


def stale_target() -> str | None:
    """Return the build ``current`` names when it failed to load and an older one is served."""
    return current_app.extensions["csmap_data"].stale


def get_data() -> BuildData:
    """Return the current build for this process (reloading after a new build)."""
    return current_app.extensions["csmap_data"].get()
