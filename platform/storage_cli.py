"""`linju storage migrate-to s3`: move the uploads of the local folder into the configured bucket.

For the day a site grows from one app server to several: LINJU_STORAGE_URL names the bucket,
this command copies every object of `var/uploads` into it under the same key, then the servers
restart on the bucket. It can be run again at any time (before the switch, and once more after
it): an object already in the bucket with the same SHA-256 is skipped. Every copy is read back
and its SHA-256 compared with the original's; one that differs is reported and makes the
command exit 1. Nothing is deleted from the folder.
"""

from __future__ import annotations

import hashlib
import mimetypes
import sys
from dataclasses import dataclass, field

import click

from linju.platform.commands import EXIT_FAULT, CommandError, run_async
from linju.platform.storage import Storage


@dataclass(slots=True)
class CopyReport:
    target: str
    copied: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"storage: {self.copied} copied, {self.skipped} skipped (already there), "
            f"{len(self.failed)} failed, into {self.target}"
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


async def copy_every_object(source: Storage, target: Storage) -> CopyReport:
    """Copy each object of `source` missing from `target` (or different there), each verified by
    reading it back; a failure is reported on stderr and the copying goes on."""
    report = CopyReport(target.where)
    async for key in source.keys():
        data = await source.get(key)
        digest = _sha256(data)
        try:
            if await target.exists(key) and _sha256(await target.get(key)) == digest:
                report.skipped += 1
                continue
            await target.put(key, data, _content_type(key))
            problem = None if _sha256(await target.get(key)) == digest else "SHA-256 differs"
        except Exception as exc:  # the storage's own error, whatever it is: report, go on
            problem = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
        if problem is None:
            report.copied += 1
        else:
            report.failed.append(key)
            click.echo(f"linju: storage: {key}: {problem}", err=True)
    return report


@click.group()
def storage() -> None:
    """Uploads: the local folder and the S3 bucket."""


@storage.command("migrate-to")
@click.argument("target", type=click.Choice(["s3"]))
def migrate_to(target: str) -> None:
    """Copy every upload of the local folder into the bucket LINJU_STORAGE_URL names."""
    from linju.platform.settings import get_settings
    from linju.platform.storage import S3Storage, local_storage

    settings = get_settings()
    if settings.s3_bucket is None:
        raise CommandError(
            "storage migrate-to s3: LINJU_STORAGE_URL must name the bucket (s3://bucket/prefix)"
        )
    source, bucket = local_storage(settings), S3Storage.from_settings(settings)
    report: CopyReport = run_async(lambda: copy_every_object(source, bucket))
    click.echo(report.line())
    if report.failed:
        sys.exit(EXIT_FAULT)
