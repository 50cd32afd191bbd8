"""Piccolo app for expenditures and the committee's decisions (docs/adr/0005)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.spending.tables import Attachment, Decision, Expenditure, Motion

APP_CONFIG = AppConfig(
    app_name="spending",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Expenditure, Motion, Decision, Attachment],
    migration_dependencies=["linju.projects.piccolo_app"],
    commands=[],
)
