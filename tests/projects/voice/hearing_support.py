"""A hearing for the hearing tests: the playground's site and equipment, open now."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from linju.platform.accounts.audit import Actor
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.projects.voice.rules import HearingWindow, QuestionDraft, QuestionKind
from linju.projects.voice.services import hearings
from linju.projects.voice.services.hearings import Subject
from linju.projects.voice.tables import Hearing, HearingOption, HearingQuestion
from tests.accounts_support import in_app

SITE = QuestionDraft("选址", QuestionKind.SINGLE, 1, ("2号楼架空层", "小区东门空地"))
EQUIPMENT = QuestionDraft("设施", QuestionKind.MULTIPLE, 2, ("跷跷板", "转转椅", "秋千"))


def window(opens_in: timedelta = timedelta(0), lasts: timedelta = timedelta(days=7)) -> Any:
    opens = utc_now() + opens_in
    return HearingWindow(opens_at=opens, closes_at=opens + lasts)


async def open_playground_hearing(
    who: Actor,
    community: str,
    need_id: int,
    *,
    opens_in: timedelta = timedelta(0),
    client: Any = None,
) -> int:
    async def make() -> int:
        return await hearings.open_hearing(
            who,
            community,
            Subject(need_id=need_id),
            "游乐场听证会",
            [SITE, EQUIPMENT],
            window(opens_in),
        )

    return await in_app(client, make)


async def options(hearing_id: int, client: Any = None) -> dict[str, tuple[int, int]]:
    """Each option's text → (question id, option id)."""

    async def read() -> dict[str, tuple[int, int]]:
        rows = await HearingOption.select(
            HearingOption.id, HearingOption.text, HearingOption.question
        ).where(HearingOption.question.hearing == hearing_id)
        return {r["text"]: (int(r["question"]), int(r["id"])) for r in rows}

    return await in_app(client, read)


def ballot(chosen: dict[str, tuple[int, int]], *texts: str) -> dict[int, set[int]]:
    result: dict[int, set[int]] = {}
    for text in texts:
        question, option = chosen[text]
        result.setdefault(question, set()).add(option)
    return result


async def window_passes(hearing_id: int, client: Any = None) -> None:
    """Time passes: the hearing's window is over (its row moved, as a test may)."""

    async def move() -> None:
        async with write_transaction():
            await Hearing.update(
                {
                    Hearing.opens_at: utc_now() - timedelta(days=2),
                    Hearing.closes_at: utc_now() - timedelta(seconds=1),
                }
            ).where(Hearing.id == hearing_id)

    await in_app(client, move)


async def question_ids(hearing_id: int) -> list[int]:
    rows = (
        await HearingQuestion.select(HearingQuestion.id)
        .where(HearingQuestion.hearing == hearing_id)
        .order_by(HearingQuestion.position)
    )
    return [int(r["id"]) for r in rows]
