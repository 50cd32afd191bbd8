"""Piccolo app for accounts and roles: its tables and its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.platform.accounts.tables import (
    Account,
    AuditRecord,
    LoginAttempt,
    PasswordResetRequest,
    PasswordToken,
    SecretaryRole,
    SentMail,
    Session,
)

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Account,
        SecretaryRole,
        Session,
        LoginAttempt,
        PasswordResetRequest,
        PasswordToken,
        AuditRecord,
        SentMail,
    ],
    # A secretary's role points at a community: the projects app's tables come first.
    migration_dependencies=["linju.projects.piccolo_app"],
    commands=[],
)
