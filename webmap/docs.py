"""The project's docs/*.md rendered as HTML, so metric links work offline.

Rendering uses markdown-it-py with raw HTML turned off: every ``<`` in a doc
is escaped, and link URLs pass markdown-it's validator (no ``javascript:``).
Headings get GitHub-style ids, and a table row whose first cell is a code span
(a column name, as in docs/METRICS.md and docs/SCHEMA.md) gets that name as
its id, so ``/docs/METRICS#reach_share`` lands on the definition either way.
A requested name is looked up among the files that exist, never joined into
a path.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

logger = logging.getLogger(__name__)

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
_MD_LINK = re.compile(r"^(?:\./|docs/)?([A-Za-z0-9_-]+)\.md(#[A-Za-z0-9_-]*)?$")


def doc_names(folder: Path = DOCS_DIR) -> list[str]:
    """Return the names (file stems) of the docs that can be served."""
    return sorted(p.stem for p in folder.glob("*.md") if p.is_file())


def find_doc(name: str, folder: Path = DOCS_DIR) -> Path | None:
    """Return the doc whose stem is ``name`` (any case), or None; never builds a path from ``name``."""
    wanted = name.lower().removesuffix(".md")
    for path in folder.glob("*.md"):
        if path.stem.lower() == wanted and path.is_file():
            return path
    return None


def slugify(text: str) -> str:
    """Return a GitHub-style heading anchor: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _add_ids(tokens: list[Token]) -> None:
    seen: dict[str, int] = {}

    def unique(slug: str) -> str:
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        return slug if count == 0 else f"{slug}-{count}"

    for i, token in enumerate(tokens):
        if token.type == "heading_open" and i + 1 < len(tokens):
            slug = slugify(tokens[i + 1].content)
            if slug:
                token.attrSet("id", unique(slug))
        elif token.type == "tr_open":
            # tr_open, th/td_open, inline: a first cell holding only `name` names the row.
            cell = tokens[i + 2] if i + 2 < len(tokens) else None
            if (
                cell is not None
                and cell.type == "inline"
                and re.fullmatch(r"`[A-Za-z0-9_]+`", cell.content.strip())
            ):
                token.attrSet("id", unique(cell.content.strip().strip("`")))
        elif token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "link_open":
                    href = str(child.attrGet("href") or "")
                    match = _MD_LINK.match(href)
                    if match:
                        child.attrSet("href", f"{match.group(1)}{match.group(2) or ''}")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark plus tables and strikethrough, with html=False.
    return MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    """Render Markdown to HTML with raw HTML escaped and anchors added."""
    parser = _parser()
    tokens = parser.parse(text)
    _add_ids(tokens)
    return parser.renderer.render(tokens, parser.options, {})


def doc_title(text: str, default: str) -> str:
    """Return the first level-1 heading of a doc, or ``default``."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return default
