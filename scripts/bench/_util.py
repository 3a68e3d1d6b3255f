"""Shared bits of the benchmarks: run a snippet in a fresh process and measure it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_WRAPPER = """
import json, resource, time, sys
sys.path.insert(0, {root!r})
_t = time.perf_counter()
{body}
_wall = time.perf_counter() - _t
_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("__BENCH__" + json.dumps({{"wall_s": _wall, "peak_rss_mb": _rss, "result": globals().get("result")}}))
"""


def measure(body: str, *, env: dict | None = None, timeout: float = 1800) -> dict:
    """Run ``body`` in a new Python process; return wall time, peak RSS and ``result``."""
    code = _WRAPPER.format(root=str(ROOT), body=textwrap.dedent(body))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark process failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith("__BENCH__")][-1]
    return json.loads(line[len("__BENCH__") :])
