"""`linju ledger verify` and `linju ledger export`, run as the installed program."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import asyncpg
import pytest

from linju.projects.demo import load_demo
from tests.platform.test_cli import run_linju
from tests.projects.ledger.ledger_support import donate, new_project

DEMO_SLUGS = ("tongqu-leyuan", "yuelanshi", "wuding-huayuan")


@pytest.fixture
async def demo_db(db: str) -> str:
    assert await load_demo()
    return db


@pytest.mark.usefixtures("demo_db")
def test_every_demo_project_verifies() -> None:
    result = run_linju("ledger", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == list(DEMO_SLUGS)
    assert all(": OK, " in line and " head seq " in line for line in lines)


@pytest.mark.usefixtures("demo_db")
def test_verify_names_projects_and_refuses_unknown_ones() -> None:
    result = run_linju("ledger", "verify", "yuelanshi")
    assert result.returncode == 0
    assert result.stdout.startswith("yuelanshi: OK, 5 entries, head seq 5 hash ")
    unknown = run_linju("ledger", "verify", "yuelanshi", "no-such")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == ["linju: no project no-such"]


@pytest.mark.usefixtures("demo_db")
def test_export_then_verify_the_file_offline(tmp_path: Path) -> None:
    target = tmp_path / "garden.jsonl"
    exported = run_linju("ledger", "export", "wuding-huayuan", "--output", str(target))
    assert exported.returncode == 0, exported.stderr
    entries = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    kinds = {entry["kind"] for entry in entries}
    assert {"donation", "fee", "matching", "offline_donation", "expenditure"} <= kinds
    # The file alone is enough: no database is reachable for this run.
    offline = run_linju(
        "ledger",
        "verify",
        "--file",
        str(target),
        env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nowhere"},
    )
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.strip() == (
        f"{target}: OK, {len(entries)} entries, head seq {len(entries)} hash {entries[-1]['hash']}"
    )
    # Standard output carries the same bytes.
    assert run_linju("ledger", "export", "wuding-huayuan").stdout == target.read_text("utf-8")


@pytest.mark.usefixtures("demo_db")
def test_export_csv_to_stdout() -> None:
    result = run_linju("ledger", "export", "tongqu-leyuan", "--format", "csv")
    assert result.returncode == 0
    assert result.stdout.startswith("\ufeffseq,at,kind,memo,ref,account,")
    assert "sponsor:qu-fulian" in result.stdout
    assert "区妇联配捐" in result.stdout


@pytest.mark.usefixtures("demo_db")
def test_a_tampered_file_fails_at_the_right_seq(tmp_path: Path) -> None:
    target = tmp_path / "playground.jsonl"
    assert run_linju("ledger", "export", "tongqu-leyuan", "--output", str(target)).returncode == 0
    lines = target.read_text("utf-8").splitlines()
    entry = json.loads(lines[3])
    entry["postings"][0]["amount"] += 100
    entry["postings"][1]["amount"] -= 100
    lines[3] = json.dumps(entry, ensure_ascii=False)
    target.write_text("\n".join(lines) + "\n", "utf-8")
    result = run_linju("ledger", "verify", "--file", str(target))
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{target}: BROKEN at line 4, seq 4: "
        "hash does not match the entry's canonical bytes (the entry was altered)"
    )


def test_a_malformed_file_names_the_line(tmp_path: Path) -> None:
    target = tmp_path / "bad.jsonl"
    target.write_text('{"seq": 1}\nnot json\n', "utf-8")
    result = run_linju("ledger", "verify", "--file", str(target))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{target}: BROKEN at line 1")
    target.write_text("{oops\n", "utf-8")
    result = run_linju("ledger", "verify", "--file", str(target))
    assert result.returncode == 1
    assert "line 1: not a JSON object" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("ledger", "verify", "--file", "/no/such/file.jsonl"),
        ("ledger", "verify", "--file", "x.jsonl", "some-project"),
        ("ledger", "export"),
        ("ledger", "export", "x", "--format", "xml"),
    ],
)
def test_bad_usage_is_exit_2_with_one_line(args: tuple[str, ...]) -> None:
    result = run_linju(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("linju: ")


@pytest.mark.usefixtures("db")
def test_export_of_an_unknown_project_is_exit_2() -> None:
    result = run_linju("ledger", "export", "no-such")
    assert result.returncode == 2
    assert result.stderr.strip() == "linju: No project no-such"


async def _tamper_with_memo(slug: str, seq: int, memo: str) -> None:
    """What only an attacker with the database's superuser could do, past the triggers."""
    url = os.environ["DATABASE_URL"]
    sql = (
        "UPDATE ledger_entry SET memo = $1 WHERE seq = $2 AND project = "
        "(SELECT id FROM project WHERE slug = $3)"
    )
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("SET session_replication_role = replica")
            await connection.execute(sql, memo, seq, slug)
        finally:
            await connection.close()
        return
    path = url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DROP TRIGGER ledger_entry_no_update")
        connection.execute(
            sql.replace("$1", "?").replace("$2", "?").replace("$3", "?"), (memo, seq, slug)
        )


async def test_verify_reports_a_tampered_database_entry(db: str) -> None:
    slug = await new_project("ledger-cli-tamper")
    for index in range(5):
        await donate(slug, 1_000 + index, f"t{index}")
    await _tamper_with_memo(slug, 3, "改过的名字")
    result = run_linju("ledger", "verify", slug)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{slug}: BROKEN at seq 3: "
        "hash does not match the entry's canonical bytes (the entry was altered)"
    )


async def test_verify_reports_a_head_row_that_disagrees_with_its_entries(db: str) -> None:
    slug = await new_project("ledger-cli-head")
    for index in range(3):
        await donate(slug, 1_000, f"h{index}")
    url = os.environ["DATABASE_URL"]
    sql = (
        "UPDATE ledger_head SET raised_fen = raised_fen + 1 WHERE project = "
        f"(SELECT id FROM project WHERE slug = '{slug}')"
    )
    if url.startswith("postgresql"):
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()
    else:
        with (
            closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as sqlite_connection,
            sqlite_connection,
        ):
            sqlite_connection.execute(sql)
    result = run_linju("ledger", "verify", slug)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{slug}: BROKEN at seq 3: head row: raised_fen is 3001, the entries give 3000"
    )
