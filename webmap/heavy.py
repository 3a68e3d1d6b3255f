"""A time budget and a concurrency cap for CPU-heavy views (the planner), at the request level.

A what-if upload of 30,000 candidate sites keeps a CPU busy for seconds, and
eight at once kept ``/healthz`` waiting for 21.5 s in a reliability trial. Each
guarded view therefore:

* waits at most ``HEAVY_QUEUE_SECONDS`` for one of ``HEAVY_CONCURRENCY`` slots of
  its process; when none frees up it answers **429** with ``Retry-After``;
* runs in a helper thread and has ``HEAVY_TIME_BUDGET`` seconds to answer; past
  that it answers **503** with ``Retry-After``. Python cannot stop a thread, so
  the late computation finishes in the background and keeps its slot until it
  does: the cap bounds the CPU spent, late work included.

``csmap serve`` also gives the planner a gunicorn pool of its own, at a lower CPU
priority (scripts/cmd_serve.py), so these views never share a process, nor its
GIL, with ``/healthz``.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.globals import request_ctx
from werkzeug.sansio.response import Response as WerkzeugResponse

from webmap.edge import MAX_BODY_BYTES
from webmap.security import get_nonce

logger = logging.getLogger(__name__)

#: The planner's views (webmap/plan.py and /api/plan in webmap/api.py).
PLANNER_ENDPOINTS = ("api.plan", "plan.geojson", "plan.csv", "plan.page")
#: Defaults: one plan at a time per process (CPU-bound under the GIL, so more only
#: share one core), a short queue, and a budget well inside the front's 120 s.
DEFAULT_CONCURRENCY = 1
DEFAULT_QUEUE_SECONDS = 10.0
DEFAULT_TIME_BUDGET = 30.0
#: Seconds a client is told to wait before trying again.
RETRY_AFTER = 10


def _refusal(status: int, message: str) -> WerkzeugResponse:
    """Return a 429 or 503 answer with Retry-After, in JSON (pages get a plain text line)."""
    title = "Too Many Requests" if status == 429 else "Service Unavailable"
    if status == 429:
        # Read the body first: a server that closes on an unread body resets the client before it
        # sees this answer. (WholeBodies gave it a known length, so this read is bounded.)
        if (request.content_length or 0) <= MAX_BODY_BYTES:
            request.get_data(cache=False)
    if request.path.startswith(("/api", "/plan.")):
        response = current_app.json.response(status=status, title=title, description=message)
    else:
        response = Response(f"{status} {title}: {message}\n", mimetype="text/plain")
    response.status_code = status
    response.headers["Retry-After"] = str(RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


class HeavyGuard:
    """The slots and the helper threads of one app (one per process).

    Parameters
    ----------
    concurrency : int
        Guarded views running at once in this process.
    queue_seconds : float
        Longest wait for a slot before 429.
    budget : float
        Longest time for an answer before 503.
    """

    def __init__(self, concurrency: int, queue_seconds: float, budget: float) -> None:
        self.slots = threading.BoundedSemaphore(concurrency)
        self.queue_seconds = queue_seconds
        self.budget = budget
        # Threads for late computations too: a slot is freed only when its thread finishes.
        self.pool = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="csmap-heavy")

    def wrap(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``view`` under the cap and the budget."""

        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            if not self.slots.acquire(timeout=self.queue_seconds):
                logger.warning("429 on %s: %s busy for %.0f s", request.path, "planner", self.queue_seconds)
                return _refusal(429, f"the planner is busy; try again in {RETRY_AFTER} s")
            get_nonce()  # made here, so the page's scripts and the CSP header agree
            parent_g = dict(vars(g))
            ctx = request_ctx.copy()
            app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's target
            started = time.monotonic()

            def run() -> Any:
                with app.app_context() as app_ctx:
                    vars(app_ctx.g).update(parent_g)
                    with ctx:
                        return app.make_response(view(**kwargs))

            try:
                future = self.pool.submit(run)
            except BaseException:
                self.slots.release()
                raise
            future.add_done_callback(lambda _: self.slots.release())
            try:
                return future.result(timeout=self.budget)
            except concurrent.futures.TimeoutError:
                logger.warning("503 on %s: over the %.0f s budget", request.path, time.monotonic() - started)
                return _refusal(503, f"the plan took longer than {self.budget:.0f} s; try again later")

        return guarded


def init_app(app: Flask, endpoints: Iterable[str] = PLANNER_ENDPOINTS) -> None:
    """Guard ``endpoints`` of ``app`` (call after their blueprints are registered)."""
    guard = HeavyGuard(
        int(app.config.get("HEAVY_CONCURRENCY") or DEFAULT_CONCURRENCY),
        float(app.config.get("HEAVY_QUEUE_SECONDS") or DEFAULT_QUEUE_SECONDS),
        float(app.config.get("HEAVY_TIME_BUDGET") or DEFAULT_TIME_BUDGET),
    )
    app.extensions["csmap_heavy"] = guard
    for endpoint in endpoints:
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = guard.wrap(app.view_functions[endpoint])
