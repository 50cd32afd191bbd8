"""Work that must outlive a request: a job queue on the database, run by workers.

A job is enqueued in the same transaction as the change that causes it (`queue.enqueue`), so it
exists exactly when the change does. On PostgreSQL the queue is pgqueuer's, run by `linju
worker` processes; on the embedded SQLite default a small runner of ours (`embedded.py`) claims
the same jobs from our own table, in-process in `linju serve`. Job functions are the same on
both (docs/adr/0014-jobs.md).
"""
