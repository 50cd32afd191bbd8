"""Pure pieces of the secretary's work: the disclosure duty, photos, Markdown."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from linju.platform.kernel.markdown import render_markdown
from linju.projects.core.services.photos import photo_problem
from linju.projects.stewardship.rules import disclosure_overdue

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_a_project_in_progress_three_months_without_news_is_overdue() -> None:
    started = NOW - timedelta(days=91)
    assert disclosure_overdue("in_progress", started, None, NOW)
    assert not disclosure_overdue("in_progress", started, NOW - timedelta(days=10), NOW)
    assert not disclosure_overdue("in_progress", NOW - timedelta(days=30), None, NOW)
    assert not disclosure_overdue("fundraising", started, None, NOW)


def test_photos_are_checked_by_content() -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="PNG")
    assert photo_problem(out.getvalue()) is None
    assert photo_problem(b"%PDF-1.7 ...") is not None
    assert photo_problem(b"GIF89a" + b"\0" * 100) is not None
    assert photo_problem(b"") is not None


def test_markdown_is_rendered_and_sanitised() -> None:
    html = str(render_markdown("**好** <script>x()</script> [a](javascript:x()) <img src=x>"))
    assert "<strong>好</strong>" in html
    assert "<script>" not in html
    assert 'href="javascript' not in html
    assert "<img" not in html
