"""A steward may hide a donation's message from the donor wall (docs/adr/0028-sharing-moderation-time.md).

`message_hidden_at` (null while the message shows) and `message_hidden_by` (the steward's label)
say who hid it and when; the ledger is untouched.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a steward can hide a donation's message from the donor wall"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="donations", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Donation",
        tablename="donation",
        column_name="message_hidden_at",
        db_column_name="message_hidden_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    manager.add_column(
        table_class_name="Donation",
        tablename="donation",
        column_name="message_hidden_by",
        db_column_name="message_hidden_by",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 100,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
