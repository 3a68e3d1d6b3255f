"""Real-browser fixtures: Debian's Chromium driven by Playwright, and local live servers.

Chromium comes from ``apt-get install -y chromium`` (never ``playwright install``,
which downloads a browser and cannot work offline). Without it the browser tests are
skipped on a developer machine, but fail under CI so a missing install step shows.
Every page runs in a context that aborts any request not addressed to 127.0.0.1, and
records each request so a test can assert that nothing tried to leave the machine.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOST = "127.0.0.1"
ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
#: Any URL not addressed to 127.0.0.1. Playwright's driver matches a pattern itself, so a local
#: request never waits on a round trip to this Python process (a handler for every request did).
NOT_LOCAL = re.compile(r"^(?!https?://127\.0\.0\.1(?::\d+)?(?:[/?#]|$))")


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian Chromium for the whole session."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run `apt-get install -y chromium` (never `playwright install`)"
        if _under_ci():
            pytest.fail(f"CI is set and {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """What a page did: every request URL, failed loads, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def non_local_requests(self) -> list[str]:
        """URLs of requests addressed anywhere but 127.0.0.1 (data: and about: excluded)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname != LOCAL_HOST
        ]


def keep_local(context) -> None:
    """Abort every request of a browser context that is not addressed to 127.0.0.1."""
    context.route(NOT_LOCAL, lambda route: route.abort("blockedbyclient"))


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log: PageLog) -> Iterator[object]:
    """A fresh page whose requests, failures and errors are recorded in ``page_log``.

    Requests to any host but 127.0.0.1 are aborted (and still recorded), so a page that
    reaches for a CDN fails fast and visibly instead of hanging on DNS.
    """
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    keep_local(context)
    new_page = context.new_page()

    def record_bad_response(response) -> None:
        if response.status >= 400:
            page_log.failed_requests.append(f"{response.url} HTTP {response.status}")

    def record_console_error(message) -> None:
        if message.type == "error":
            page_log.console_errors.append(message.text)

    new_page.on("request", lambda request: page_log.requests.append(request.url))
    new_page.on(
        "requestfailed", lambda request: page_log.failed_requests.append(f"{request.url} {request.failure}")
    )
    new_page.on("response", record_bad_response)
    new_page.on("console", record_console_error)
    new_page.on("pageerror", lambda error: page_log.console_errors.append(f"uncaught: {error}"))
    yield new_page
    context.close()


@pytest.fixture
def console_errors(page, page_log: PageLog) -> list[str]:
    """Console errors and uncaught exceptions of ``page``, filled in as the test runs."""
    return page_log.console_errors


def _serve(app_or_directory: object) -> tuple[str, Callable[[], None]]:
    """Serve a WSGI app or a directory on a free 127.0.0.1 port in a thread; return its URL and a stop."""
    if isinstance(app_or_directory, (str, Path)):
        directory = Path(app_or_directory)
        if not directory.is_dir():
            raise NotADirectoryError(f"cannot serve {str(directory)!r}: not a directory")
        app = SharedDataMiddleware(NotFound(), {"/": str(directory)})
    else:
        app = app_or_directory
    server = make_server(LOCAL_HOST, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{server.port}", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{LOCAL_HOST}:{server.port}", stop


@pytest.fixture
def live_server() -> Iterator[Callable[[object], str]]:
    """Serve a WSGI app (e.g. a Flask app) or a directory on 127.0.0.1; return its base URL.

    Each server listens on a free port in a background thread and is shut down when
    the test ends.
    """
    stops = []

    def serve(app_or_directory: object) -> str:
        url, stop = _serve(app_or_directory)
        stops.append(stop)
        return url

    yield serve
    for stop in stops:
        stop()


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    """Save a full-page PNG of a page to tests/artifacts/<name>.png and return its path."""

    def take(page, name: str) -> Path:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


#: The sizes every changed page is looked at in (house rule): desktop and phone.
SHOT_SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def shoot_both_sizes(browser, screenshot) -> Iterator[Callable[..., None]]:
    """Screenshot a URL at each of ``SHOT_SIZES`` as ``<name>_<size>.png``, signed in or not.

    One context per size serves every shot of the test (a context per shot cost a second
    each); before each shot its cookies are replaced by those of ``storage_state``.
    """
    pages: dict[str, object] = {}

    def take(url: str, name: str, storage_state: dict | None = None) -> None:
        for size, viewport in SHOT_SIZES.items():
            if size not in pages:
                pages[size] = browser.new_context(viewport=viewport).new_page()
            shot = pages[size]
            shot.context.clear_cookies()
            if storage_state:
                shot.context.add_cookies(storage_state["cookies"])
            shot.goto(url)
            screenshot(shot, f"{name}_{size}")

    yield take
    for shot in pages.values():
        shot.context.close()


@pytest.fixture(scope="session")
def site(shared_app) -> Iterator[str]:
    """Base URL of ``shared_app`` (tests/conftest.py) served on 127.0.0.1 for the whole session.

    Read-only: a test that changes the app's data or configuration takes ``csmap_app`` instead.
    """
    url, stop = _serve(shared_app)
    yield url
    stop()


# ``built_data_dir`` (one real build per session) comes from tests/conftest.py.


@pytest.fixture
def csmap_app(built_data_dir: Path):
    """A fresh app of its own serving the session's build, for a test that changes its data."""
    from webmap import create_app

    return create_app({"TESTING": True, "DATA_DIR": str(built_data_dir)})
