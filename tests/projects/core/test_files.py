"""Files people upload: published images carry no metadata, and what cannot be decoded whole
(or would not fit in memory) is refused before anything is stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from linju.projects.core import files
from linju.projects.core.files import AttachmentUpload, BadAttachment, Upload
from linju.projects.spending.attachments import store_uploads
from tests.storage_support import empty_storage, stored_keys

pytestmark = pytest.mark.usefixtures("db")

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (22.0, 32.0, 0.0), 3: "E", 4: (113.0, 56.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


async def test_a_published_original_loses_its_gps_block_and_the_private_one_keeps_it() -> None:
    await empty_storage()
    photo = jpeg_with_gps()
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(GPS_IFD)
    [stored] = await store_uploads(
        [AttachmentUpload(Upload("现场.jpg", photo), label="现场", publish_original=True)]
    )
    assert stored.public is not None
    public = await files.read(stored.public.path)
    private = await files.read(stored.original.path)
    assert private == photo  # the steward's original, as received
    with Image.open(io.BytesIO(public)) as shown:
        assert shown.format == "JPEG"
        assert shown.size == (64, 48)
        assert not shown.getexif()
        assert "exif" not in shown.info
    assert b"PhoneMaker" not in public


async def test_a_png_keeps_its_pixels_and_loses_its_text() -> None:
    await empty_storage()
    out = io.BytesIO()
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "王阿姨 13800000000")
    Image.new("RGB", (20, 10), (1, 2, 3)).save(out, format="PNG", pnginfo=info)
    [stored] = await store_uploads(
        [
            AttachmentUpload(
                Upload("a.png", out.getvalue()), redacted=Upload("b.png", out.getvalue())
            )
        ]
    )
    assert stored.public is not None
    public = await files.read(stored.public.path)
    with Image.open(io.BytesIO(public)) as shown:
        assert "Author" not in shown.info
        assert shown.getpixel((0, 0)) == (1, 2, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (jpeg_with_gps()[:-200], "The file is not a PDF, JPEG or PNG"),  # truncated
        (png_declaring(100_000, 100_000), "An image may have at most 40 million pixels"),
    ],
)
async def test_an_image_that_cannot_be_decoded_whole_stores_nothing(
    data: bytes, message: str
) -> None:
    await empty_storage()
    good = AttachmentUpload(Upload("ok.jpg", jpeg_with_gps()), publish_original=True)
    bad = AttachmentUpload(Upload("bad.jpg", data), publish_original=True)
    with pytest.raises(BadAttachment) as refused:
        await store_uploads([good, bad])
    assert refused.value.message == message
    assert await stored_keys() == []


async def test_a_truncated_photo_is_refused_before_it_is_shrunk() -> None:
    from linju.projects.core.services.photos import BadPhoto, store_photo

    await empty_storage()
    with pytest.raises(BadPhoto):
        await store_photo(jpeg_with_gps()[:-200])
    assert await stored_keys() == []
