"""Every page is a module with ``render(ctx)`` and nothing runs when it is imported: its
top level holds only imports, constants and functions (read from the source, so this
test loads no Streamlit)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VIEWS = sorted((Path(__file__).resolve().parents[3] / "dashboard" / "views").glob("[!_]*.py"))
ALLOWED = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _calls(node: ast.AST) -> list[str]:
    return [ast.unparse(n) for n in ast.walk(node) if isinstance(n, ast.Call)]


@pytest.mark.parametrize("path", VIEWS, ids=[p.stem for p in VIEWS])
def test_a_page_runs_nothing_on_import_and_renders_with_a_context(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    loose = [
        ast.unparse(n)[:60]
        for n in tree.body
        if not _is_docstring(n)
        and (
            not isinstance(n, ALLOWED) or (isinstance(n, ast.Assign | ast.AnnAssign) and _calls(n))
        )
    ]
    assert loose == [], "top-level statements that run on import"
    render = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "render"), None
    )
    assert render is not None, "a page is render(ctx)"
    assert [a.arg for a in render.args.args] == ["ctx"]
