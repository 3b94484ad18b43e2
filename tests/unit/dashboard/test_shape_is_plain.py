"""The shaping modules are plain Python: importing them loads no Streamlit (so the pages'
logic can be tested, and reused, without a Streamlit session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHAPES = sorted(p.stem for p in (ROOT / "dashboard" / "shape").glob("*.py") if p.stem != "__init__")


def test_there_is_a_shaping_module_per_page() -> None:
    views = {p.stem for p in (ROOT / "dashboard" / "views").glob("*.py") if p.stem != "__init__"}
    assert {f"{v}_rows" for v in views} - {"team_rows"} <= set(SHAPES)
    assert {"team_form", "settings_history"} <= set(SHAPES)


def test_importing_the_shaping_modules_loads_no_streamlit() -> None:
    imports = "; ".join(f"import dashboard.shape.{name}" for name in SHAPES)
    code = f"{imports}; import dashboard.replay; import sys; print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_no_two_dashboard_modules_share_a_name() -> None:
    stems = [p.stem for p in (ROOT / "dashboard").rglob("*.py") if p.stem != "__init__"]
    assert sorted(stems) == sorted(set(stems))
