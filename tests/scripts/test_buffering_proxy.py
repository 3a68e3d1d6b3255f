"""scripts.buffering_proxy: reading whole requests, framing answers, routing (no server needed)."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from scripts.buffering_proxy import (
    ClientError,
    Limits,
    Request,
    _response_framing,
    read_body,
    read_head,
    route_path,
    upstream_head,
)


class _Writer:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        return None


def _read(raw: bytes, limits: Limits | None = None, max_bytes: int | None = None):
    limits = limits or Limits()

    async def go():
        reader = asyncio.StreamReader(limit=limits.max_header_bytes + 1)
        reader.feed_data(raw)
        reader.feed_eof()
        method, target, version, headers = await read_head(reader, limits)
        req = Request(method, target, version, headers, b"")
        writer = _Writer()
        req.body = await read_body(reader, writer, req, limits, max_bytes)
        return req, writer.data

    # In a thread of its own: another test's library (Playwright's sync API) may hold a running
    # event loop in this thread, where asyncio.run refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(go())).result(timeout=30)


def test_a_chunked_body_is_decoded_whole():
    head = b"POST /api/plan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw = head + b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: dropped\r\n\r\n"
    req, _ = _read(raw)
    assert (req.method, req.target, req.body) == (b"POST", b"/api/plan", b"hello world")


def test_body_limits_answer_413_for_both_framings():
    chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n"
    with pytest.raises(ClientError) as exc:
        _read(chunked, max_bytes=7)
    assert exc.value.status == 413
    with pytest.raises(ClientError) as exc:
        _read(b"POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678", max_bytes=7)
    assert exc.value.status == 413
    req, _ = _read(b"POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678", max_bytes=8)
    assert req.body == b"12345678"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 40_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_malformed_or_oversized_requests_are_refused(raw, status):
    with pytest.raises(ClientError) as exc:
        _read(raw)
    assert exc.value.status == status


def test_expect_100_continue_is_answered_before_the_body():
    req, written = _read(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok")
    assert written == b"HTTP/1.1 100 Continue\r\n\r\n" and req.body == b"ok"


def test_the_upstream_head_is_http_1_0_with_a_length_and_no_hop_by_hop_headers():
    req = Request(
        b"POST",
        b"/api/plan?k=2",
        b"HTTP/1.1",
        [
            (b"Host", b"x"),
            (b"Connection", b"keep-alive"),
            (b"Transfer-Encoding", b"chunked"),
            (b"X-Forwarded-For", b"10.0.0.1"),
            (b"Expect", b"100-continue"),
        ],
        b"abc",
    )
    head = upstream_head(req, "127.0.0.1").decode()
    assert head.startswith("POST /api/plan?k=2 HTTP/1.0\r\n") and head.endswith("\r\n\r\n")
    assert "Content-Length: 3" in head and "Connection: close" in head
    assert "X-Forwarded-For: 10.0.0.1, 127.0.0.1" in head
    assert "chunked" not in head and "keep-alive" not in head and "100-continue" not in head


def test_answer_framing():
    assert _response_framing(200, [(b"Content-Length", b"12")], b"GET") == 12
    assert _response_framing(200, [(b"Content-Length", b"12")], b"HEAD") == 0
    assert _response_framing(304, [], b"GET") == 0
    assert _response_framing(200, [], b"GET") is None  # until the upstream closes
    assert (
        _response_framing(200, [(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")], b"GET")
        is None
    )


def test_keep_alive_follows_the_http_version():
    assert Request(b"GET", b"/", b"HTTP/1.1", [], b"").keep_alive
    assert not Request(b"GET", b"/", b"HTTP/1.1", [(b"Connection", b"close")], b"").keep_alive
    assert not Request(b"GET", b"/", b"HTTP/1.0", [], b"").keep_alive
    assert Request(b"GET", b"/", b"HTTP/1.0", [(b"Connection", b"Keep-Alive")], b"").keep_alive


def test_the_planner_routes_go_to_the_planner_pool():
    for path in ("/api/plan", "/plan", "/plan.csv", "/plan.geojson"):
        assert route_path(path) == "planner", path
    for path in ("/", "/healthz", "/planner-notes", "/api/states", "/docs/PLANNER"):
        assert route_path(path) == "web", path
