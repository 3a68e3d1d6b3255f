"""HTTP caching for byte bodies: ETag, Cache-Control, 304 revalidation and gzip.

One function, :func:`send_bytes`, serves every download, API answer and OGC API
item list. The ETag is a hash of the uncompressed body, so it changes exactly
when the content changes (a new build, other filters). The gzip variant gets
its own tag (``"<hash>-gzip"``, as Apache's mod_deflate does) because RFC 9110
§8.8.3 requires a strong validator to differ between content codings; either
tag revalidates. Compressed bodies are kept in a small per-process LRU keyed
by tag, so a popular file is compressed once.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections import OrderedDict

from flask import Flask, Response, request

logger = logging.getLogger(__name__)

#: Bodies smaller than this are sent as they are: gzip's ~20-byte header and
#: the CPU are not worth it (nginx's gzip_min_length default is 20; 1 KB is
#: the common production setting, e.g. Cloudflare and Google's guidance).
GZIP_MIN_BYTES = 1024
#: zlib level 6, the gzip default: near-best ratio for a fraction of level 9's time.
GZIP_LEVEL = 6
#: Total bytes of compressed bodies kept per process.
GZIP_CACHE_BYTES = 64 * 1024 * 1024
#: Media types worth compressing (text-like); GeoPackage (SQLite) compresses too.
COMPRESSIBLE = (
    "application/json",
    "application/geo+json",
    "text/",
    "application/geopackage+sqlite3",
    "application/vnd.oai.openapi+json",
    "image/svg+xml",
)

DEFAULT_MAX_AGE = 300


class _GzipCache:
    """A byte-bounded LRU of gzip bodies keyed by ETag (thread-safe)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            body = self.items.get(key)
            if body is not None:
                self.items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.limit:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = body
            self.size += len(body)
            while self.size > self.limit:
                _, old = self.items.popitem(last=False)
                self.size -= len(old)


_gzip_cache = _GzipCache(GZIP_CACHE_BYTES)


def body_etag(body: bytes) -> str:
    """Return the (unquoted) strong entity tag of a body: 128 bits of BLAKE2b."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _accepts_gzip() -> bool:
    # werkzeug parses q-values, so "gzip;q=0" counts as a refusal.
    return request.accept_encodings["gzip"] > 0


def _compressible(mimetype: str) -> bool:
    return mimetype.startswith(COMPRESSIBLE)


def gzip_body(body: bytes, tag: str) -> bytes:
    """Return ``body`` gzip-compressed, from the per-process cache when seen before."""
    cached = _gzip_cache.get(tag)
    if cached is None:
        # mtime=0 makes the output deterministic, so equal bodies compress to equal bytes.
        cached = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        _gzip_cache.put(tag, cached)
    return cached


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """Return a Content-Disposition value; ``filename`` must be a plain ASCII name we generated."""
    if not filename.isascii() or any(c in filename for c in '"\\/\r\n'):
        msg = f"unsafe download filename {filename!r}"
        raise ValueError(msg)
    return f'{"inline" if inline else "attachment"}; filename="{filename}"'


def send_bytes(
    body: bytes,
    mimetype: str,
    *,
    filename: str | None = None,
    max_age: int = DEFAULT_MAX_AGE,
    etag: str | None = None,
    inline: bool = False,
    charset: str | None = None,
) -> Response:
    """Return a response for ``body`` that honours conditional requests and gzip.

    Parameters
    ----------
    body : bytes
        The uncompressed representation.
    mimetype : str
        e.g. ``application/geo+json``.
    filename : str, optional
        Sets ``Content-Disposition`` (``attachment`` unless ``inline``).
    max_age : int
        Seconds a client or proxy may reuse the answer before revalidating.
    etag : str, optional
        A precomputed unquoted tag (saves hashing a large cached body on every
        request); by default a hash of ``body``.
    charset : str, optional
        Appended to the Content-Type, e.g. ``utf-8`` for ``text/csv``.

    Returns
    -------
    Response
        200 with the body (gzip-coded when the client accepts it and the body
        is compressible and at least :data:`GZIP_MIN_BYTES`), or 304 with no
        body when ``If-None-Match`` holds either variant's tag.
    """
    tag = etag or body_etag(body)
    gzip_tag = f"{tag}-gzip"
    use_gzip = len(body) >= GZIP_MIN_BYTES and _compressible(mimetype) and _accepts_gzip()
    headers = {
        "Cache-Control": f"public, max-age={int(max_age)}",
        "Vary": "Accept-Encoding",
    }
    if filename:
        headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    content_type = f"{mimetype}; charset={charset}" if charset else mimetype

    sent_tag = gzip_tag if use_gzip else tag
    if request.if_none_match and (
        request.if_none_match.contains_weak(tag) or request.if_none_match.contains_weak(gzip_tag)
    ):
        response = Response(status=304, headers=headers)
        response.set_etag(sent_tag)
        return response

    if use_gzip:
        payload = gzip_body(body, gzip_tag)
        headers["Content-Encoding"] = "gzip"
    else:
        payload = body
    response = Response(payload, status=200, headers=headers, content_type=content_type)
    response.set_etag(sent_tag)
    return response


def compress_response(response: Response) -> Response:
    """Gzip any compressible 200 answer that is not coded yet: pages, static scripts and styles.

    :func:`send_bytes` answers are already coded (or deliberately not); this
    catches the rest app-wide, rendered pages and Flask's static files alike.
    A static file's ETag gets the ``-gzip`` suffix, as :func:`send_bytes` does,
    because the coded bytes are another representation (RFC 9110 §8.8.3).
    """
    if (
        response.status_code != 200
        or "Content-Encoding" in response.headers
        or not _compressible(response.mimetype or "")
        or (response.content_length is not None and response.content_length < GZIP_MIN_BYTES)
    ):
        return response
    response.direct_passthrough = False  # a static file: read it, so it can be compressed
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    response.set_data(gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers.pop("Accept-Ranges", None)  # byte ranges would be of the coded body
    tag, weak = response.get_etag()
    if tag:
        response.set_etag(f"{tag}-gzip", weak=bool(weak))
    return response


def init_app(app: Flask) -> None:
    """Compress every compressible answer app-wide (:func:`compress_response`)."""
    app.after_request(compress_response)
