"""Donations: a resident's gift to a project, from pending to confirmed (or not), and back.

The tables and rules live here; the use cases in `linju.projects.donations.services`. Nothing
here knows a payment provider: `linju.payments` reports what a provider confirmed.
"""
