"""An official receipt's number is unique per host (docs/adr/0030-official-receipts-and-host-finance.md).

A unique index over (host, receipt_number): a request not yet issued has neither (NULL), and
NULLs never collide in a unique index on either engine. Raw statements run before a
MigrationManager's own steps, hence this second migration after the one adding the table.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T23:40:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "an official receipt's number is unique per host"

UNIQUE_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS official_receipt_host_number "
    "ON official_receipt (host, receipt_number)"
)


async def create_index() -> None:
    engine = engine_finder()
    assert engine is not None
    await engine.run_ddl(UNIQUE_INDEX)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)
    manager.add_raw(create_index)
    return manager
