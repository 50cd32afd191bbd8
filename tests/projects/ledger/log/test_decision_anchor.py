"""A committee decision anchors the transparency log's latest checkpoint (size and root) beside
the ledger head (docs/transparency.md, guarantee 4), and the project page shows it."""

from __future__ import annotations

import pytest

from linju.projects.ledger.log.note import b64
from linju.projects.ledger.log.services import integrate, latest_checkpoint
from linju.projects.spending.services import expenditures as spending
from linju.projects.spending.services.expenditures import Proposal
from linju.projects.spending.tables import Decision
from tests.client_support import AppClient
from tests.projects.spending.spending_support import SECRETARY, SLUG, funded_project, invoice


async def test_a_decision_keeps_the_checkpoint_of_its_moment(client: AppClient) -> None:
    funded = await funded_project()
    before = await spending.propose(SLUG, _proposal(funded.lines[0]), SECRETARY)
    await spending.decide(SLUG, before, funded.members[0], False, "先比价")  # no checkpoint yet
    await integrate()
    head = await latest_checkpoint()
    assert head is not None
    public_id = await spending.propose(SLUG, _proposal(funded.lines[0]), SECRETARY)
    await spending.decide(SLUG, public_id, funded.members[0], True, "价格合理")
    rows = await Decision.select(Decision.log_size, Decision.log_root).order_by(Decision.id)
    assert rows == [
        {"log_size": 0, "log_root": ""},
        {"log_size": head.size, "log_root": b64(head.root)},
    ]
    page = await client.get(f"/p/{SLUG}")
    assert page.status_code == 200
    assert f"{head.size} <code>{b64(head.root)}</code>" in page.text


def _proposal(line: int) -> Proposal:
    return Proposal(
        budget_line_id=line,
        payee="青山游乐设备厂",
        purpose="跷跷板两台",
        amount_fen=480_000,
        attachments=(invoice(),),
    )


pytestmark = pytest.mark.usefixtures("db")
