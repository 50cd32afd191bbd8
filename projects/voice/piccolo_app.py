"""Piccolo app for residents' voice: its tables and its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from linju.projects.voice.tables import (
    Ballot,
    BallotChoice,
    CodeAttempt,
    CommunitySteward,
    Hearing,
    HearingMinutes,
    HearingOption,
    HearingQuestion,
    HearingTally,
    Household,
    HouseholdSession,
    MinutesSignoff,
    Need,
    NeedPhoto,
    Support,
    VoiceSettings,
)

APP_CONFIG = AppConfig(
    app_name="voice",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Household,
        HouseholdSession,
        CodeAttempt,
        CommunitySteward,
        VoiceSettings,
        Need,
        NeedPhoto,
        Support,
        Hearing,
        HearingQuestion,
        HearingOption,
        Ballot,
        BallotChoice,
        HearingTally,
        HearingMinutes,
        MinutesSignoff,
    ],
    migration_dependencies=["linju.projects.piccolo_app", "linju.platform.accounts.piccolo_app"],
    commands=[],
)
