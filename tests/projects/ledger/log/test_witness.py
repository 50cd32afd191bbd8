"""The witness (C2SP tlog-witness add-checkpoint): every status code it defines, the
cosignature it returns, and its check-and-store holding under requests racing from threads."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from linju.projects.ledger.log import merkle
from linju.projects.ledger.log.note import (
    COSIGNATURE,
    ED25519,
    Checkpoint,
    Signer,
    b64,
    new_signer,
    parse_note,
    verified_by,
)
from linju.projects.ledger.log.witness import SIZE_MEDIA_TYPE, add_checkpoint, open_state

LOG = new_signer("linju.example/log", ED25519, bytes(range(32)))
OTHER = new_signer("linju.example/log", ED25519, bytes(32))
WITNESS = new_signer("witness.example/w1", COSIGNATURE, bytes([7]) * 32)
LEAVES = [merkle.leaf_hash(str(n).encode()) for n in range(40)]
READ = merkle.reader_over_leaves(LEAVES)


def signed(size: int, signer: Signer = LOG, root: bytes | None = None) -> str:
    root = merkle.tree_hash(size, READ) if root is None else root
    text = Checkpoint("linju.example/log", size, root).text()
    return text + "\n" + signer.sign(text)


def request(
    old: int, size: int, checkpoint: str | None = None, proof: list[bytes] | None = None
) -> bytes:
    hashes = merkle.consistency_proof(old, size, READ) if proof is None else proof
    lines = [f"old {old}", *(b64(h) for h in hashes)]
    return ("\n".join(lines) + "\n\n" + (checkpoint or signed(size))).encode()


def test_every_status_code(tmp_path: Path) -> None:
    state = open_state(tmp_path / "witness.db")
    logs = [LOG.verifier]

    def ask(body: bytes) -> tuple[int, str, str]:
        answer = add_checkpoint(body, state, logs, WITNESS, now=lambda: 1_700_000_000)
        return answer.status, answer.body, answer.media_type

    first = ask(request(0, 10))
    assert first[0] == 200
    note = parse_note(signed(10).split("\n\n")[0] + "\n\n" + first[1])
    [(_verifier, signature)] = verified_by(note, [WITNESS.verifier])
    assert signature.signature[:8] == (1_700_000_000).to_bytes(8, "big")
    assert first[1].startswith("— witness.example/w1 ")
    assert first[1].endswith("\n")

    unknown = signed(12).replace("linju.example/log", "other.example/log")
    assert ask(request(10, 12, unknown))[0] == 404
    assert ask(request(10, 12, signed(12, OTHER)))[0] == 403  # no trusted signature
    forged = (
        signed(12).rsplit(" ", 1)[0]
        + " "
        + base64.b64encode(LOG.verifier.key_id.to_bytes(4, "big") + bytes(64)).decode()
        + "\n"
    )
    assert ask(request(10, 12, forged))[0] == 403  # a trusted key's signature fails
    assert ask(request(13, 12, proof=[]))[0] == 400  # old size above the checkpoint's
    assert ask(b"old 01\n\n" + signed(12).encode())[0] == 400
    stale = ask(request(4, 12))
    assert stale == (409, "10\n", SIZE_MEDIA_TYPE)
    assert ask(request(10, 12, proof=[bytes(32)]))[0] == 422  # a bad consistency proof
    assert ask(request(10, 10, signed(10, root=bytes(32)), proof=[]))[0] == 422  # same size
    assert ask(request(0, 0, signed(0, root=bytes(32)), proof=[]))[0] in (409, 422)
    # nothing above moved the witness: it still holds 10, and cosigns what extends it
    assert ask(request(10, 25))[0] == 200
    assert ask(request(10, 30))[:2] == (409, "25\n")
    assert ask(request(25, 30))[0] == 200


def test_an_empty_tree_must_have_the_empty_root(tmp_path: Path) -> None:
    state = open_state(tmp_path / "w.db")
    bad = add_checkpoint(
        request(0, 0, signed(0, root=bytes(32)), proof=[]), state, [LOG.verifier], WITNESS
    )
    assert bad.status == 422
    assert add_checkpoint(request(0, 0), state, [LOG.verifier], WITNESS).status == 200
    from_zero = add_checkpoint(request(0, 5, proof=[bytes(32)]), state, [LOG.verifier], WITNESS)
    assert from_zero.status == 422  # a proof from size 0 must be empty


def test_racing_submissions_never_roll_the_witness_back(tmp_path: Path) -> None:
    """Forty threads, each with its own connection, submit sizes from old size 0..39: the
    witness's check-and-store is one IMMEDIATE transaction, so exactly the chain of sizes that
    each extended the one stored before is cosigned, and the stored size only grows."""
    path = tmp_path / "race.db"
    open_state(path).close()
    results: dict[int, int] = {}

    def submit(size: int) -> None:
        state = open_state(path)
        try:
            old = size - 1
            results[size] = add_checkpoint(
                request(old, size), state, [LOG.verifier], WITNESS
            ).status
        finally:
            state.close()

    threads = [threading.Thread(target=submit, args=(size,)) for size in range(1, 40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    state = open_state(path)
    stored = state.execute("SELECT size FROM checkpoint").fetchone()[0]
    accepted = sorted(size for size, status in results.items() if status == 200)
    assert set(results.values()) <= {200, 409}
    # each accepted size extended the previous one accepted, starting from 1
    assert accepted == list(range(1, len(accepted) + 1))
    assert stored == accepted[-1]


@pytest.mark.parametrize("body", [b"", b"old 1", b"\xff\xfe", b"old 0\nnot base64!\n\nx\n"])
def test_malformed_requests_are_400(tmp_path: Path, body: bytes) -> None:
    state = open_state(tmp_path / "w.db")
    assert add_checkpoint(body, state, [LOG.verifier], WITNESS).status == 400


def test_extension_lines_are_cosigned_with_the_rest(tmp_path: Path) -> None:
    """tlog-checkpoint allows extension lines; the cosignature covers the whole note text."""
    state = open_state(tmp_path / "w.db")
    text = Checkpoint("linju.example/log", 3, merkle.tree_hash(3, READ)).text() + "ext line\n"
    body = f"old 0\n\n{text}\n{LOG.sign(text)}".encode()
    answer = add_checkpoint(body, state, [LOG.verifier], WITNESS)
    assert answer.status == 200
    [(_, signature)] = verified_by(parse_note(text + "\n" + answer.body), [WITNESS.verifier])
    assert signature.name == "witness.example/w1"
