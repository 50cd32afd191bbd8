"""What a closed hearing decided, read from its frozen tally: each question with the options its
households chose (`rules.chosen_options`), as the minutes' prefilled decisions and the story of the
draft project drafted from the need (docs/adr/0034-hearing-minutes.md). Reads tables only, so the
needs' service may use it (the hearings' service imports the needs').
"""

from __future__ import annotations

from typing import Any

from linju.platform.i18n import gettext
from linju.projects.voice import rules
from linju.projects.voice.tables import Hearing, HearingOption, HearingQuestion, HearingTally


async def chosen(hearing_id: int) -> list[tuple[str, list[tuple[str, int]]]]:
    """Each question of a closed hearing with the options its households chose (the frozen
    tally's; `rules.chosen_options`), in the hearing's order."""
    questions = (
        await HearingQuestion.select(
            HearingQuestion.id,
            HearingQuestion.text,
            HearingQuestion.kind,
            HearingQuestion.max_choices,
        )
        .where(HearingQuestion.hearing == hearing_id)
        .order_by(HearingQuestion.position)
    )
    votes = {
        int(t["option"]): int(t["votes"])
        for t in await HearingTally.select(HearingTally.option, HearingTally.votes).where(
            HearingTally.hearing == hearing_id
        )
    }
    result = []
    for q in questions:
        options = (
            await HearingOption.select(HearingOption.id, HearingOption.text)
            .where(HearingOption.question == q["id"])
            .order_by(HearingOption.position)
        )
        tallied = [(o["text"], votes.get(int(o["id"]), 0)) for o in options]
        result.append((q["text"], rules.chosen_options(q["kind"], int(q["max_choices"]), tallied)))
    return result


def decisions_text(chosen_by_question: list[tuple[str, list[tuple[str, int]]]]) -> str:
    """The decisions, one question a line, in the reader's language: 选址：2号楼架空层（54 户）."""
    lines = []
    for question, options in chosen_by_question:
        if not options:
            continue
        named = gettext(", ").join(
            gettext("%(option)s (%(votes)s households)", option=text, votes=votes)
            for text, votes in options
        )
        lines.append(gettext("%(question)s: %(options)s", question=question, options=named))
    return "\n".join(lines)


async def latest_closed_hearing(need_id: int) -> dict[str, Any] | None:
    """The need's hearing closed last (its id and title), or None."""
    row = (
        await Hearing.select(Hearing.id, Hearing.title)
        .where((Hearing.need == need_id) & Hearing.closed_at.is_not_null())
        .order_by(Hearing.closed_at, ascending=False)
        .first()
    )
    return dict(row) if row else None


async def story_of_result(need_id: int) -> str:
    """The paragraph a draft drafted from the need starts its story with when a hearing of the
    need has closed: a link to the hearing, then its decisions, one a line; "" otherwise."""
    hearing = await latest_closed_hearing(need_id)
    if hearing is None:
        return ""
    decided = decisions_text(await chosen(int(hearing["id"])))
    if not decided:
        return ""
    title = str(hearing["title"]).replace("[", "\\[").replace("]", "\\]")
    link = f"[{title}](/hearings/{hearing['id']})"
    heading = gettext("The hearing %(hearing)s decided:", hearing=link)
    lines = "\n".join(f"- {line}" for line in decided.split("\n"))
    return f"{heading}\n\n{lines}"
