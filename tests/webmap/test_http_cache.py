"""webmap.http_cache.send_bytes: ETag, 304, Cache-Control, Content-Disposition and gzip."""

from __future__ import annotations

import gzip

import pytest
from flask import Flask

from webmap.http_cache import GZIP_MIN_BYTES, body_etag, content_disposition, send_bytes

BIG = b'{"features":[' + b",".join(b'{"a":%d}' % i for i in range(2000)) + b"]}"


@pytest.fixture
def flask_app() -> Flask:
    return Flask(__name__)


def send(flask_app, body=BIG, headers=None, **kwargs):
    with flask_app.test_request_context("/x", headers=headers or {}):
        return send_bytes(body, "application/geo+json", **kwargs)


def test_plain_answer_has_tag_cache_control_and_vary(flask_app):
    response = send(flask_app, max_age=120, filename="a-b.geojson")
    assert response.status_code == 200 and response.get_data() == BIG
    assert response.headers["ETag"] == f'"{body_etag(BIG)}"'
    assert response.headers["Cache-Control"] == "public, max-age=120"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers["Content-Disposition"] == 'attachment; filename="a-b.geojson"'
    assert response.mimetype == "application/geo+json"


def test_gzip_when_accepted(flask_app):
    response = send(flask_app, headers={"Accept-Encoding": "br, gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.get_data()) == BIG
    assert len(response.get_data()) < len(BIG) / 2
    assert response.headers["ETag"] == f'"{body_etag(BIG)}-gzip"'


@pytest.mark.parametrize("encoding", ["gzip;q=0", "identity", "br", ""])
def test_no_gzip_when_refused(flask_app, encoding):
    response = send(flask_app, headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in response.headers and response.get_data() == BIG


def test_small_bodies_are_not_compressed(flask_app):
    small = b"x" * (GZIP_MIN_BYTES - 1)
    response = send(flask_app, body=small, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers


def test_binary_media_is_not_compressed(flask_app):
    with flask_app.test_request_context("/x", headers={"Accept-Encoding": "gzip"}):
        response = send_bytes(BIG, "image/png")
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("header", ['"{tag}"', 'W/"{tag}"', '"{tag}-gzip"', '"other", "{tag}"', "*"])
def test_matching_if_none_match_is_304_without_body(flask_app, header):
    response = send(flask_app, headers={"If-None-Match": header.format(tag=body_etag(BIG))})
    assert response.status_code == 304 and response.get_data() == b""
    assert response.headers["ETag"] and response.headers["Cache-Control"]


def test_stale_tag_gets_the_body(flask_app):
    response = send(flask_app, headers={"If-None-Match": '"stale"'})
    assert response.status_code == 200 and response.get_data() == BIG


def test_given_etag_is_used(flask_app):
    assert send(flask_app, etag="abc").headers["ETag"] == '"abc"'


@pytest.mark.parametrize("name", ['a".csv', "../x.csv", "a\r\nSet-Cookie: x", "é.csv", "a\\b"])
def test_unsafe_filenames_are_refused(name):
    with pytest.raises(ValueError, match="unsafe"):
        content_disposition(name)
