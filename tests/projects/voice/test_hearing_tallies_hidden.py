"""Hidden tallies are not leaked by any route (issue 17; Decidim leaked them through an export).

With the demo loaded and a hearing of 绿景苑 open, 7 households voting for one option and 13 for
the other, every GET route of the app (its table of routes, each path parameter filled with the
hearing's, the community's, the need's or the project's; the ledger's CSV and JSONL exports and
the API among them) is fetched as an anonymous visitor, a household, a community steward, the
secretary and an admin: no answer holds the results section, a vote count beside an option, a
`votes` or a turnout. After the close, the hearing's page and the API show them."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.kernel.clock import utc_now
from linju.projects.voice.rules import HearingWindow, NeedText, QuestionDraft, QuestionKind
from linju.projects.voice.services import hearings, households, needs
from linju.projects.voice.services.hearings import Subject
from linju.projects.voice.services.households import HOUSEHOLD_COOKIE
from tests.accounts_support import in_app, log_in, log_out, make_account
from tests.projects.voice.hearing_support import options, window_passes
from tests.projects.voice.voice_support import steward

COMMUNITY = "lvjingyuan"
PROJECT = "tongqu-leyuan"
NORTH, SOUTH = "北门空地甲", "南门空地乙"  # labels found nowhere else
MARKER = 'data-testid="hearing-results"'
COUNT_CELL = re.compile(r'data-label="[^"]*">(7|13)</td>')


async def _open_hearing_with_votes(client: Any) -> tuple[int, int]:
    async def make() -> tuple[int, int]:
        homes = await households.household_views(COMMUNITY)
        need_id = await needs.post_need(homes[0], NeedText("休闲广场", "需要一块空地", ""))
        first = await steward(COMMUNITY, "steward1@example.cn")
        hearing_id = await hearings.open_hearing(
            first,
            COMMUNITY,
            Subject(need_id=need_id),
            "广场选址",
            [QuestionDraft("选址", QuestionKind.SINGLE, 1, (NORTH, SOUTH))],
            HearingWindow(utc_now(), utc_now() + timedelta(days=3)),
        )
        chosen = await options(hearing_id)
        north_q, north = chosen[NORTH]
        _, south = chosen[SOUTH]
        for home in homes[:7]:
            await hearings.vote(home, hearing_id, {north_q: {north}})
        for home in homes[7:20]:
            await hearings.vote(home, hearing_id, {north_q: {south}})
        return hearing_id, need_id

    return await in_app(client, make)


def _get_routes(app: Any) -> list[str]:
    paths = set()
    for route in app.routes:
        methods = set().union(*(h.http_methods for h in getattr(route, "route_handlers", [])))
        if "GET" in methods and not route.path.startswith("/static"):
            paths.add(route.path)
    return sorted(paths)


def _fill(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "slug":
            community = template.startswith("/c/") or "/communities/" in template
            return COMMUNITY if community else PROJECT
        return values.get(name, "1")

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


def _json_leaks(value: Any, hearing_id: int) -> list[str]:
    """Votes of this hearing's options, or its results, anywhere in a JSON answer."""
    found = []
    if isinstance(value, dict):
        if value.get("text") in (NORTH, SOUTH) and "votes" in value:
            found.append("votes in JSON")
        if value.get("id") == hearing_id and "questions" in value and value.get("results"):
            found.append("results in JSON")
        for item in value.values():
            found += _json_leaks(item, hearing_id)
    elif isinstance(value, list):
        for item in value:
            found += _json_leaks(item, hearing_id)
    return found


def _leaks(path: str, answer: Any, hearing_id: int) -> list[str]:
    body = answer.text
    found = []
    if MARKER in body:
        found.append("the results section")
    if COUNT_CELL.search(body):
        found.append("a count cell")
    turnout = ('data-testid="turnout"', 'data-testid="ballots"', "17%")  # 20 of 120 households
    if answer.headers.get("content-type", "").startswith("application/json"):
        for line in body.splitlines() if "jsonl" in path else [body]:  # JSON Lines: each line
            found += _json_leaks(json.loads(line), hearing_id) if line.strip() else []
    elif (NORTH in body or SOUTH in body) and any(sign in body for sign in turnout):
        found.append("a turnout")  # where the options are shown, no count beside them
    return [f"GET {path}: {what}" for what in found]


async def _crawl(
    client: Any, values: dict[str, str], hearing_id: int
) -> tuple[list[str], set[str]]:
    """The leaks found, and the paths that answered 200."""
    leaks: list[str] = []
    answered = set()
    for template in _get_routes(client.app):
        path = _fill(template, values)
        answer = await client.get(path, follow_redirects=False)
        if answer.status_code == 200:
            answered.add(path)
        leaks += _leaks(path, answer, hearing_id)
    return leaks, answered


async def test_no_route_shows_a_count_before_the_close_and_the_results_after(
    demo: None, client: Any
) -> None:
    hearing_id, need_id = await _open_hearing_with_votes(client)
    values = {"hearing_id": str(hearing_id), "need_id": str(need_id), "community": COMMUNITY}
    admin = await make_account("admin@example.cn", "admin", client=client)
    secretary = await make_account(
        "sec@example.cn", "secretary", community=COMMUNITY, client=client
    )
    second = await steward(COMMUNITY, "steward2@example.cn", client)

    async def household_token() -> str:
        homes = await households.households_of(COMMUNITY)
        [(_, code)] = await households.issue_codes(COMMAND_LINE, COMMUNITY, [homes[3]["id"]])
        return await households.enter_code(COMMUNITY, code, "10.9.9.9")

    token = await in_app(client, household_token)
    seen_hearing_page: dict[str, str] = {}
    for role in ("anyone", "household", "steward", "secretary", "admin"):
        log_out(client)
        client.cookies.delete(HOUSEHOLD_COOKIE)
        if role == "household":
            client.cookies.set(HOUSEHOLD_COOKIE, token)
        elif role != "anyone":
            account = {"steward": int(second.id or 0), "secretary": secretary, "admin": admin}
            await log_in(client, account[role])
        leaks, answered = await _crawl(client, values, hearing_id)
        assert not leaks, "\n".join(leaks)
        public = {
            f"/hearings/{hearing_id}",
            f"/needs/{need_id}",
            f"/c/{COMMUNITY}",
            f"/api/v1/hearings/{hearing_id}",
            f"/api/v1/communities/{COMMUNITY}/hearings",
            f"/api/v1/projects/{PROJECT}/ledger.csv",
            f"/api/v1/projects/{PROJECT}/ledger.jsonl",
        }
        assert public <= answered, (role, public - answered)
        own = {
            "steward": {f"/steward/c/{COMMUNITY}/hearings/{hearing_id}"},
            "secretary": {f"/secretary/c/{COMMUNITY}/hearings"},
        }.get(role, set())
        assert own <= answered, (role, own - answered)
        page = await client.get(f"/hearings/{hearing_id}")
        assert NORTH in page.text
        seen_hearing_page[role] = page.text
    assert 'action="/hearings/' in seen_hearing_page["household"]  # it could vote there
    # after the close the counts are public
    await window_passes(hearing_id, client)
    log_out(client)
    client.cookies.delete(HOUSEHOLD_COOKIE)
    page = await client.get(f"/hearings/{hearing_id}")
    assert MARKER in page.text
    assert re.search(rf'{NORTH}</td><td class="num" data-label="[^"]+">7</td>', page.text)
    assert re.search(rf'{SOUTH}</td><td class="num" data-label="[^"]+">13</td>', page.text)
    assert COUNT_CELL.search(page.text)  # what the crawl looked for is there now
    api = (await client.get(f"/api/v1/hearings/{hearing_id}")).json()
    assert {o["text"]: o["votes"] for o in api["questions"][0]["options"]} == {NORTH: 7, SOUTH: 13}
    assert api["results"]["ballots"] == 20
    assert _json_leaks(api, hearing_id)  # what the crawl looked for in JSON is there now
    listed = (await client.get(f"/api/v1/communities/{COMMUNITY}/hearings")).json()
    assert [h["results"]["ballots"] for h in listed if h["id"] == hearing_id] == [20]
