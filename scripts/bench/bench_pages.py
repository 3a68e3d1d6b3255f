"""Page weight and first render: the national page against a naive folium map, in the same run.

Run: ``.venv/bin/python scripts/bench/bench_pages.py [--data-dir D] [--runs 15] [--json]``.

* The naive page is what folium does out of the box: one ``folium.Marker`` with
  a ``folium.Popup`` (the same fields as our popups: name, address, grades,
  lead partner, precision) and a tooltip per school, all in one
  ``MarkerCluster``, built here from the same schools and localized to the
  same vendored assets (it could not render offline otherwise).
* Both pages are served by one app, as ``make serve`` serves it (gunicorn, 2
  workers, ``--preload``, in a process of its own): ``/`` as the app serves it,
  and the naive page at ``/bench/naive`` as a plain folium app would
  (``m.get_root().render()``, no compression). A second pass gzips the naive
  page as well, to show what compression alone would buy.
* Each run opens a fresh headless Chromium context (empty cache) and records
  the bytes on the wire of every response (Chrome DevTools Protocol
  ``Network.loadingFinished.encodedDataLength``: headers plus body as sent),
  and the time from navigation start until the map's layers are drawn: every
  school is in the clusters and cluster icons are on screen (and, on our page,
  the states are drawn), checked by the page itself at every animation frame
  (an init script), so the time does not wait on this process, which also
  serves the pages.
* Targets (issue #5): at most 10% of the naive page's bytes and at most 30% of
  its render time (medians). Exit status 1 when a target is missed on the
  as-served comparison. Single loads vary by a fifth or more on a shared
  machine, so each page is loaded 15 times (alternating) and the render ratio
  comes with a 90% bootstrap interval: how far the ratio of medians could move
  from the noise alone.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from _server import ChildServer, free_port, get, gunicorn_args  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BYTES_TARGET = 0.10
RENDER_TARGET = 0.30
VIEWPORT = {"width": 1280, "height": 800}
DRAW_TIMEOUT_MS = 120_000
DEFAULT_RUNS = 15
BOOTSTRAP_RESAMPLES = 2000

#: True once the page's map has every school in its clusters and shows cluster icons (and, on our
#: page, the states are drawn). The cheap checks come first: this runs at every animation frame.
#: The naive page's Leaflet.markercluster layer holds one marker per school (``getLayers()``); our
#: page's layer holds only the clusters in view as layers, and an index of every school
#: (``csmapIndex``), so there the schools are counted through the index: the clusters at the zoom
#: drawn (``csmapZoom``), which cover the whole world, not just the view.
DRAWN = """([name, total, ours]) => {
    if (ours && !document.documentElement.hasAttribute('data-states-drawn')) { return false; }
    if (!document.querySelector('.marker-cluster')) { return false; }
    const cluster = window[name];
    if (!cluster) { return false; }
    const clustered = ours
        ? (cluster.csmapIndex && cluster.csmapZoom !== undefined
           ? cluster.csmapIndex.clustersAt(cluster.csmapZoom).reduce((n, c) => n + c.count, 0) : -1)
        : (cluster.getLayers ? cluster.getLayers().length : -1);
    if (clustered !== total) { return false; }
    return performance.now();
}"""

DRAWN_MESSAGE = "csmap-bench drawn at "

#: Where a load's time went, read once the map is drawn (ms from navigation start): navigation and
#: paint timing, the last script received, and the page's own marks (ours: states and schools drawn).
MILESTONES = """() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const scripts = performance.getEntriesByType('resource').filter((r) => r.initiatorType === 'script');
    const out = {
        'HTML received': nav.responseEnd,
        'scripts received': scripts.length ? Math.max(...scripts.map((r) => r.responseEnd)) : null,
        'DOMContentLoaded': nav.domContentLoadedEventStart || null,
    };
    performance.getEntriesByType('paint').forEach((p) => { out[p.name] = p.startTime; });
    performance.getEntriesByType('mark').forEach((m) => { out[m.name] = m.startTime; });
    delete out['first-contentful-paint'];
    return out;
}"""

#: Installed before the page's own scripts (Playwright init script): checks DRAWN at every animation
#: frame, in the page, and reports the first time it holds as a console message. Our page names its
#: cluster layer in its config; the naive page's name is passed in.
WATCH = """(() => {
    const drawn = %s;
    const message = %s;
    const [given, total, ours] = %s;
    let name = given;
    const tick = () => {
        let at = false;
        try {
            if (!name && ours && document.getElementById('csmap-config')) {
                name = JSON.parse(document.getElementById('csmap-config').textContent).layers.schools;
            }
            at = name ? drawn([name, total, ours]) : false;
        } catch (error) {
            at = false;  // the page is still loading its scripts
        }
        if (at) { console.log(message + at); } else { requestAnimationFrame(tick); }
    };
    requestAnimationFrame(tick);
})();"""


def data_folder(given: str | None) -> Path:
    """Return a data folder with a build: the given one, $CSMAP_DATA_DIR, data/build, or a new build."""
    from geo import store
    from geo.build import run_build

    for candidate in (given, os.environ.get("CSMAP_DATA_DIR"), str(ROOT / "data" / "build")):
        if candidate and (Path(candidate) / "current").exists():
            return Path(candidate)
    root = Path(given) if given else Path(tempfile.mkdtemp(prefix="csmap-bench-pages-"))
    print(f"building the sample data in {root} ...", flush=True)
    run_build(root)
    store.current_build_dir(root)
    return root


def naive_map_html(schools, static_url) -> tuple[str, str]:
    """Return (html, cluster variable name) of the naive one-Marker-per-school folium map."""
    import folium
    from folium.plugins import MarkerCluster

    from webmap.vendor import localize

    m = folium.Map(location=[39.5, -98.35], zoom_start=4, tiles=None)
    cluster = MarkerCluster(name="Community schools").add_to(m)
    columns = ["name", "address", "city", "state", "zip", "grades", "lead_partner", "precision"]
    for row in schools[columns + ["geometry"]].itertuples(index=False):
        text = {c: html.escape("" if getattr(row, c) is None else str(getattr(row, c))) for c in columns}
        popup = (
            f"<b>{text['name']}</b><br>{text['address']}, {text['city']}, {text['state']} {text['zip']}"
            f"<br>Grades: {text['grades']}<br>Lead partner: {text['lead_partner']}"
            f"<br>Located by: {text['precision']}"
        )
        folium.Marker(
            [row.geometry.y, row.geometry.x], popup=folium.Popup(popup, max_width=300), tooltip=text["name"]
        ).add_to(cluster)
    localize(m, static_url)
    return m.get_root().render(), cluster.get_name()


def bench_app():
    """The app as served, plus the naive page at /bench/naive (a gunicorn app factory).

    The data folder comes from $CSMAP_DATA_DIR, as for ``csmap serve``; with
    $CSMAP_BENCH_NAIVE_GZIP=1 the naive page is gzipped too. /bench/naive.json says
    how many markers the naive page has and the name of its cluster layer.
    """
    from flask import Flask, Response, request
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from webmap import create_app
    from webmap.data import get_data

    gzip_naive = os.environ.get("CSMAP_BENCH_NAIVE_GZIP") == "1"
    from webmap.warm import warm_up

    app = create_app({"WARM": False})  # warmed below, once its routes are all added
    with app.app_context():
        schools = get_data().schools
    started = time.perf_counter()
    page, cluster_name = naive_map_html(schools, "/static/vendor")
    body = page.encode("utf-8")
    body_gz = gzip.compress(body, compresslevel=6)
    about = {
        "cluster": cluster_name,
        "markers": len(schools),
        "bytes": len(body),
        "gzipped_bytes": len(body_gz),
        "build_s": round(time.perf_counter() - started, 1),
    }

    # folium's inline scripts carry no nonce: this page sets its own, permissive policy.
    headers = {"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"}
    # The naive page is served by a plain Flask app of its own, mounted at /bench, as a plain folium
    # app would serve it: the app's own after-request hooks (its app-wide gzip among them) never
    # touch it, so "as served" means uncompressed unless $CSMAP_BENCH_NAIVE_GZIP says otherwise.
    naive_app = Flask("naive")

    @naive_app.get("/naive")
    def naive() -> Response:
        if gzip_naive and request.accept_encodings["gzip"] > 0:
            return Response(
                body_gz,
                content_type="text/html; charset=utf-8",
                headers={**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return Response(body, content_type="text/html; charset=utf-8", headers=headers)

    @naive_app.get("/naive.json")
    def naive_about() -> dict[str, Any]:
        return about

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/bench": naive_app})

    if os.environ.get("CSMAP_WARM") == "1":
        warm_up(app)
    return app


def start_server(data_dir: Path, gzip_naive: bool, log: Path) -> tuple[ChildServer, dict[str, Any]]:
    """Serve bench_app() as ``csmap serve`` serves the app; return the server and the naive page's facts."""
    port = free_port()
    env = dict(
        os.environ,
        CSMAP_DATA_DIR=str(data_dir),
        CSMAP_BENCH_NAIVE_GZIP="1" if gzip_naive else "0",
        CSMAP_WARM="1",  # as csmap serve runs it
        PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
    )
    server = ChildServer(gunicorn_args("bench_pages:bench_app()", port), port=port, log=log, env=env)
    try:
        server.wait_ready("/bench/naive.json", timeout=300)
        about = json.loads(get(port, "/bench/naive.json")[1])
    except BaseException:
        server.stop()
        raise
    print(
        f"naive page: {about['markers']:,} markers, {about['bytes']:,} bytes of HTML "
        f"({about['gzipped_bytes']:,} gzipped), built in {about['build_s']} s",
        flush=True,
    )
    return server, about


def measure(browser, url: str, cluster: str | None, total: int, ours: bool) -> dict[str, Any]:
    """Load ``url`` in a fresh context; return bytes on the wire by resource type and the draw time."""
    context = browser.new_context(viewport=VIEWPORT)
    # The draw time is taken in the page itself, from its first animation frame: asking from here
    # (wait_for_function) would start polling only once this process, which also serves the pages,
    # got round to it, and would inject Playwright's helper script into the page while it loads.
    context.add_init_script(WATCH % (DRAWN, json.dumps(DRAWN_MESSAGE), json.dumps([cluster, total, ours])))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    types: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.responseReceived", lambda e: types.__setitem__(e["requestId"], e.get("type", "Other")))
    cdp.on(
        "Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"]))
    )
    with page.expect_console_message(
        lambda message: message.text.startswith(DRAWN_MESSAGE), timeout=DRAW_TIMEOUT_MS
    ) as drawn:
        page.goto(url, wait_until="commit")
    drawn_ms = float(drawn.value.text.removeprefix(DRAWN_MESSAGE))
    milestones = page.evaluate(MILESTONES)
    page.wait_for_load_state("load")
    page.wait_for_timeout(500)  # let late responses (e.g. the favicon) finish and be counted
    by_type: dict[str, int] = {}
    for request_id, size in sizes.items():
        kind = types.get(request_id, "Other")
        by_type[kind] = by_type.get(kind, 0) + size
    context.close()
    return {
        "bytes": sum(sizes.values()),
        "requests": len(sizes),
        "by_type": by_type,
        "render_ms": float(drawn_ms),
        "milestones": {name: ms for name, ms in milestones.items() if ms is not None},
    }


def compare(browser, base: str, naive_cluster: str, total: int, runs: int) -> dict[str, Any]:
    """Alternate the two pages ``runs`` times; return the medians and every run."""
    ours, naive = [], []
    # One warm-up each (server caches, Chromium start-up), not counted.
    measure(browser, f"{base}/", None, total, True)
    measure(browser, f"{base}/bench/naive", naive_cluster, total, False)
    for _ in range(runs):
        ours.append(measure(browser, f"{base}/", None, total, True))
        naive.append(measure(browser, f"{base}/bench/naive", naive_cluster, total, False))

    def summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "bytes": int(statistics.median(s["bytes"] for s in samples)),
            "requests": samples[0]["requests"],
            "by_type": samples[0]["by_type"],
            "render_ms_median": statistics.median(s["render_ms"] for s in samples),
            "render_ms_all": [round(s["render_ms"]) for s in samples],
            "milestones_median": {
                name: statistics.median(s["milestones"][name] for s in samples)
                for name in samples[0]["milestones"]
                if all(name in s["milestones"] for s in samples)
            },
        }

    result: dict[str, Any] = {"ours": summary(ours), "naive": summary(naive)}
    result["bytes_ratio"] = result["ours"]["bytes"] / result["naive"]["bytes"]
    result["render_ratio"] = result["ours"]["render_ms_median"] / result["naive"]["render_ms_median"]
    result["render_ratio_interval"] = ratio_interval(
        [s["render_ms"] for s in ours], [s["render_ms"] for s in naive]
    )
    return result


def ratio_interval(ours: list[float], naive: list[float], level: float = 0.90) -> tuple[float, float]:
    """Return a bootstrap interval of median(ours) / median(naive) (percentile method, fixed seed)."""
    rng = random.Random(0)

    def resampled_median(values: list[float]) -> float:
        return statistics.median(rng.choices(values, k=len(values)))

    ratios = sorted(resampled_median(ours) / resampled_median(naive) for _ in range(BOOTSTRAP_RESAMPLES))
    tail = (1 - level) / 2
    return ratios[int(tail * len(ratios))], ratios[int((1 - tail) * len(ratios)) - 1]


def report(title: str, result: dict[str, Any]) -> None:
    """Print one comparison."""
    print(f"\n{title}")
    for name in ("ours", "naive"):
        r = result[name]
        kinds = ", ".join(
            f"{k} {v / 1024:,.0f} KB" for k, v in sorted(r["by_type"].items(), key=lambda kv: -kv[1])
        )
        print(f"  {name:5s}: {r['bytes'] / 1024:8,.0f} KB in {r['requests']:2d} requests ({kinds})")
        print(f"         render {r['render_ms_median']:7,.0f} ms median (runs: {r['render_ms_all']})")
        steps = sorted(r["milestones_median"].items(), key=lambda kv: kv[1])
        print("         on the way (medians, ms): " + ", ".join(f"{k} {v:,.0f}" for k, v in steps))
    bytes_ok = result["bytes_ratio"] <= BYTES_TARGET
    render_ok = result["render_ratio"] <= RENDER_TARGET
    print(
        f"  bytes:  ours / naive = {result['bytes_ratio']:.1%} (target <= {BYTES_TARGET:.0%}) "
        f"{'PASS' if bytes_ok else 'MISS'}"
    )
    low, high = result["render_ratio_interval"]
    print(
        f"  render: ours / naive = {result['render_ratio']:.1%} (90% interval {low:.1%}-{high:.1%}; "
        f"target <= {RENDER_TARGET:.0%}) {'PASS' if render_ok else 'MISS'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", help="data folder with a build (default: $CSMAP_DATA_DIR, data/build or a new one)"
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help=f"measured loads of each page (default {DEFAULT_RUNS})"
    )
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)")
        return 1
    from playwright.sync_api import sync_playwright

    data_dir = data_folder(args.data_dir)
    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            with tempfile.TemporaryDirectory(prefix="csmap-bench-pages-logs-") as logs:
                for key, gzip_naive in (("as_served", False), ("naive_gzipped", True)):
                    server, about = start_server(data_dir, gzip_naive, Path(logs) / f"{key}.log")
                    with server:
                        total = about["markers"]
                        results[key] = compare(browser, server.url, about["cluster"], total, args.runs)
        finally:
            browser.close()
    print(
        f"\nschools: {total:,}; runs per page: {args.runs}; viewport {VIEWPORT['width']}x{VIEWPORT['height']}"
    )
    report(
        "As served (our page gzipped by the app; naive folium HTML sent as rendered):", results["as_served"]
    )
    report("Naive page gzipped too (what compression alone buys the naive page):", results["naive_gzipped"])
    if args.json:
        print(json.dumps(results, indent=1))
    primary = results["as_served"]
    return 0 if primary["bytes_ratio"] <= BYTES_TARGET and primary["render_ratio"] <= RENDER_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
