"""Piccolo app for the job queue's own tables and their migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.platform.jobs.tables import JobSchedule, QueuedJob

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[QueuedJob, JobSchedule],
    migration_dependencies=[],
    commands=[],
)
