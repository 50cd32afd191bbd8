"""Piccolo app for the secretary's work: its tables and its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.core.tables import ProjectPhoto
from linju.projects.stewardship.tables import (
    Disclosure,
    InKindContribution,
    MatchDraw,
    MatchingPledge,
    OfflineDonation,
    ProjectUpdate,
)

APP_CONFIG = AppConfig(
    app_name="stewardship",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        OfflineDonation,
        MatchingPledge,
        MatchDraw,
        ProjectUpdate,
        InKindContribution,
        ProjectPhoto,
        Disclosure,
    ],
    migration_dependencies=["linju.projects.piccolo_app"],
    commands=[],
)
