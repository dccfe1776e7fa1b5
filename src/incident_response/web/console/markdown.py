"""Markdown documents (postmortems) as HTML that is safe inside the console.

Postmortems quote alert titles and chat text, which anyone who can fire an alert controls, so raw
HTML is never passed through: CommonMark with `html` off escapes it, and markdown-it refuses
`javascript:` links. The console's Content-Security-Policy forbids inline styles and images from
other sites, so table alignment becomes a class and images stay text instead of tripping it.
Wide tables scroll inside a focusable region rather than widening the page on a phone.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict
from markupsafe import Markup, escape

ALIGNMENTS = {"text-align:left": "left", "text-align:center": "center", "text-align:right": "right"}


def _cell_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: MutableMapping[str, Any],
) -> str:
    token = tokens[idx]
    style = token.attrs.pop("style", None)
    if style is not None and (side := ALIGNMENTS.get(str(style))):
        token.attrSet("class", f"align-{side}")
    return renderer.renderToken(tokens, idx, options, env)


def _table_label(tokens: Sequence[Token], idx: int) -> str:
    """A table's name for its scroll region: the heading of the section it sits in."""
    for back in range(idx - 1, 0, -1):
        if tokens[back - 1].type == "heading_open" and tokens[back].type == "inline":
            return tokens[back].content
    return "Table"


def _table_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: MutableMapping[str, Any],
) -> str:
    label = escape(_table_label(tokens, idx))
    wrap = f'<div class="table-wrap" tabindex="0" role="region" aria-label="{label}">\n'
    return wrap + renderer.renderToken(tokens, idx, options, env)


def _table_close(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: MutableMapping[str, Any],
) -> str:
    return renderer.renderToken(tokens, idx, options, env) + "</div>\n"


def markdown_renderer() -> MarkdownIt:
    """CommonMark plus GFM tables and strikethrough, no raw HTML, no images."""
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.disable("image")
    md.add_render_rule("th_open", _cell_open)
    md.add_render_rule("td_open", _cell_open)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("table_close", _table_close)
    return md


def render_markdown(text: str, md: MarkdownIt | None = None) -> Markup:
    """The HTML of `text`, marked safe for templates: markdown-it escaped everything it did
    not produce itself."""
    return Markup((md or markdown_renderer()).render(text))
