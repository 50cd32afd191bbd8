"""Piccolo app for donations (docs/adr/0005): its own tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.donations.tables import Donation, DonationRefund, OfficialReceipt

APP_CONFIG = AppConfig(
    app_name="donations",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Donation, DonationRefund, OfficialReceipt],
    migration_dependencies=["linju.projects.piccolo_app"],
    commands=[],
)
