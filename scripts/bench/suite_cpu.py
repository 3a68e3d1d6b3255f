"""Where the test suite's CPU goes, by kind of process (issue 12, point 8).

``/usr/bin/time make test`` counts only the processes the run waits for, and
chromium's renderers are not among them. This runs a command (by default the
suite as ``make suite`` runs it) while reading ``/proc`` every quarter second,
and prints each kind of process's CPU-seconds: the test workers themselves, the
browser, the servers the tests start, PostgreSQL, and so on. A process that
lives less than a quarter second can be missed, so the total is a floor.

    .venv/bin/python scripts/bench/suite_cpu.py                # the whole suite
    .venv/bin/python scripts/bench/suite_cpu.py -- pytest tests/browser -n 2

Linux only. Not part of ``make bench`` (it runs the whole suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = [sys.executable, "-m", "pytest", "-q", "-n", "auto", "--dist", "worksteal"]
TICKS = os.sysconf("SC_CLK_TCK")
#: (kind, a word of the command line that marks it), the first match wins.
KINDS = [
    ("chromium", "chromium"),
    ("playwright driver", "playwright"),
    ("nginx", "nginx"),
    ("csmap serve pools (gunicorn)", "gunicorn"),
    ("csmap serve front", "csmap serve"),
    ("schemathesis", "schemathesis"),
    ("mypy", "mypy"),
    ("postgres", "postgres"),
    ("test workers (pytest-xdist)", "import sys;exec"),
    ("pytest", "pytest"),
]


def kind_of(command: str) -> str:
    """Return the kind of a process from its command line."""
    return next((kind for kind, word in KINDS if word in command), "other")


def sample(seen: dict[tuple[str, str], tuple[str, float]], before: set[tuple[str, str]]) -> None:
    """Record the CPU-seconds so far of every process that was not running before the command."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            key = (pid, fields[19])  # a PID with its start time names one process
            if key in before:
                continue
            if key not in seen:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                seen[key] = (kind_of(command.decode(errors="replace")), 0.0)
            seen[key] = (seen[key][0], (int(fields[11]) + int(fields[12])) / TICKS)
        except (OSError, ValueError, IndexError):  # the process ended while being read
            continue


def running() -> set[tuple[str, str]]:
    """Return the processes running now, as (PID, start time)."""
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
                found.add((pid, stat[stat.rindex(")") + 2 :].split()[19]))
            except (OSError, IndexError):
                continue
    return found


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else DEFAULT
    before = running()
    seen: dict[tuple[str, str], tuple[str, float]] = {}
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            sample(seen, before)
            time.sleep(0.25)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    started = time.perf_counter()
    returncode = subprocess.run(command, cwd=ROOT).returncode
    wall = time.perf_counter() - started
    done.set()
    poller.join()
    by_kind: dict[str, float] = {}
    count: Counter[str] = Counter()
    for kind, cpu in seen.values():
        by_kind[kind] = by_kind.get(kind, 0.0) + cpu
        count[kind] += 1
    total = sum(by_kind.values())
    print(f"\n{wall:.0f} s wall, at least {total:.0f} CPU-s ({total / wall:.2f} cores busy on average)")
    for kind, cpu in sorted(by_kind.items(), key=lambda item: -item[1]):
        print(f"{cpu:8.1f} CPU-s {100 * cpu / total:5.1f}%  {count[kind]:5d} processes  {kind}")
    return returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
