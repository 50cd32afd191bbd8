"""Signed minutes frozen by the database, on both engines (docs/adr/0034-hearing-minutes.md).

The services already refuse to change minutes once signed (`services/minutes.py`); these
triggers make the database refuse it too, whoever writes (a later service, a hand-run
statement), as it does for the tally (`hearing_tally_append_only`) and the ledger:

- `hearing_minutes`: once signed off (`signed_off_at` set), no UPDATE and no DELETE; once anyone
  has signed, the text (summary, attendees, decisions) no longer changes and the row is not
  deleted (the completing sign-off still sets the anchor and `signed_off_at`);
- `hearing_minutes_signoff`: a sign-off is never changed nor withdrawn (no UPDATE, no DELETE),
  and none is added to minutes signed off already;
- on PostgreSQL, neither table can be truncated.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "signed minutes and their sign-offs frozen by trigger"

SIGNED = "EXISTS (SELECT 1 FROM hearing_minutes_signoff s WHERE s.minutes = OLD.id)"
TEXT_CHANGED = (
    "(NEW.summary IS DISTINCT FROM OLD.summary OR NEW.attendees IS DISTINCT FROM OLD.attendees "
    "OR NEW.decisions IS DISTINCT FROM OLD.decisions)"
)

POSTGRES = [
    f"""
    CREATE OR REPLACE FUNCTION linju_refuse_signed_minutes_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'TRUNCATE' OR OLD.signed_off_at IS NOT NULL
           OR (TG_OP = 'DELETE' AND {SIGNED})
           OR (TG_OP = 'UPDATE' AND {SIGNED} AND {TEXT_CHANGED}) THEN
            RAISE EXCEPTION 'signed minutes are frozen: % on % is refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION linju_refuse_signoff_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' OR EXISTS (
            SELECT 1 FROM hearing_minutes m
            WHERE m.id = NEW.minutes AND m.signed_off_at IS NOT NULL
        ) THEN
            RAISE EXCEPTION 'signed minutes are frozen: % on % is refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    "CREATE TRIGGER hearing_minutes_frozen BEFORE UPDATE OR DELETE ON hearing_minutes "
    "FOR EACH ROW EXECUTE FUNCTION linju_refuse_signed_minutes_change()",
    "CREATE TRIGGER hearing_minutes_no_truncate BEFORE TRUNCATE ON hearing_minutes "
    "FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
    "CREATE TRIGGER hearing_minutes_signoff_frozen BEFORE INSERT OR UPDATE OR DELETE "
    "ON hearing_minutes_signoff FOR EACH ROW EXECUTE FUNCTION linju_refuse_signoff_change()",
    "CREATE TRIGGER hearing_minutes_signoff_no_truncate BEFORE TRUNCATE ON hearing_minutes_signoff "
    "FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
]


def _refuse(operation: str, table: str) -> str:
    return (
        f"BEGIN SELECT RAISE(ABORT, 'signed minutes are frozen: {operation} on {table} "
        f"is refused'); END"
    )


SQLITE = [
    "CREATE TRIGGER hearing_minutes_frozen_update BEFORE UPDATE ON hearing_minutes "
    f"WHEN OLD.signed_off_at IS NOT NULL OR ({SIGNED} AND {TEXT_CHANGED}) "
    + _refuse("UPDATE", "hearing_minutes"),
    "CREATE TRIGGER hearing_minutes_frozen_delete BEFORE DELETE ON hearing_minutes "
    f"WHEN OLD.signed_off_at IS NOT NULL OR {SIGNED} " + _refuse("DELETE", "hearing_minutes"),
    "CREATE TRIGGER hearing_minutes_signoff_frozen_insert BEFORE INSERT ON hearing_minutes_signoff "
    "WHEN (SELECT m.signed_off_at FROM hearing_minutes m WHERE m.id = NEW.minutes) IS NOT NULL "
    + _refuse("INSERT", "hearing_minutes_signoff"),
    *[
        f"CREATE TRIGGER hearing_minutes_signoff_frozen_{operation.lower()} BEFORE {operation} "
        f"ON hearing_minutes_signoff " + _refuse(operation, "hearing_minutes_signoff")
        for operation in ("UPDATE", "DELETE")
    ],
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="voice", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = POSTGRES if engine.engine_type == "postgres" else SQLITE
        for statement in statements:  # run_ddl takes one statement per call
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
