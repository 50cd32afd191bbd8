"""A published disclosure is frozen in the database itself, on both engines (ADR 0029).

- `disclosure` refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) by trigger; the trigger is
  named `disclosure_append_only`, so the application role is granted only SELECT and INSERT on
  it (docs/adr/0016-database-roles.md);
- `(project, seq)` is unique: two publications racing for the same number cannot both land.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T23:39:50:000000"
VERSION = "1.38.0"
DESCRIPTION = "disclosures (项目公示) are append-only; one number per project"

INDEX = "CREATE UNIQUE INDEX disclosure_project_seq ON disclosure (project, seq)"

POSTGRES = [
    "CREATE TRIGGER disclosure_append_only BEFORE UPDATE OR DELETE ON disclosure "
    "FOR EACH ROW EXECUTE FUNCTION linju_refuse_ledger_change()",
    "CREATE TRIGGER disclosure_no_truncate BEFORE TRUNCATE ON disclosure "
    "FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
    INDEX,
]

SQLITE = [
    *[
        f"CREATE TRIGGER disclosure_no_{operation.lower()} BEFORE {operation} ON disclosure "
        f"BEGIN SELECT RAISE(ABORT, 'a published disclosure is frozen: {operation} on "
        f"disclosure is refused'); END"
        for operation in ("UPDATE", "DELETE")
    ],
    INDEX,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="stewardship", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = POSTGRES if engine.engine_type == "postgres" else SQLITE
        for statement in statements:  # run_ddl takes one statement per call
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
