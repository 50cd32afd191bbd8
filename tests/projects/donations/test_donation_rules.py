"""Donation rules: amounts typed in yuan, limits, the words a donor gives, the state machine.

How yuan text is read is the kernel's (tests/platform/kernel/test_yuan.py)."""

from __future__ import annotations

import itertools

import pytest

from linju.platform.kernel.errors import ValidationErrors
from linju.projects.donations.rules import (
    ANONYMOUS_NAME,
    DonationInput,
    DonationStatus,
    ProviderOutcome,
    donation_from_form,
    donation_from_json,
    donation_problems,
    new_donation_id,
    next_status,
    public_name,
    status_after_refunds,
)

MAX = 5_000_000


def _input(**changes: object) -> DonationInput:
    fields: dict[str, object] = {
        "amount_fen": 5000,
        "currency": "CNY",
        "display_name": "王阿姨",
        "anonymous": False,
        "message": "",
        "email": "",
    }
    fields.update(changes)
    return DonationInput(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_fen": 99}, "amount"),
        ({"amount_fen": 0}, "amount"),
        ({"amount_fen": MAX + 1}, "amount"),
        ({"amount_fen": 10.5}, "amount"),
        ({"amount_fen": True}, "amount"),
        ({"currency": "USD"}, "amount"),
        ({"display_name": "名" * 41}, "display_name"),
        ({"message": "话" * 201}, "message"),
        ({"email": "no-at-sign"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"message": "bell\x07"}, "message"),
    ],
)
def test_donation_problems_name_the_field(changes: dict[str, object], field: str) -> None:
    assert field in donation_problems(_input(**changes), MAX)


@pytest.mark.parametrize(
    "changes",
    [
        {"amount_fen": 100},
        {"amount_fen": MAX},
        {"display_name": "名" * 40, "message": "话" * 200},
        {"display_name": "", "anonymous": True},
        {"email": "wang.ayi@example.cn"},
    ],
)
def test_limits_are_inclusive(changes: dict[str, object]) -> None:
    assert donation_problems(_input(**changes), MAX) == {}


def test_the_public_name_is_the_display_name_or_anonymous() -> None:
    assert public_name(" 小李 ", False) == "小李"
    assert public_name("小李", True) == ANONYMOUS_NAME
    assert public_name("  ", False) == ANONYMOUS_NAME


def test_a_typed_amount_wins_over_the_preset() -> None:
    data, problems = donation_from_form({"amount_choice": "5000", "custom_amount": "88.5"})
    assert problems == {}
    assert data.amount_fen == 8850
    preset, problems = donation_from_form({"amount_choice": "10000"})
    assert problems == {}
    assert preset.amount_fen == 10000
    _, problems = donation_from_form({"amount_choice": "12345"})
    assert "amount" in problems


def test_the_api_body_is_typed_strictly() -> None:
    data = donation_from_json(
        {"amount": {"amount": 5000, "currency": "CNY"}, "display_name": None, "anonymous": True}
    )
    assert data.amount_fen == 5000
    assert data.anonymous is True
    bad: object
    for bad in (
        [],
        {"amount": {"amount": 50.0, "currency": "CNY"}},
        {"amount": {"amount": "5000", "currency": "CNY"}},
        {"amount": {"amount": 5000, "currency": "USD"}},
        {"amount": {"amount": 5000, "currency": "CNY"}, "message": 5},
        {"amount": {"amount": 5000, "currency": "CNY"}, "anonymous": "no"},
    ):
        with pytest.raises(ValidationErrors):
            donation_from_json(bad)


def test_donation_ids_are_unguessable_and_distinct() -> None:
    ids = {new_donation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(i.startswith("don_") and len(i) == 26 for i in ids)


def test_the_state_machine() -> None:
    pending, ok = DonationStatus.PENDING, DonationStatus.SUCCEEDED
    assert next_status(pending, ProviderOutcome.SUCCEEDED) is ok
    assert next_status(pending, ProviderOutcome.FAILED) is DonationStatus.FAILED
    assert next_status(pending, ProviderOutcome.EXPIRED) is DonationStatus.EXPIRED
    # Nothing but a refund moves a confirmed donation; money received wins over a failure.
    assert next_status(ok, ProviderOutcome.EXPIRED) is None
    assert next_status(ok, ProviderOutcome.FAILED) is None
    assert next_status(ok, ProviderOutcome.SUCCEEDED) is None
    assert next_status(DonationStatus.EXPIRED, ProviderOutcome.SUCCEEDED) is ok
    assert next_status(DonationStatus.FAILED, ProviderOutcome.EXPIRED) is None
    assert status_after_refunds(5000, 4999) is ok
    assert status_after_refunds(5000, 5000) is DonationStatus.REFUNDED


def test_any_order_of_outcomes_with_a_success_ends_succeeded() -> None:
    outcomes = list(ProviderOutcome)
    for order in itertools.permutations(outcomes):
        status = DonationStatus.PENDING
        for outcome in order:
            status = next_status(status, outcome) or status
        assert status is DonationStatus.SUCCEEDED, order
