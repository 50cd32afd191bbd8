"""A household card's QR code: the address of the community's code page with the code filled in
(`/c/{community}/household?code=…`; the request log records paths, never query strings)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(url: str) -> Markup:
    """An inline SVG of the QR code (segno writes only its own markup, from our own URL)."""
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(scale=4, border=2, dark="#000", light="#fff"))  # noqa: S704
