"""Team settings page: the change history as the page's table shows it."""

from __future__ import annotations

import pandas as pd

from dashboard import fmt

HEADINGS = {
    "at": "when",
    "actor": "who",
    "entity": "what",
    "field": "field",
    "old_value": "old",
    "new_value": "new",
}


def history_table(history: pd.DataFrame, viewer: fmt.Viewer = fmt.UTC_VIEWER) -> pd.DataFrame:
    """Newest first as stored, when in the viewer's time zone and clock, columns named for
    people, blanks for empty cells. Shown with ``st.dataframe``, which renders no Markdown
    (``st.table`` would: an admin's ``**text**`` would turn bold, a rep key a mail link)."""
    shown = history.assign(at=history["at"].map(lambda at: fmt.when(at, viewer)))
    shown = shown.rename(columns=HEADINGS)
    return fmt.blanks(shown[[c for c in HEADINGS.values() if c in shown.columns]])
