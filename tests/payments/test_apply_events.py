"""How one report's events reach the domain: a confirmation and its fee together, each once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linju.payments import services
from linju.payments.gateway import PaymentEvent, PaymentEventKind
from linju.payments.tables import ProcessedEvent
from linju.platform.kernel.errors import Conflict
from linju.platform.kernel.money import Money
from linju.projects.donations.rules import DonationInput
from linju.projects.donations.services import donation_entry, get_donation

from .helpers import balance, donation_row, entries

pytestmark = pytest.mark.usefixtures("demo")
SLUG = "tongqu-leyuan"
AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


async def pending_donation(fen: int) -> str:
    started = await services.begin_donation(SLUG, DonationInput(fen, "CNY", "李叔", False, "", ""))
    return started.donation.id


def succeeded(donation_id: str, fen: int, event_id: str = "evt_paid") -> PaymentEvent:
    return PaymentEvent(event_id, PaymentEventKind.SUCCEEDED, donation_id, Money(fen), AT)


def fee_of(donation_id: str, fen: int, event_id: str = "evt_paid:fee") -> PaymentEvent:
    return PaymentEvent(event_id, PaymentEventKind.FEE, donation_id, Money(fen), AT)


async def outcomes() -> dict[str, str]:
    rows = await ProcessedEvent.select(ProcessedEvent.event_id, ProcessedEvent.outcome)
    return {row["event_id"]: row["outcome"] for row in rows}


async def test_a_confirmation_and_its_fee_post_together_and_once() -> None:
    donation_id = await pending_donation(8_000)
    before = await balance(SLUG)
    applied = await services.apply_events(
        "sandbox", [succeeded(donation_id, 8_000), fee_of(donation_id, 48)]
    )
    assert [a.outcome for a in applied] == ["applied", "applied"]
    mine = [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
    assert [e["kind"] for e in mine] == ["donation", "fee"]
    assert mine[1]["seq"] == mine[0]["seq"] + 1
    assert await balance(SLUG) == before + 8_000 - 48
    row = await donation_row(donation_id)
    assert (row["status"], row["fee_fen"]) == ("succeeded", 48)
    entry = await donation_entry(await get_donation(donation_id))
    assert entry is not None
    assert entry["seq"] == mine[0]["seq"]

    again = await services.apply_events(
        "sandbox", [succeeded(donation_id, 8_000), fee_of(donation_id, 48)]
    )
    assert [a.outcome for a in again] == ["duplicate", "duplicate"]
    assert len([e for e in await entries(SLUG) if e["public_ref"] == donation_id]) == 2


async def test_an_event_repeated_within_one_report_is_applied_once() -> None:
    donation_id = await pending_donation(6_000)
    applied = await services.apply_events(
        "sandbox", [succeeded(donation_id, 6_000), succeeded(donation_id, 6_000)]
    )
    assert [a.outcome for a in applied] == ["applied", "duplicate"]
    assert len([e for e in await entries(SLUG) if e["public_ref"] == donation_id]) == 1


async def test_a_fee_reported_after_its_confirmation_is_posted_alone() -> None:
    donation_id = await pending_donation(5_000)
    first = await services.apply_events("sandbox", [succeeded(donation_id, 5_000)])
    assert [a.outcome for a in first] == ["applied"]
    assert (await donation_row(donation_id))["fee_fen"] == 0
    later = await services.apply_events(
        "sandbox", [succeeded(donation_id, 5_000), fee_of(donation_id, 30)]
    )
    assert [a.outcome for a in later] == ["duplicate", "applied"]
    mine = [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
    assert [e["kind"] for e in mine] == ["donation", "fee"]
    assert (await donation_row(donation_id))["fee_fen"] == 30


async def test_a_confirmation_whose_fee_was_recorded_first_posts_it_with_the_donation() -> None:
    donation_id = await pending_donation(5_000)
    early = await services.apply_events("sandbox", [fee_of(donation_id, 30, "evt_fee_first")])
    assert [a.outcome for a in early] == ["applied"]
    assert not [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
    paid = await services.apply_events(
        "sandbox", [succeeded(donation_id, 5_000), fee_of(donation_id, 30)]
    )
    assert [a.outcome for a in paid] == ["applied", "applied"]
    mine = [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
    assert [e["kind"] for e in mine] == ["donation", "fee"]


async def test_a_contradicting_fee_rolls_the_whole_report_back() -> None:
    donation_id = await pending_donation(5_000)
    await services.apply_events("sandbox", [fee_of(donation_id, 30, "evt_fee_first")])
    with pytest.raises(Conflict):
        await services.apply_events(
            "sandbox", [succeeded(donation_id, 5_000), fee_of(donation_id, 31)]
        )
    assert (await donation_row(donation_id))["status"] == "pending"
    assert not [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
    assert "evt_paid" not in await outcomes()  # the report can be delivered again


async def test_a_failure_with_a_fee_records_the_fee_and_posts_nothing() -> None:
    donation_id = await pending_donation(5_000)
    failed = PaymentEvent("evt_failed", PaymentEventKind.FAILED, donation_id, Money(5_000), AT)
    applied = await services.apply_events("sandbox", [failed, fee_of(donation_id, 30)])
    assert [a.outcome for a in applied] == ["applied", "applied"]
    row = await donation_row(donation_id)
    assert (row["status"], row["fee_fen"]) == ("failed", 30)
    assert not [e for e in await entries(SLUG) if e["public_ref"] == donation_id]
