"""The secretary's work around a project: offline gifts, matching pledges, updates, in-kind help."""
