"""The account and contact mirrors, read side: the accounts a batch of leads could match,
and the contacts that carry their addresses.

The mirrors are written and read by :mod:`worker.store.accounts_repo` and
:mod:`worker.store.contacts_repo` (the worker routes with them); readers outside the worker, such as the dashboard's What-if, take it from here
so that every read they make goes through ``worker.store.queries``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy.engine import Engine

from worker.routing.matching import AccountIndex
from worker.routing.model import AccountMatching, KnownEmail, Lead
from worker.store import accounts_repo, contacts_repo


def account_index(engine: Engine, leads: Sequence[Lead], settings: AccountMatching) -> AccountIndex:
    """Every mirrored account any of ``leads`` could match under ``settings``, exactly as
    the worker reads them (:func:`worker.store.accounts_repo.account_index`)."""
    return accounts_repo.account_index(engine, leads, settings)


def known_emails(
    engine: Engine, emails: Iterable[str], active: Mapping[str, bool]
) -> dict[str, list[KnownEmail]]:
    """The mirrored contacts carrying ``emails``, exactly as the worker reads them
    (:func:`worker.store.contacts_repo.known_emails`)."""
    return contacts_repo.known_emails(engine, emails, active)
