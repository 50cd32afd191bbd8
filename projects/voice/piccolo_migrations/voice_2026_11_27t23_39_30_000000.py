"""One household, one support per need; one household per address; one steward seat each: the
database's line of defence, whatever the code checked first (docs/adr/0033-residents-voice.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T23:39:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique supports, household addresses and steward seats"

STATEMENTS = [
    "CREATE UNIQUE INDEX need_support_once ON need_support (need, household)",
    "CREATE UNIQUE INDEX household_address ON household (community, building, unit, room)",
    "CREATE UNIQUE INDEX community_steward_once ON community_steward (community, account)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="voice", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
