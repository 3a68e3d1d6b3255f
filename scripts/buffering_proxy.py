"""The request-buffering front that ``csmap serve`` runs in front of gunicorn.

gunicorn's sync and threaded workers give a whole thread to a connection while
its request arrives, and gunicorn's own documentation puts them behind a
buffering proxy. A reliability trial showed why: 8 sockets sending their
headers one byte every 2 s stopped every request; 32 silent sockets stalled the
service for 14.7 s. This front, one asyncio event loop, holds any number of
such sockets at the cost of a few KB each, and hands a request to gunicorn only
once it has arrived whole (headers and body), over a private Unix socket. It
does what nginx's ``proxy_request_buffering on`` does, so ``make serve`` is safe
on its own; docs/DEPLOY.md puts nginx in front of it in production.

It also:

* enforces header and body timeouts and size limits (408, 413, 414, 431);
* decodes a chunked body and forwards it with a ``Content-Length``, refusing
  one over the limit with 413;
* routes the planner (``/api/plan``, ``/plan``, ``/plan.*``) to a pool of its
  own, so CPU-bound plans never share a process (or its GIL) with ``/healthz``;
* retries a GET or HEAD once when a worker dies before answering it;
* drops gunicorn's ``Server`` header.

Upstream requests are HTTP/1.0 with ``Connection: close``, as nginx sends them by
default, so an answer is framed by ``Content-Length`` or by the end of the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Request paths served by the planner pool (webmap/plan.py): CPU-bound when they plan.
PLANNER_PATHS = ("/api/plan", "/plan")

#: Hop-by-hop headers (RFC 9110 § 7.6.1) and those this front sets itself.
_HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"expect",
    b"content-length",
}
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Limits:
    """Timeouts (seconds) and sizes (bytes) of the front; the defaults match docs/DEPLOY.md's nginx.

    Attributes
    ----------
    header_timeout : float
        Time for the whole request line and headers (nginx ``client_header_timeout``).
    body_timeout : float
        Time allowed between two reads of the body (nginx ``client_body_timeout``).
    body_total_timeout : float
        Time for the whole body, however steadily it trickles in.
    keepalive_timeout : float
        How long an idle kept-alive connection waits for its next request.
    upstream_timeout : float
        Time for gunicorn's whole answer (the planner answers 503 well before it).
    max_request_line : int
        Longest request line (414 over it).
    max_header_bytes : int
        Largest header block (431 over it).
    max_body_bytes : int
        Largest body (413 over it); endpoints set lower limits of their own.
    """

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    body_total_timeout: float = 120.0
    keepalive_timeout: float = 15.0
    upstream_timeout: float = 120.0
    max_request_line: int = 8 * 1024
    max_header_bytes: int = 32 * 1024
    max_body_bytes: int = 32 * 1024 * 1024


class ClientError(Exception):
    """A request this front answers itself, with ``status``, then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Request:
    """A request read whole from a client."""

    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        """Return the last value of header ``name`` (lower case), or None."""
        found = None
        for key, value in self.headers:
            if key.lower() == name:
                found = value
        return found

    @property
    def keep_alive(self) -> bool:
        """Whether the client wants the connection kept open after the answer."""
        tokens = {token.strip().lower() for token in (self.header(b"connection") or b"").split(b",")}
        if self.version == b"HTTP/1.0":
            return b"keep-alive" in tokens
        return b"close" not in tokens


def error_response(status: int, message: str, *, extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """Return a complete HTTP/1.1 answer with a JSON body, closing the connection."""
    text = message.replace("\\", "\\\\").replace('"', '\\"')
    body = f'{{"status": {status}, "title": "{_REASONS.get(status, "Error")}", "description": "{text}"}}'
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "Content-Type: application/json"]
    head += [f"{name}: {value}" for name, value in extra]
    head += [f"Content-Length: {len(body.encode())}", "Cache-Control: no-store", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


async def _readline(reader: asyncio.StreamReader, limit: int, status: int, what: str) -> bytes:
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise ClientError(status, f"the {what} is longer than {limit:,} bytes") from exc
    except asyncio.IncompleteReadError as exc:
        raise ConnectionResetError("client closed mid-request") from exc
    if len(line) > limit:
        raise ClientError(status, f"the {what} is longer than {limit:,} bytes")
    return line


async def read_head(reader: asyncio.StreamReader, limits: Limits) -> tuple[bytes, bytes, bytes, list]:
    """Read the request line and headers; raise ClientError on a malformed or oversized head."""
    line = await _readline(reader, limits.max_request_line, 414, "request line")
    while line in (b"\r\n", b"\n"):  # RFC 9112 § 2.2: ignore empty lines before a request
        line = await _readline(reader, limits.max_request_line, 414, "request line")
    parts = line.strip().split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
        raise ClientError(400, "malformed request line")
    method, target, version = parts
    headers: list[tuple[bytes, bytes]] = []
    size = 0
    while True:
        line = await _readline(reader, limits.max_header_bytes, 431, "header block")
        size += len(line)
        if size > limits.max_header_bytes:
            raise ClientError(431, f"the header block is longer than {limits.max_header_bytes:,} bytes")
        if line in (b"\r\n", b"\n"):
            return method, target, version, headers
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or b" " in name:
            raise ClientError(400, "malformed header line")
        headers.append((name, value.strip()))


async def read_body(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    head: Request,
    limits: Limits,
    max_bytes: int | None = None,
) -> bytes:
    """Read the whole body (by Content-Length or chunked), within the size and time limits.

    ``max_bytes`` (default ``limits.max_body_bytes``) is the route's own size limit.
    """
    max_bytes = limits.max_body_bytes if max_bytes is None else max_bytes
    length_text = head.header(b"content-length")
    encoding = (head.header(b"transfer-encoding") or b"").strip().lower()
    if length_text is not None and encoding:
        raise ClientError(400, "a request may not carry both Content-Length and Transfer-Encoding")
    if encoding and encoding != b"chunked":
        raise ClientError(501, f"transfer-encoding {encoding.decode(errors='replace')!r} is not supported")
    if length_text is None and not encoding:
        return b""
    if length_text is not None:
        if not length_text.isdigit():
            raise ClientError(400, "Content-Length must be a whole number")
        length = int(length_text)
        if length > max_bytes:
            raise ClientError(413, f"the body is {length:,} bytes; at most {max_bytes:,} are accepted")
    if (head.header(b"expect") or b"").lower() == b"100-continue" and head.version == b"HTTP/1.1":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.body_total_timeout

    async def timed(coro):
        left = min(limits.body_timeout, deadline - loop.time())
        if left <= 0:
            raise ClientError(408, f"the body took longer than {limits.body_total_timeout:.0f} s")
        try:
            return await asyncio.wait_for(coro, left)
        except asyncio.IncompleteReadError as exc:
            raise ConnectionResetError("client closed mid-body") from exc
        except asyncio.LimitOverrunError as exc:
            raise ClientError(400, "malformed chunk") from exc
        except TimeoutError as exc:
            raise ClientError(408, "the body arrived too slowly") from exc

    if length_text is not None:
        chunks, got = [], 0
        while got < length:
            piece = await timed(reader.read(min(65536, length - got)))
            if not piece:
                raise ConnectionResetError("client closed mid-body")
            chunks.append(piece)
            got += len(piece)
        return b"".join(chunks)
    body = bytearray()
    while True:
        size_line = await timed(reader.readuntil(b"\n"))
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise ClientError(400, "malformed chunk size") from exc
        if size < 0:
            raise ClientError(400, "malformed chunk size")
        if size == 0:
            while (await timed(reader.readuntil(b"\n"))) not in (b"\r\n", b"\n"):  # trailers, dropped
                pass
            return bytes(body)
        if len(body) + size > max_bytes:
            raise ClientError(413, f"the chunked body is over {max_bytes:,} bytes, the most accepted")
        body += await timed(reader.readexactly(size))
        if (await timed(reader.readexactly(2))) != b"\r\n":
            raise ClientError(400, "malformed chunk: no CRLF after its data")


def upstream_head(req: Request, peer: str) -> bytes:
    """Return the HTTP/1.0 request head sent to gunicorn for ``req``."""
    lines = [req.method + b" " + req.target + b" HTTP/1.0"]
    forwarded_for = None
    for name, value in req.headers:
        lower = name.lower()
        if lower in _HOP_BY_HOP:
            continue
        if lower == b"x-forwarded-for":
            forwarded_for = value
            continue
        lines.append(name + b": " + value)
    chain = (forwarded_for + b", " if forwarded_for else b"") + peer.encode()
    lines.append(b"X-Forwarded-For: " + chain)
    if req.body or req.method in (b"POST", b"PUT", b"PATCH"):
        lines.append(b"Content-Length: " + str(len(req.body)).encode())
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _response_framing(status: int, headers: list[tuple[bytes, bytes]], method: bytes) -> int | None:
    """Return the body length of an upstream answer: 0, a Content-Length, or None (until close)."""
    if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
        return 0
    chunked = any(k.lower() == b"transfer-encoding" for k, _ in headers)
    for name, value in headers:
        if name.lower() == b"content-length" and not chunked and value.strip().isdigit():
            return int(value)
    return None


class Front:
    """The buffering front: accepts clients on ``host:port`` and relays whole requests upstream.

    Parameters
    ----------
    upstreams : dict
        ``{"web": path, "planner": path}``: gunicorn Unix sockets.
    limits : Limits
    route : callable, optional
        ``route(path) -> upstream name``; default: :func:`route_path`.
    body_limits : dict, optional
        ``{upstream name: bytes}``: a smaller body limit for a pool. The front must
        refuse such a body itself: an app that answers 413 before reading the body
        closes a socket with unread data, which resets the connection, answer and all.
    """

    def __init__(
        self,
        upstreams: dict[str, str],
        limits: Limits | None = None,
        route: Callable[[str], str] | None = None,
        body_limits: dict[str, int] | None = None,
    ) -> None:
        self.upstreams = upstreams
        self.limits = limits or Limits()
        self.route = route or route_path
        self.body_limits = dict(body_limits or {})
        self.server: asyncio.base_events.Server | None = None

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (the stream limit bounds one header line)."""
        limit = max(self.limits.max_request_line, self.limits.max_header_bytes) + 1
        self.server = await asyncio.start_server(self.handle, host, port, limit=limit, backlog=1024)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection: requests one after another while it keeps it alive."""
        peer = (writer.get_extra_info("peername") or ("unknown",))[0]
        first = True
        try:
            while True:
                # A kept-alive connection may idle this long before (and while) sending its next head.
                wait = self.limits.header_timeout if first else self.limits.keepalive_timeout
                try:
                    req = await self._read_request(reader, writer, wait, first)
                except ClientError as exc:
                    writer.write(error_response(exc.status, str(exc)))
                    await writer.drain()
                    return
                if req is None:
                    return
                first = False
                keep = await self.relay(req, writer, peer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            return
        except Exception:  # never let one connection's surprise stop the front
            logger.exception("front: unexpected error on a connection from %s", peer)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wait: float, first: bool
    ) -> Request | None:
        try:
            method, target, version, headers = await asyncio.wait_for(read_head(reader, self.limits), wait)
        except TimeoutError:
            if first:
                raise ClientError(408, f"the request headers took longer than {wait:.0f} s") from None
            return None
        except ConnectionResetError:
            return None
        req = Request(method, target, version, headers, b"")
        pool = self.route(target.split(b"?", 1)[0].decode("latin-1"))
        req.body = await read_body(reader, writer, req, self.limits, self.body_limits.get(pool))
        return req

    async def relay(self, req: Request, writer: asyncio.StreamWriter, peer: str) -> bool:
        """Send ``req`` upstream and its answer to the client; return whether to keep the connection."""
        path = req.target.split(b"?", 1)[0].decode("latin-1")
        upstream = self.upstreams[self.route(path)]
        head = upstream_head(req, peer)
        retries = 1 if req.method in (b"GET", b"HEAD") else 0
        while True:
            try:
                return await asyncio.wait_for(
                    self._exchange(upstream, head, req, writer), self.limits.upstream_timeout
                )
            except _NothingSent as exc:
                if retries:
                    retries -= 1
                    logger.warning("front: retrying %s %s once: %s", req.method.decode(), path, exc)
                    continue
                logger.error("front: %s %s failed upstream: %s", req.method.decode(), path, exc)
                writer.write(error_response(502, "the app did not answer; try again"))
                await writer.drain()
                return False
            except TimeoutError:
                logger.error(
                    "front: %s %s: no answer within %.0f s",
                    req.method.decode(),
                    path,
                    self.limits.upstream_timeout,
                )
                writer.write(
                    error_response(504, "the app took too long to answer", extra=[("Retry-After", "30")])
                )
                await writer.drain()
                return False

    async def _exchange(self, upstream: str, head: bytes, req: Request, writer: asyncio.StreamWriter) -> bool:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(upstream, limit=256 * 1024)
        except OSError as exc:
            raise _NothingSent(f"cannot connect to {upstream}: {exc}") from exc
        try:
            try:
                up_writer.write(head + req.body)
                await up_writer.drain()
            except OSError as exc:
                # gunicorn may answer (429, 413) and close before reading the whole body: read that answer.
                logger.debug("front: upstream stopped reading the body: %r", exc)
            try:
                status_line = await up_reader.readuntil(b"\n")
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
                raise _NothingSent(f"no answer: {exc!r}") from exc
            parts = status_line.split(b" ", 2)
            status = int(parts[1])
            headers: list[tuple[bytes, bytes]] = []
            while True:
                line = await up_reader.readuntil(b"\n")
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.partition(b":")
                headers.append((name.strip(), value.strip()))
            length = _response_framing(status, headers, req.method)
            keep = req.keep_alive and length is not None
            out = [b"HTTP/1.1 " + status_line.split(b" ", 1)[1].rstrip(b"\r\n")]
            for name, value in headers:
                if name.lower() in (b"server", b"connection", b"keep-alive"):
                    continue
                out.append(name + b": " + value)
            out.append(b"Connection: keep-alive" if keep else b"Connection: close")
            writer.write(b"\r\n".join(out) + b"\r\n\r\n")
            if length is None:
                while piece := await up_reader.read(65536):
                    writer.write(piece)
                    await writer.drain()
            else:
                left = length
                while left > 0:
                    piece = await up_reader.read(min(65536, left))
                    if not piece:
                        raise ConnectionResetError("upstream closed mid-answer")
                    writer.write(piece)
                    left -= len(piece)
                    if writer.transport.get_write_buffer_size() > 1024 * 1024:
                        await writer.drain()
            await writer.drain()
            return keep
        finally:
            up_writer.close()


class _NothingSent(Exception):
    """The upstream failed before any byte of the answer went to the client (safe to retry)."""


def route_path(path: str) -> str:
    """Return the upstream pool for a request path: ``planner`` for the planner, else ``web``."""
    if path == "/plan" or path.startswith(("/plan.", "/api/plan")):
        return "planner"
    return "web"
