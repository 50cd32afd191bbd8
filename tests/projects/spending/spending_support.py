"""A funded project for the spending tests: 童趣乐园 with its budget, committee and money.

Money comes in through the ledger service itself (a `donation` entry), as the payments area's
confirmation would post it; the project is published and closed for fundraising through the
project services.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from PIL import Image

from linju.payments.services import REFUND_JOB
from linju.platform.jobs import queue
from linju.platform.jobs.worker import drain_jobs
from linju.projects.core.files import AttachmentUpload, Upload
from linju.projects.core.rules import BudgetLinePlan, CommitteeRole, CommitteeSeat, ProjectStatus
from linju.projects.core.services.communities import create_community
from linju.projects.core.services.projects import (
    ProjectDraft,
    change_status,
    create_project,
    publish,
)
from linju.projects.core.tables import BudgetLine, CommitteeMember
from linju.projects.ledger.format import EntryKind
from linju.projects.ledger.services import LedgerEvent, Posting, append
from linju.projects.spending.rules import Person
from linju.projects.spending.services.cancellation import SETTLE_JOB
from tests.storage_support import empty_storage

SLUG = "tongqu-leyuan"
SECRETARY = Person("刘书记", None)
NAMES = ["张建国", "李敏", "王师傅", "赵老师", "陈阿姨", "孙会计", "周律师", "吴工", "郑大姐"]
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def invoice() -> AttachmentUpload:
    return AttachmentUpload(
        original=Upload("发票.pdf", PDF_BYTES),
        label="发票",
        redacted=Upload("发票-公开.png", png_bytes()),
    )


@dataclass(frozen=True, slots=True)
class Funded:
    slug: str
    lines: list[int]  # 跷跷板 ¥5,000.00, 转椅 ¥7,000.00
    members: list[int]


async def donate(amount: int, key: str, slug: str = SLUG) -> None:
    await append(
        slug,
        LedgerEvent(
            kind=EntryKind.DONATION,
            memo="匿名",
            ref=f"don_{key}",
            postings=(Posting(f"fund:{slug}", amount), Posting("donors:online", -amount)),
            idempotency_key=f"donation:{key}",
        ),
    )


async def funded_project(
    balance: int = 1_200_000, committee_size: int = 3, close: bool = True
) -> Funded:
    await empty_storage()  # the uploads (folder or bucket) outlive each test
    await create_community("lvjingyuan", "绿景苑社区", "青山区")
    seats = [
        CommitteeSeat(name, CommitteeRole.CHAIR if i == 0 else CommitteeRole.MEMBER, "居民")
        for i, name in enumerate(NAMES[:committee_size])
    ]
    await create_project(
        ProjectDraft(
            community_slug="lvjingyuan",
            slug=SLUG,
            title="童趣乐园",
            goal_fen=1_200_000,
            budget=[BudgetLinePlan("跷跷板", 500_000), BudgetLinePlan("转椅", 700_000)],
            committee=seats,
        )
    )
    await publish(SLUG)
    if balance:
        await donate(balance, "seed")
    if close:
        await change_status(SLUG, ProjectStatus.FUNDED)
    lines = await BudgetLine.select(BudgetLine.id).order_by(BudgetLine.position)
    members = await CommitteeMember.select(CommitteeMember.id).order_by(CommitteeMember.position)
    return Funded(SLUG, [r["id"] for r in lines], [r["id"] for r in members])


async def drain_until_quiet() -> None:
    """Run what is due, again after the (millisecond) backoffs, until no settlement round or
    refund waits (other kinds, such as Stripe's reconciliation a minute off, are not waited
    for)."""
    for _ in range(80):
        await drain_jobs()
        waiting = [j for j in await queue.list_jobs("queued") if j.name in (SETTLE_JOB, REFUND_JOB)]
        if not waiting:
            return
        await asyncio.sleep(0.05)
