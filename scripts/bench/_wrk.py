"""Reading Debian wrk's ``--latency`` output, shared by the throughput benchmarks."""

from __future__ import annotations

import re
from typing import Any

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def latency_ms(text: str) -> float:
    """Convert a wrk latency such as ``812.00us`` or ``1.20ms`` to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _required(pattern: str, output: str, flags: int = 0) -> str:
    match = re.search(pattern, output, flags)
    if match is None:
        raise ValueError(f"wrk output has no line matching {pattern!r}")
    return match.group(1)


def parse_wrk(output: str) -> dict[str, Any]:
    """Read requests/s, p50/p99 latency (ms) and errors from ``wrk --latency`` output."""
    rps = float(_required(r"Requests/sec:\s+([\d.]+)", output))
    total = int(_required(r"(\d+) requests in", output))
    p50 = latency_ms(_required(r"^\s+50%\s+(\S+)", output, re.M))
    p99 = latency_ms(_required(r"^\s+99%\s+(\S+)", output, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = {"non_2xx": int(non2xx.group(1)) if non2xx else 0}
    if sockets:
        errors.update(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
    return {"requests": total, "rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": errors}
