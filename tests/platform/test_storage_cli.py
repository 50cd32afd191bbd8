"""`linju storage migrate-to s3` against a real S3 API server (moto's, tests/storage_support.py):
files on disk end up in the bucket, a second run skips them all, a copy that does not read back
the same is reported and exits 1, and without a bucket the command exits 2 with one line."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from linju.platform.settings import Settings, get_settings
from linju.platform.storage import S3Storage
from linju.platform.storage_cli import storage
from tests.platform.test_cli import run_linju
from tests.storage_support import BUCKET, S3_ENVIRONMENT, s3_client

FILES = {
    "private/invoice.pdf": b"%PDF-1.4\n" + bytes(range(256)) * 40,
    "public/redacted.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048,
    "photos/cover.jpg": b"\xff\xd8\xff" + bytes(reversed(range(256))) * 64,
}


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    """A LINJU_VAR_DIR whose uploads folder holds FILES."""
    for key, data in FILES.items():
        path = tmp_path / "var" / "uploads" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return tmp_path / "var"


@pytest.fixture
def prefix(s3_server: str) -> str:
    """A fresh prefix in the run's bucket on moto's server."""
    return f"migrated-{uuid.uuid4().hex[:12]}"


def migrate(var_dir: Path, prefix: str) -> Any:
    return run_linju(
        "storage",
        "migrate-to",
        "s3",
        env={
            **S3_ENVIRONMENT,
            "LINJU_STORAGE_URL": f"s3://{BUCKET}/{prefix}",
            "LINJU_VAR_DIR": str(var_dir),
        },
    )


def bucket_objects(prefix: str) -> dict[str, bytes]:
    client = s3_client()
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", [])
    return {
        item["Key"].removeprefix(f"{prefix}/"): client.get_object(Bucket=BUCKET, Key=item["Key"])[
            "Body"
        ].read()
        for item in listed
    }


def test_every_file_is_copied_then_skipped_and_a_changed_copy_is_copied_again(
    var_dir: Path, prefix: str
) -> None:
    first = migrate(var_dir, prefix)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"storage: 3 copied, 0 skipped (already there), 0 failed, into s3://{BUCKET}/{prefix}"
    ]
    assert bucket_objects(prefix) == FILES
    head = s3_client().head_object(Bucket=BUCKET, Key=f"{prefix}/private/invoice.pdf")
    assert head["ContentType"] == "application/pdf"

    again = migrate(var_dir, prefix)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("storage: 0 copied, 3 skipped (already there), 0 failed")

    # a copy in the bucket that differs from the file (same size, other bytes) is not "there"
    s3_client().put_object(
        Bucket=BUCKET,
        Key=f"{prefix}/photos/cover.jpg",
        Body=b"\x00" * len(FILES["photos/cover.jpg"]),
    )
    repaired = migrate(var_dir, prefix)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.startswith("storage: 1 copied, 2 skipped (already there), 0 failed")
    assert bucket_objects(prefix) == FILES
    assert all((var_dir / "uploads" / key).read_bytes() == data for key, data in FILES.items())


def test_a_copy_that_does_not_read_back_the_same_fails_and_exits_1(
    var_dir: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bucket keeps something else than was sent (here: the photo's last byte flipped)."""
    settings: Settings = dataclasses.replace(
        get_settings(),
        var_dir=var_dir,
        s3_bucket=BUCKET,
        s3_prefix=prefix,
        s3_endpoint_url=S3_ENVIRONMENT["LINJU_S3_ENDPOINT_URL"],
        s3_access_key_id=S3_ENVIRONMENT["LINJU_S3_ACCESS_KEY_ID"],
        s3_secret_access_key=S3_ENVIRONMENT["LINJU_S3_SECRET_ACCESS_KEY"],
    )
    monkeypatch.setattr("linju.platform.settings.get_settings", lambda: settings)
    put = S3Storage.put

    async def corrupting_put(self: S3Storage, key: str, data: bytes, content_type: str) -> None:
        if key == "photos/cover.jpg":
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        await put(self, key, data, content_type)

    monkeypatch.setattr(S3Storage, "put", corrupting_put)
    result = CliRunner().invoke(storage, ["migrate-to", "s3"])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"storage: 2 copied, 0 skipped (already there), 1 failed, into s3://{BUCKET}/{prefix}"
    ]
    assert result.stderr.splitlines() == ["linju: storage: photos/cover.jpg: SHA-256 differs"]
    cover = bucket_objects(prefix)["photos/cover.jpg"]
    assert hashlib.sha256(cover).digest() != hashlib.sha256(FILES["photos/cover.jpg"]).digest()


def test_without_a_bucket_it_exits_2_with_one_line(var_dir: Path) -> None:
    result = run_linju(
        "storage",
        "migrate-to",
        "s3",
        env={"LINJU_STORAGE_URL": "local", "LINJU_VAR_DIR": str(var_dir)},
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "linju: storage migrate-to s3: LINJU_STORAGE_URL must name the bucket (s3://bucket/prefix)"
    ]
    assert result.stdout == ""
