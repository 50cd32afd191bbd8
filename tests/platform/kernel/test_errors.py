"""Domain errors: `found`, the one way a route turns a missing row into 404."""

from __future__ import annotations

import pytest

from linju.platform.kernel.errors import N_, NotFound, found


def test_found_gives_back_what_is_there_even_when_it_is_falsy() -> None:
    row = {"id": 7}
    assert found(row) is row
    assert found(0) == 0
    assert found("") == ""


def test_found_is_a_404_with_its_message_for_nothing() -> None:
    with pytest.raises(NotFound) as missing:
        found(None, N_("No donation %(id)s"), id="don_x")
    assert missing.value.status == 404
    assert str(missing.value) == "No donation don_x"
    with pytest.raises(NotFound, match="Page not found"):
        found(None)
