"""Where uploads live: one interface, a local folder or an S3-compatible bucket.

`LINJU_STORAGE_URL` (platform/settings.py) chooses: `local`, the default, is the folder
`uploads` under LINJU_VAR_DIR, enough for one app server; `s3://bucket/prefix` is a bucket that
several app servers share (AWS itself, or any S3-compatible server at LINJU_S3_ENDPOINT_URL).
Both are obstore stores (docs/adr/0012-object-storage.md), so the two differ only in how they are
built. Keys are relative, "/"-separated paths of plain segments ("private/<random>.pdf",
"photos/<random>.jpg"); any other key, above all one that would climb out of the folder, is
refused before anything is read or written.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import obstore
from obstore.store import LocalStore, S3Store

from linju.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from obstore.store import ClientConfig, S3Config

# Segments of letters, digits, "_", "-" and ".", none starting with "." (so never "." or "..").
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")


class StoredObjectMissing(FileNotFoundError):
    """No object is stored under this key."""


class BadStorageKey(ValueError):
    """Not a plain relative key (it could name something outside the storage)."""


def checked_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise BadStorageKey(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    """What every upload goes through; `where` names the place for people ("s3://…", a folder)."""

    @property
    def where(self) -> str: ...

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The object's bytes; StoredObjectMissing when there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is fine."""
        ...

    async def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> AsyncIterator[str]:
        """Every key in the folder `prefix` ("private", "photos/"), or in the storage when ""."""
        ...


class _ObjectStorage:
    """A Storage over one obstore store.

    obstore's calls are made through its blocking API on a worker thread (`asyncio.to_thread`;
    it releases the GIL while it waits), not its `*_async` API: those complete each call from
    one of obstore's own threads, which a process exiting right after its last call can catch
    half-way and abort on (SIGABRT at exit, for a short command like `linju storage
    migrate-to` about one run in fifteen). docs/adr/0012-object-storage.md.
    """

    def __init__(self, store: LocalStore | S3Store, where: str) -> None:
        self._store = store
        self._where = where

    @property
    def where(self) -> str:
        return self._where

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        obstore.put(self._store, key, data)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._put, checked_key(key), data, content_type)

    def _get(self, key: str) -> bytes:
        return bytes(obstore.get(self._store, key).bytes())

    async def get(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self._get, checked_key(key))
        except FileNotFoundError as exc:
            raise StoredObjectMissing(key) from exc

    def _delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # the folder says so; S3 does not
            obstore.delete(self._store, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, checked_key(key))

    def _exists(self, key: str) -> bool:
        try:
            obstore.head(self._store, key)
        except FileNotFoundError:
            return False
        return True

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._exists, checked_key(key))

    def _keys(self, folder: str | None) -> list[str]:
        return [meta["path"] for batch in obstore.list(self._store, folder) for meta in batch]

    async def keys(self, prefix: str = "") -> AsyncIterator[str]:
        folder = prefix.strip("/")
        for key in await asyncio.to_thread(self._keys, checked_key(folder) if folder else None):
            yield key


class LocalStorage(_ObjectStorage):
    """A folder (`var/uploads`). Every write goes to a temporary file in the object's folder that
    is then renamed over the key (obstore's local store), so a reader sees the old object or the
    new one, never half of one. The folder keeps no content type: rows and routes carry it."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        super().__init__(LocalStore(root.resolve()), str(root))


class S3Storage(_ObjectStorage):
    """A bucket (and key prefix) on AWS S3 or any S3-compatible server, addressed path-style
    (`endpoint/bucket/key`), which every such server understands."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        config: S3Config = {"region": region, "virtual_hosted_style_request": False}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        if access_key_id:  # else obstore finds credentials as the AWS tools do
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        client: ClientConfig = {"connect_timeout": "5s", "timeout": "60s"}
        if endpoint_url and endpoint_url.startswith("http://"):
            client["allow_http"] = True
        store = S3Store(
            bucket,
            prefix=prefix.strip("/") or None,
            config=config,
            client_options=client,
            # a request fails within seconds, not after obstore's default three minutes
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=20)},
        )
        super().__init__(store, f"s3://{bucket}/{prefix.strip('/')}".rstrip("/"))

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        obstore.put(self._store, key, data, attributes={"Content-Type": content_type})

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        if settings.s3_bucket is None:
            raise ValueError("LINJU_STORAGE_URL names no S3 bucket")
        return cls(
            settings.s3_bucket,
            settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )


def local_storage(settings: Settings) -> LocalStorage:
    """The local folder, whichever storage is configured (`linju storage migrate-to` reads it)."""
    return LocalStorage(settings.var_dir / "uploads")


@lru_cache(maxsize=1)
def get_storage() -> Storage:
    """The configured storage, built once per process (like get_settings)."""
    settings = get_settings()
    if settings.s3_bucket is None:
        return local_storage(settings)
    return S3Storage.from_settings(settings)
