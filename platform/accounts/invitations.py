"""Admin use cases: invite a secretary or a committee member.

An invitation creates the account (or adds the role to an existing one) and, for an account
without a password yet, mails a single-use link to choose one: the reset mechanism with a longer
lifetime. The mail leaves after the transaction commits, so no mail points at a rolled-back row.
"""

from __future__ import annotations

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.login import issue_password_token, send_password_mail
from linju.platform.accounts.services import NewAccount, create_account
from linju.platform.accounts.tables import Account
from linju.platform.db import write_transaction


async def invite(actor: Actor, new: NewAccount, locale: str) -> int:
    token: str | None = None
    async with write_transaction():
        account_id = await create_account(actor, new)
        row = await Account.select(Account.password_hash).where(Account.id == account_id).first()
        if row is not None and not row["password_hash"]:
            token = await issue_password_token(account_id, "invite")
        await record_audit(
            actor,
            "account.invite",
            "account",
            account_id,
            after={
                "email": new.email.strip().lower(),
                "role": new.role.value,
                "community": new.community_slug,
                "project": new.project_slug,
            },
        )
    if token is not None:
        await send_password_mail(new.email.strip().lower(), token, "invite", locale)
    return account_id
