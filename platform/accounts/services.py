"""Use cases of accounts and roles: create an account, grant a role, invite someone.

Every use case runs in one write transaction and records itself in the audit log in the same
transaction. E-mail addresses are compared lower-cased: `Wang@X.cn` and `wang@x.cn` are one
account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.accounts.passwords import hash_password, password_problem
from linju.platform.accounts.places import places
from linju.platform.accounts.role_links import RoleLink, role_links_of
from linju.platform.accounts.tables import Account, SecretaryRole
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import N_, Conflict, ValidationErrors

EMAIL_PATTERN = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,}$")
MAX_NAME_LENGTH = 100


class Role(StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    COMMITTEE = "committee"
    FINANCE = "finance"  # the host charity's finance staff (docs/adr/0030)


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The logged-in person and every role they hold, loaded once per request."""

    id: int
    email: str
    display_name: str
    is_admin: bool
    secretary_of: frozenset[int]  # community ids
    committee_of: frozenset[int]  # project ids
    is_host_finance: bool = False  # issues official donation receipts (docs/adr/0030)
    role_links: tuple[RoleLink, ...] = ()  # roles an area keeps itself (role_links.py)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, label=self.email)

    def is_secretary_of(self, community_id: int) -> bool:
        return community_id in self.secretary_of

    def is_committee_member_of(self, project_id: int) -> bool:
        return project_id in self.committee_of

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles held, in the order the header and the account page list them."""
        held = (
            (Role.ADMIN, self.is_admin),
            (Role.SECRETARY, bool(self.secretary_of)),
            (Role.COMMITTEE, bool(self.committee_of)),
            (Role.FINANCE, self.is_host_finance),
        )
        return tuple(role for role, holds in held if holds)

    @property
    def home(self) -> str:
        """Where this person lands after logging in: their one role's page, or, with several
        roles or none, the account page, which links each (docs/adr/0021-finding-your-way.md)."""
        roles = self.roles
        if not roles and len(self.role_links) == 1:
            return self.role_links[0].href  # e.g. a community steward's one page
        return ROLE_HOMES[roles[0]] if len(roles) == 1 else "/account"


ROLE_HOMES = {
    Role.ADMIN: "/admin",
    Role.SECRETARY: "/secretary",
    Role.COMMITTEE: "/committee",
    Role.FINANCE: "/finance/receipts",
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def account_problems(email: str, display_name: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not EMAIL_PATTERN.match(normalise_email(email)):
        problems["email"] = N_("Enter a valid e-mail address")
    if not display_name.strip():
        problems["name"] = N_("Enter a name")
    elif len(display_name.strip()) > MAX_NAME_LENGTH:
        problems["name"] = N_("A name can have at most 100 characters")
    return problems


async def load_user(account_id: int) -> CurrentUser | None:
    """The account with its roles, or None when it does not exist or is deactivated."""
    row = (
        await Account.select(
            Account.id,
            Account.email,
            Account.display_name,
            Account.is_admin,
            Account.is_host_finance,
            Account.is_active,
        )
        .where(Account.id == account_id)
        .first()
    )
    if row is None or not row["is_active"]:
        return None
    communities = await SecretaryRole.select(SecretaryRole.community).where(
        SecretaryRole.account == account_id
    )
    seats = await places().seats_of(int(row["id"]))
    return CurrentUser(
        id=int(row["id"]),
        email=row["email"],
        display_name=row["display_name"],
        is_admin=bool(row["is_admin"]),
        secretary_of=frozenset(int(r["community"]) for r in communities),
        committee_of=seats,
        is_host_finance=bool(row["is_host_finance"]),
        role_links=await role_links_of(int(row["id"])),
    )


async def _grant_secretary(actor: Actor, account_id: int, community_slug: str) -> None:
    community_id = await places().community_id(community_slug)
    if await SecretaryRole.exists().where(
        (SecretaryRole.account == account_id) & (SecretaryRole.community == community_id)
    ):
        return
    await SecretaryRole.insert(
        SecretaryRole(account=account_id, community=community_id, created_at=utc_now())
    )
    await record_audit(
        actor, "role.secretary.grant", "account", account_id, after={"community": community_slug}
    )


async def _grant_committee(actor: Actor, account_id: int, name: str, project_slug: str) -> None:
    """Link the account to its seat on the project's committee.

    The seat whose name is the account's display name and that no account holds yet is linked;
    when there is none, the person joins the committee as a member (the committee is public, so
    the audit log records the new seat).
    """
    project_id, _community = await places().project_ids(project_slug)
    seat_id = await places().take_seat(account_id, name, project_id)
    if seat_id is None:
        return
    await record_audit(
        actor,
        "role.committee.grant",
        "account",
        account_id,
        after={"project": project_slug, "seat": seat_id},
    )


@dataclass(frozen=True, slots=True)
class NewAccount:
    email: str
    display_name: str
    role: Role
    community_slug: str | None = None
    project_slug: str | None = None
    password: str | None = None  # None: the person sets it through an invitation link


def _new_account_problems(new: NewAccount) -> dict[str, str]:
    problems = account_problems(new.email, new.display_name)
    if new.role is Role.SECRETARY and not new.community_slug:
        problems["community"] = N_("A secretary needs a community")
    if new.role is Role.COMMITTEE and not new.project_slug:
        problems["project"] = N_("A committee member needs a project")
    if new.password is not None:
        problem = password_problem(new.password)
        if problem:
            problems["password"] = problem
    return problems


async def create_account(actor: Actor, new: NewAccount) -> int:
    """Create an account with one role; an existing e-mail gets the role added instead.

    Adding a role to an existing account never changes its password or name.
    """
    problems = _new_account_problems(new)
    if problems:
        raise ValidationErrors(problems)
    email = normalise_email(new.email)
    password_hash = await hash_password(new.password) if new.password is not None else ""
    async with write_transaction():
        existing = await Account.select(Account.id).where(Account.email == email).first()
        if existing is not None:
            account_id = int(existing["id"])
            if new.role is Role.ADMIN:
                raise Conflict("An account with the e-mail %(email)s already exists", email=email)
        else:
            rows = await Account.insert(
                Account(
                    email=email,
                    display_name=new.display_name.strip(),
                    password_hash=password_hash,
                    is_admin=new.role is Role.ADMIN,
                    is_active=True,
                    created_at=utc_now(),
                    password_changed_at=utc_now() if password_hash else None,
                )
            )
            account_id = int(rows[0]["id"])
            await record_audit(
                actor,
                "account.create",
                "account",
                account_id,
                after={
                    "email": email,
                    "display_name": new.display_name.strip(),
                    "is_admin": new.role is Role.ADMIN,
                },
            )
        if new.role is Role.SECRETARY and new.community_slug:
            await _grant_secretary(actor, account_id, new.community_slug)
        if new.role is Role.COMMITTEE and new.project_slug:
            await _grant_committee(actor, account_id, new.display_name, new.project_slug)
        if new.role is Role.FINANCE:
            await _set_host_finance(actor, account_id, True)
    return account_id


async def _set_host_finance(actor: Actor, account_id: int, holds: bool) -> bool:
    """Give or take the host finance role; False (nothing written) when it is already so."""
    row = await Account.select(Account.is_host_finance).where(Account.id == account_id).first()
    if row is None or bool(row["is_host_finance"]) == holds:
        return False
    await Account.update({Account.is_host_finance: holds}).where(Account.id == account_id)
    await record_audit(
        actor,
        "role.finance.grant" if holds else "role.finance.revoke",
        "account",
        account_id,
        before={"is_host_finance": not holds},
        after={"is_host_finance": holds},
    )
    return True


async def set_host_finance(actor: Actor, email: str, holds: bool) -> bool:
    """Give (or take away) the host finance role of the account with this e-mail, with its audit
    record; False when it already was so. ValidationErrors beside `email` for an unknown one."""
    async with write_transaction():
        row = (
            await Account.select(Account.id).where(Account.email == normalise_email(email)).first()
        )
        if row is None:
            raise ValidationErrors({"email": N_("There is no account with this e-mail")})
        return await _set_host_finance(actor, int(row["id"]), holds)


async def list_accounts() -> list[dict[str, object]]:
    """Accounts with their roles, for the admin pages."""
    accounts = await Account.select(
        Account.id,
        Account.email,
        Account.display_name,
        Account.is_admin,
        Account.is_host_finance,
        Account.is_active,
    ).order_by(Account.id)
    roles = await SecretaryRole.select(SecretaryRole.account, SecretaryRole.community.name)
    seats = await places().seat_titles()
    for account in accounts:
        account["communities"] = [
            r["community.name"] for r in roles if r["account"] == account["id"]
        ]
        account["projects"] = [
            title for seat_account, title in seats if seat_account == account["id"]
        ]
    return list(accounts)
