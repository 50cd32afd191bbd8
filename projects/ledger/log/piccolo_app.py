"""Piccolo app for the transparency log (docs/adr/0026-transparency-log.md)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.ledger.log.tables import (
    LogCheckpoint,
    LogCosignature,
    LogCursor,
    LogLeaf,
    LogRefusal,
    LogTile,
    LogWitness,
)

APP_CONFIG = AppConfig(
    app_name="transparency_log",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        LogLeaf,
        LogTile,
        LogCursor,
        LogCheckpoint,
        LogCosignature,
        LogWitness,
        LogRefusal,
    ],
    migration_dependencies=["linju.projects.piccolo_app"],
    commands=[],
)
