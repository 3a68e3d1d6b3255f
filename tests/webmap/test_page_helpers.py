"""Small pieces behind the pages: metric formats and legends, docs rendering, security headers."""

from __future__ import annotations

import pytest

from webmap import docs, figures, security


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (0.4123, "share", "41.2%"),
        (1234567.4, "count", "1,234,567"),
        (0.756, "rate", "0.76"),
        (None, "count", "—"),
        (float("nan"), "share", "—"),
        ("existing", "text", "existing"),
    ],
)
def test_format_value(value, kind, text):
    assert figures.format_value(value, kind) == text


def test_classify_gives_five_natural_break_classes():
    values = [0, 1, 2, 3, 10, 11, 12, 30, 31, 60, 61, 100, None, float("nan")]
    legend = figures.classify("children", values)
    assert legend.method == "Fisher-Jenks natural breaks"
    assert len(legend.bins) == len(legend.colors) == len(legend.labels) == 5
    assert legend.bins == sorted(legend.bins) and legend.bins[-1] == 100
    assert legend.colors == list(figures.YLGNBU_5)
    assert legend.labels[0].startswith("0 – ")


def test_classify_with_few_values_and_worse_when_higher_palette():
    legend = figures.classify("unserved_children", [5, 5, 7])
    assert legend.bins == [5.0, 7.0] and legend.method == "unique values"
    assert set(legend.colors) <= set(figures.ORRD_5)
    assert figures.classify("reach_share", []).bins == []


def test_markdown_escapes_html_and_drops_script_links():
    html = docs.render_markdown(
        "# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](SCHEMA.md#zctas)"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html  # markdown-it refuses the link; it stays as text
    assert 'href="SCHEMA#zctas"' in html
    assert '<h1 id="title">' in html


def test_markdown_anchors_for_headings_and_column_rows():
    html = docs.render_markdown(
        "## `reach_share`\n\n| column | meaning |\n|---|---|\n| `children` | under 18 |\n"
    )
    assert '<h2 id="reach_share">' in html
    assert '<tr id="children">' in html


def test_find_doc_never_builds_paths(tmp_path):
    (tmp_path / "METRICS.md").write_text("# M")
    assert docs.find_doc("metrics", tmp_path) == tmp_path / "METRICS.md"
    assert docs.find_doc("../METRICS", tmp_path) is None
    assert docs.doc_names(tmp_path) == ["METRICS"]


def test_content_security_policy():
    policy = security.content_security_policy("abc", "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "script-src 'self' 'nonce-abc'" in policy
    assert "img-src 'self' data: https://*.tile.example.org" in policy
    assert "frame-ancestors 'none'" in policy
    assert security.tile_origin(None) is None
    assert security.tile_origin("https://tiles.example.org/{z}/{x}/{y}.png") == "https://tiles.example.org"
