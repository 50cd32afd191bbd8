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


async def seats_of(slug: str) -> list[dict[str, object]]:
    return list(
        await CommitteeMember.select(CommitteeMember.name, CommitteeMember.account_id)
        .where(CommitteeMember.project.slug == slug)
        .order_by(CommitteeMember.position)
    )


async def test_a_committee_member_never_silently_adds_a_seat_to_a_published_project() -> None:
    """A typo in a name once changed a quorum from 2 of 3 to 3 of 4 (ADR 0022)."""
    await load_demo()
    accounts = await Account.count()  # the demo's stewards
    before = await seats_of("tongqu-leyuan")
    names = [str(seat["name"]) for seat in before]
    typo = names[0][:-1] + "x"
    result = users_create(
        "--email", "typo@example.cn", "--name", typo, "--role", "committee",
        "--project", "tongqu-leyuan",
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"no seat named {typo}" in line
    assert all(name in line for name in names)  # the seats, to see the typo
    assert await seats_of("tongqu-leyuan") == before
    assert await Account.count() == accounts
    # --add-seat to a published project: refused too; seats change by a committee decision.
    result = users_create(
        "--email", "typo@example.cn", "--name", typo, "--role", "committee",
        "--project", "tongqu-leyuan", "--add-seat",
    )  # fmt: skip
    assert result.returncode == 2
    assert "committee decision" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert await seats_of("tongqu-leyuan") == before
    assert await Account.count() == accounts


async def test_add_seat_adds_one_to_a_draft_only() -> None:
    await load_demo()
    sec = users_create(
        "--email", "sec@example.cn", "--name", "李书记", "--role", "secretary",
        "--community", "lvjingyuan",
    )  # fmt: skip
    assert sec.returncode == 0, sec.stderr
    from linju.platform.accounts.audit import COMMAND_LINE
    from linju.projects.core.services.drafting import create_draft, parse_draft_form

    form = {"slug": "reading-corner", "title": "楼道读书角", "goal": "3000"}
    await create_draft(COMMAND_LINE, parse_draft_form(form, "lvjingyuan"))
    refused = users_create(
        "--email", "zhao@example.cn", "--name", "赵老师", "--role", "committee",
        "--project", "reading-corner",
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--add-seat" in refused.stderr
    added = users_create(
        "--email", "zhao@example.cn", "--name", "赵老师", "--role", "committee",
        "--project", "reading-corner", "--add-seat",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    seats = await seats_of("reading-corner")
    assert [seat["name"] for seat in seats] == ["赵老师"]
    assert seats[0]["account_id"] is not None


async def test_running_it_again_for_an_existing_email_adds_the_role_without_a_password() -> None:
    await load_demo()
    accounts = await Account.count()  # the demo's stewards
    names = [str(seat["name"]) for seat in await seats_of("tongqu-leyuan")]
    first = users_create(
        "--email", "Wang@example.cn", "--name", names[0], "--role", "secretary",
        "--community", "lvjingyuan",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    account = await Account.select().where(Account.email == "wang@example.cn").first()
    assert account is not None
    again = users_create(
        "--email", "wang@example.cn", "--name", names[0], "--role", "committee",
        "--project", "tongqu-leyuan", stdin="",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "already existed" in again.stdout
    assert "password unchanged" in again.stdout
    after = await Account.select().where(Account.email == "wang@example.cn").first()
    assert after is not None
    assert after["password_hash"] == account["password_hash"]
    seats = await seats_of("tongqu-leyuan")
    assert seats[0]["account_id"] == account["id"]
    assert await Account.count() == accounts + 1
