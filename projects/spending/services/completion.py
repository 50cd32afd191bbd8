"""Completing a project: the secretary files a report, the committee signs it off by quorum.

The final accounts are the ledger's own figures (raised, spent, balance) at sign-off. Money left
over goes to the community's general fund as one `transfer` entry (`fund -x`,
`community:<slug> +x`, key `transfer:<project>:completion:<report>`), or stays in the fund for
the follow-up the report names; the committee's sign-off is its decision on either.
"""

from __future__ import annotations

from collections.abc import Sequence

from linju.platform.db import write_transaction
from linju.platform.kernel.errors import ValidationErrors
from linju.projects.core.files import AttachmentUpload
from linju.projects.core.rules import ProjectStatus
from linju.projects.core.services.projects import change_status
from linju.projects.donations.services import open_refunds_fen
from linju.projects.ledger import services as ledger
from linju.projects.ledger.format import EntryKind, fund_account
from linju.projects.ledger.lock import locked_project
from linju.projects.spending.attachments import discard_uploads, insert_attachments, store_uploads
from linju.projects.spending.rules import (
    LeftoverChoice,
    Outcome,
    Person,
    SubjectKind,
    completion_problems,
)
from linju.projects.spending.services.expenditures import open_expenditures
from linju.projects.spending.services.motions import decide_motion, insert_motion


async def file_report(
    slug: str,
    summary: str,
    filer: Person,
    leftover: LeftoverChoice | None = None,
    follow_up: str = "",
    photos: Sequence[AttachmentUpload] = (),
) -> int:
    """File the completion report for the committee; returns its id."""
    stored = await store_uploads(photos)
    try:
        async with write_transaction():
            project = await locked_project(slug)
            problems = completion_problems(
                status=project.status,
                summary=summary,
                unpaid_expenditures=await open_expenditures(project.id),
                leftover=project.balance,
                choice=leftover,
                follow_up=follow_up,
            )
            if problems:
                raise ValidationErrors(problems)
            motion_id = await insert_motion(
                project,
                SubjectKind.COMPLETION,
                summary,
                filer,
                leftover_choice=leftover.value if leftover and project.balance > 0 else "",
                follow_up=follow_up if leftover is LeftoverChoice.FOLLOW_UP else "",
            )
            await insert_attachments(project.id, SubjectKind.COMPLETION.value, motion_id, stored)
    except BaseException:
        await discard_uploads(stored)
        raise
    return motion_id


def transfer_event(
    slug: str, community_slug: str, amount: int, currency: str, report_id: int
) -> ledger.LedgerEvent:
    return ledger.LedgerEvent(
        kind=EntryKind.TRANSFER,
        memo="结余转入社区公共基金",
        ref=f"completion-{report_id}",
        postings=(
            ledger.Posting(fund_account(slug), -amount, currency),
            ledger.Posting(f"community:{community_slug}", amount, currency),
        ),
        idempotency_key=f"transfer:{slug}:completion:{report_id}",
    )


async def decide_report(
    slug: str, report_id: int, member_id: int, approve: bool, reason: str
) -> Outcome:
    """A member signs off (or rejects) the report; at quorum the project is completed."""
    async with write_transaction():
        project = await locked_project(slug)
        outcome, row = await decide_motion(
            project, SubjectKind.COMPLETION, report_id, member_id, approve, reason
        )
        if outcome is Outcome.APPROVED:
            # Refunds asked for and not yet posted stay in the fund for the donors.
            leftover = project.balance - await open_refunds_fen(project.id)
            if row["leftover_choice"] == LeftoverChoice.TRANSFER.value and leftover > 0:
                await ledger.append(
                    slug,
                    transfer_event(
                        slug, project.community_slug, leftover, project.currency, report_id
                    ),
                )
            await change_status(slug, ProjectStatus.COMPLETED)
    return outcome
