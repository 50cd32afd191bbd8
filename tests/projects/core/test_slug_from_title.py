"""The address proposed for a project from its title (docs/adr/0022-drafting.md)."""

from __future__ import annotations

import pytest

from linju.projects.core.rules import slug_from_title, slug_with_suffix

pytestmark = pytest.mark.pure


def test_the_address_is_the_titles_pinyin_with_a_suffix_when_taken() -> None:
    assert slug_from_title("童趣乐园") == "tong-qu-le-yuan"
    assert slug_from_title("2号楼 Reading Room!") == "2-hao-lou-reading-room"
    assert slug_from_title("？？") == "project"
    assert len(slug_from_title("绿" * 200)) <= 56
    assert slug_with_suffix("a", {"a", "a-2"}) == "a-3"
    assert slug_with_suffix("a", set()) == "a"
