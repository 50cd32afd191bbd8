"""Piccolo app for the domain: its tables and its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.core.tables import BudgetLine, CommitteeMember, Community, Host, Project
from linju.projects.ledger.tables import LedgerEntry, LedgerHead, LedgerPosting

APP_CONFIG = AppConfig(
    app_name="projects",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Community,
        Project,
        BudgetLine,
        CommitteeMember,
        LedgerHead,
        LedgerEntry,
        LedgerPosting,
        Host,
    ],
    migration_dependencies=[],
    commands=[],
)
