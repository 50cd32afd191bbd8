"""Admin use cases: invite a secretary or a committee member, create a community.

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
from linju.projects.core.services.communities import create_community


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


async def create_community_audited(
    actor: Actor, slug: str, name: str, district: str, description: str = ""
) -> int:
    async with write_transaction():
        community_id = await create_community(slug, name, district, description)
        await record_audit(
            actor,
            "community.create",
            "community",
            community_id,
            after={"slug": slug, "name": name.strip(), "district": district.strip()},
        )
    return community_id
