"""The host finance role (docs/adr/0030-official-receipts-and-host-finance.md): given by an admin
(the invitation form, `linju users`), taken away by an admin (the people table, `linju users
finance --revoke`), audited; its holder lands on /finance/receipts and the header links it.
Forms are submitted as the pages render them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from linju.platform.accounts.audit import COMMAND_LINE
from linju.platform.accounts.services import set_host_finance
from linju.platform.accounts.tables import Account, AuditRecord
from linju.platform.kernel.errors import ValidationErrors
from tests.accounts_support import PASSWORD, log_in, make_account
from tests.forms import assert_form_refused, submit, submit_shown

Client = Any
LINJU = str(Path(sys.executable).parent / "linju")


async def _holds(email: str) -> bool:
    row = await Account.select(Account.is_host_finance).where(Account.email == email).first()
    assert row is not None
    return bool(row["is_host_finance"])


@pytest.mark.usefixtures("demo")
async def test_an_admin_gives_and_takes_away_the_role(client: Client) -> None:
    admin = await make_account("boss@example.cn", "admin", client=client)
    await log_in(client, admin)
    invited = await submit(
        client,
        "/admin",
        "/admin/invitations",
        {"email": "kuaiji@example.cn", "name": "李会计", "role": "finance"},
    )
    assert invited.status_code == 303, invited.text[:500]
    assert await _holds("kuaiji@example.cn")
    assert await AuditRecord.exists().where(AuditRecord.action == "role.finance.grant")
    page = (await client.get("/admin")).text
    assert "主办方财务" in page

    row = await Account.select(Account.id).where(Account.email == "kuaiji@example.cn").first()
    assert row is not None
    revoked = await submit(client, "/admin", f"form-finance-{row['id']}")
    assert revoked.status_code == 303
    assert not await _holds("kuaiji@example.cn")
    revoke = await AuditRecord.select(AuditRecord.before, AuditRecord.after).where(
        AuditRecord.action == "role.finance.revoke"
    )
    assert revoke == [
        {"before": '{"is_host_finance": true}', "after": '{"is_host_finance": false}'}
    ]
    told = await client.get("/admin")
    assert "kuaiji@example.cn 已不再是主办方财务。" in told.text


@pytest.mark.usefixtures("demo")
async def test_a_refused_change_says_why_on_its_form(client: Client) -> None:
    admin = await make_account("boss@example.cn", "admin", client=client)
    await log_in(client, admin)
    finance = await make_account("kj@example.cn", "finance", client=client)
    shown = await client.get("/admin")
    # Between the page and the press, the account's e-mail changed: nothing is taken away.
    await Account.update({Account.email: "other@example.cn"}).where(Account.id == finance)
    refused = await submit_shown(client, shown.text, f"form-finance-{finance}", page="/admin")
    assert_form_refused(refused, "没有使用这个电子邮箱的账户", status=422)
    assert f'id="form-finance-{finance}-messages"' in refused.text
    assert await _holds("other@example.cn")


@pytest.mark.usefixtures("demo")
async def test_the_holder_lands_on_the_queue_and_others_may_not_give_it(client: Client) -> None:
    await make_account("kj@example.cn", "finance", name="李会计", client=client)
    answer = await submit(
        client, "/login", "/login", {"email": "kj@example.cn", "password": PASSWORD}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/finance/receipts"
    queue = await client.get("/finance/receipts")
    assert queue.status_code == 200
    assert 'href="/finance/receipts"' in queue.text  # the header links the role
    account = await client.get("/account")
    assert 'href="/finance/receipts"' in account.text
    # A finance account is no admin: it cannot give the role.
    refused = await client.post(
        "/admin/finance", data={"email": "kj@example.cn", "holds": "no"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert await _holds("kj@example.cn")


@pytest.mark.usefixtures("db")
async def test_the_service_refuses_an_unknown_e_mail() -> None:
    with pytest.raises(ValidationErrors) as refused:
        await set_host_finance(COMMAND_LINE, "nobody@example.cn", True)
    assert set(refused.value.problems) == {"email"}


def _linju(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINJU, "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
    )


@pytest.mark.usefixtures("db")
async def test_the_command_line_gives_and_takes_it() -> None:
    made = _linju(
        "create",
        "--email",
        "KJ@example.cn",
        "--name",
        "李会计",
        "--role",
        "finance",
        stdin="a long enough password\n",
    )
    assert made.returncode == 0, made.stderr
    assert await _holds("kj@example.cn")
    taken = _linju("finance", "--email", "kj@example.cn", "--revoke")
    assert taken.returncode == 0, taken.stderr
    assert "no longer host finance" in taken.stdout
    assert not await _holds("kj@example.cn")
    given = _linju("finance", "--email", "kj@example.cn")
    assert given.returncode == 0
    assert await _holds("kj@example.cn")
    unknown = _linju("finance", "--email", "nobody@example.cn")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0
    assert "email" in unknown.stderr
    actions = (
        await AuditRecord.select(AuditRecord.action)
        .where(AuditRecord.action.like("role.finance.%"))
        .order_by(AuditRecord.id)
    )
    assert [a["action"] for a in actions] == [  # one per change, none for "already so"
        "role.finance.grant",
        "role.finance.revoke",
        "role.finance.grant",
    ]
