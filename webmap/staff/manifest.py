"""Staff: the whole manifest of the build the site serves (issue 17, point 4).

``/healthz`` says only whether a build is served; ``/about`` shows a public
subset of its manifest. The whole of it (options, package versions, the load
report, notes) is for signed-in staff, admins and editors alike. Even here no
absolute filesystem path is shown: a path inside the data folder is given
relative to it, any other path by its file name only, so the page never tells
a reader how the server's disk is laid out.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from flask import render_template

from webmap.data import get_data
from webmap.health import staff_manifest
from webmap.staff import bp, data_dir

logger = logging.getLogger(__name__)

#: An absolute path inside a longer string: a POSIX path not glued to a word, a URL or a
#: fraction ("https://x/y", "AA/AE", "1/2" are left alone), or a Windows drive path.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~\\-])/[\w.@+-]+(?:/[\w.@+-]*)*|\b[A-Za-z]:\\[^\s'\"<>]+")


def _shown_path(path: str, folder: Path) -> str:
    """Return ``path`` relative to the data folder when inside it, else its file name."""
    pure = PureWindowsPath(path) if "\\" in path else PurePosixPath(path)
    for root in {folder, folder.resolve()}:
        try:
            return pure.relative_to(str(root)).as_posix() or "."
        except ValueError:
            continue
    return pure.name or "(path)"


def without_paths(value: Any, folder: Path) -> Any:
    """Return ``value`` (nested dicts, lists, strings) with every absolute path shortened.

    Parameters
    ----------
    value : object
        A JSON-like value, e.g. a build manifest.
    folder : Path
        The data folder; paths inside it are shown relative to it.
    """
    if isinstance(value, dict):
        return {key: without_paths(item, folder) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_paths(item, folder) for item in value]
    if isinstance(value, str):
        return _ABSOLUTE_PATH.sub(lambda match: _shown_path(match.group(0), folder), value)
    return value


@bp.route("/manifest")
def manifest():
    """Show the whole manifest of the served build, paths shortened (any signed-in role).

    With no build, :class:`geo.errors.NoBuildError` answers 503 through the app's error handler.
    """
    data = get_data()
    whole = without_paths(staff_manifest(data), data_dir())
    return render_template("staff/manifest.html", manifest=whole, build_id=data.build_id)
