"""The tiny fixture world (tests/geo/schools_fixture.py) made buildable: real ``run_build``, fast.

``use_fixture_reference()`` makes ``geo.build.load_reference`` return the fixture world plus
what the metrics stage needs (a poverty share per ZCTA). ``python -m tests.scripts.fixture_build``
runs ``csmap`` in that world; ``CSMAP_TEST_PAUSE`` makes it stop at a named point of the build
(``after-schools``, ``after-metrics``, ``before-rename``, ``before-publish``, ``after-publish``),
print ``PAUSED <point>`` on stdout and wait to be killed: the tests of issue 11 kill it there.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from geo import build, store
from tests.geo import schools_fixture as fx

PAUSE_ENV = "CSMAP_TEST_PAUSE"
#: The list in force in the published build of tests/scripts/conftest.py's ``old_list_data``.
OLD_LIST = "Name,Zip\nOld School,67001\n"


def reference():
    """Return the fixture Reference with a poverty share on every ZCTA."""
    world = fx.reference()
    world.zctas["pct_below_poverty"] = [0.25, 0.10, 0.30, 0.15, 0.05, 0.22][: len(world.zctas)]
    return world


def use_fixture_reference(monkeypatch=None) -> None:
    """Make builds use the fixture world (through ``monkeypatch`` when given)."""
    world = reference()

    def load(root, progress=None):
        return world

    if monkeypatch is not None:
        monkeypatch.setattr(build, "load_reference", load)
    else:
        build.load_reference = load


def _pause(point: str) -> None:
    if os.environ.get(PAUSE_ENV) == point:
        sys.stdout.write(f"PAUSED {point}\n")
        sys.stdout.flush()
        while True:
            time.sleep(0.05)


def _install_pauses() -> None:
    def wrap(module, name, before=None, after=None):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            if before:
                _pause(before)
            result = original(*args, **kwargs)
            if after:
                _pause(after)
            return result

        setattr(module, name, wrapper)

    wrap(build, "_schools_stage", after="after-schools")
    wrap(build, "_metrics_stage", after="after-metrics")
    original_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).rstrip("/").split("/")[-2:-1] == ["builds"]:
            _pause("before-rename")
        return original_replace(src, dst, *args, **kwargs)

    store.os.replace = replace
    wrap(store, "publish", before="before-publish", after="after-publish")


if __name__ == "__main__":
    from scripts.cli import cli

    # Ctrl-C as at a terminal: a shell without job control starts background commands with
    # SIGINT ignored (`pytest &`), every child inherits that, and Python then never raises
    # KeyboardInterrupt, so the Ctrl-C test would wait forever for an exit that cannot come.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    use_fixture_reference()
    _install_pauses()
    cli(sys.argv[1:], prog_name="csmap")
