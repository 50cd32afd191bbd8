"""The demo's online gifts were paid through a real sandbox checkout, so they can be refunded
like any other: through the staff refund form, sent by the refund job, posted once."""

from __future__ import annotations

import httpx
import pytest

from linju.payments.tables import SandboxRefund, SandboxSession
from linju.platform.jobs.worker import drain_jobs
from linju.projects.donations.tables import Donation, DonationRefund
from linju.projects.stewardship.tables import MatchDraw
from tests.accounts_support import log_in, make_account
from tests.forms import submit

from .helpers import balance, donation_row, entries

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"


async def test_every_demo_gift_has_its_paid_sandbox_checkout() -> None:
    gifts = await Donation.select(Donation.public_id, Donation.provider_ref, Donation.amount_fen)
    assert gifts
    sessions = {
        s["public_id"]: s
        for s in await SandboxSession.select(
            SandboxSession.public_id,
            SandboxSession.donation_id,
            SandboxSession.status,
            SandboxSession.amount_fen,
        )
    }
    for gift in gifts:
        session = sessions[gift["provider_ref"]]
        assert session["donation_id"] == gift["public_id"]
        assert session["status"] == "paid"
        assert session["amount_fen"] == gift["amount_fen"]


async def test_a_demo_gift_is_refunded_through_the_staff_refund_form(
    client: httpx.AsyncClient,
) -> None:
    gift = (
        await Donation.select(Donation.public_id)
        .where((Donation.project.slug == SLUG) & (Donation.amount_fen == 50_000))
        .first()
    )
    assert gift is not None
    donation_id = gift["public_id"]
    before = await balance(SLUG)
    await log_in(client, await make_account("admin@example.cn", "admin", client=client))

    page = f"/p/{SLUG}/donations/{donation_id}/refund"
    answer = await submit(client, page, page, {"amount": "100", "reason": "捐错了项目"})
    assert answer.status_code == 303, answer.text
    await drain_jobs()

    statuses = await DonationRefund.select(DonationRefund.status).where(
        DonationRefund.donation.public_id == donation_id
    )
    assert [r["status"] for r in statuses] == ["posted"]
    assert await SandboxRefund.count() == 1
    assert (await donation_row(donation_id))["refunded_fen"] == 10_000
    refunds = [e for e in await entries(SLUG, "refund") if e["public_ref"] == donation_id]
    assert len(refunds) == 1
    # The fund gave back ¥100.00, and the match the gift drew went back to its sponsor.
    [draw] = await MatchDraw.select(MatchDraw.amount_fen, MatchDraw.reversed_at).where(
        MatchDraw.donation_ref == donation_id
    )
    assert draw["reversed_at"] is not None
    assert await balance(SLUG) == before - 10_000 - draw["amount_fen"]
    shown = await client.get(page)
    assert 'data-stage="confirmed"' in shown.text
