"""Shared helpers for the ledger's tests: fresh projects and the business events they post.

Every event goes through the real append service (`linju.projects.ledger.services.append`).
"""

from __future__ import annotations

from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat
from linju.projects.core.services.communities import create_community
from linju.projects.core.services.projects import ProjectDraft, create_project, publish
from linju.projects.core.tables import Community
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.services import AppendResult, LedgerEvent, Posting, append

COMMUNITY = "ceshi-shequ"


async def new_project(slug: str, *, published: bool = True) -> str:
    """A project with an empty ledger (and its community, made on first use)."""
    if not await Community.exists().where(Community.slug == COMMUNITY):
        await create_community(COMMUNITY, "测试社区", "青山区", "")
    await create_project(
        ProjectDraft(
            community_slug=COMMUNITY,
            slug=slug,
            title=f"测试项目 {slug}",
            goal_fen=1_000_000,
            budget=[BudgetLinePlan("设备", 1_000_000)],
            committee=[
                CommitteeSeat("甲", CommitteeRole.CHAIR, "管理"),
                CommitteeSeat("乙", CommitteeRole.MEMBER, "法律"),
                CommitteeSeat("丙", CommitteeRole.MEMBER, "维修"),
            ],
        )
    )
    if published:
        await publish(slug)
    return slug


def donation(slug: str, amount: int, key: str, memo: str = "匿名") -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.DONATION,
        memo=memo,
        ref=f"don_{key}",
        postings=(Posting(fund_account(slug), amount), Posting("donors:online", -amount)),
        idempotency_key=f"donation:{slug}:{key}",
    )


def fee(slug: str, amount: int, key: str) -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.FEE,
        memo="手续费",
        ref=f"don_{key}",
        postings=(Posting(fund_account(slug), -amount), Posting("fees:sandbox", amount)),
        idempotency_key=f"fee:{slug}:{key}",
    )


def expenditure(slug: str, amount: int, key: str, memo: str = "某公司：设备") -> LedgerEvent:
    return LedgerEvent(
        kind=EntryKind.EXPENDITURE,
        memo=memo,
        ref=f"exp_{key}",
        postings=(Posting(fund_account(slug), -amount), Posting("payees", amount)),
        idempotency_key=f"expenditure:{slug}:{key}",
    )


async def donate(slug: str, amount: int, key: str, memo: str = "匿名") -> AppendResult:
    return await append(slug, donation(slug, amount, key, memo))
