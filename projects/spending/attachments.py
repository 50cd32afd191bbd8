"""Attachment rows: store the checked files first, then name them in the use case's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from linju.platform.kernel.clock import utc_now
from linju.projects.core import files
from linju.projects.core.files import AttachmentUpload, StoredFile
from linju.projects.spending.tables import Attachment


@dataclass(frozen=True, slots=True)
class StoredUpload:
    label: str
    original_name: str
    original: StoredFile
    public: StoredFile | None


async def store_uploads(uploads: Sequence[AttachmentUpload]) -> list[StoredUpload]:
    """Check every file, then write them all; a bad file stops everything before any write, and
    a write that fails takes back the ones before it. What may be published is re-encoded
    without its metadata (`files.without_metadata`); the private original is kept as received.
    """
    for upload in uploads:
        files.check(upload)
    stored: list[StoredUpload] = []
    try:
        for upload in uploads:
            original = await files.store(upload.original.data, "private")
            public: StoredFile | None = None
            published = upload.redacted or (upload.original if upload.publish_original else None)
            try:
                if published is not None:
                    public = await files.store(files.without_metadata(published.data), "public")
            except BaseException:
                await files.discard(original.path)
                raise
            stored.append(
                StoredUpload(
                    upload.label.strip()[:200], upload.original.filename[:200], original, public
                )
            )
    except BaseException:
        await discard_uploads(stored)
        raise
    return stored


async def discard_uploads(stored: Sequence[StoredUpload]) -> None:
    """Remove files whose use case did not happen (refused, or already done by another request)."""
    for item in stored:
        await files.discard(item.original.path)
        if item.public is not None:
            await files.discard(item.public.path)


async def insert_attachments(
    project_id: int, owner_kind: str, owner_id: int, stored: Sequence[StoredUpload]
) -> None:
    if not stored:
        return
    now = utc_now()
    await Attachment.insert(
        *[
            Attachment(
                public_id=secrets.token_urlsafe(12),
                project=project_id,
                owner_kind=owner_kind,
                owner_id=owner_id,
                label=item.label,
                original_name=item.original_name,
                content_type=item.original.content_type,
                size=item.original.size,
                sha256=item.original.sha256,
                private_path=item.original.path,
                public_path=item.public.path if item.public else "",
                public_content_type=item.public.content_type if item.public else "",
                public_sha256=item.public.sha256 if item.public else "",
                position=index,
                created_at=now,
            )
            for index, item in enumerate(stored)
        ]
    )


async def attachments_of(project_id: int) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """A project's attachments by (owner kind, owner id), for pages."""
    rows = (
        await Attachment.select(
            Attachment.public_id,
            Attachment.owner_kind,
            Attachment.owner_id,
            Attachment.label,
            Attachment.content_type,
            Attachment.size,
            Attachment.sha256,
            Attachment.public_path,
            Attachment.public_content_type,
        )
        .where(Attachment.project == project_id)
        .order_by(Attachment.id)
    )
    grouped: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in rows:
        row["is_public"] = bool(row["public_path"])
        grouped.setdefault((row["owner_kind"], int(row["owner_id"])), []).append(row)
    return grouped
