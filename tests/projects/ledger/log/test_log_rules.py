"""The transparency log's pure core against published vectors (RFC 6962's reference tree as
used by transparency-dev's and Go's tlog tests; C2SP signed-note's example; Go note's key
example) and hypothesis properties: every proof verifies, any flipped bit fails."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linju.projects.ledger.format import entry_hash
from linju.projects.ledger.log import merkle, note, proof, rules, tiles
from linju.projects.ledger.log.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    reader_over_leaves,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962's reference leaves and roots (certificate-transparency, reused by transparency-dev)
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]
READ = reader_over_leaves(HASHES)


def _hex(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_the_reference_roots() -> None:
    assert tree_hash(0, READ) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    for size, root in enumerate(ROOTS, start=1):
        assert tree_hash(size, READ).hex() == root


def test_the_reference_inclusion_proofs() -> None:
    assert _hex(inclusion_proof(0, 8, READ)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert _hex(inclusion_proof(5, 8, READ)) == [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert inclusion_proof(0, 1, READ) == []


def test_the_reference_consistency_proofs() -> None:
    assert _hex(consistency_proof(1, 8, READ)) == [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]
    assert _hex(consistency_proof(6, 8, READ)) == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert _hex(consistency_proof(2, 5, READ)) == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


_TREE = _leaves(1000)
_TREE_READ = reader_over_leaves(_TREE)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 1000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    size, index = case
    root = tree_hash(size, _TREE_READ)
    path = inclusion_proof(index, size, _TREE_READ)
    verify_inclusion(index, size, _TREE[index], path, root)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 1000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.integers(0, 1 << 16),
    st.sampled_from(["leaf", "root", "proof"]),
)
def test_any_change_to_an_inclusion_proof_fails(case: tuple[int, int], bit: int, part: str) -> None:
    size, index = case
    root = tree_hash(size, _TREE_READ)
    path = inclusion_proof(index, size, _TREE_READ)
    leaf = _TREE[index]
    if part == "leaf":
        leaf = _flip(leaf, bit)
    elif part == "root":
        root = _flip(root, bit)
    elif not path:
        path = [bytes(32)]  # a proof where none belongs
    else:
        at = bit % len(path)
        path[at] = _flip(path[at], bit)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, path, root)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 1000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_every_consistency_proof_verifies(sizes: tuple[int, int]) -> None:
    old, new = sizes
    path = consistency_proof(old, new, _TREE_READ)
    verify_consistency(old, new, tree_hash(old, _TREE_READ), tree_hash(new, _TREE_READ), path)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 1000).flatmap(lambda n: st.tuples(st.integers(1, n - 1), st.just(n))),
    st.integers(0, 1 << 16),
    st.sampled_from(["old", "new", "proof"]),
)
def test_any_flipped_bit_in_a_consistency_proof_fails(
    sizes: tuple[int, int], bit: int, part: str
) -> None:
    old, new = sizes
    old_root, new_root = tree_hash(old, _TREE_READ), tree_hash(new, _TREE_READ)
    path = consistency_proof(old, new, _TREE_READ)
    if part == "old":
        old_root = _flip(old_root, bit)
    elif part == "new":
        new_root = _flip(new_root, bit)
    else:
        at = bit % len(path)
        path[at] = _flip(path[at], bit)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, path)


def test_a_consistency_proof_for_the_same_size_holds_only_for_the_same_root() -> None:
    verify_consistency(5, 5, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[4]), [])
    with pytest.raises(ProofError):
        verify_consistency(5, 5, bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[3]), [])
    with pytest.raises(ProofError):
        verify_consistency(0, 5, EMPTY_ROOT, bytes.fromhex(ROOTS[4]), [bytes(32)])


# tlog-tiles


def test_tile_paths_as_the_spec_writes_them() -> None:
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(0) == "000"
    assert tiles.encode_index(1000) == "x001/000"
    assert tiles.Tile(0, 1234067, 256).path() == "tile/0/x001/x234/067"
    assert tiles.Tile(2, 5, 17).path() == "tile/2/005.p/17"
    assert tiles.Tile(-1, 3, 256).path() == "tile/entries/003"
    assert tiles.parse_path("tile/entries/x001/x234/067.p/9") == tiles.Tile(-1, 1234067, 9)
    for bad in [
        "tile/0/5",
        "tile/0/x000/005",
        "tile/64/000",
        "tile/01/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/0/001/002",
        "tile/x/000",
        "tile/0",
    ]:
        with pytest.raises(tiles.TilePathError):
            tiles.parse_path(bad)


def test_the_tiles_of_a_tree_of_70000_as_the_spec_counts_them() -> None:
    edge = tiles.tiles_for_size(70000)
    assert edge == [tiles.Tile(0, 273, 112), tiles.Tile(1, 1, 17), tiles.Tile(2, 0, 1)]
    assert [tiles.width_at(0, i, 70000) for i in (272, 273, 274)] == [256, 112, 0]
    assert tiles.tiles_for_size(256) == [tiles.Tile(0, 0, 256), tiles.Tile(1, 0, 1)]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1200), st.integers(0, 1200))
def test_a_tile_tree_grown_in_batches_gives_the_same_roots_and_proofs(a: int, b: int) -> None:
    """Grow a TileTree in two batches, store what it says changed, then compute roots and
    proofs from the stored tiles alone: the same as from the leaves."""
    leaves = _leaves(a + b)
    stored: dict[tuple[int, int], bytes] = {}
    tree = tiles.TileTree(0, {})
    for leaf in leaves[:a]:
        tree.append(leaf)
    stored.update(tree.take_changed())
    right = {level: data for (level, _), data in tree.right_edge().items()}
    tree = tiles.TileTree(a, right)
    for leaf in leaves[a:]:
        tree.append(leaf)
    stored.update(tree.take_changed())
    for key, data in stored.items():  # each tile holds what tlog-tiles says
        level, index = key
        assert len(data) == tiles.width_at(level, index, a + b) * 32
    read = tiles.reader_over_tiles(stored)
    truth = reader_over_leaves(leaves)
    size = a + b
    assert tree_hash(size, read) == tree_hash(size, truth)
    assert tree_hash(a, read) == tree_hash(a, truth)
    assert tree_hash(size, tiles.reader_over_tiles(tree.right_edge())) == tree_hash(size, truth)
    assert consistency_proof(a, size, read) == consistency_proof(a, size, truth)
    if size:
        assert inclusion_proof(size // 3, size, read) == inclusion_proof(size // 3, size, truth)
        needed = merkle.needed_hashes(lambda r: inclusion_proof(size // 3, size, r))
        only = {k: stored[k] for k in tiles.tiles_needed(needed)}
        assert inclusion_proof(size // 3, size, tiles.reader_over_tiles(only)) == (
            inclusion_proof(size // 3, size, truth)
        )


def test_entry_bundles() -> None:
    data = tiles.bundle([b"", b"ab", "王".encode()])
    assert data == b"\x00\x00\x00\x02ab\x00\x03" + "王".encode()
    assert list(tiles.unbundle(data)) == [b"", b"ab", "王".encode()]
    with pytest.raises(ValueError, match="ends inside"):
        list(tiles.unbundle(data[:-1]))
    with pytest.raises(ValueError, match="65,535"):
        tiles.bundle([bytes(65536)])


# signed notes


EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZX"
    "sYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_signed_note_example_of_the_spec() -> None:
    verifier = note.parse_vkey(EXAMPLE_VKEY)
    assert verifier.key_id == 0x530D903A
    assert verifier.vkey() == EXAMPLE_VKEY
    opened = note.open_note(EXAMPLE_NOTE, [verifier])
    assert opened.text == "This is an example message.\n"
    assert opened.render() == EXAMPLE_NOTE
    tampered = EXAMPLE_NOTE.replace("example message", "exemple message")
    with pytest.raises(note.BadSignature):
        note.open_note(tampered, [verifier])
    with pytest.raises(note.UnverifiedNote):  # an unknown key is ignored, so nothing verifies
        note.open_note(EXAMPLE_NOTE, [note.Verifier("example.com/bar", 1, verifier.public)])


def test_the_go_note_key_example() -> None:
    """Go's note package documents this signer and verifier pair."""
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    signer = note.parse_skey(skey)
    assert signer.skey() == skey
    assert (
        signer.verifier.vkey()
        == "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    )
    for bad in [
        skey.replace("c74f20a3", "c74f20a4"),
        skey.replace("PRIVATE", "PUBLIC"),
        "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr",
    ]:
        with pytest.raises(note.NoteError):
            note.parse_skey(bad)


SEED = bytes(range(32))


def test_a_checkpoint_signed_and_cosigned() -> None:
    log = note.new_signer("linju.example/log", note.ED25519, SEED)
    witness = note.new_signer("witness.example/w1", note.COSIGNATURE, bytes(reversed(SEED)))
    checkpoint = note.Checkpoint("linju.example/log", 3, bytes(range(32)))
    text = checkpoint.text()
    assert text == "linju.example/log\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
    signed = text + "\n" + log.sign(text) + witness.cosign(text, 1679315147)
    parsed = note.parse_note(signed)
    assert note.parse_checkpoint(parsed.text) == checkpoint
    good = note.verified_by(parsed, [log.verifier, witness.verifier])
    assert [v.name for v, _ in good] == ["linju.example/log", "witness.example/w1"]
    assert note.cosignature_time(good[1][1]) == 1679315147
    assert base64.b64decode(witness.verifier.vkey().split("+", 2)[2])[0] == 0x04
    # the cosignature signs `cosignature/v1`, the time and the body: another time fails
    raw = parsed.signatures[1].signature
    moved = note.Signature(
        parsed.signatures[1].name,
        parsed.signatures[1].key_id,
        (1679315148).to_bytes(8, "big") + raw[8:],
    )
    assert not witness.verifier.verify(parsed.text, moved.signature)
    # a plain Ed25519 key and a cosignature key of the same seed have different IDs
    same = note.new_signer("witness.example/w1", note.ED25519, bytes(reversed(SEED)))
    assert same.verifier.key_id != witness.verifier.key_id


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 1 << 20))
def test_any_flipped_bit_in_a_signed_checkpoint_fails(bit: int) -> None:
    log = note.new_signer("linju.example/log", note.ED25519, SEED)
    text = note.Checkpoint("linju.example/log", 7, bytes(32)).text()
    line = log.sign(text)
    raw = base64.b64decode(line.split(" ")[2])
    flipped = _flip(raw, bit)
    signed = text + "\n" + f"— linju.example/log {base64.b64encode(flipped).decode()}\n"
    with pytest.raises(note.NoteError):
        note.open_note(signed, [log.verifier])
    flipped_text = _flip(text.encode(), bit).decode("utf-8", "replace")
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(note.open_note(flipped_text + "\n" + line, [log.verifier]).text)


def test_malformed_notes_and_checkpoints() -> None:
    for bad in [
        "no signatures\n",
        "text\n\n— name\n",
        "text\n\n- name AAAAAAA=\n",
        "te\x01xt\n\n— name AAAAAAA=\n",
        "text\n\n— name AAAA\n",
    ]:
        with pytest.raises(note.NoteError):
            note.parse_note(bad)
    for bad in [
        "o\n01\nAAAA\n",
        "o\n1\n" + "A" * 44 + "\n",
        "o\n1\n",
        "o\n1\nx\next\n",
        "\n1\nx\n",
    ]:
        with pytest.raises(note.NoteError):
            note.parse_checkpoint(bad)


# tlog-proof


def test_a_tlog_proof_written_read_and_checked() -> None:
    log = note.new_signer("linju.example/log", note.ED25519, SEED)
    w1 = note.new_signer("w1.example", note.COSIGNATURE, bytes(32))
    w2 = note.new_signer("w2.example", note.COSIGNATURE, bytes([1]) * 32)
    root = tree_hash(8, READ)
    text = note.Checkpoint("linju.example/log", 8, root).text()
    signed = text + "\n" + log.sign(text) + w1.cosign(text, 100) + w2.cosign(text, 101)
    made = proof.TlogProof(LEAVES[5], 5, tuple(inclusion_proof(5, 8, READ)), signed)
    rendered = made.render()
    assert rendered.startswith(
        "c2sp.org/tlog-proof@v1\nextra UFFSU1RVVldYWVpbXF1eXw==\n".replace(
            "UFFSU1RVVldYWVpbXF1eXw==", base64.b64encode(LEAVES[5]).decode()
        )
        + "index 5\n"
    )
    assert "\n\nlinju.example/log\n8\n" in rendered
    parsed = proof.parse_proof(rendered)
    assert parsed == made
    verdict = proof.check_proof(parsed, log.verifier, [w1.verifier, w2.verifier], 2)
    assert verdict.witnesses == ("w1.example", "w2.example")
    assert verdict.checkpoint.size == 8
    with pytest.raises(proof.ProofRefused, match="witnesses"):
        proof.check_proof(
            parsed, log.verifier, [w1.verifier, note.new_signer("w3", 4, SEED).verifier], 2
        )
    with pytest.raises(proof.ProofRefused, match="inclusion"):
        proof.check_proof(parsed, log.verifier, [], 0, leaf=LEAVES[4])
    other = note.new_signer("linju.example/log", note.ED25519, bytes(32))
    with pytest.raises(proof.ProofRefused, match="checkpoint"):
        proof.check_proof(parsed, other.verifier, [], 0)


def test_leaf_data_is_the_canonical_entry_with_its_hash() -> None:
    entry = {"project": "p", "seq": 1, "memo": "王阿姨", "hash": "ab"}
    assert rules.leaf_data(entry) == '{"hash":"ab","memo":"王阿姨","project":"p","seq":1}'.encode()
    with pytest.raises(rules.LeafTooLong):
        rules.leaf_data({"memo": "x" * 70000})
    assert rules.origin_from_base_url("http://127.0.0.1:8000") == "127.0.0.1:8000/log"
    assert rules.origin_from_base_url("https://linju.example/city/") == "linju.example/city/log"

    def hashed(entry: dict[str, object]) -> dict[str, object]:
        return {**entry, "hash": entry_hash(entry)}

    first = hashed({"seq": 1, "prev": "0" * 64})
    assert rules.continues(first, 0, None) is None
    assert rules.continues(hashed({"seq": 2, "prev": "aa"}), 1, "aa") is None
    assert rules.continues(hashed({"seq": 2, "prev": "bb"}), 1, "aa") is not None
    assert rules.continues(hashed({"seq": 3, "prev": "aa"}), 1, "aa") is not None
    altered = {**hashed({"seq": 2, "prev": "aa", "memo": "王"}), "memo": "李"}
    assert rules.continues(altered, 1, "aa") == "the hash of seq 2 is not the hash of its content"


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from('"\\/\x00'),
    max_size=30,
)
_ENTRY = st.fixed_dictionaries(
    {
        "project": st.sampled_from(["p", "wang-ayi"]),
        "seq": st.integers(1, 4),
        "at": st.sampled_from(["2026-11-28T00:00:00.000000Z", 'x"y', "", "\\"]),
        "kind": st.sampled_from(["donation", "fee"]),
        "memo": _TEXT | st.just("x" * 70_000),
        "ref": _TEXT,
        "postings": st.lists(
            st.fixed_dictionaries(
                {
                    "account": _TEXT,
                    # beyond 64 bits orjson refuses: the definition (json.dumps) decides
                    "amount": st.integers(-(2**70), 2**70),
                    "currency": st.sampled_from(["CNY", "USD"]),
                }
            ),
            max_size=3,
        ),
        "prev": st.sampled_from(["0" * 64, "a" * 64, "b" * 64]),
    }
)


@given(entry=_ENTRY, last_seq=st.integers(0, 3), last=st.sampled_from(["a" * 64, "b" * 64]))
@settings(max_examples=400, deadline=None)
def test_checked_leaf_answers_what_continues_and_leaf_data_answer(
    entry: dict[str, object], last_seq: int, last: str
) -> None:
    """The integrator's one-pass check gives the very bytes and reasons of the definitions:
    right and wrong seq and prev, a hash that is or is not the content's, values orjson
    refuses, quotes and backslashes where the hash member is set in, leaves over 65,535 bytes."""
    for digest in (entry_hash(entry), "c" * 64, entry_hash(entry).upper()):
        whole = {**entry, "hash": digest}
        try:
            expected: tuple[bytes | None, str | None] = (rules.leaf_data(whole), None)
            why = rules.continues(whole, last_seq, last)
            if why is not None:
                expected = (None, why)
        except rules.LeafTooLong as error:
            expected = (None, str(error))
        assert rules.checked_leaf(entry, digest, last_seq, last) == expected
