"""Piccolo app for the payment adapter (docs/adr/0005): processed events, the sandbox's records."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.payments.tables import (
    ProcessedEvent,
    ReconcileWatermark,
    SandboxRefund,
    SandboxSession,
)

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ProcessedEvent, SandboxSession, SandboxRefund, ReconcileWatermark],
    migration_dependencies=[],
    commands=[],
)
