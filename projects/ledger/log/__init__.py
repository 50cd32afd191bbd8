"""The transparency log over every project's ledger (docs/transparency.md, docs/adr/0026).

Rules (pure, no I/O): `merkle.py` (RFC 9162 hashing and proofs), `tiles.py` (tlog-tiles),
`note.py` (signed notes, keys, checkpoints, cosignatures), `proof.py` (tlog-proof),
`rules.py` (what a leaf is). Rooms as in every area: `tables.py`, `services.py` (the
integrator), `read.py`, `controllers.py`, `cli.py`, `jobs.py`; `witness.py` is the witness.
"""
