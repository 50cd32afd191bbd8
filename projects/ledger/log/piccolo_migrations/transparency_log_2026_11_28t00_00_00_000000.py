"""Integration at scale (issue 16, docs/adr/0026-transparency-log.md, "Integration at scale"):
on PostgreSQL a leaf row no longer pays two foreign-key checks, and tiles are compressed with
LZ4 rather than pglz.

The integrator writes a leaf only for a ledger entry it has just read in the same transaction;
ledger entries are never deleted (append-only triggers) and a project with entries cannot be
(`ledger_entry.project` is ON DELETE RESTRICT), so the two checks per leaf proved nothing the
schema does not already hold, and they were half of what writing a leaf cost. The columns
keep their types and the tables their declarations (the joins read through them); the unique
indexes on `idx`, `entry` and `(project, seq)` stay: each entry is in the tree once, each index
holds one leaf. SQLite keeps its tables as they are (its speed is not the target).

Tile and entry bundle rows are rewritten once per batch and read by every proof: LZ4 compresses
them about three times faster than pglz (where the server was built without LZ4, pglz stays).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "log leaves without foreign-key checks on PostgreSQL; LZ4 tiles"

POSTGRES = [
    "ALTER TABLE log_leaf DROP CONSTRAINT IF EXISTS log_leaf_entry_fkey",
    "ALTER TABLE log_leaf DROP CONSTRAINT IF EXISTS log_leaf_project_fkey",
    "DO $$ BEGIN ALTER TABLE log_tile ALTER COLUMN data SET COMPRESSION lz4; "
    "EXCEPTION WHEN OTHERS THEN NULL; END $$",
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="transparency_log", description=DESCRIPTION
    )

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            for statement in POSTGRES:
                await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
