"""Developer tool: (re)generate a migration from the models.

    python -m worker.store.revise 0002 "worker state"

Deletes any existing ``versions/<rev>_*.py``, upgrades a scratch SQLite database to the
revision before it, and autogenerates ``<rev>`` from the difference with the models. Run it
after changing a table; review the file; commit it. Released revisions are never rewritten.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from worker.store.db import MIGRATIONS_DIR, alembic_config


def revise(rev: str, message: str) -> Path:
    versions = MIGRATIONS_DIR / "versions"
    for old in versions.glob(f"{rev}_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        cfg = alembic_config(url)
        head = ScriptDirectory.from_config(cfg).get_current_head()
        if head is not None:
            command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=rev)
    (created,) = versions.glob(f"{rev}_*.py")
    return created


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.stdout.write(f"wrote {revise(sys.argv[1], sys.argv[2])}\n")
