"""`linju users create` (contract.md): roles, password from stdin, exit 2 on bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from linju.platform.accounts.passwords import verify_password
from linju.platform.accounts.tables import Account, AuditRecord, SecretaryRole
from linju.projects.core.tables import CommitteeMember, Community
from linju.projects.demo import load_demo

LINJU = str(Path(sys.executable).parent / "linju")
pytestmark = pytest.mark.usefixtures("db")


def users_create(
    *args: str, stdin: str = "a long enough password\n"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINJU, "users", "create", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


async def test_creates_an_admin_with_the_password_from_stdin() -> None:
    result = users_create("--email", "Boss@Example.cn", "--name", "管理员", "--role", "admin")
    assert result.returncode == 0, result.stderr
    account = await Account.select().where(Account.email == "boss@example.cn").first()
    assert account is not None
    assert account["is_admin"]
    assert await verify_password(account["password_hash"], "a long enough password")
    assert account["password_hash"].startswith("$argon2id$")
    assert await AuditRecord.exists().where(AuditRecord.action == "account.create")


async def test_creates_a_secretary_and_a_committee_member_linked_to_their_seat() -> None:
    await load_demo()
    community = await Community.select(Community.slug).first()
    assert community is not None
    result = users_create(
        "--email",
        "sec@example.cn",
        "--name",
        "李书记",
        "--role",
        "secretary",
        "--community",
        community["slug"],
    )
    assert result.returncode == 0, result.stderr
    assert await SecretaryRole.count() == 1
    seat = await CommitteeMember.select(CommitteeMember.name, CommitteeMember.project.slug).first()
    assert seat is not None
    seats_before = await CommitteeMember.count()
    result = users_create(
        "--email",
        "member@example.cn",
        "--name",
        seat["name"],
        "--role",
        "committee",
        "--project",
        seat["project.slug"],
    )
    assert result.returncode == 0, result.stderr
    assert await CommitteeMember.count() == seats_before  # linked, not added
    linked = (
        await CommitteeMember.select(CommitteeMember.account_id)
        .where(CommitteeMember.name == seat["name"])
        .first()
    )
    assert linked is not None
    assert linked["account_id"] is not None


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["--email", "x@example.cn", "--name", "X", "--role", "secretary"], "long password 1\n"),
        (["--email", "x@example.cn", "--name", "X", "--role", "committee"], "long password 1\n"),
        (["--email", "not-an-email", "--name", "X", "--role", "admin"], "long password 1\n"),
        (["--email", "x@example.cn", "--name", "X", "--role", "admin"], "short\n"),
        (["--email", "x@example.cn", "--name", "X", "--role", "king"], "long password 1\n"),
        (
            [
                "--email",
                "x@example.cn",
                "--name",
                "X",
                "--role",
                "secretary",
                "--community",
                "nowhere",
            ],
            "long password 1\n",
        ),
    ],
)
async def test_bad_input_exits_2_with_one_line_and_creates_nothing(
    args: list[str], stdin: str
) -> None:
    result = users_create(*args, stdin=stdin)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("linju: ")
    assert await Account.count() == 0
