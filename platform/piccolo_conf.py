"""Piccolo's configuration: the engine from DATABASE_URL (LINJU_MIGRATE_DATABASE_URL in
`linju migrate`) and the apps whose migrations we run.

Apps are applied in this order; later apps may refer to earlier apps' tables.
"""

from piccolo.conf.apps import AppRegistry

from linju.platform.db import engine_from_url, process_database_url

DB = engine_from_url(process_database_url())

APP_REGISTRY = AppRegistry(
    apps=[
        "linju.platform.jobs.piccolo_app",
        "linju.platform.accounts.piccolo_app",
        "linju.projects.piccolo_app",
        "linju.projects.ledger.log.piccolo_app",
        "linju.projects.donations.piccolo_app",
        "linju.projects.stewardship.piccolo_app",
        "linju.projects.spending.piccolo_app",
        "linju.payments.piccolo_app",
        "linju.projects.voice.piccolo_app",
    ]
)
