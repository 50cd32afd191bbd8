"""Hearings: one ballot per household, one tally per option, a frozen tally, on both engines
(docs/adr/0032-hearings-secret-ballots.md).

- `(hearing, household)` is unique on `hearing_ballot`, whichever the channel: a household that
  voted on paper cannot vote online, nor twice either way;
- `(ballot, option)` is unique on `hearing_ballot_choice`; `option` is unique on
  `hearing_tally` (the tally is written once); `(minutes, account)` on the sign-offs;
- `hearing_tally` refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) by a trigger named
  `hearing_tally_append_only`, so the application role may only SELECT and INSERT there
  (docs/adr/0016-database-roles.md), as the disclosures' (ADR 0029).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-28T03:30:22:000000"
VERSION = "1.38.0"
DESCRIPTION = "one ballot per household and hearing; the tally is written once and frozen"

INDEXES = [
    "CREATE UNIQUE INDEX hearing_ballot_once ON hearing_ballot (hearing, household)",
    "CREATE UNIQUE INDEX hearing_ballot_choice_once ON hearing_ballot_choice (ballot, option)",
    "CREATE UNIQUE INDEX hearing_tally_once ON hearing_tally (option)",
    "CREATE UNIQUE INDEX hearing_minutes_signoff_once ON hearing_minutes_signoff (minutes, account)",
]

POSTGRES = [
    "CREATE TRIGGER hearing_tally_append_only BEFORE UPDATE OR DELETE ON hearing_tally "
    "FOR EACH ROW EXECUTE FUNCTION linju_refuse_ledger_change()",
    "CREATE TRIGGER hearing_tally_no_truncate BEFORE TRUNCATE ON hearing_tally "
    "FOR EACH STATEMENT EXECUTE FUNCTION linju_refuse_ledger_change()",
    *INDEXES,
]

SQLITE = [
    *[
        f"CREATE TRIGGER hearing_tally_no_{operation.lower()} BEFORE {operation} ON hearing_tally "
        f"BEGIN SELECT RAISE(ABORT, 'a hearing''s tally is frozen: {operation} on "
        f"hearing_tally is refused'); END"
        for operation in ("UPDATE", "DELETE")
    ],
    *INDEXES,
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
