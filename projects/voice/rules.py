"""The rules of residents' voice, pure (no I/O): households and their CSV, codes, needs and their
states, supports, the review threshold and the answer's deadline (docs/adr/0033-residents-voice.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from linju.platform.kernel.clock import COMMUNITY_TIMEZONE
from linju.platform.kernel.errors import N_
from linju.projects.core.rules import committee_quorum

MAX_ID = 2**31 - 1  # the largest row id (a 32-bit serial): a larger number names nothing


def valid_id(number: int) -> bool:
    return 1 <= number <= MAX_ID


# Households ---------------------------------------------------------------------------------

MAX_PART_LENGTH = 16
_PART = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff-]{1,16}$")


@dataclass(frozen=True, slots=True)
class HouseholdAddress:
    building: str
    unit: str  # may be empty: a building without units
    room: str

    @property
    def label(self) -> str:
        parts = [self.building, self.unit, self.room] if self.unit else [self.building, self.room]
        return "-".join(parts)


def address_problems(address: HouseholdAddress) -> dict[str, str]:
    """What is wrong with a household's building, unit and room (short words, no names)."""
    problems: dict[str, str] = {}
    if not _PART.match(address.building):
        problems["building"] = N_("Enter the building: up to 16 letters or digits")
    if address.unit and not _PART.match(address.unit):
        problems["unit"] = N_("The unit has up to 16 letters or digits")
    if not _PART.match(address.room):
        problems["room"] = N_("Enter the room: up to 16 letters or digits")
    return problems


def cleaned_address(building: str, unit: str, room: str) -> HouseholdAddress:
    return HouseholdAddress(building.strip(), unit.strip(), room.strip())


@dataclass(frozen=True, slots=True)
class CsvProblem:
    line: int
    message: str


CSV_COLUMNS = ("building", "unit", "room")
MAX_CSV_ROWS = 5000


def parse_households_csv(
    text: str,
) -> tuple[list[tuple[int, HouseholdAddress]], list[CsvProblem]]:
    """The addresses of a CSV (a header `building,unit,room`, then one household a line), each
    with its line number, and every problem with its line number; the caller writes nothing
    when there is any problem."""
    problems: list[CsvProblem] = []
    addresses: list[tuple[int, HouseholdAddress]] = []
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        return [], [CsvProblem(1, N_("The file is empty"))]
    header = [cell.strip().lower() for cell in rows[0]]
    if tuple(header) != CSV_COLUMNS:
        return [], [CsvProblem(1, N_("The first line must be: building,unit,room"))]
    seen: dict[HouseholdAddress, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 3:
            problems.append(CsvProblem(line, N_("A line has three cells: building,unit,room")))
            continue
        address = cleaned_address(*row)
        found = address_problems(address)
        if found:
            problems.extend(CsvProblem(line, message) for message in found.values())
            continue
        if address in seen:
            problems.append(CsvProblem(line, N_("This household is listed twice")))
            continue
        seen[address] = line
        addresses.append((line, address))
    if not addresses and not problems:
        problems.append(CsvProblem(2, N_("The file lists no household")))
    if len(addresses) > MAX_CSV_ROWS:
        problems.append(CsvProblem(MAX_CSV_ROWS + 2, N_("At most 5000 households a file")))
    return addresses, problems


# Household codes ----------------------------------------------------------------------------
# Twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31^12 ≈ 2^59, drawn by
# `secrets`. Guessing is throttled, so a plain SHA-256 of the code is enough to store (a slow
# hash protects low-entropy passwords, not random codes); the code itself is shown once.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalised_code(typed: str) -> str:
    """What the resident typed, as the code is stored: spaces and dashes dropped, upper case."""
    return re.sub(r"[\s-]", "", typed).upper()[:64]


def code_digest(code: str) -> str:
    return hashlib.sha256(normalised_code(code).encode("utf-8")).hexdigest()


def grouped_code(code: str) -> str:
    """The code as printed: groups of four (ABCD-EFGH-JKMN)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


CODE_THROTTLE_WINDOW = timedelta(minutes=15)
MAX_CODE_FAILURES_PER_ADDRESS = 10
MAX_CODE_FAILURES_PER_COMMUNITY = 100
HOUSEHOLD_SESSION_LIFETIME = timedelta(days=365)


def code_throttled(failures_from_address: int, failures_in_community: int) -> bool:
    return (
        failures_from_address >= MAX_CODE_FAILURES_PER_ADDRESS
        or failures_in_community >= MAX_CODE_FAILURES_PER_COMMUNITY
    )


# Needs --------------------------------------------------------------------------------------


class NeedStatus(StrEnum):
    OPEN = "open"
    UNDER_REVIEW = "under_review"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


TRANSITIONS: dict[NeedStatus, frozenset[NeedStatus]] = {
    NeedStatus.OPEN: frozenset({NeedStatus.UNDER_REVIEW, NeedStatus.WITHDRAWN}),
    NeedStatus.UNDER_REVIEW: frozenset(
        {NeedStatus.ACCEPTED, NeedStatus.DECLINED, NeedStatus.WITHDRAWN}
    ),
    NeedStatus.ACCEPTED: frozenset(),
    NeedStatus.DECLINED: frozenset(),
    NeedStatus.WITHDRAWN: frozenset(),
}

PUBLIC_STATUSES = (
    NeedStatus.OPEN,
    NeedStatus.UNDER_REVIEW,
    NeedStatus.ACCEPTED,
    NeedStatus.DECLINED,
)


def transition_problem(current: NeedStatus, target: NeedStatus) -> str | None:
    if target in TRANSITIONS[current]:
        return None
    if target is NeedStatus.WITHDRAWN:
        return N_("This need can no longer be withdrawn")
    if target in (NeedStatus.ACCEPTED, NeedStatus.DECLINED):
        return N_("Only a need under review can be answered")
    return N_("This need has been answered already")


MAX_TITLE_LENGTH = 100
MAX_BODY_LENGTH = 2000
MAX_PLACE_LENGTH = 200
MAX_NEED_PHOTOS = 4
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class NeedText:
    title: str
    body: str
    place: str


def need_problems(need: NeedText) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not need.title.strip():
        problems["title"] = N_("Say in a few words what is needed")
    elif len(need.title) > MAX_TITLE_LENGTH:
        problems["title"] = N_("A title can have at most 100 characters")
    if not need.body.strip():
        problems["body"] = N_("Describe the need")
    elif len(need.body) > MAX_BODY_LENGTH:
        problems["body"] = N_("A description can have at most 2000 characters")
    if len(need.place) > MAX_PLACE_LENGTH:
        problems["place"] = N_("A place can have at most 200 characters")
    return problems


def decline_problems(reason: str) -> dict[str, str]:
    if not reason.strip():
        return {"reason": N_("Give the residents a reason")}
    if len(reason) > MAX_REASON_LENGTH:
        return {"reason": N_("A reason can have at most 1000 characters")}
    return {}


# Supports -----------------------------------------------------------------------------------


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"


def support_problem(status: NeedStatus) -> str | None:
    """Supports are given while a need is open (and, on paper, recorded until its answer)."""
    if status is NeedStatus.OPEN:
        return None
    return N_("This need no longer takes supports")


def withdraw_support_problem(status: NeedStatus, channel: Channel) -> str | None:
    if channel is Channel.PAPER:
        return N_("A support given on paper cannot be withdrawn online")
    if status is not NeedStatus.OPEN:
        return N_("A support can be withdrawn only while the need is open")
    return None


def withdraw_paper_problem(
    status: NeedStatus,
    actor_id: int,
    recorded_by: int | None,
    confirmed_by: int | None,
) -> str | None:
    """A steward takes back a paper support recorded by mistake: before it is confirmed, the
    steward who recorded it, while it could still be confirmed (the need open or under review);
    once confirmed, either of the two stewards, and only while the need is open (a support that
    may have sent the need to review is not taken back from under the secretary's answer)."""
    if confirmed_by is None:
        if actor_id != recorded_by:
            return N_("Only the steward who recorded it can withdraw an unconfirmed paper support")
        if status not in (NeedStatus.OPEN, NeedStatus.UNDER_REVIEW):
            return N_("This need has been answered: its supports stay as they are")
        return None
    if actor_id not in (recorded_by, confirmed_by):
        return N_("Only the two stewards who recorded and confirmed it can withdraw it")
    if status is not NeedStatus.OPEN:
        return N_("A confirmed paper support can be withdrawn only while the need is open")
    return None


DEFAULT_THRESHOLD_PERCENT = 5
DEFAULT_ANSWER_DAYS = 14


def review_threshold(households: int, percent: int) -> int:
    """Supports that move a need to review: `percent` of the community's households, rounded
    up, at least one."""
    return max(1, math.ceil(households * percent / 100))


def settings_problems(threshold_percent: int | None, answer_days: int | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if threshold_percent is None or not 1 <= threshold_percent <= 100:
        problems["threshold_percent"] = N_("Enter a whole percentage from 1 to 100")
    if answer_days is None or not 1 <= answer_days <= 90:
        problems["answer_days"] = N_("Enter a whole number of days from 1 to 90")
    return problems


def answer_due(review_started_at: datetime, answer_days: int) -> datetime:
    return review_started_at + timedelta(days=answer_days)


def answer_late(status: NeedStatus, due: datetime | None, now: datetime) -> bool:
    return status is NeedStatus.UNDER_REVIEW and due is not None and now > due


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"  # a day before the answer is due
    LATE = "late"  # once the due time has passed


def reminder_at(
    kind: ReminderKind, review_started_at: datetime, answer_days: int
) -> datetime | None:
    """When the secretaries are reminded of a need under review: a day before its answer is due
    (none when the community gives a single day: the review's own notice says so), and a
    moment after the due time (when the page starts flagging it late)."""
    due = answer_due(review_started_at, answer_days)
    if kind is ReminderKind.DUE_SOON:
        return due - timedelta(days=1) if answer_days > 1 else None
    return due + timedelta(seconds=1)


# Minutes of a hearing (docs/adr/0034-hearing-minutes.md) ---------------------------------------

MAX_SUMMARY_LENGTH = 4000
MAX_ATTENDEES_LENGTH = 2000
MAX_DECISIONS_LENGTH = 2000
NEED_SIGNERS = 2  # a need's hearing: two different community stewards sign its minutes


@dataclass(frozen=True, slots=True)
class MinutesText:
    summary: str
    attendees: str
    decisions: str


def minutes_problems(text: MinutesText) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not text.summary.strip():
        problems["summary"] = N_("Summarise the meeting")
    elif len(text.summary) > MAX_SUMMARY_LENGTH:
        problems["summary"] = N_("A summary can have at most 4000 characters")
    if len(text.attendees) > MAX_ATTENDEES_LENGTH:
        problems["attendees"] = N_("The attendees can take at most 2000 characters")
    if not text.decisions.strip():
        problems["decisions"] = N_("Write down the decisions")
    elif len(text.decisions) > MAX_DECISIONS_LENGTH:
        problems["decisions"] = N_("The decisions can take at most 2000 characters")
    return problems


def chosen_options(
    kind: str, max_choices: int, options: Sequence[tuple[str, int]]
) -> list[tuple[str, int]]:
    """What a question's households chose, from its frozen tally ((text, votes) in the
    question's order): a single choice, the option(s) with the most votes (all of them when
    tied); a multiple choice, the `max_choices` with the most votes (and any tied with the
    last of those). Options no household chose are never chosen."""
    voted = sorted(((t, v) for t, v in options if v > 0), key=lambda o: -o[1])
    if not voted:
        return []
    keep = 1 if kind == "single" else max(1, max_choices)
    if len(voted) <= keep:
        return voted
    least = voted[keep - 1][1]
    return [o for o in voted if o[1] >= least]


def signers_needed(project_hearing: bool, committee_size: int) -> int:
    """Sign-offs that make minutes final: a project's committee by spending's quorum (core's
    `committee_quorum`); a need's, two different stewards."""
    if project_hearing:
        return committee_quorum(committee_size)
    return NEED_SIGNERS


# Hearings (听证会 / 议事会) -----------------------------------------------------------------
# docs/adr/0032-hearings-secret-ballots.md. A hearing asks the community's households one to
# three questions; each has 2..10 options and is single (one choice) or multiple (at most
# `max_choices`). Its window opens and closes at set times; its tally is computed once, at
# the close, and the ballots' choices are then deleted.

MAX_HEARING_TITLE_LENGTH = 100
MAX_QUESTION_LENGTH = 200
MAX_OPTION_LENGTH = 100
MAX_MEETING_PLACE_LENGTH = 200
MIN_OPTIONS = 2
MAX_OPTIONS = 10
MAX_QUESTIONS = 10
MAX_WINDOW = timedelta(days=60)
PAST_TOLERANCE = timedelta(minutes=1)  # a window may open "now" as typed a moment ago


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


@dataclass(frozen=True, slots=True)
class QuestionDraft:
    text: str
    kind: QuestionKind
    max_choices: int
    options: tuple[str, ...]


def question_problems(question: QuestionDraft) -> list[str]:
    """What is wrong with one question (its text, its options, its maximum)."""
    problems: list[str] = []
    if not question.text.strip():
        problems.append(N_("Ask the question"))
    elif len(question.text) > MAX_QUESTION_LENGTH:
        problems.append(N_("A question can have at most 200 characters"))
    options = [option.strip() for option in question.options]
    if len(options) < MIN_OPTIONS:
        problems.append(N_("A question needs at least 2 options"))
    elif len(options) > MAX_OPTIONS:
        problems.append(N_("A question can have at most 10 options"))
    if any(not option for option in options):
        problems.append(N_("An option cannot be empty"))
    elif any(len(option) > MAX_OPTION_LENGTH for option in options):
        problems.append(N_("An option can have at most 100 characters"))
    elif len(set(options)) != len(options):
        problems.append(N_("Two options of a question are the same"))
    if question.kind is QuestionKind.SINGLE:
        if question.max_choices != 1:
            problems.append(N_("A single-choice question has one choice"))
    elif not 1 <= question.max_choices <= max(len(options), 1):
        problems.append(N_("The most choices is between 1 and the number of options"))
    return problems


@dataclass(frozen=True, slots=True)
class HearingWindow:
    opens_at: datetime
    closes_at: datetime
    meeting_at: datetime | None = None
    meeting_place: str = ""


def window_problems(window: HearingWindow, now: datetime) -> dict[str, str]:
    """The window opens now or later, closes after it opens, lasts at most 60 days; a meeting's
    place has at most 200 characters."""
    problems: dict[str, str] = {}
    if window.opens_at < now - PAST_TOLERANCE:
        problems["opens_at"] = N_("A hearing cannot open in the past")
    if window.closes_at <= window.opens_at:
        problems["closes_at"] = N_("A hearing closes after it opens")
    elif window.closes_at - window.opens_at > MAX_WINDOW:
        problems["closes_at"] = N_("A hearing lasts at most 60 days")
    if len(window.meeting_place) > MAX_MEETING_PLACE_LENGTH:
        problems["meeting_place"] = N_("A place can have at most 200 characters")
    if window.meeting_place.strip() and window.meeting_at is None:
        problems["meeting_at"] = N_("Give the meeting's time")
    return problems


def hearing_title_problem(title: str) -> str | None:
    if not title.strip():
        return N_("Give the hearing a title")
    if len(title) > MAX_HEARING_TITLE_LENGTH:
        return N_("A title can have at most 100 characters")
    return None


class HearingState(StrEnum):
    SCHEDULED = "scheduled"  # before it opens
    OPEN = "open"  # households vote
    CLOSING = "closing"  # the window has passed; the tally is not written yet
    CLOSED = "closed"  # the tally is written and public


def hearing_state(
    opens_at: datetime, closes_at: datetime, closed_at: datetime | None, now: datetime
) -> HearingState:
    if closed_at is not None:
        return HearingState.CLOSED
    if now >= closes_at:
        return HearingState.CLOSING
    if now >= opens_at:
        return HearingState.OPEN
    return HearingState.SCHEDULED


def vote_problem(state: HearingState) -> str | None:
    if state is HearingState.OPEN:
        return None
    if state is HearingState.SCHEDULED:
        return N_("This hearing is not open yet")
    return N_("This hearing is closed")


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    """A stored question as a ballot is checked against it."""

    id: int
    kind: QuestionKind
    max_choices: int
    option_ids: tuple[int, ...]


def choice_problems(
    questions: tuple[QuestionSpec, ...] | list[QuestionSpec], chosen: dict[int, set[int]]
) -> dict[int, str]:
    """What is wrong with a ballot, by question id: every question answered, with options of
    its own, one for a single choice, at most its maximum for a multiple one."""
    problems: dict[int, str] = {}
    known = {question.id for question in questions}
    for question in questions:
        picked = chosen.get(question.id, set())
        if not picked:
            problems[question.id] = N_("Choose an answer")
        elif not picked <= set(question.option_ids):
            problems[question.id] = N_("Choose among this question's options")
        elif question.kind is QuestionKind.SINGLE and len(picked) != 1:
            problems[question.id] = N_("Choose one answer")
        elif len(picked) > question.max_choices:
            problems[question.id] = N_("Too many answers: see how many this question allows")
    for question_id in chosen:
        if question_id not in known:
            problems[question_id] = N_("No such question")
    return problems


def tally(
    questions: tuple[QuestionSpec, ...] | list[QuestionSpec],
    ballots: list[list[tuple[int, int]]],
) -> dict[int, int]:
    """Votes per option id, every option of every question present (0 when none chose it), from
    each counted ballot's (question, option) choices; a choice of an unknown option is not
    counted (a ballot is checked before it is stored, so there is none)."""
    counts = {option: 0 for question in questions for option in question.option_ids}
    for ballot in ballots:
        for option in {option for _question, option in ballot}:
            if option in counts:
                counts[option] += 1
    return counts


def turnout_percent(ballots: int, households: int) -> int | None:
    """Ballots counted per household of the community at the close, as a whole percent rounded
    half up (2 of 3 is 67 %, 1 of 8 is 13 %); None when the community has no household."""
    if households <= 0:
        return None
    return (200 * ballots + households) // (2 * households)


_LOCAL_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def local_moment(text: str) -> datetime:
    """A time as `<input type="datetime-local">` sends it (2026-12-01T19:30), read where the
    communities are (Asia/Shanghai), as UTC, between 2000 and 2100; ValueError otherwise."""
    cleaned = text.strip()
    if not _LOCAL_MOMENT.fullmatch(cleaned):
        raise ValueError(cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(cleaned) from None  # a month 13, a 30 February
    if not 2000 <= moment.year <= 2100:
        raise ValueError(cleaned)
    return moment.replace(tzinfo=COMMUNITY_TIMEZONE).astimezone(UTC)
