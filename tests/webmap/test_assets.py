"""Asset bundles (webmap.assets): one stylesheet and one vendored script per map page."""

from __future__ import annotations

import base64
import gzip
import re
from pathlib import Path

import pytest

from webmap import assets
from webmap.vendor import find_asset_urls

STATIC = Path(assets.__file__).resolve().parent / "static"


def page_assets(html: str) -> tuple[list[str], list[str]]:
    urls = find_asset_urls(html)
    return [u for u in urls if u.endswith(".css")], [u for u in urls if u.endswith(".js")]


def test_rebase_css_urls_keeps_absolute_data_and_fragment_references():
    css = (
        ".a{background:url(images/layers.png)} .b{background:url('icon.svg')} "
        '.c{background:url("../x/y.png")} .d{behavior:url(#default#VML)} '
        ".e{background:url(data:image/png;base64,AAAA)} .f{background:url(/abs.png)} "
        ".g{background:url(https://example.org/z.png)}"
    )
    out = assets.rebase_css_urls(css, "/static/vendor/leaflet/")
    assert "url(/static/vendor/leaflet/images/layers.png)" in out
    assert "url('/static/vendor/leaflet/icon.svg')" in out
    assert 'url("/static/vendor/leaflet/../x/y.png")' in out
    for kept in (
        "url(#default#VML)",
        "url(data:image/png;base64,AAAA)",
        "url(/abs.png)",
        "url(https://example.org/z.png)",
    ):
        assert kept in out


def test_join_files_names_each_file_and_its_licence_in_order():
    paths = [STATIC / "vendor/leaflet/leaflet.js", STATIC / "vendor/leaflet.fullscreen/Control.FullScreen.js"]
    body = assets.join_files(paths, "js", STATIC, "../static/").decode("utf-8")
    first = body.index("/* ---- vendor/leaflet/leaflet.js (licence: static/vendor/leaflet/LICENSE) ---- */")
    second = body.index(
        "/* ---- vendor/leaflet.fullscreen/Control.FullScreen.js"
        " (licence: static/vendor/leaflet.fullscreen/LICENSE) ---- */"
    )
    assert first == 0 and second > first
    # Both files are there, each closed off from the next; only Leaflet's source-map comment is
    # left out (the map is not vendored).
    leaflet = paths[0].read_text(encoding="utf-8")
    assert "//# sourceMappingURL=leaflet.js.map" in leaflet and "sourceMappingURL" not in body
    assert leaflet.replace("//# sourceMappingURL=leaflet.js.map", "").rstrip() in body
    assert paths[1].read_text(encoding="utf-8").rstrip() in body
    assert body.count("\n;\n") == 2


def test_national_page_links_one_stylesheet_and_one_vendored_script(client):
    html = client.get("/").get_data(as_text=True)
    css, js = page_assets(html)
    assert len(css) == 1 and re.fullmatch(r"/assets/[0-9a-f]{20}\.css", css[0])
    assert js[0].startswith("/assets/") and js[1:] == ["/static/js/csmap-map.js"]
    stylesheet = client.get(css[0]).get_data(as_text=True)
    # The site's styles come first, as when app.css was linked before Leaflet's.
    assert stylesheet.index("css/app.css") < stylesheet.index("vendor/leaflet/leaflet.css")
    assert stylesheet.index("vendor/leaflet/leaflet.css") < stylesheet.index("Control.FullScreen.css")
    # Relative images now point at the vendored files, from the bundle's folder, and each one is
    # served; Leaflet's marker icon keeps its URL (Leaflet finds its image folder from it).
    images = re.findall(r"url\(\.\.(/static/[^)]+)\)", stylesheet)
    assert "/static/vendor/leaflet/images/marker-icon.png" in images
    for image in images:
        with client.get(image) as response:  # closes the served file
            assert response.status_code == 200, image
    # The controls' icons are written in, byte for byte.
    for name in assets.INLINE_IMAGES:
        assert f"/static/{name}" not in stylesheet
        encoded = base64.b64encode((STATIC / name).read_bytes()).decode("ascii")
        media = "svg+xml" if name.endswith(".svg") else "png"
        assert f'url("data:image/{media};base64,{encoded}")' in stylesheet


def test_pages_without_a_map_keep_the_plain_stylesheet(client):
    css, _ = page_assets(client.get("/gaps").get_data(as_text=True))
    assert css == ["/static/css/app.css"]


def test_bundle_is_cached_for_a_year_revalidates_and_gzips(client):
    css, js = page_assets(client.get("/").get_data(as_text=True))
    response = client.get(js[0], headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Cache-Control"] == f"public, max-age={assets.BUNDLE_MAX_AGE}, immutable"
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.data)
    assert b"Leaflet 1.9.3" in body and b"leaflet.Control.FullScreen" in body
    # The helpers csmap-map.js and plan.js share come last, after Leaflet, in the same request.
    helpers = (STATIC / assets.PAGE_HELPERS).read_text(encoding="utf-8").rstrip().encode("utf-8")
    assert body.index(b"leaflet.Control.FullScreen") < body.index(helpers)
    again = client.get(js[0], headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The name is a hash of the content: the same files give the same URL on every page.
    css_state, js_state = page_assets(client.get("/states/TX").get_data(as_text=True))
    assert (css_state[0], js_state[0]) == (css[0], js[0])


@pytest.mark.parametrize("name", ["0123456789abcdef0123.js", "nothing.css", "..%2Fapp.css", "x.js"])
def test_unknown_bundle_is_a_404(client, name):
    response = client.get(f"/assets/{name}")
    assert response.status_code == 404


def test_every_worker_serves_the_bundles_any_worker_links(built_data_dir):
    """gunicorn runs several processes: a page rendered by one links bundles another must serve."""
    from webmap import create_app

    first = create_app({"DATA_DIR": str(built_data_dir), "TESTING": True}).test_client()
    second = create_app({"DATA_DIR": str(built_data_dir), "TESTING": True}).test_client()
    css, js = page_assets(first.get("/").get_data(as_text=True))
    for url in (css[0], js[0]):
        assert second.get(url).status_code == 200, url


@pytest.mark.parametrize("url", ["/", "/states/TX", "/find?q=78701", "/plan?state=TX&k=3"])
def test_every_map_page_is_bundled(client, url):
    css, js = page_assets(client.get(url).get_data(as_text=True))
    assert len(css) == 1 and css[0].startswith("/assets/")
    assert [u for u in js if u.startswith("/static/vendor/")] == []
    assert len([u for u in js if u.startswith("/assets/")]) == 1


def test_a_map_with_other_assets_keeps_its_links(app, caplog):
    from webmap.maps import MapPage

    page = MapPage("m", ["/static/vendor/leaflet/leaflet.css"], ["/static/vendor/d3/d3.min.js"], "", "")
    with app.test_request_context("/"):
        kept = assets.bundle_page(page)
    assert kept.css == ["/static/css/app.css", "/static/vendor/leaflet/leaflet.css"]
    # The page helpers, the records' map layer and the map context scripts too.
    helpers = [
        f"/static/{path}" for path in (assets.PAGE_HELPERS, assets.RECORDS_SCRIPT, *assets.MAP_PAGE_SCRIPTS)
    ]
    assert kept.js == ["/static/vendor/d3/d3.min.js", *helpers]
    assert "match no bundle" in caplog.text


def test_bundles_hold_under_a_script_root(app):
    client = app.test_client()
    base = "http://localhost/csmap"
    css, js = page_assets(client.get("/", base_url=base).get_data(as_text=True))
    assert css[0].startswith("/csmap/assets/") and js[0].startswith("/csmap/assets/")
    stylesheet = client.get(css[0][len("/csmap") :], base_url=base).get_data(as_text=True)
    # Relative to the bundle, so /csmap/assets/x.css finds /csmap/static/...
    assert "url(../static/vendor/leaflet/images/marker-icon.png)" in stylesheet
