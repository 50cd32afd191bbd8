"""The log's leaves and checkpoints are append-only, like the ledger (guarantees 1 and 2 of
docs/transparency.md); one row per tile, per (project, seq) leaf, per witness and checkpoint.

The triggers are named `<table>_append_only`, so the application role is granted only SELECT
and INSERT on these tables (docs/adr/0016-database-roles.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T20:18:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the log's leaves and checkpoints are append-only; unique tiles and leaves"

APPEND_ONLY = ("log_leaf", "log_checkpoint")
INDEXES = [
    "CREATE UNIQUE INDEX log_tile_level_idx ON log_tile (level, idx)",
    "CREATE UNIQUE INDEX log_leaf_project_seq ON log_leaf (project, seq)",
    "CREATE UNIQUE INDEX log_cosignature_once ON log_cosignature (checkpoint, witness)",
    "CREATE UNIQUE INDEX log_refusal_once ON log_refusal (project, seq)",
]

POSTGRES = [
    *[
        statement
        for table in APPEND_ONLY
        for statement in (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION linju_refuse_ledger_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
        )
    ],
    *INDEXES,
]

SQLITE = [
    *[
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the log is append-only: {operation} on {table} "
        f"is refused'); END"
        for table in APPEND_ONLY
        for operation in ("UPDATE", "DELETE")
    ],
    *INDEXES,
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="transparency_log", description=DESCRIPTION
    )

    async def run():
        engine = engine_finder()
        statements = POSTGRES if engine.engine_type == "postgres" else SQLITE
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
