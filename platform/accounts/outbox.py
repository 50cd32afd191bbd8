"""Mail leaves through jobs, never from a request: a slow mail server holds up no one.

A use case queues its mail in its own transaction (`queue_mail`), so a mail exists exactly when
the change it tells of does. The job sends each message with a Message-ID fixed by (job,
recipient) and records it in `sent_mail` once: delivery is at-least-once (a worker that dies
after the send and before the record sends again on the retry, with the same Message-ID, which
mail systems use to drop the copy), and a recipient already recorded is not sent to again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from linju.platform.accounts.mailer import Mail, get_mailer
from linju.platform.accounts.tables import SentMail
from linju.platform.db import write_transaction
from linju.platform.jobs.queue import enqueue
from linju.platform.jobs.registry import JobContext
from linju.platform.kernel.clock import utc_now
from linju.platform.settings import get_settings

MAIL_JOB = "accounts.mail"


def message_id(job_key: str, recipient: str) -> str:
    """The same for every attempt of one job to one recipient, different for anything else."""
    host = urlsplit(get_settings().base_url).hostname or "linju.invalid"
    digest = hashlib.sha256(f"{job_key}\0{recipient.strip().lower()}".encode()).hexdigest()
    return f"<{job_key[:16]}.{digest[:16]}@{host}>"


async def deliver(ctx: JobContext, mail: Mail) -> bool:
    """Send one message of a job unless it is recorded as sent; True when it was sent now."""
    mid = message_id(ctx.key, mail.to)
    if await SentMail.exists().where(SentMail.message_id == mid):
        return False
    await get_mailer().send(mail, message_id=mid)
    async with write_transaction():
        await SentMail.insert(
            SentMail(
                message_id=mid,
                job_key=ctx.key,
                recipient=mail.to[:254],
                subject=mail.subject[:300],
                sent_at=utc_now(),
            )
        ).on_conflict(target=SentMail.message_id, action="DO NOTHING")
    return True


async def queue_mail(mails: Sequence[Mail]) -> None:
    """Queue these messages as one job; call inside the transaction of what they tell of."""
    if mails:
        await enqueue(
            MAIL_JOB, {"mails": [{"to": m.to, "subject": m.subject, "body": m.body} for m in mails]}
        )


async def mail_job(args: dict[str, Any], ctx: JobContext) -> None:
    for item in args["mails"]:
        await deliver(ctx, Mail(to=item["to"], subject=item["subject"], body=item["body"]))
