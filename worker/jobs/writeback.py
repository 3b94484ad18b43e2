"""Write decided owners to Salesforce, never over a human, and journal the outcome.

Two halves, which the intake runs apart (the sending on a thread while the next page is
decided) and everyone else runs together through :func:`write_back`:

- :mod:`worker.jobs.send_owners`: per burst, re-read the owners
  (:mod:`worker.jobs.owner_guard` judges them), PATCH the leads still ours to write,
  each only if unmodified since that re-read, and go round again for locked, refused
  or held-back leads; no store access;
- :mod:`worker.jobs.outcome_journal`: journal what came of it in one transaction, with
  the cap counters of decisions that were not applied given back.

The items and outcomes they pass are in :mod:`worker.jobs.write_items`.
"""

from __future__ import annotations

from collections.abc import Sequence

from worker.jobs.deps import Deps
from worker.jobs.outcome_journal import journal_outcomes
from worker.jobs.send_owners import send_all
from worker.jobs.write_items import Outcomes, WriteItem


def write_back(deps: Deps, items: Sequence[WriteItem], *, conditional: bool = True) -> Outcomes:
    """Push ``items`` (pending decisions) to Salesforce and journal what happened: per
    group of one burst (800 by default): one owner re-read, then the PATCHes at once.
    ``conditional`` (``writeback.conditional``, the default): each PATCH applies only if
    the lead is unmodified since the re-read, closing the check-then-write window (see
    :mod:`worker.jobs.precondition`); without it a person's change inside that window
    is overwritten."""
    return journal_outcomes(deps, send_all(deps, items, conditional=conditional))
