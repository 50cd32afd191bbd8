"""A witness (C2SP tlog-witness): `linju witness serve` runs it, `linju witness keygen` makes
its key. It trusts the logs whose verifier keys it is given, keeps the latest checkpoint it
cosigned for each origin in its own SQLite file, and checks-and-stores atomically: the check of
the old size and the store of the new checkpoint happen in one IMMEDIATE transaction, which
SQLite serialises across threads and processes.

`add_checkpoint` is the protocol; the HTTP app around it is a few lines.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar, post
from litestar.response import Response

from linju.projects.ledger.log import merkle
from linju.projects.ledger.log.merkle import EMPTY_ROOT, ProofError
from linju.projects.ledger.log.note import (
    NoteError,
    Signer,
    Verifier,
    b64decode,
    parse_checkpoint,
    parse_note,
    verified_by,
)

SIZE_MEDIA_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"^old (0|[1-9][0-9]{0,18})$")
MAX_BODY = 1 << 20

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS checkpoint ("
    "origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, body TEXT NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    media_type: str = "text/plain; charset=utf-8"


def open_state(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(SCHEMA)
    return connection


def add_checkpoint(
    request: bytes,
    state: sqlite3.Connection,
    logs: list[Verifier],
    signer: Signer,
    now: Callable[[], int] = lambda: int(time.time()),
) -> Answer:
    """tlog-witness's add-checkpoint, every status code it defines."""
    if len(request) > MAX_BODY:
        return Answer(400, "request too large\n")
    try:
        text = request.decode("utf-8")
    except UnicodeDecodeError:
        return Answer(400, "not UTF-8\n")
    head, sep, message = text.partition("\n\n")
    if not sep:
        return Answer(400, "no empty line before the checkpoint\n")
    lines = head.split("\n")
    match = _OLD.match(lines[0])
    if match is None:
        return Answer(400, "the first line is `old <size>`\n")
    old = int(match.group(1))
    if len(lines) - 1 > 63:
        return Answer(400, "more than 63 consistency proof lines\n")
    try:
        proof = [b64decode(line) for line in lines[1:]]
        note = parse_note(message)
    except NoteError as error:
        return Answer(400, f"{error}\n")
    if any(len(h) != 32 for h in proof):
        return Answer(400, "a proof line is not a SHA-256 hash\n")
    origin = note.text.split("\n", 1)[0]
    trusted = [key for key in logs if key.name == origin]
    if not trusted:
        return Answer(404, "unknown log\n")
    try:
        if not verified_by(note, trusted):
            return Answer(403, "no signature by a key trusted for this log\n")
    except NoteError:
        return Answer(403, "a signature by a trusted key does not verify\n")
    try:
        checkpoint = parse_checkpoint(note.text, extensions=True)
    except NoteError as error:
        return Answer(400, f"{error}\n")
    if old > checkpoint.size:
        return Answer(400, "the old size is larger than the checkpoint's\n")
    state.execute("BEGIN IMMEDIATE")
    try:
        row = state.execute(
            "SELECT size, root FROM checkpoint WHERE origin = ?", (origin,)
        ).fetchone()
        stored_size, stored_root = (int(row[0]), bytes(row[1])) if row else (0, EMPTY_ROOT)
        if old != stored_size:
            state.execute("ROLLBACK")
            return Answer(409, f"{stored_size}\n", SIZE_MEDIA_TYPE)
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            state.execute("ROLLBACK")
            return Answer(422, "an empty tree has the empty root\n")
        try:
            if old == 0:
                if proof:
                    raise ProofError("a proof from size 0 must be empty")
            else:
                merkle.verify_consistency(old, checkpoint.size, stored_root, checkpoint.root, proof)
        except ProofError as error:
            state.execute("ROLLBACK")
            return Answer(422, f"{error}\n")
        state.execute(
            "INSERT INTO checkpoint (origin, size, root, body) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "body = excluded.body",
            (origin, checkpoint.size, checkpoint.root, message),
        )
        line = signer.cosign(note.text, now())
        state.execute("COMMIT")
    except BaseException:
        if state.in_transaction:
            state.execute("ROLLBACK")
        raise
    return Answer(200, line)


def create_witness_app(state_path: Path, logs: list[Verifier], signer: Signer) -> Litestar:
    """The witness's HTTP app: `POST /add-checkpoint` and nothing else."""
    with closing(open_state(state_path)):
        pass

    @post("/add-checkpoint", sync_to_thread=True)
    def add(body: bytes) -> Response[str]:
        with closing(open_state(state_path)) as state:
            answer = add_checkpoint(body, state, logs, signer)
        return Response(answer.body, status_code=answer.status, media_type=answer.media_type)

    return Litestar(route_handlers=[add], openapi_config=None)
