"""The poster prints the transparency log's latest checkpoint and the log key beside the
project's head (docs/transparency.md, guarantee 4), as the log serves them."""

from __future__ import annotations

import base64

import pytest

from linju.projects.ledger.log.note import open_note, parse_checkpoint, parse_vkey
from linju.projects.ledger.log.services import integrate
from tests.accounts_support import in_app, log_in, make_account
from tests.client_support import AppClient

pytestmark = pytest.mark.usefixtures("demo")


async def test_the_poster_prints_the_checkpoint_and_the_key(client: AppClient) -> None:
    await in_app(client, integrate)
    account = await make_account(
        "sec@example.cn", "secretary", community="lvjingyuan", client=client
    )
    await log_in(client, account)
    poster = await client.get("/p/tongqu-leyuan/poster")
    assert poster.status_code == 200
    vkey = (await client.get("/log/key")).text.strip()
    checkpoint = parse_checkpoint(
        open_note((await client.get("/log/checkpoint")).text, [parse_vkey(vkey)]).text
    )
    root = base64.b64encode(checkpoint.root).decode()
    assert f"最新检查点: {checkpoint.size} · {root}" in poster.text
    assert f"日志公钥: {vkey}" in poster.text
