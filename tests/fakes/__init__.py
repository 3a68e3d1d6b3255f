"""Local fake servers that speak the protocols of the online services.

Each fake runs an ``http.server`` on 127.0.0.1 with an OS-chosen port in a
daemon thread; tests start it from a fixture and stop it with ``close()``.
Nothing here ever reaches the internet.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    """Base class: serve ``handler_class`` on 127.0.0.1:0 until :meth:`close`."""

    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        # A subclass per server, so that two fakes running at once keep apart.
        handler = type(handler_class.__name__, (handler_class,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that does not print each request to stderr."""

    fake: FakeServer

    def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_text(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
