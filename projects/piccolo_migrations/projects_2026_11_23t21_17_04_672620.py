"""The ledger is append-only in the database itself, on both engines (ledger.md guarantee 1).

- entries and postings refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) by trigger;
- `(project, seq)` is unique, so no two entries of a project can share a place in the chain;
- a project's fund balance (the head's cache) can never be stored below zero.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T21:17:04:672620"
VERSION = "1.38.0"
DESCRIPTION = "ledger is append-only: unique seq, triggers, non-negative fund"

LEDGER_TABLES = ("ledger_entry", "ledger_posting")

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION linju_refuse_ledger_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    *[
        statement
        for table in LEDGER_TABLES
        for statement in (
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION linju_refuse_ledger_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
        )
    ],
    "CREATE UNIQUE INDEX ledger_entry_project_seq ON ledger_entry (project, seq)",
    "ALTER TABLE ledger_head ADD CONSTRAINT ledger_head_fund_never_negative "
    "CHECK (balance_fen >= 0)",
]

SQLITE = [
    *[
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: {operation} on {table} "
        f"is refused'); END"
        for table in LEDGER_TABLES
        for operation in ("UPDATE", "DELETE")
    ],
    "CREATE UNIQUE INDEX ledger_entry_project_seq ON ledger_entry (project, seq)",
    *[
        f"CREATE TRIGGER ledger_head_fund_never_negative_{operation.lower()} "
        f"BEFORE {operation} ON ledger_head WHEN NEW.balance_fen < 0 "
        f"BEGIN SELECT RAISE(ABORT, 'a fund balance cannot go below zero'); END"
        for operation in ("INSERT", "UPDATE")
    ],
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = POSTGRES if engine.engine_type == "postgres" else SQLITE
        for statement in statements:  # run_ddl takes one statement per call
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
