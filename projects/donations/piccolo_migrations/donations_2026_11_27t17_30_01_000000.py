"""Every donation made before receipts had tokens gets one, and a token opens one receipt.

A donation's old receipt address held its public id, which the public ledger shows as `ref`,
so it must stop working: each existing row gets the SHA-256 of a fresh random token that
nobody is told (the old address then answers 404, as an unknown one does). Raw statements run
before a MigrationManager's own steps, hence this second migration after the one adding the
column. The unique index is the database's guarantee that a token opens one receipt.
"""

import hashlib
import secrets

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.querystring import QueryString

ID = "2026-11-27T17:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "existing donations get a receipt token nobody knows; one token, one receipt"

UNIQUE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS donation_receipt_token_hash "
    "ON donation (receipt_token_hash)"
)


async def fill_receipt_tokens() -> None:
    engine = engine_finder()
    assert engine is not None
    rows = await engine.run_querystring(
        QueryString("SELECT id FROM donation WHERE receipt_token_hash IS NULL")
    )
    for row in rows:
        digest = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        await engine.run_querystring(
            QueryString(
                "UPDATE donation SET receipt_token_hash = {} WHERE id = {}", digest, row["id"]
            )
        )
    await engine.run_ddl(UNIQUE_INDEX)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)
    manager.add_raw(fill_receipt_tokens)
    return manager
