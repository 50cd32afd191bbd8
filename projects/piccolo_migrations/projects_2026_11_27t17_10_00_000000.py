"""A project's ledger head can only stand on its newest entry (docs/adr/0016-database-roles.md).

The head row (`ledger_head`: seq, hash and the figures they cache) is what the project page,
the poster and every committee decision show. Until now only the append service kept it on
the last entry; now the database refuses any insert or update of a head whose seq and hash are
not those of the project's newest entry (or, with no entry yet, `0` and sixty-four zeros),
whoever connects: the application role, the owner, a superuser's session in the usual
replication role.

- PostgreSQL: a constraint trigger, `DEFERRABLE INITIALLY IMMEDIATE`. The append is one
  statement (entries, postings and the head's move in one `WITH`), and an AFTER trigger fires
  at the end of that statement, when its entries are there; a session may defer it to its
  commit (`SET CONSTRAINTS … DEFERRED`) but not escape it. Its one query reads the newest
  entry through the unique index `(project, seq)`. The table is named with its schema, so a
  temporary table of the same name cannot stand in for it.
- SQLite: a BEFORE INSERT / BEFORE UPDATE trigger with the same condition (the append there
  writes its entries before it moves the head).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-27T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger head moves only to the newest entry (constraint trigger)"

GENESIS = "0" * 64


def postgres_statements(schema: str) -> list[str]:
    entries = f'"{schema}".ledger_entry'
    return [
        f"""
        CREATE OR REPLACE FUNCTION linju_ledger_head_is_newest() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            newest_seq bigint := 0;
            newest_hash text := '{GENESIS}';
        BEGIN
            SELECT e.seq, e.hash INTO newest_seq, newest_hash
            FROM {entries} e WHERE e.project = NEW.project
            ORDER BY e.seq DESC LIMIT 1;
            IF NOT FOUND THEN
                newest_seq := 0;
                newest_hash := '{GENESIS}';
            END IF;
            IF NEW.seq IS DISTINCT FROM newest_seq OR NEW.hash IS DISTINCT FROM newest_hash THEN
                RAISE EXCEPTION
                    'the ledger head must be the newest entry: project % ends at seq % (%), '
                    'not seq % (%)', NEW.project, newest_seq, left(newest_hash, 12), NEW.seq,
                    left(NEW.hash, 12)
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NULL;
        END;
        $$
        """,
        "CREATE CONSTRAINT TRIGGER ledger_head_is_newest_entry "
        "AFTER INSERT OR UPDATE ON ledger_head DEFERRABLE INITIALLY IMMEDIATE "
        "FOR EACH ROW EXECUTE FUNCTION linju_ledger_head_is_newest()",
    ]


_NEWEST = (
    "COALESCE((SELECT e.seq || ':' || e.hash FROM ledger_entry e WHERE e.project = NEW.project "
    f"ORDER BY e.seq DESC LIMIT 1), '0:{GENESIS}')"
)

SQLITE = [
    f"CREATE TRIGGER ledger_head_is_newest_entry_{operation.lower()} "
    f"BEFORE {operation} ON ledger_head "
    f"WHEN NEW.seq || ':' || NEW.hash IS NOT {_NEWEST} "
    "BEGIN SELECT RAISE(ABORT, 'the ledger head must be the newest entry'); END"
    for operation in ("INSERT", "UPDATE")
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="projects", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            rows = await engine.run_ddl("SELECT current_schema() AS name")
            statements = postgres_statements(rows[0]["name"])
        else:
            statements = SQLITE
        for statement in statements:  # run_ddl takes one statement per call
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
