"""First shapes on a phone: the national and Ohio pages at 390x844 with the CPU slowed 4x (issue #15).

Run: ``.venv/bin/python scripts/bench/bench_phone.py [--data-dir D] [--runs 9] [--json]``.

* The app is served as ``make serve`` serves it (``csmap serve``, in a child process,
  loopback only), over the data folder's current build (built first if there is none).
* Each load opens a fresh headless Chromium context (empty cache) with a phone profile
  (390x844 CSS pixels, device scale 3, touch, mobile) and slows the CPU 4x through the
  DevTools protocol (``Emulation.setCPUThrottlingRate``), as Lighthouse's mobile
  profile does.
* "First shapes" is the time from navigation start until the map's vector overlay holds
  its first drawn shape (an SVG path or a canvas in Leaflet's overlay pane): the states
  on the national page, the state and its counties on Ohio's. It is taken in the page
  itself at every animation frame (an init script), so it never waits on this process.
* Baseline, in the same run: each page loaded with the CPU at full speed, alternating
  with the slowed loads. The target is absolute (median <= 1,000 ms slowed), so the
  unslowed median and the slow-down factor actually seen are printed beside it: on a
  busy machine both grow, and the run says so rather than hiding it.

Exit status 1 when a page misses the target.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _server import ChildServer, free_port, prepared_data_dir, serve_args, served_parser
from bench_pages import CHROMIUM, CHROMIUM_ARGS  # type: ignore[import-not-found]  # a sibling script

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
CPU_SLOWDOWN = 4
TARGET_MS = 1000.0
PAGES = {"national": "/", "Ohio": "/states/OH"}
DEFAULT_RUNS = 9
DRAW_TIMEOUT_MS = 60_000
MESSAGE = "csmap-bench first shapes at "

#: Installed before the page's scripts: at every animation frame, look for the first drawn shape in
#: Leaflet's overlay pane, and report the time once as a console message.
WATCH = """(() => {
    const message = %s;
    const tick = () => {
        const pane = document.querySelector('.leaflet-overlay-pane');
        const shape = pane && pane.querySelector('path[d]:not([d="M0 0"]), canvas');
        if (shape) { console.log(message + performance.now()); } else { requestAnimationFrame(tick); }
    };
    requestAnimationFrame(tick);
})();"""


def first_shapes_ms(browser, url: str, slowdown: int) -> float:
    """Load ``url`` in a fresh phone context with the CPU slowed ``slowdown`` times; return ms."""
    context = browser.new_context(**PHONE)
    context.add_init_script(WATCH % json.dumps(MESSAGE))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": slowdown})
    try:
        with page.expect_console_message(
            lambda message: message.text.startswith(MESSAGE), timeout=DRAW_TIMEOUT_MS
        ) as drawn:
            page.goto(url, wait_until="commit")
        return float(drawn.value.text.removeprefix(MESSAGE))
    finally:
        context.close()


def run(base: str, runs: int) -> dict[str, Any]:
    """Alternate slowed and full-speed loads of each page; return the samples and medians."""
    from playwright.sync_api import sync_playwright

    samples: dict[str, dict[str, list[float]]] = {name: {"slowed": [], "full": []} for name in PAGES}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for path in PAGES.values():  # warm-up, not counted: server caches, Chromium start-up
                first_shapes_ms(browser, base + path, 1)
            for _ in range(runs):
                for name, path in PAGES.items():
                    samples[name]["slowed"].append(first_shapes_ms(browser, base + path, CPU_SLOWDOWN))
                    samples[name]["full"].append(first_shapes_ms(browser, base + path, 1))
        finally:
            browser.close()
    results: dict[str, Any] = {"cpu_slowdown": CPU_SLOWDOWN, "target_ms": TARGET_MS, "runs": runs}
    results["pages"] = {}
    for name, got in samples.items():
        slowed, full = statistics.median(got["slowed"]), statistics.median(got["full"])
        results["pages"][name] = {
            "path": PAGES[name],
            "slowed_median_ms": round(slowed),
            "full_speed_median_ms": round(full),
            "seen_slowdown": round(slowed / full, 2) if full else None,
            "slowed_ms": [round(v) for v in got["slowed"]],
            "passes": slowed <= TARGET_MS,
        }
    return results


def main(argv: list[str] | None = None) -> int:
    parser = served_parser(__doc__.splitlines()[0], 0.0, python_client=False)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="loads per page and profile")
    args = parser.parse_args(argv)
    data_dir = prepared_data_dir(args.data_dir)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-phone-") as folder:
        with ChildServer(serve_args(data_dir, port), port=port, log=Path(folder) / "server.log") as server:
            server.wait_ready(timeout=300)
            results = run(server.url, args.runs)
    print(
        f"phone profile: 390x844, CPU slowed {CPU_SLOWDOWN}x, {args.runs} loads per page (median), "
        f"target first shapes <= {TARGET_MS:,.0f} ms"
    )
    print(f"{'page':<10} {'slowed':>8} {'full speed':>11} {'seen x':>7}  verdict")
    for name, page in results["pages"].items():
        verdict = "PASS" if page["passes"] else "MISS"
        print(
            f"{name:<10} {page['slowed_median_ms']:>6} ms {page['full_speed_median_ms']:>8} ms "
            f"{page['seen_slowdown']:>7}  {verdict}"
        )
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(page["passes"] for page in results["pages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
