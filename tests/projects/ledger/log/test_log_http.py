"""The log's public routes as transparency.md says: the checkpoint, the key, tiles and entry
bundles (content types, caching), and an entry's tlog-proof that `linju log verify-proof`
accepts offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from linju.projects.ledger.log import merkle, tiles
from linju.projects.ledger.log.note import open_note, parse_checkpoint, parse_vkey
from linju.projects.ledger.log.services import integrate
from tests.client_support import AppClient
from tests.platform.test_cli import run_linju
from tests.projects.ledger.ledger_support import donate, new_project

IMMUTABLE = "public, max-age=31536000, immutable"


async def test_checkpoint_key_tiles_and_proof(client: AppClient, tmp_path: Path) -> None:
    slug = await new_project("log-http")
    key_answer = await client.get("/log/key")
    assert key_answer.status_code == 200
    assert key_answer.headers["content-type"] == "text/plain; charset=utf-8"
    vkey = key_answer.text
    assert vkey.endswith("\n")
    assert vkey.count("\n") == 1
    key = parse_vkey(vkey)
    assert key.name == "testserver.local/log"
    printed = run_linju("log", "key")  # what `make run` hands its local witness
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == vkey

    empty = await client.get("/log/checkpoint")
    assert parse_checkpoint(open_note(empty.text, [key]).text).size == 0
    for n in range(300):
        await donate(slug, 100 + n, f"h{n}", memo="王阿姨" if n % 2 else "匿名")
    missing = await client.get(f"/api/v1/projects/{slug}/ledger/3/proof")
    assert missing.status_code == 404
    assert missing.headers["retry-after"]
    assert missing.headers["content-type"] == "application/problem+json"
    await integrate(batch=280)

    answer = await client.get("/log/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] in ("max-age=5", "no-cache")
    checkpoint = parse_checkpoint(open_note(answer.text, [key]).text)
    assert (checkpoint.origin, checkpoint.size) == ("testserver.local/log", 300)

    full = await client.get("/log/tile/0/000")
    partial = await client.get("/log/tile/0/001.p/44")
    older = await client.get("/log/tile/0/001.p/24")  # the partial tile of size 280
    level1 = await client.get("/log/tile/1/000.p/1")
    for tile in (full, partial, older, level1):
        assert tile.status_code == 200
        assert tile.headers["content-type"] == "application/octet-stream"
        assert tile.headers["cache-control"] == IMMUTABLE
    assert len(full.content) == 256 * 32
    assert len(partial.content) == 44 * 32
    assert partial.content.startswith(older.content)
    assert level1.content == tiles.hash_from_tile(full.content, 0, 256)
    stored = {(0, 0): full.content, (0, 1): partial.content, (1, 0): level1.content}
    assert merkle.tree_hash(300, tiles.reader_over_tiles(stored)) == checkpoint.root
    bundle = await client.get("/log/tile/entries/001.p/44")
    assert bundle.headers["cache-control"] == IMMUTABLE
    leaves = list(tiles.unbundle(bundle.content))
    assert len(leaves) == 44
    assert [merkle.leaf_hash(leaf) for leaf in leaves] == [
        partial.content[i * 32 : (i + 1) * 32] for i in range(44)
    ]
    for absent in (
        "/log/tile/0/001",
        "/log/tile/0/001.p/45",
        "/log/tile/2/000.p/1",
        "/log/tile/0/2",
        "/log/tile/entries/x000/001",
        "/log/tile/entries/002.p/1",
    ):
        assert (await client.get(absent)).status_code == 404, absent

    proof = await client.get(f"/api/v1/projects/{slug}/ledger/270/proof")
    assert proof.status_code == 200, proof.text
    assert proof.headers["content-type"] == "text/plain; charset=utf-8"
    assert proof.text.startswith("c2sp.org/tlog-proof@v1\nextra ")
    assert "\nindex 269\n" in proof.text
    path = tmp_path / "gift.tlog-proof"
    path.write_text(proof.text, encoding="utf-8")
    key_file = tmp_path / "log.vkey"
    key_file.write_text(vkey, encoding="utf-8")  # as a donor saves /log/key
    checked = run_linju("log", "verify-proof", str(path), "--log-key", str(key_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"OK {slug} #270 donation" in checked.stdout
    assert "log index 269 of 300" in checked.stdout
    tampered = proof.text.replace("\nindex 269\n", "\nindex 268\n")
    path.write_text(tampered, encoding="utf-8")
    refused = run_linju("log", "verify-proof", str(path), "--log-key", vkey.strip())
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "FAILED inclusion" in refused.stdout
    for missing_seq in ("301", "0"):
        gone = await client.get(f"/api/v1/projects/{slug}/ledger/{missing_seq}/proof")
        assert gone.status_code == 404
        assert "retry-after" not in gone.headers
    assert (await client.get("/api/v1/projects/nothing/ledger/1/proof")).status_code == 404
    assert (await client.get(f"/api/v1/projects/{slug}/ledger/¹/proof")).status_code == 400


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--log-key", "nonsense+12345678+AAAA"], "--log-key"),
        (["--log-key", "/no/such/key"], "--log-key"),
    ],
)
def test_verify_proof_refuses_bad_input_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    path = tmp_path / "x.tlog-proof"
    path.write_text("c2sp.org/tlog-proof@v1\n")
    result = run_linju("log", "verify-proof", str(path), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_a_key_that_is_not_the_origins_signs_nothing_and_breaks_no_page(
    client: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linju.platform.settings import get_settings
    from linju.projects.ledger.log.jobs import integrate_job
    from linju.projects.ledger.log.note import ED25519, new_signer
    from linju.projects.ledger.log.tables import LogCheckpoint

    slug = await new_project("log-wrong-key")
    await donate(slug, 100, "k0")
    other = new_signer("elsewhere.example/log", ED25519, bytes(32))
    monkeypatch.setenv("LINJU_LOG_KEY", other.skey())
    get_settings.cache_clear()
    try:
        for path in ("/log/key", "/log/checkpoint"):
            answer = await client.get(path)
            assert answer.status_code == 503, path
        page = await client.get(f"/p/{slug}/ledger")
        assert page.status_code == 200
        assert 'data-testid="log-box"' not in page.text
        await integrate_job({}, None)  # type: ignore[arg-type]  # logs, signs nothing, raises nothing
        assert await LogCheckpoint.count() == 0
    finally:
        monkeypatch.delenv("LINJU_LOG_KEY")
        get_settings.cache_clear()
    assert (await client.get("/log/key")).status_code == 200
