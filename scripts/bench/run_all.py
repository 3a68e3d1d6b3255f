"""Run every benchmark in this folder (`make bench`), one after another.

Each benchmark compares against its own baseline within the same run, since
these machines are shared and noisy. Output goes to the terminal and to
bench-results/<name>.txt.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "bench-results"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    only = set(sys.argv[1:])
    failures = []
    for script in sorted(HERE.glob("bench_*.py")):
        name = script.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        print(f"=== {name}", flush=True)
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parents[1]
        )
        text = proc.stdout + (f"\n[stderr]\n{proc.stderr[-4000:]}" if proc.returncode else "")
        print(text, flush=True)
        (OUT / f"{name}.txt").write_text(text)
        print(f"--- {name}: exit {proc.returncode} in {time.perf_counter() - started:.0f} s", flush=True)
        if proc.returncode:
            failures.append(name)
    if failures:
        print("failed benchmarks: " + ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
