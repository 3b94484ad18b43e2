"""Persistence: SQLModel tables (records at the edge), migrations and repositories.

Tables are persistence records, never domain objects: repositories convert them to and
from ``worker.routing`` dataclasses. The schema is managed by Alembic only
(``leadrouter db upgrade``); nothing calls ``create_all``.
"""
