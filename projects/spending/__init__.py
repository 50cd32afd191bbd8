"""Expenditures, the supervision committee's decisions, completion and cancellation.

Money leaves a project's fund only through this package: a secretary proposes, the committee
decides by quorum (each decision anchored to the ledger head), the secretary records the payment
and the ledger service posts the `expenditure` entry once.
"""
