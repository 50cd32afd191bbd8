"""The receipt token sealed for the thank-you mail (docs/adr/0027-host-and-fund.md).

A donation made with an e-mail keeps its receipt token encrypted under a key derived from the
secret key until its thank-you mail is sent, then the column is cleared. Donations made
before have none: they get no mail (their token was never kept).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T20:30:20:979481"
VERSION = "1.38.0"
DESCRIPTION = "a donation with an e-mail keeps its receipt token sealed until its thank-you mail is sent"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="donations", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Donation",
        tablename="donation",
        column_name="receipt_seal",
        db_column_name="receipt_seal",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 255,
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

    return manager
