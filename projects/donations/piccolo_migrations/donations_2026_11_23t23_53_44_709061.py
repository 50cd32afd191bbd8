from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-23T23:53:44:709061"
VERSION = "1.38.0"
DESCRIPTION = "donations find their ledger entry by its key"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)

    manager.drop_column(
        table_class_name="Donation",
        tablename="donation",
        column_name="ledger_seq",
        db_column_name="ledger_seq",
        schema=None,
    )

    return manager
