"""Admin use cases: invite a secretary or a committee member.

An invitation creates the account (or adds the role to an existing one) and, for an account
without a password yet, mails a single-use link to choose one: the reset mechanism with a longer
lifetime. The mail is queued in the same transaction (a job sends it), so no mail points at a
rolled-back row and none is lost when the process stops after the commit.
"""

from __future__ import annotations

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.login import issue_password_token, queue_password_mail
from linju.platform.accounts.services import NewAccount, create_account
from linju.platform.accounts.tables import Account
from linju.platform.db import write_transaction


async def invite(actor: Actor, new: NewAccount, locale: str) -> int:
    async with write_transaction():
        account_id = await create_account(actor, new)
        row = await Account.select(Account.password_hash).where(Account.id == account_id).first()
        if row is not None and not row["password_hash"]:
            seed = await issue_password_token(account_id, "invite")
            await queue_password_mail(new.email.strip().lower(), seed, "invite", locale)
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
    return account_id
