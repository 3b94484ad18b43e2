"""Versions of the routing section of the config, edited in the dashboard's routing editor
or imported with ``leadrouter config import``.

One row per published (or formerly published: ``archived``) version, numbered 1, 2, 3...,
and one shared ``draft`` row (``draft_slot`` = 1, unique, so there is never a second one)
that every editor saves into. The draft's ``revision`` counts its saves: a save names the
revision it was based on and is refused when another save came in between (optimistic
versioning, :mod:`worker.store.config_versions_repo`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class ConfigVersionRow(SQLModel, table=True):
    __tablename__ = "config_version"

    id: int | None = Field(default=None, primary_key=True)
    number: int | None = Field(default=None, unique=True)  # None for the draft
    status: str = Field(max_length=12, index=True)  # draft | published | archived
    draft_slot: int | None = Field(default=None, unique=True)  # 1 for the draft, else None
    body: str = Field(sa_column=Column(Text, nullable=False))  # YAML of the routing section
    author: str = Field(max_length=120)
    created_at: datetime = utc_field(default_now=True)
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    base_number: int | None = None  # the version it started from (a rollback: its target)
    revision: int = 0  # the draft's save counter
