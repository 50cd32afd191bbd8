"""Uploaded evidence (invoices, receipts, proofs of payment, completion photos).

Checked by content, never by name or declared type: a PDF must start with the `%PDF-` signature,
an image must open in Pillow as a JPEG or a PNG. At most 10 MB. The original is stored privately
under the key `private/<random>.<ext>` with its SHA-256; a public version (a redacted copy the
secretary chose at upload, or the original when the secretary says it holds no personal data) is
stored separately under `public/…`, so the public page can never serve the original by accident.
Every upload goes through the one storage (`linju.platform.storage`: the folder `var/uploads`, or
an S3 bucket). Files are written before the database row that names them; a use case that is
refused discards them again, and a failed transaction at worst leaves an orphan file, never a row
that names a missing file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from linju.platform.kernel.errors import N_, NotFound, RuleViolation
from linju.platform.storage import StoredObjectMissing, get_storage

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
PIL_FORMATS = {"JPEG": JPEG, "PNG": PNG}

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 10 MB file may declare far more; decoding it would exhaust memory

logger = logging.getLogger("linju.files")


class BadAttachment(RuleViolation):
    """The file is not what it claims, or is too large; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Upload:
    """One file as received: its name (shown only to the secretary) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class AttachmentUpload:
    """An original plus the secretary's choice of what the public sees."""

    original: Upload
    label: str = ""
    redacted: Upload | None = None  # a redacted copy to publish instead of the original
    publish_original: bool = False  # the secretary says the original holds no personal data


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str  # the storage key: "private/<random>.pdf"
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> str:
    """The content type the bytes really are, or BadAttachment.

    An image is decoded whole, so a truncated one is refused here and not when it is re-encoded
    for publishing; one declaring more than `MAX_PIXELS` is refused before any pixel is read.
    """
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise BadAttachment(N_("A file may be at most 10 MB"))
    if not data:
        raise BadAttachment(N_("The file is empty"))
    if data.startswith(b"%PDF-"):
        return PDF
    too_large = BadAttachment(N_("An image may have at most 40 million pixels"))
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = PIL_FORMATS.get(image.format or "")
            if kind is not None and image.width * image.height > MAX_PIXELS:
                raise too_large
            image.load()
    except Image.DecompressionBombError as exc:  # Pillow's own, far larger bound
        raise too_large from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise BadAttachment(N_("The file is not a PDF, JPEG or PNG")) from exc
    if kind is None:
        raise BadAttachment(N_("The file is not a PDF, JPEG or PNG"))
    return kind


def without_metadata(data: bytes) -> bytes:
    """What may be published of a checked file: a JPEG or PNG re-encoded from its pixels alone
    (no EXIF and its GPS block, no XMP, comments or text chunks; turned upright as the camera
    meant), a PDF as it is."""
    kind = sniff(data)
    if kind == PDF:
        return data
    with Image.open(io.BytesIO(data)) as original:
        image: Image.Image = ImageOps.exif_transpose(original)
        out = io.BytesIO()
        if kind == JPEG:
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            image.save(out, format="JPEG", quality=90, optimize=True)
        else:
            image.save(out, format="PNG", optimize=True)
        return out.getvalue()


async def store(data: bytes, visibility: str) -> StoredFile:
    """Check and write one file under a random name; `visibility` is "private" or "public" (or
    the photos' folder)."""
    content_type = sniff(data)
    key = f"{visibility}/{secrets.token_urlsafe(18)}.{EXTENSIONS[content_type]}"
    await get_storage().put(key, data, content_type)
    return StoredFile(
        path=key,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check(upload: AttachmentUpload) -> None:
    """Check every file of an upload before anything is written."""
    sniff(upload.original.data)
    if upload.redacted is not None:
        sniff(upload.redacted.data)


async def read(key: str) -> bytes:
    """A stored file's bytes; NotFound (a 404 for whoever asked) when its object is gone."""
    try:
        return await get_storage().get(key)
    except StoredObjectMissing as exc:
        logger.warning("a stored file is missing: %s", key)
        raise NotFound(N_("This file is no longer stored")) from exc


async def discard(key: str) -> None:
    """Remove a file no row names (its use case was refused). Best effort: when the storage
    cannot be reached the file stays as an orphan, harmless since nothing names it, and the
    person sees the use case's own outcome, not the storage's error."""
    if not key:
        return
    try:
        await get_storage().delete(key)
    except Exception:
        logger.warning("could not discard %s; it stays as an orphan", key, exc_info=True)
