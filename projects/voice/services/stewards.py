"""Community stewards: residents the secretary names, so that every "a second person confirms"
of residents' voice has someone other than the secretary (and other than the recorder).

A steward is an account with a row in `community_steward`. Naming someone without an account
creates it without a password and mails the invitation link of the accounts area (the same
single-use link an admin's invitation sends), in the naming's transaction.
"""

from __future__ import annotations

from typing import Any

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.login import issue_password_token, queue_password_mail
from linju.platform.accounts.role_links import RoleLink
from linju.platform.accounts.services import account_problems, normalise_email
from linju.platform.accounts.tables import Account
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, NotFound, ValidationErrors
from linju.projects.voice.services.households import community_row
from linju.projects.voice.tables import CommunitySteward


async def name_steward(
    actor: Actor, community_slug: str, email: str, display_name: str, locale: str
) -> int:
    """Name the person with this e-mail a steward of the community; their account id."""
    problems = account_problems(email, display_name)
    if problems:
        raise ValidationErrors(problems)
    email = normalise_email(email)
    async with write_transaction():
        community = await community_row(community_slug)
        row = (
            await Account.select(Account.id, Account.password_hash)
            .where(Account.email == email)
            .first()
        )
        if row is None:
            rows = await Account.insert(
                Account(
                    email=email,
                    display_name=display_name.strip(),
                    password_hash="",
                    is_admin=False,
                    is_active=True,
                    created_at=utc_now(),
                )
            ).returning(Account.id)
            account_id = int(rows[0]["id"])
            await record_audit(
                actor,
                "account.create",
                "account",
                account_id,
                after={"email": email, "display_name": display_name.strip()},
            )
            seed = await issue_password_token(account_id, "invite")
            await queue_password_mail(email, seed, "invite", locale)
        else:
            account_id = int(row["id"])
        if await CommunitySteward.exists().where(
            (CommunitySteward.community == community["id"])
            & (CommunitySteward.account == account_id)
        ):
            raise Conflict(N_("This person is a steward of the community already"))
        await CommunitySteward.insert(
            CommunitySteward(
                community=community["id"],
                account=account_id,
                named_by=actor.id,
                named_at=utc_now(),
            )
        )
        await record_audit(
            actor,
            "voice.steward.name",
            "account",
            account_id,
            after={"community": community_slug},
        )
    return account_id


async def remove_steward(actor: Actor, community_slug: str, account_id: int) -> None:
    async with write_transaction():
        community = await community_row(community_slug)
        where = (CommunitySteward.community == community["id"]) & (
            CommunitySteward.account == account_id
        )
        if not await CommunitySteward.exists().where(where):
            raise NotFound(N_("This person is not a steward of the community"))
        await CommunitySteward.delete().where(where)
        await record_audit(
            actor,
            "voice.steward.remove",
            "account",
            account_id,
            before={"community": community_slug},
        )


async def stewards_of(community_slug: str) -> list[dict[str, Any]]:
    community = await community_row(community_slug)
    return list(
        await CommunitySteward.select(
            CommunitySteward.account.id.as_alias("account_id"),
            CommunitySteward.account.display_name.as_alias("name"),
            CommunitySteward.account.email.as_alias("email"),
            CommunitySteward.named_at,
        )
        .where(CommunitySteward.community == community["id"])
        .order_by(CommunitySteward.named_at)
    )


async def is_steward(account_id: int, community_id: int) -> bool:
    return bool(
        await CommunitySteward.exists().where(
            (CommunitySteward.community == community_id) & (CommunitySteward.account == account_id)
        )
    )


async def steward_communities(account_id: int) -> list[dict[str, Any]]:
    return list(
        await CommunitySteward.select(
            CommunitySteward.community.slug.as_alias("slug"),
            CommunitySteward.community.name.as_alias("name"),
        )
        .where(CommunitySteward.account == account_id)
        .order_by(CommunitySteward.id)
    )


async def role_links(account_id: int) -> list[RoleLink]:
    """The steward's page of each community the account stewards, for the header and the
    account page (the shell's port: `platform.accounts.role_links`)."""
    return [
        RoleLink(
            f"/steward/c/{row['slug']}",
            N_("Community steward of %(community)s"),
            {"community": row["name"]},
        )
        for row in await steward_communities(account_id)
    ]
