"""Hearings through their services, on both engines: opening (and every refusal), voting online
and changing the vote, paper ballots recorded and confirmed by a second steward, paper XOR online,
the close (once, lazily or by its job), the tally frozen, the choices deleted, cancelling."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.db import write_transaction
from linju.platform.jobs.registry import JobContext
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import Conflict, NotFound, RuleViolation, ValidationErrors
from linju.projects.core.services.drafting import create_draft
from linju.projects.core.services.projects import ProjectDraft
from linju.projects.voice import read
from linju.projects.voice.rules import (
    HearingWindow,
    HouseholdAddress,
    NeedText,
    QuestionDraft,
    QuestionKind,
)
from linju.projects.voice.services import hearings, needs
from linju.projects.voice.services.hearings import Subject, close_hearing, close_if_due
from linju.projects.voice.tables import Ballot, BallotChoice, Hearing, HearingTally
from tests.projects.voice.hearing_support import (
    EQUIPMENT,
    SITE,
    ballot,
    open_playground_hearing,
    options,
    window,
    window_passes,
)
from tests.projects.voice.voice_support import community_with_households, household, steward

pytestmark = pytest.mark.usefixtures("db")
C = "yuanzi"
NEED = NeedText("儿童游乐场", "孩子们没有玩的地方", "2号楼架空层")


async def setup(count: int = 10):  # type: ignore[no-untyped-def]
    ids = await community_with_households(count=count)
    first = await steward(C, "a@example.cn")
    second = await steward(C, "b@example.cn")
    phone = await household(C, ids[0])
    need_id = await needs.post_need(phone, NEED)
    return ids, first, second, phone, need_id


async def tally_of(hearing_id: int) -> dict[int, int]:
    rows = await HearingTally.select(HearingTally.option, HearingTally.votes).where(
        HearingTally.hearing == hearing_id
    )
    return {int(r["option"]): int(r["votes"]) for r in rows}


# Opening ------------------------------------------------------------------------------------


async def test_a_steward_opens_a_hearing_on_a_need_and_its_close_is_queued() -> None:
    _, first, _, _, need_id = await setup()
    hearing_id = await open_playground_hearing(first, C, need_id)
    view = await read.hearing(hearing_id)
    assert view.state.value == "open"
    assert [q.text for q in view.questions] == ["选址", "设施"]
    assert [o.text for o in view.questions[1].options] == ["跷跷板", "转转椅", "秋千"]
    assert view.questions[1].max_choices == 2
    from linju.platform.jobs.queue import list_jobs

    assert [j.name for j in await list_jobs()].count(hearings.CLOSE_JOB) == 1


async def test_only_a_steward_opens_a_hearing_and_every_bad_field_is_named() -> None:
    _, first, _, _, need_id = await setup()
    with pytest.raises(needs.NotSteward):
        await open_playground_hearing(COMMAND_LINE, C, need_id)
    bad_question = QuestionDraft("设施", QuestionKind.MULTIPLE, 4, ("跷跷板", "秋千"))
    lonely = QuestionDraft("选址", QuestionKind.SINGLE, 1, ("2号楼架空层",))
    past = HearingWindow(utc_now() - timedelta(hours=1), utc_now() - timedelta(minutes=30))
    with pytest.raises(ValidationErrors) as refused:
        await hearings.open_hearing(
            first, C, Subject(need_id=need_id), " ", [lonely, bad_question], past
        )
    assert refused.value.problems == {
        "title": "Give the hearing a title",
        "opens_at": "A hearing cannot open in the past",
        "question-1": "A question needs at least 2 options",
        "question-2": "The most choices is between 1 and the number of options",
    }
    too_long = HearingWindow(utc_now(), utc_now() + timedelta(days=61))
    with pytest.raises(ValidationErrors) as refused:
        await hearings.open_hearing(first, C, Subject(need_id=need_id), "t", [SITE], too_long)
    assert refused.value.problems == {"closes_at": "A hearing lasts at most 60 days"}
    with pytest.raises(ValidationErrors) as refused:
        await hearings.open_hearing(first, C, Subject(need_id=need_id), "t", [], window())
    assert refused.value.problems == {"question-1": "Ask at least one question"}
    assert await Hearing.count() == 0


async def test_a_hearing_is_on_an_open_need_or_a_draft_project_of_the_community() -> None:
    _, first, _, phone, need_id = await setup()
    await needs.withdraw_need(phone, need_id)
    with pytest.raises(RuleViolation, match="open need"):
        await open_playground_hearing(first, C, need_id)
    with pytest.raises(NotFound):
        await open_playground_hearing(first, C, 999_999)
    await create_draft(
        COMMAND_LINE,
        ProjectDraft(
            community_slug=C, slug="tongqu", title="童趣乐园", goal_fen=100, summary="s", story="s"
        ),
    )
    hearing_id = await hearings.open_hearing(
        first, C, Subject(project_slug="tongqu"), "童趣乐园的设施", [EQUIPMENT], window()
    )
    assert (await read.hearing(hearing_id)).project_slug == "tongqu"
    with pytest.raises(NotFound):
        await hearings.open_hearing(
            first, C, Subject(project_slug="nowhere"), "t", [EQUIPMENT], window()
        )


# Voting -------------------------------------------------------------------------------------


async def test_a_household_votes_and_changes_its_vote_until_the_close() -> None:
    ids, first, _, phone, need_id = await setup()
    hearing_id = await open_playground_hearing(first, C, need_id)
    chosen = await options(hearing_id)
    assert await hearings.has_voted(phone, hearing_id) is None
    assert await hearings.vote(phone, hearing_id, ballot(chosen, "小区东门空地", "秋千")) is False
    assert await hearings.has_voted(phone, hearing_id) == "online"
    again = ballot(chosen, "2号楼架空层", "跷跷板", "秋千")
    assert await hearings.vote(phone, hearing_id, again) is True
    assert await Ballot.count().where(Ballot.hearing == hearing_id) == 1
    assert await BallotChoice.count() == 3
    other = await household(C, ids[1])
    await hearings.vote(other, hearing_id, ballot(chosen, "2号楼架空层", "跷跷板"))
    await window_passes(hearing_id)
    with pytest.raises(RuleViolation, match="closed"):
        await hearings.vote(phone, hearing_id, ballot(chosen, "小区东门空地", "秋千"))
    # The refused vote closed it first (lazily): the tally is the last votes before the close.
    counts = await tally_of(hearing_id)
    assert {text: counts[o] for text, (_, o) in chosen.items()} == {
        "2号楼架空层": 2,
        "小区东门空地": 0,
        "跷跷板": 2,
        "转转椅": 0,
        "秋千": 1,
    }


async def test_a_ballot_is_refused_before_the_hearing_opens_and_when_it_is_wrong() -> None:
    _, first, _, phone, need_id = await setup()
    later = await open_playground_hearing(first, C, need_id, opens_in=timedelta(days=1))
    chosen_later = await options(later)
    with pytest.raises(RuleViolation, match="not open yet"):
        await hearings.vote(phone, later, ballot(chosen_later, "2号楼架空层", "秋千"))
    hearing_id = await open_playground_hearing(first, C, need_id)
    chosen = await options(hearing_id)
    site, equipment = chosen["2号楼架空层"][0], chosen["跷跷板"][0]
    with pytest.raises(ValidationErrors) as refused:
        await hearings.vote(
            phone,
            hearing_id,
            ballot(chosen, "2号楼架空层", "小区东门空地", "跷跷板", "转转椅", "秋千"),
        )
    assert refused.value.problems == {
        f"question-{site}": "Choose one answer",
        f"question-{equipment}": "Too many answers: see how many this question allows",
    }
    with pytest.raises(ValidationErrors) as refused:
        await hearings.vote(phone, hearing_id, {site: {chosen_later["秋千"][1]}})
    assert refused.value.problems == {
        f"question-{site}": "Choose among this question's options",
        f"question-{equipment}": "Choose an answer",
    }
    elsewhere = await community_with_households("bieyuan", count=1)
    stranger = await household("bieyuan", elsewhere[0])
    with pytest.raises(NotFound):
        await hearings.vote(stranger, hearing_id, ballot(chosen, "2号楼架空层", "秋千"))
    assert await Ballot.count() == 0


# Paper ballots ------------------------------------------------------------------------------


async def test_a_paper_ballot_counts_once_a_second_steward_confirms_it() -> None:
    ids, first, second, phone, need_id = await setup()
    hearing_id = await open_playground_hearing(first, C, need_id)
    chosen = await options(hearing_id)
    room_102 = HouseholdAddress("1", "1", "102")
    room_103 = HouseholdAddress("1", "1", "103")
    counted = await hearings.record_paper_ballot(
        first, hearing_id, room_102, ballot(chosen, "2号楼架空层", "跷跷板")
    )
    await hearings.record_paper_ballot(
        second, hearing_id, room_103, ballot(chosen, "小区东门空地", "秋千")
    )  # never confirmed
    with pytest.raises(RuleViolation, match="other than the recorder"):
        await hearings.confirm_paper_ballot(first, counted)
    with pytest.raises(needs.NotSteward):
        await hearings.confirm_paper_ballot(COMMAND_LINE, counted)
    assert await hearings.confirm_paper_ballot(second, counted) == hearing_id
    with pytest.raises(Conflict, match="confirmed already"):
        await hearings.confirm_paper_ballot(first, counted)
    with pytest.raises(NotFound):
        await hearings.confirm_paper_ballot(second, 999_999)
    # Paper XOR online, both ways.
    with pytest.raises(Conflict, match="recorded already"):
        await hearings.record_paper_ballot(
            second, hearing_id, room_102, ballot(chosen, "2号楼架空层", "秋千")
        )
    paper_phone = await household(C, ids[1])
    with pytest.raises(Conflict, match="on paper"):
        await hearings.vote(paper_phone, hearing_id, ballot(chosen, "2号楼架空层", "秋千"))
    await hearings.vote(phone, hearing_id, ballot(chosen, "小区东门空地", "转转椅"))
    room_101, room_909 = HouseholdAddress("1", "1", "101"), HouseholdAddress("9", "9", "909")
    with pytest.raises(Conflict, match="online already"):
        await hearings.record_paper_ballot(
            first, hearing_id, room_101, ballot(chosen, "2号楼架空层", "秋千")
        )
    with pytest.raises(ValidationErrors) as nowhere:
        await hearings.record_paper_ballot(
            first, hearing_id, room_909, ballot(chosen, "2号楼架空层", "秋千")
        )
    assert nowhere.value.problems == {"room": "No household with this address in the community"}
    paper = await read.paper_ballots(hearing_id)
    assert [(p["household"], p["confirmed"]) for p in paper] == [  # awaiting first
        ("1-1-103", False),
        ("1-1-102", True),
    ]
    await window_passes(hearing_id)
    assert await close_hearing(hearing_id) is True
    counts = await tally_of(hearing_id)
    assert {text: counts[o] for text, (_, o) in chosen.items()} == {
        "2号楼架空层": 1,
        "小区东门空地": 1,
        "跷跷板": 1,
        "转转椅": 1,
        "秋千": 0,
    }
    view = await read.hearing(hearing_id)
    assert view.results is not None
    assert (view.results.ballots, view.results.households) == (2, 10)
    assert (view.results.online, view.results.paper, view.results.unconfirmed_paper) == (1, 1, 1)
    assert view.results.turnout_percent == 20
    with pytest.raises(RuleViolation, match="closed"):
        await hearings.confirm_paper_ballot(first, counted + 1)


# The close ----------------------------------------------------------------------------------


async def test_the_close_is_once_and_leaves_no_choice_and_a_frozen_tally() -> None:
    _, first, _, phone, need_id = await setup()
    hearing_id = await open_playground_hearing(first, C, need_id)
    chosen = await options(hearing_id)
    await hearings.vote(phone, hearing_id, ballot(chosen, "2号楼架空层", "秋千"))
    assert await close_hearing(hearing_id) is False  # not due
    assert (await read.hearing(hearing_id)).results is None
    await window_passes(hearing_id)
    assert (await Hearing.select(Hearing.closed_at).first() or {})["closed_at"] is None
    await close_if_due(hearing_id)
    first_close = await Hearing.select(Hearing.closed_at).where(Hearing.id == hearing_id).first()
    assert first_close is not None
    assert first_close["closed_at"] is not None
    assert await close_hearing(hearing_id) is False  # once
    await hearings.close_job({"hearing": hearing_id}, JobContext(job_id=1, key="k", attempt=0))
    again = await Hearing.select(Hearing.closed_at).where(Hearing.id == hearing_id).first()
    assert again == first_close
    assert await BallotChoice.count() == 0  # the secret is destroyed
    assert await Ballot.count() == 1  # who took part stays
    assert await HearingTally.count().where(HearingTally.hearing == hearing_id) == 5
    with pytest.raises(Exception, match=r"frozen|append-only"):
        async with write_transaction():
            await HearingTally.update({HearingTally.votes: 99}).where(
                HearingTally.hearing == hearing_id
            )
    with pytest.raises(Exception, match=r"frozen|append-only"):
        async with write_transaction():
            await HearingTally.delete().where(HearingTally.hearing == hearing_id)
    counts = await tally_of(hearing_id)
    assert counts[chosen["秋千"][1]] == 1


async def test_the_job_closes_a_due_hearing_and_retries_one_run_early() -> None:
    _, first, _, _, need_id = await setup()
    hearing_id = await open_playground_hearing(first, C, need_id)
    context = JobContext(job_id=1, key="k", attempt=0)
    with pytest.raises(RuntimeError, match="not due"):
        await hearings.close_job({"hearing": hearing_id}, context)
    await window_passes(hearing_id)
    await hearings.close_job({"hearing": hearing_id}, context)
    assert (await read.hearing(hearing_id)).results is not None
    await hearings.close_job({"hearing": 999_999}, context)  # cancelled: nothing to do


async def test_the_secretary_cancels_a_hearing_only_before_it_opens() -> None:
    _, first, _, _, need_id = await setup()
    later = await open_playground_hearing(first, C, need_id, opens_in=timedelta(days=1))
    now = await open_playground_hearing(first, C, need_id)
    with pytest.raises(RuleViolation, match="not opened"):
        await hearings.cancel_hearing(COMMAND_LINE, C, now)
    with pytest.raises(NotFound):
        await hearings.cancel_hearing(COMMAND_LINE, "elsewhere", later)
    await hearings.cancel_hearing(COMMAND_LINE, C, later)
    assert [r["id"] for r in await Hearing.select(Hearing.id)] == [now]
