"""Team settings page: the change history as the page's table shows it."""

from __future__ import annotations

import pandas as pd

from dashboard import fmt

HEADINGS = {
    "at": "when",
    "actor": "who",
    "entity": "what",
    "old_value": "old",
    "new_value": "new",
}


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """Newest first as stored, indexed by when (in words), columns named for people."""
    shown = history.assign(at=history["at"].map(fmt.when)).rename(columns=HEADINGS)
    return shown.set_index("when")
