"""`linju voice households import COMMUNITY FILE.csv`: every household or none; a bad file exits
2 with one line naming each bad line by its number, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from linju.projects.core.services.communities import create_community
from linju.projects.voice.tables import Household
from tests.platform.test_cli import run_linju

pytestmark = pytest.mark.usefixtures("db")


async def test_a_bad_file_writes_nothing_and_names_every_line(tmp_path: Path) -> None:
    await create_community("yuanzi", "院子", "测试区")
    bad = tmp_path / "bad.csv"
    bad.write_text("building,unit,room\n1,1,101\n1,1,\n1,1,101\n", encoding="utf-8")
    result = run_linju("voice", "households", "import", "yuanzi", str(bad))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"linju: {bad}: nothing was added; line 3: Enter the room: up to 16 letters or digits; "
        "line 4: This household is listed twice"
    ]
    assert await Household.count() == 0
    good = tmp_path / "good.csv"
    good.write_text("building,unit,room\n1,1,101\n1,1,102\n2,,201\n", encoding="utf-8")
    result = run_linju("voice", "households", "import", "yuanzi", str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3 households added to yuanzi"
    assert await Household.count() == 3
    again = run_linju("voice", "households", "import", "yuanzi", str(good))
    assert again.returncode == 2
    assert "line 2: This household is registered already" in again.stderr
    nowhere = run_linju("voice", "households", "import", "nowhere", str(good))
    assert nowhere.returncode == 2
    assert len(nowhere.stderr.strip().splitlines()) == 1
