"""Pure pieces of the secretary's work: photos, Markdown, pledges (the disclosure duty:
test_disclosure_rules.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from linju.platform.kernel.markdown import render_markdown
from linju.projects.core.services.photos import photo_problem
from linju.projects.stewardship.rules import (
    PledgePlan,
    pledge_decision_problems,
    pledge_problems,
    ratio_in_bounds,
    second_person_problem,
)

NOW = datetime(2026, 11, 23, tzinfo=UTC)


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


def test_a_ratio_is_between_one_to_ten_and_three_to_one_in_whole_terms_up_to_ten() -> None:
    for ok in ((1, 1), (1, 2), (3, 1), (1, 10), (10, 10), (2, 3), (6, 2)):
        assert ratio_in_bounds(*ok), ok
    for bad in ((100, 1), (4, 1), (7, 2), (1, 11), (0, 1), (1, 0), (11, 11), (-1, 1)):
        assert not ratio_in_bounds(*bad), bad


def test_a_cap_is_more_than_zero_and_never_above_the_goal() -> None:
    def plan(cap_fen: int) -> PledgePlan:
        return PledgePlan(
            "fulian", "区妇联", 1, 1, cap_fen, NOW, NOW + timedelta(days=9), "/x", "0"
        )

    assert pledge_problems(plan(1_200_000), goal_fen=1_200_000) == {}
    assert set(pledge_problems(plan(1_200_001), goal_fen=1_200_000)) == {"cap"}
    assert set(pledge_problems(plan(0), goal_fen=1_200_000)) == {"cap"}
    assert set(pledge_problems(plan(999_999_999_999), goal_fen=1_200_000)) == {"cap"}


def test_a_rejection_needs_a_reason_and_nobody_confirms_what_they_recorded() -> None:
    assert pledge_decision_problems(True, "") == {}
    assert set(pledge_decision_problems(False, "  ")) == {"reason"}
    assert set(pledge_decision_problems(True, "x" * 1001)) == {"reason"}
    assert second_person_problem(7, (8, None)) is None
    assert second_person_problem(7, (None, 7)) is not None
    assert second_person_problem(0, (None, None)) is None
