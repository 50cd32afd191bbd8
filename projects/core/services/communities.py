"""Use cases that create and change communities."""

from __future__ import annotations

from linju.platform.accounts.audit import Actor, record_audit
from linju.platform.db import write_transaction
from linju.platform.kernel.clock import utc_now
from linju.platform.kernel.errors import Conflict, RuleViolation
from linju.projects.core.rules import is_valid_slug
from linju.projects.core.tables import Community


async def create_community(slug: str, name: str, district: str, description: str = "") -> int:
    """Create a community; its slug becomes part of URLs and ledger account names."""
    if not is_valid_slug(slug):
        raise RuleViolation(
            "A slug uses lowercase letters, digits and hyphens: %(slug)s", slug=slug
        )
    if not name.strip() or len(name) > 100:
        raise RuleViolation("A community needs a name of at most 100 characters")
    async with write_transaction():
        if await Community.exists().where(Community.slug == slug):
            raise Conflict("The slug %(slug)s is already taken", slug=slug)
        rows = await Community.insert(
            Community(
                slug=slug,
                name=name.strip(),
                district=district.strip(),
                description=description.strip(),
                created_at=utc_now(),
            )
        )
    return int(rows[0]["id"])


async def create_community_audited(
    actor: Actor, slug: str, name: str, district: str, description: str = ""
) -> int:
    """An admin creates a community: the community and its audit record in one transaction."""
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
