"""Households and their codes: register (one by one or from a CSV), issue a code, enter it on a
phone (throttled), the phone's long-lived household session.

A code is random (`rules.new_code`), shown once when issued, stored only as its SHA-256, and
valid for every phone of the household until the secretary issues a new one, which ends every
session of the household. A phone's session is a random id in a cookie whose SHA-256 is the
row's key, as staff sessions are (platform/accounts/sessions.py). Entering a code is throttled
as logging in is (platform/accounts/login.py): the attempt is recorded before the code is
checked, in a write transaction that counts the window's failures from the address and in the
community while it holds their locks, so however many guesses arrive at once, no more than the
limit are ever checked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.querystring import QueryString

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import get_engine, is_postgres, write_transaction
from linju.platform.jobs.housekeeping import Pruner, delete_in_batches, register_pruner
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, DomainError, NotFound, ValidationErrors
from linju.platform.settings import Settings
from linju.projects.core.tables import Community
from linju.projects.voice import rules
from linju.projects.voice.tables import CodeAttempt, Household, HouseholdSession

HOUSEHOLD_COOKIE = "linju_household"
# Codes entered are kept a day (the throttle counts the last CODE_THROTTLE_WINDOW).
CODE_ATTEMPTS_KEPT = rules.CODE_THROTTLE_WINDOW * 96


class CodeThrottled(DomainError):
    status = 429
    title = "Too many requests"


class CsvRefused(ValidationErrors):
    """The file had problems: each with its line; nothing was written."""

    def __init__(self, problems: Sequence[rules.CsvProblem]) -> None:
        super().__init__({"file": N_("The file has problems; no household was added")})
        self.lines = list(problems)


@dataclass(frozen=True, slots=True)
class HouseholdView:
    id: int
    community_id: int
    community_slug: str
    community_name: str
    address: rules.HouseholdAddress
    has_code: bool

    @property
    def label(self) -> str:
        return self.address.label


async def community_row(slug: str) -> dict[str, Any]:
    row = (
        await Community.select(Community.id, Community.slug, Community.name)
        .where(Community.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound(N_("No community %(slug)s"), slug=slug)
    return row


async def _taken(community_id: int, addresses: Sequence[rules.HouseholdAddress]) -> set[str]:
    rows = await Household.select(Household.building, Household.unit, Household.room).where(
        Household.community == community_id
    )
    have = {rules.HouseholdAddress(r["building"], r["unit"], r["room"]) for r in rows}
    return {a.label for a in addresses if a in have}


async def register_household(
    actor: Actor, community_slug: str, address: rules.HouseholdAddress
) -> int:
    problems = rules.address_problems(address)
    if problems:
        raise ValidationErrors(problems)
    async with write_transaction():
        community = await community_row(community_slug)
        if await _taken(community["id"], [address]):
            raise ValidationErrors({"room": N_("This household is registered already")})
        rows = await Household.insert(
            Household(
                community=community["id"],
                building=address.building,
                unit=address.unit,
                room=address.room,
                created_at=utc_now(),
            )
        ).returning(Household.id)
        household_id = int(rows[0]["id"])
        await record_audit(
            actor, "household.register", "household", household_id, after={"at": address.label}
        )
    return household_id


async def import_households(actor: Actor, community_slug: str, text: str) -> int:
    """Every household of a CSV, or none: CsvRefused lists each bad line (a household already
    registered is a bad line too)."""
    addresses, problems = rules.parse_households_csv(text)
    async with write_transaction():
        community = await community_row(community_slug)
        if not problems:
            taken = await _taken(community["id"], [address for _, address in addresses])
            problems = [
                rules.CsvProblem(line, N_("This household is registered already"))
                for line, address in addresses
                if address.label in taken
            ]
        if problems:
            raise CsvRefused(problems)
        now = utc_now()
        await Household.insert(
            *(
                Household(
                    community=community["id"],
                    building=a.building,
                    unit=a.unit,
                    room=a.room,
                    created_at=now,
                )
                for _, a in addresses
            )
        )
        await record_audit(
            actor,
            "household.import",
            "community",
            community_slug,
            after={"households": len(addresses)},
        )
    return len(addresses)


async def households_of(community_slug: str) -> list[dict[str, Any]]:
    community = await community_row(community_slug)
    rows = await Household.select(
        Household.id,
        Household.building,
        Household.unit,
        Household.room,
        Household.code_issued_at,
    ).where(Household.community == community["id"])
    for row in rows:
        row["label"] = rules.HouseholdAddress(row["building"], row["unit"], row["room"]).label
    return sorted(rows, key=lambda r: (r["building"], r["unit"], r["room"]))


async def household_count(community_id: int) -> int:
    return int(await Household.count().where(Household.community == community_id))


async def issue_codes(
    actor: Actor, community_slug: str, household_ids: Sequence[int]
) -> list[tuple[dict[str, Any], str]]:
    """A new code for each household (of this community): the codes, shown once. Every session
    of these households ends (a re-issued card makes the old one worthless)."""
    async with write_transaction():
        community = await community_row(community_slug)
        rows = await Household.select(
            Household.id, Household.building, Household.unit, Household.room
        ).where((Household.community == community["id"]) & Household.id.is_in(list(household_ids)))
        if len(rows) != len(set(household_ids)) or not rows:
            raise NotFound(N_("No such household in this community"))
        issued: list[tuple[dict[str, Any], str]] = []
        now = utc_now()
        for row in sorted(rows, key=lambda r: (r["building"], r["unit"], r["room"])):
            code = rules.new_code()
            await Household.update(
                {Household.code_hash: rules.code_digest(code), Household.code_issued_at: now}
            ).where(Household.id == row["id"])
            await HouseholdSession.delete().where(HouseholdSession.household == row["id"])
            row["label"] = rules.HouseholdAddress(row["building"], row["unit"], row["room"]).label
            issued.append((row, code))
        await record_audit(
            actor,
            "household.codes",
            "community",
            community_slug,
            after={"households": [row["label"] for row, _ in issued]},
        )
    return issued


# Entering a code ----------------------------------------------------------------------------
_CODE_ADDRESS_LOCK = 0x4C4A0101
_CODE_COMMUNITY_LOCK = 0x4C4A0102


def _lock_key(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:4], "big", signed=True)


async def _serialise(*locks: tuple[int, str]) -> None:
    if not is_postgres():
        return  # SQLite's write transactions are serial already (BEGIN IMMEDIATE)
    for namespace, value in locks:
        await get_engine().run_querystring(
            QueryString(
                "SELECT 1 AS locked FROM pg_advisory_xact_lock({}, {})",
                namespace,
                _lock_key(value),
            )
        )


async def _begin_attempt(community_id: int, address: str) -> int:
    async with write_transaction():
        await _serialise((_CODE_COMMUNITY_LOCK, str(community_id)), (_CODE_ADDRESS_LOCK, address))
        since = utc_now() - rules.CODE_THROTTLE_WINDOW
        failed = (CodeAttempt.succeeded == False) & (CodeAttempt.at > since)  # noqa: E712
        by_address = await CodeAttempt.count().where(failed & (CodeAttempt.address == address))
        in_community = await CodeAttempt.count().where(
            failed & (CodeAttempt.community == community_id)
        )
        if rules.code_throttled(by_address, in_community):
            raise CodeThrottled(N_("Too many wrong codes; try again in 15 minutes"))
        now = utc_now()
        await CodeAttempt.delete().where(CodeAttempt.at < now - CODE_ATTEMPTS_KEPT)
        rows = await CodeAttempt.insert(
            CodeAttempt(community=community_id, address=address, succeeded=False, at=now)
        ).returning(CodeAttempt.id)
    return int(rows[0]["id"])


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def enter_code(community_slug: str, typed: str, address: str) -> str:
    """A new household session's cookie value for a right code; ValidationErrors for a wrong
    one, CodeThrottled after too many."""
    community = await community_row(community_slug)
    code = rules.normalised_code(typed)
    if not code:
        raise ValidationErrors({"code": N_("Enter the code on your household's card")})
    attempt = await _begin_attempt(community["id"], address[:64])
    household = (
        await Household.select(Household.id)
        .where(
            (Household.community == community["id"])
            & (Household.code_hash == rules.code_digest(code))
        )
        .first()
    )
    if household is None:
        raise ValidationErrors({"code": N_("This code is not right; check the card and try again")})
    token = secrets.token_urlsafe(32)
    now = utc_now()
    async with write_transaction():
        await CodeAttempt.update({CodeAttempt.succeeded: True}).where(CodeAttempt.id == attempt)
        await HouseholdSession.delete().where(HouseholdSession.expires_at < now)
        await HouseholdSession.insert(
            HouseholdSession(
                token_hash=token_digest(token),
                household=household["id"],
                created_at=now,
                expires_at=now + rules.HOUSEHOLD_SESSION_LIFETIME,
            )
        )
    return token


async def household_for_token(token: str | None) -> HouseholdView | None:
    if not token or len(token) > 100:
        return None
    row = (
        await HouseholdSession.select(
            HouseholdSession.household.id.as_alias("id"),
            HouseholdSession.household.building.as_alias("building"),
            HouseholdSession.household.unit.as_alias("unit"),
            HouseholdSession.household.room.as_alias("room"),
            HouseholdSession.household.code_hash.as_alias("code_hash"),
            HouseholdSession.household.community.as_alias("community_id"),
        )
        .where(
            (HouseholdSession.token_hash == token_digest(token))
            & (HouseholdSession.expires_at > utc_now())
        )
        .first()
    )
    if row is None:
        return None
    community = (
        await Community.select(Community.slug, Community.name)
        .where(Community.id == row["community_id"])
        .first()
    )
    if community is None:
        return None
    return HouseholdView(
        id=int(row["id"]),
        community_id=int(row["community_id"]),
        community_slug=community["slug"],
        community_name=community["name"],
        address=rules.HouseholdAddress(row["building"], row["unit"], row["room"]),
        has_code=bool(row["code_hash"]),
    )


async def household_views(community_slug: str) -> list[HouseholdView]:
    """Every household of the community as a phone of it sees itself (the demo speaks for them)."""
    community = await community_row(community_slug)
    return [
        HouseholdView(
            id=int(row["id"]),
            community_id=int(community["id"]),
            community_slug=community["slug"],
            community_name=community["name"],
            address=rules.HouseholdAddress(row["building"], row["unit"], row["room"]),
            has_code=row["code_issued_at"] is not None,
        )
        for row in await households_of(community_slug)
    ]


async def end_household_session(token: str) -> None:
    async with write_transaction():
        await HouseholdSession.delete().where(HouseholdSession.token_hash == token_digest(token))


async def prune_household_sessions(settings: Settings, batch: int) -> int:
    """Housekeeping: the phones' sessions past their expiry (refused already; entering a code
    deletes them too, but only when someone enters one)."""
    expired = HouseholdSession.expires_at < utc_now()
    return await delete_in_batches(HouseholdSession, expired, batch)


async def prune_code_attempts(settings: Settings, batch: int) -> int:
    """Housekeeping: the codes entered longer ago than `CODE_ATTEMPTS_KEPT`."""
    old = CodeAttempt.at < utc_now() - CODE_ATTEMPTS_KEPT
    return await delete_in_batches(CodeAttempt, old, batch)


def register_pruners() -> None:
    """What housekeeping deletes of residents' voice (docs/adr/0039-housekeeping.md); never a
    household, a need, a support, a ballot, a tally or minutes."""
    register_pruner(Pruner("household sessions", prune_household_sessions))
    register_pruner(Pruner("household code attempts", prune_code_attempts))
