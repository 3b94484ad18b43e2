"""Runtime machinery of the worker, not use cases: the active-worker lease, the heap
settings, the intake pipeline, the SQLite WAL checkpointer, the API-allocation pace and
the held-lead snapshot cache. Jobs use these; none of them decides anything about a lead.
"""
