"""A committee member decides a subject once: the database's second line of defence.

The services check it under the project's lock; this unique index makes a second decision by
the same member on the same subject impossible even for code that forgot to.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T21:24:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one decision per member and subject"

STATEMENTS = [
    "CREATE UNIQUE INDEX committee_decision_once "
    "ON committee_decision (subject_kind, subject_id, member)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="spending", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
