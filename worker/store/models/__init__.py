"""All tables, one module per area. Importing this package registers every table on
``SQLModel.metadata`` (Alembic autogenerate and the tests rely on that)."""

from worker.store.models.accounts import (
    AccountBlock,
    AccountBlockSize,
    AccountName,
    AccountSyncRow,
    MirroredAccount,
)
from worker.store.models.config_version import ConfigVersionRow
from worker.store.models.contacts import ContactSyncRow, MirroredContact
from worker.store.models.core import ApiUsage, KeyValue, WorkerHeartbeat
from worker.store.models.journal import DecisionStatus, JournalRow, Outcome
from worker.store.models.outbox import OutboxMessage, OutboxStatus
from worker.store.models.team import (
    RepOverride,
    RevokedSession,
    SettingsChange,
    SignInAttempt,
    SignInThrottle,
)
from worker.store.models.worker_state import ReplayRow, RoutingStateRow

__all__ = [
    "AccountBlock",
    "AccountBlockSize",
    "AccountName",
    "AccountSyncRow",
    "ApiUsage",
    "ConfigVersionRow",
    "ContactSyncRow",
    "DecisionStatus",
    "JournalRow",
    "KeyValue",
    "MirroredAccount",
    "MirroredContact",
    "Outcome",
    "OutboxMessage",
    "OutboxStatus",
    "ReplayRow",
    "RepOverride",
    "RoutingStateRow",
    "SettingsChange",
    "SignInAttempt",
    "SignInThrottle",
    "RevokedSession",
    "WorkerHeartbeat",
]
