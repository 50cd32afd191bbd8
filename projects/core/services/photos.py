"""Photos people upload (covers, galleries, updates, evidence of offline gifts).

Checked by content with Pillow (JPEG, PNG or WebP; a renamed PDF or script is refused), at most
`MAX_PHOTO_BYTES`, then re-encoded as a JPEG no wider or taller than `MAX_SIDE` pixels: small on
a phone, and free of whatever metadata (GPS position, camera serial) the original carried. Stored
through `linju.projects.core.files` (one storage for every upload, `linju.platform.storage`)
under `photos/<random>.jpg`, with its SHA-256; served by `/photos/{name}` as image/jpeg.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from linju.platform.kernel.errors import N_, RuleViolation, ValidationErrors
from linju.projects.core import files

MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # refuses decompression bombs before decoding
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
PHOTO_FOLDER = "photos"
PHOTO_NAME = re.compile(r"^[A-Za-z0-9_-]{16,40}\.jpg$")


class BadPhoto(RuleViolation):
    """The upload is not a photo we accept; nothing was stored."""


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    url: str  # /photos/<name>
    sha256: str


def photo_problem(data: bytes) -> str | None:
    """Why these bytes are not an acceptable photo (a message id), or None."""
    if not data:
        return N_("The photo is empty")
    if len(data) > MAX_PHOTO_BYTES:
        return N_("A photo may be at most 8 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                return N_("The file is not a JPEG, PNG or WebP photo")
            if image.width * image.height > MAX_PIXELS:
                return N_("The photo has too many pixels")
            image.load()  # decoded whole: a truncated photo is refused here, not when shrunk
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return N_("The file is not a JPEG, PNG or WebP photo")
    return None


def _for_phones(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as original:
        image: Image.Image = ImageOps.exif_transpose(original)
        image.thumbnail((MAX_SIDE, MAX_SIDE))
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=82, optimize=True)
        return out.getvalue()


async def store_photo(data: bytes) -> StoredPhoto:
    """Check, shrink and store one photo; raises BadPhoto and stores nothing when it is not one."""
    problem = photo_problem(data)
    if problem:
        raise BadPhoto(problem)
    stored = await files.store(_for_phones(data), PHOTO_FOLDER)
    name = stored.path.split("/", 1)[1]
    return StoredPhoto(url=f"/photos/{name}", sha256=stored.sha256)


async def read_photo(name: str) -> bytes:
    """A stored photo's bytes; FileNotFoundError for a name that is not one of ours or is gone."""
    if not PHOTO_NAME.match(name):
        raise FileNotFoundError(name)
    return await files.read(f"{PHOTO_FOLDER}/{name}")


async def discard_photo(url: str) -> None:
    if url.startswith("/photos/"):
        await files.discard(f"{PHOTO_FOLDER}/{url.removeprefix('/photos/')}")


@asynccontextmanager
async def kept_on_success() -> AsyncIterator[list[StoredPhoto]]:
    """Photos stored inside the block (noted in the list it yields) are discarded again when the
    block fails: nothing half-kept."""
    stored: list[StoredPhoto] = []
    try:
        yield stored
    except BaseException:
        for photo in stored:
            await discard_photo(photo.url)
        raise


async def store_field(
    field: str, uploads: Sequence[bytes], stored: list[StoredPhoto]
) -> list[StoredPhoto]:
    """Store one form field's photos, each noted in `stored` as soon as it is kept (so
    `kept_on_success` can discard it); one that is no photo is refused beside `field`."""
    added: list[StoredPhoto] = []
    for data in uploads:
        try:
            photo = await store_photo(data)
        except BadPhoto as exc:
            raise ValidationErrors({field: exc.message}) from exc
        stored.append(photo)
        added.append(photo)
    return added
