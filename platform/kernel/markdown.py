"""A project's story: Markdown from the secretary, rendered to HTML that is safe to show.

markdown-it-py renders CommonMark with raw HTML switched off; nh3 (the Rust `ammonia` sanitiser)
then keeps only a small allow-list of tags and attributes, so neither raw HTML nor a
`javascript:` link can reach a resident's browser whatever is typed.

The same function renders a project's story and its progress updates. Their headings sit below
the page's own (the page's title is its h1, each section an h2), so a `#` in the text becomes an
h3, `##` an h4, and so on down to h6: the page's outline stays right (docs/adr/0023).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6",
    "a", "code", "pre", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
HEADING_SHIFT = 2  # the page's h1 and its sections' h2 stay above whatever the text says


def render_markdown(text: str) -> Markup:
    tokens = _renderer.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1:]) + HEADING_SHIFT)}"
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
