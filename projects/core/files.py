"""Uploaded evidence (invoices, receipts, proofs of payment, completion photos).

Checked by content, never by name or declared type: a PDF must start with the `%PDF-` signature,
an image must open in Pillow as a JPEG or a PNG. At most 10 MB. The original is stored privately
under `var/uploads/private/` with a random name and its SHA-256; a public version (a redacted copy
the secretary chose at upload, or the original when the secretary says it holds no personal data)
is stored separately under `var/uploads/public/`, so the public page can never serve the original
by accident. Files are written before the database row that names them; a failed transaction
leaves an orphan file, never a row that names a missing file.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from linju.platform.kernel.errors import N_, RuleViolation
from linju.platform.settings import get_settings

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
PIL_FORMATS = {"JPEG": JPEG, "PNG": PNG}

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


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
    path: str  # relative to the uploads folder: "private/<random>.pdf"
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> str:
    """The content type the bytes really are, or BadAttachment."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise BadAttachment(N_("A file may be at most 10 MB"))
    if not data:
        raise BadAttachment(N_("The file is empty"))
    if data.startswith(b"%PDF-"):
        return PDF
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = PIL_FORMATS.get(image.format or "")
            image.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise BadAttachment(N_("The file is not a PDF, JPEG or PNG")) from exc
    if kind is None:
        raise BadAttachment(N_("The file is not a PDF, JPEG or PNG"))
    return kind


def uploads_dir() -> Path:
    return get_settings().var_dir / "uploads"


def store(data: bytes, visibility: str) -> StoredFile:
    """Check and write one file under a random name; `visibility` is "private" or "public"."""
    content_type = sniff(data)
    folder = uploads_dir() / visibility
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{EXTENSIONS[content_type]}"
    (folder / name).write_bytes(data)
    return StoredFile(
        path=f"{visibility}/{name}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check(upload: AttachmentUpload) -> None:
    """Check every file of an upload before anything is written."""
    sniff(upload.original.data)
    if upload.redacted is not None:
        sniff(upload.redacted.data)


def read(relative_path: str) -> bytes:
    root = uploads_dir().resolve()
    path = (root / relative_path).resolve()
    if root not in path.parents:  # pragma: no cover - paths come from our own rows
        raise FileNotFoundError(relative_path)
    return path.read_bytes()


def discard(relative_path: str) -> None:
    if relative_path:
        (uploads_dir() / relative_path).unlink(missing_ok=True)
