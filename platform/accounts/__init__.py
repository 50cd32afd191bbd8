"""Accounts, roles, sessions and the audit log (docs/adr/0006-accounts.md)."""
