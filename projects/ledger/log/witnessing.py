"""Asking the witnesses to cosign (C2SP tlog-witness, the client's side).

For each witness of `LINJU_WITNESSES` that has not cosigned the latest checkpoint, post
`old <size>`, the consistency proof from the size it last cosigned, an empty line and the
checkpoint to `<prefix>/add-checkpoint`; keep the cosignature lines it returns that verify
with its key. A 409 tells the size the witness holds (`text/x.tlog.size`): the platform takes
it and asks once more with a proof from there. No database transaction is held while waiting
for a witness; each witness's answer is stored on its own, so one that is down delays only its
own cosignature.
"""

from __future__ import annotations

import logging

import httpx

from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.projects.ledger.log import merkle
from linju.projects.ledger.log.note import COSIGNATURE, NoteError, parse_note, verified_by
from linju.projects.ledger.log.services import (
    SignedHead,
    Witness,
    hashes_reader,
    latest_checkpoint,
    witnesses,
)
from linju.projects.ledger.log.tables import LogCheckpoint, LogCosignature, LogWitness

logger = logging.getLogger("linju.log")
TIMEOUT = 10.0


class WitnessRefused(RuntimeError):
    pass


async def _known_size(witness: Witness) -> int:
    row = (
        await LogWitness.select(LogWitness.size)
        .where(LogWitness.vkey == witness.verifier.vkey())
        .first()
    )
    return int(row["size"]) if row else 0


async def _remember(witness: Witness, size: int | None, error: str) -> None:
    vkey = witness.verifier.vkey()
    async with write_transaction():
        values = {LogWitness.last_error: error[:500], LogWitness.updated_at: utc_now()}
        if size is not None:
            values[LogWitness.size] = size
        await LogWitness.insert(LogWitness(vkey=vkey, size=size or 0)).on_conflict(
            target=LogWitness.vkey, action="DO NOTHING"
        )
        await LogWitness.update(values).where(LogWitness.vkey == vkey)  # type: ignore[arg-type]


async def request_body(head: SignedHead, old: int) -> str:
    def proof_of(read: merkle.HashReader) -> list[bytes]:
        return merkle.consistency_proof(old, head.size, read)

    proof = proof_of(await hashes_reader(proof_of)) if 0 < old < head.size else []
    from linju.projects.ledger.log.note import b64

    lines = [f"old {old}", *(b64(h) for h in proof)]
    return "\n".join(lines) + "\n\n" + head.body + "\n" + head.signature


async def _ask(
    client: httpx.AsyncClient, witness: Witness, head: SignedHead, old: int
) -> httpx.Response:
    return await client.post(
        witness.prefix.rstrip("/") + "/add-checkpoint",
        content=(await request_body(head, old)).encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )


async def submit(client: httpx.AsyncClient, witness: Witness, head: SignedHead) -> None:
    """Get `witness`'s cosignature on `head` and store it; WitnessRefused otherwise."""
    old = await _known_size(witness)
    if old > head.size:
        old = 0  # what we knew is beyond this head: let the witness tell us its size
    for _ in range(2):
        answer = await _ask(client, witness, head, old)
        if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
            "text/x.tlog.size"
        ):
            text = answer.text.strip()
            if not text.isascii() or not text.isdigit() or int(text) > head.size:
                raise WitnessRefused(f"the witness holds size {text[:30]!r}, not ours")
            old = int(text)
            await _remember(witness, old, "")
            continue
        break
    if answer.status_code != 200:
        raise WitnessRefused(f"{answer.status_code}: {answer.text.strip()[:200]}")
    lines = [line for line in answer.text.split("\n") if line]
    try:
        note = parse_note(head.body + "\n" + "\n".join(lines) + "\n")
        good = verified_by(note, [witness.verifier])
    except NoteError as error:
        raise WitnessRefused(f"its answer: {error}") from None
    if not good or witness.verifier.kind != COSIGNATURE:
        raise WitnessRefused("its answer carries no cosignature by its key")
    line = good[0][1].line()
    async with write_transaction():
        await LogCosignature.insert(
            LogCosignature(checkpoint=head.id, witness=witness.verifier.vkey(), line=line)
        ).on_conflict(action="DO NOTHING")
    await _remember(witness, head.size, "")


async def submit_all() -> list[str]:
    """Bring every witness up to the latest checkpoint; what is still behind, one per witness."""
    head = await latest_checkpoint()
    configured = witnesses()
    if head is None or not configured:
        return []
    done = {
        row["witness"]
        for row in await LogCosignature.select(LogCosignature.witness).where(
            LogCosignature.checkpoint == head.id
        )
    }
    behind = []
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for witness in configured:
            if witness.verifier.vkey() in done:
                continue
            try:
                await submit(client, witness, head)
            except (WitnessRefused, httpx.HTTPError) as error:
                message = f"{witness.verifier.name}: {error}"
                logger.warning("witness %s", message)
                await _remember(witness, None, str(error) or type(error).__name__)
                behind.append(message)
    return behind


async def witnesses_waiting() -> bool:
    """Whether a configured witness has no cosignature on the latest checkpoint and nothing
    says why: it was never asked (added to `LINJU_WITNESSES` after that checkpoint was signed)
    or its last answer was good. The integrator asks for witnesses only when it signs; without
    this, such a witness would wait for the next entry. A witness whose last attempt failed
    is left to the witness job's retries and their backoff."""
    head = await latest_checkpoint()
    configured = witnesses()
    if head is None or not configured:
        return False
    done = {
        row["witness"]
        for row in await LogCosignature.select(LogCosignature.witness).where(
            LogCosignature.checkpoint == head.id
        )
    }
    failed = {
        row["vkey"]
        for row in await LogWitness.select(LogWitness.vkey).where(LogWitness.last_error != "")
    }
    return any(
        witness.verifier.vkey() not in done and witness.verifier.vkey() not in failed
        for witness in configured
    )


async def cosignature_lines(checkpoint_id: int) -> list[str]:
    rows = (
        await LogCosignature.select(LogCosignature.line)
        .where(LogCosignature.checkpoint == checkpoint_id)
        .order_by(LogCosignature.id)
    )
    return [row["line"] for row in rows]


_ = LogCheckpoint
