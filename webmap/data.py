"""The current build, loaded once per process and reloaded when a new build is published."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from flask import Flask, current_app

from geo import store

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


class _Holder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.data: BuildData | None = None
        self.target: str | None = None

    def get(self) -> BuildData:
        link = self.root / "current"
        try:
            target = os.readlink(link)
        except OSError:
            target = None
        if self.data is None or target != self.target:
            with self.lock:
                if self.data is None or target != self.target:
                    self.data = load_build(store.current_build_dir(self.root))
                    self.target = target
        return self.data


def init_app(app: Flask) -> None:
    """Attach the build holder to the app and load the build eagerly if present."""
    holder = _Holder(Path(app.config["DATA_DIR"]))
    app.extensions["csmap_data"] = holder
    try:
        holder.get()
    except Exception as exc:  # the app still starts; /healthz reports the problem
        logger.warning("no build loaded at start-up: %s", exc)


def get_data() -> BuildData:
    """Return the current build for this process (reloading after a new build)."""
    return current_app.extensions["csmap_data"].get()
