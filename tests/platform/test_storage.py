"""The storage interface behaves the same on both backends, and each run stores where it says.

The interface's behaviour runs against the local folder and against a real S3 API server (moto's,
tests/storage_support.py) in every run. Then one test per engine proves which backend the app
itself uses: the SQLite run the folder `var/uploads`, the PostgreSQL run the bucket (looked at
with boto3, an S3 client that is not ours).
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image

from linju.platform.settings import get_settings
from linju.platform.storage import (
    BadStorageKey,
    LocalStorage,
    S3Storage,
    Storage,
    StoredObjectMissing,
    get_storage,
)
from linju.projects.core.services.photos import store_photo
from tests.storage_support import (
    ACCESS_KEY_ID,
    BUCKET,
    PREFIX,
    REGION,
    SECRET_ACCESS_KEY,
    s3_client,
)

ENGINE = os.environ.get("LINJU_TEST_DATABASE", "sqlite")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def bucket_storage(endpoint: str, prefix: str) -> S3Storage:
    return S3Storage(
        BUCKET,
        prefix,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """An empty storage of each kind: a fresh folder, or a fresh prefix in the bucket."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "uploads")
    else:
        endpoint = request.getfixturevalue("s3_server")
        yield bucket_storage(endpoint, f"interface-{uuid.uuid4().hex[:12]}")


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def keys(storage: Storage, prefix: str = "") -> list[str]:
    return sorted([key async for key in storage.keys(prefix)])


async def test_put_get_exists_delete(storage: Storage) -> None:
    assert not await storage.exists("private/a.pdf")
    await storage.put("private/a.pdf", b"%PDF-1.4 first", "application/pdf")
    assert await storage.exists("private/a.pdf")
    assert await storage.get("private/a.pdf") == b"%PDF-1.4 first"
    await storage.put("private/a.pdf", b"%PDF-1.4 second", "application/pdf")
    assert await storage.get("private/a.pdf") == b"%PDF-1.4 second"
    await storage.delete("private/a.pdf")
    assert not await storage.exists("private/a.pdf")
    assert await keys(storage) == []


async def test_a_missing_object_is_our_one_error_and_deleting_it_is_fine(storage: Storage) -> None:
    with pytest.raises(StoredObjectMissing) as missing:
        await storage.get("photos/nothing-here.jpg")
    assert isinstance(missing.value, FileNotFoundError)
    await storage.delete("photos/nothing-here.jpg")
    assert not await storage.exists("photos/nothing-here.jpg")


async def test_keys_are_listed_by_folder(storage: Storage) -> None:
    for key in ("private/b.pdf", "private/a.pdf", "public/c.png", "privateer/d.pdf"):
        await storage.put(key, b"x", "application/octet-stream")
    assert await keys(storage, "private") == ["private/a.pdf", "private/b.pdf"]
    assert await keys(storage, "private/") == ["private/a.pdf", "private/b.pdf"]
    assert await keys(storage, "nothing") == []
    assert await keys(storage) == [
        "private/a.pdf",
        "private/b.pdf",
        "privateer/d.pdf",
        "public/c.png",
    ]


async def test_bytes_come_back_unchanged(storage: Storage) -> None:
    data = bytes(range(256)) * 4096 + os.urandom(100_003)  # every byte value, about 1.1 MB
    await storage.put("photos/all-bytes.jpg", data, "image/jpeg")
    back = await storage.get("photos/all-bytes.jpg")
    assert len(back) == len(data)
    assert hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    "key",
    ["../escape.pdf", "private/../../escape.pdf", "/etc/passwd", "private//a.pdf", ".hidden",
     "private/.", "a\\b.pdf", "private/a.pdf#1", "", "private/"],
)  # fmt: skip
async def test_a_key_that_is_not_a_plain_relative_path_is_refused(
    storage: Storage, key: str, tmp_path: Path
) -> None:
    with pytest.raises(BadStorageKey):
        await storage.put(key, b"x", "application/pdf")
    for call in (storage.get, storage.exists, storage.delete):
        with pytest.raises(BadStorageKey):
            await call(key)
    assert await keys(storage) == []
    assert names_in(tmp_path) == (["uploads"] if isinstance(storage, LocalStorage) else [])


async def test_the_local_folder_keeps_no_temporary_file(tmp_path: Path) -> None:
    """Writes go to a temporary file renamed over the key: afterwards only the object is there."""
    storage = LocalStorage(tmp_path / "uploads")
    for n in range(5):
        await storage.put("private/a.pdf", f"%PDF-{n}".encode() * 10_000, "application/pdf")
    assert names_in(tmp_path / "uploads" / "private") == ["a.pdf"]
    assert (tmp_path / "uploads" / "private" / "a.pdf").read_bytes() == b"%PDF-4" * 10_000


async def test_the_bucket_keeps_the_content_type_under_the_prefix(s3_server: str) -> None:
    prefix = f"types-{uuid.uuid4().hex[:12]}"
    await bucket_storage(s3_server, prefix).put("photos/p.jpg", b"\xff\xd8\xff", "image/jpeg")
    head = s3_client().head_object(Bucket=BUCKET, Key=f"{prefix}/photos/p.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == 3


@pytest.mark.postgres_only
async def test_on_the_postgresql_run_an_uploaded_photo_is_an_object_in_the_bucket(
    s3_server: str,
) -> None:
    assert isinstance(get_storage(), S3Storage)
    photo = await store_photo(png_bytes())
    name = photo.url.removeprefix("/photos/")
    stored = s3_client().get_object(Bucket=BUCKET, Key=f"{PREFIX}/photos/{name}")
    assert stored["ContentType"] == "image/jpeg"
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == photo.sha256
    assert not (get_settings().var_dir / "uploads" / "photos" / name).exists()


@pytest.mark.skipif(ENGINE != "sqlite", reason="the SQLite run keeps uploads in var/uploads")
async def test_on_the_sqlite_run_an_uploaded_photo_is_a_file_in_var_uploads() -> None:
    assert isinstance(get_storage(), LocalStorage)
    assert get_settings().s3_bucket is None
    photo = await store_photo(png_bytes())
    path = get_settings().var_dir / "uploads" / "photos" / photo.url.removeprefix("/photos/")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == photo.sha256
