"""The account mirror, read side: the accounts a batch of leads could match.

The mirror is written and read by :mod:`worker.store.accounts_repo` (the worker routes
with it); readers outside the worker, such as the dashboard's What-if, take it from here
so that every read they make goes through ``worker.store.queries``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from worker.routing.matching import AccountIndex
from worker.routing.model import AccountMatching, Lead
from worker.store import accounts_repo


def account_index(engine: Engine, leads: Sequence[Lead], settings: AccountMatching) -> AccountIndex:
    """Every mirrored account any of ``leads`` could match under ``settings``, exactly as
    the worker reads them (:func:`worker.store.accounts_repo.account_index`)."""
    return accounts_repo.account_index(engine, leads, settings)
