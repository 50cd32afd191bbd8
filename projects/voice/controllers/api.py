"""The public read API of residents' needs (docs/adr/0033-residents-voice.md): counts only, no
household's identity, no paper or online split."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.params import FromPath, Parameter

from linju.projects.voice import read
from linju.projects.voice.rules import MAX_ID, NeedStatus


class NeedOut(msgspec.Struct):
    """A residents' need: its state and how many households support it."""

    id: int
    community: str
    title: str
    body: str
    place: str
    status: NeedStatus
    heard_at_meeting: bool
    supports: int
    threshold: int
    created_at: str
    status_changed_at: str
    answer_due: str | None
    answer_late: bool
    decline_reason: str | None
    project: str | None
    url: str


def _out(need: read.NeedView) -> NeedOut:
    return NeedOut(**need.as_json(), url=f"/needs/{need.id}")


@get(
    "/api/v1/communities/{slug:str}/needs",
    tags=["needs"],
    summary="A community's residents' needs (not the withdrawn), newest first",
)
async def community_needs(slug: FromPath[str]) -> list[NeedOut]:
    return [_out(n) for n in await read.community_needs(slug)]


@get("/api/v1/needs/{need_id:str}", tags=["needs"], summary="One residents' need")
async def one_need(
    need_id: Annotated[int, Parameter(ge=1, le=MAX_ID, description="The need's number")],
) -> NeedOut:
    return _out(await read.need(need_id))


ROUTES: list[Any] = [community_needs, one_need]
