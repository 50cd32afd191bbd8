"""tlog-proof (C2SP, `c2sp.org/tlog-proof@v1`): write one, read one, and check one offline
against a log key and witness keys. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linju.projects.ledger.log.merkle import ProofError, leaf_hash, verify_inclusion
from linju.projects.ledger.log.note import (
    COSIGNATURE,
    Checkpoint,
    Note,
    NoteError,
    Verifier,
    b64,
    b64decode,
    parse_checkpoint,
    parse_note,
    verified_by,
)

HEADER = "c2sp.org/tlog-proof@v1"
_INDEX = re.compile(r"^index (0|[1-9][0-9]{0,18})$")


@dataclass(frozen=True, slots=True)
class TlogProof:
    extra: bytes | None
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim

    def render(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64(h) for h in self.hashes)
        return "\n".join(lines) + "\n\n" + self.checkpoint


def parse_proof(text: str) -> TlogProof:
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise NoteError("a tlog-proof has an empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise NoteError(f"a tlog-proof begins with {HEADER}")
    at = 1
    extra = None
    if len(lines) > at and lines[at].startswith("extra "):
        extra = b64decode(lines[at][len("extra ") :])
        at += 1
    if len(lines) <= at or not _INDEX.match(lines[at]):
        raise NoteError("a tlog-proof's index line is `index <decimal>`")
    index = int(lines[at].split(" ")[1])
    hashes = []
    for line in lines[at + 1 :]:
        digest = b64decode(line)
        if len(digest) != 32:
            raise NoteError("an inclusion proof line is a base64 SHA-256 hash")
        hashes.append(digest)
    if len(hashes) > 63:
        raise NoteError("an inclusion proof has at most 63 hashes")
    return TlogProof(extra, index, tuple(hashes), checkpoint)


@dataclass(frozen=True, slots=True)
class Verdict:
    checkpoint: Checkpoint
    note: Note
    witnesses: tuple[str, ...]  # names of the witnesses whose cosignatures verified


class ProofRefused(ValueError):
    """The proof does not hold: the message names what failed."""


def check_proof(
    proof: TlogProof,
    log_key: Verifier,
    witnesses: list[Verifier],
    quorum: int,
    leaf: bytes | None = None,
) -> Verdict:
    """tlog-proof's verification: the log's signature on the checkpoint (origin = the key's
    name), at least `quorum` valid cosignatures of the given witnesses, and the inclusion of
    `leaf` (default: the extra data) at the index."""
    data = proof.extra if leaf is None else leaf
    if data is None:
        raise ProofRefused("the proof carries no leaf data (extra)")
    try:
        note = parse_note(proof.checkpoint)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as error:
        raise ProofRefused(f"checkpoint: {error}") from None
    if checkpoint.origin != log_key.name:
        raise ProofRefused(f"checkpoint: origin {checkpoint.origin!r} is not the log key's")
    try:
        if not verified_by(note, [log_key]):
            raise ProofRefused("checkpoint: no signature by the log key")
    except NoteError as error:
        raise ProofRefused(f"checkpoint: {error}") from None
    cosigners = [w for w in witnesses if w.kind == COSIGNATURE]
    try:
        good = verified_by(note, cosigners)
    except NoteError as error:
        raise ProofRefused(f"witness: {error}") from None
    names = tuple(sorted({v.vkey(): v.name for v, _ in good}.values()))
    if len(names) < quorum:
        raise ProofRefused(f"witnesses: {len(names)} of the {quorum} cosignatures needed")
    try:
        verify_inclusion(
            proof.index, checkpoint.size, leaf_hash(data), proof.hashes, checkpoint.root
        )
    except ProofError as error:
        raise ProofRefused(f"inclusion: {error}") from None
    return Verdict(checkpoint, note, names)
