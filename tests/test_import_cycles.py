"""No import cycles among gridaudit's modules (DESIGN §3: arrows point down).

The graph is built from the source with ``ast``: an edge A → B for every ``import``/``from … import`` of a
gridaudit module B in A (``from pkg import sub`` is an edge to the submodule ``pkg.sub``, ``from pkg import
name`` to the package). Two graphs are checked:

* module-level imports (statements run when A is imported, including those under ``if TYPE_CHECKING:``
  and in class bodies) must form no cycle at all;
* a function-local import (deferred until the function runs, used to keep ``gridaudit --help`` fast) must
  not close a cycle through module-level imports either: A importing B inside a function while B imports A
  at module level (directly or through others) is a cycle merely hidden by the deferral. Function-local
  imports among modules that only import each other inside functions are not checked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((SRC / "gridaudit").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> tuple[set[str], set[str]]:
    """(module-level, function-local) gridaudit modules that ``module`` imports."""
    path, is_pkg = MODULES[module]
    package = module if is_pkg else module.rpartition(".")[0]
    top: set[str] = set()
    local: set[str] = set()

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = node.module or ""
        if node.level:
            up = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(up + ([node.module] if node.module else []))
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = deferred or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in targets(child):
                    target = _resolve(name) if name.startswith("gridaudit") else None
                    if target and target != module:
                        (local if inner else top).add(target)
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return top, local - top


GRAPH = {m: _imports(m) for m in MODULES}


def _reach(start: str) -> set[str]:
    """Every module ``start`` imports at module level, directly or transitively."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in GRAPH[todo.pop()][0]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycle_through(module: str) -> list[str] | None:
    """A module-level import path from ``module`` back to itself, or None."""
    path: dict[str, str] = {}
    todo = [module]
    while todo:
        cur = todo.pop()
        for nxt in sorted(GRAPH[cur][0]):
            if nxt == module:
                chain = [cur]
                while chain[-1] != module:
                    chain.append(path[chain[-1]])
                return [module, *reversed(chain[:-1]), module]
            if nxt not in path:
                path[nxt] = cur
                todo.append(nxt)
    return None


def test_the_graph_sees_known_imports():
    top, local = GRAPH["gridaudit.audit.cli"]
    assert {"gridaudit.audit.cli_common", "gridaudit.audit.cli_tasks"} <= top
    assert "gridaudit.audit.store" in GRAPH["gridaudit.audit.cli_common"][1]  # imported inside run()
    assert "gridaudit.risk.snapshot" in GRAPH["gridaudit.risk.augment"][0]
    assert len(MODULES) > 100


def test_no_module_level_import_cycle():
    cycles = [c for m in MODULES if (c := _cycle_through(m))]
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_no_cycle_hidden_by_a_function_local_import():
    hidden = [
        f"{a} imports {b} inside a function, {b} imports {a} at module level"
        for a, (_top, local) in GRAPH.items()
        for b in sorted(local)
        if a in _reach(b) or a == b
    ]
    assert not hidden, "\n".join(hidden)


def test_a_part_that_fails_to_import_is_an_error(monkeypatch):
    import typer

    from gridaudit import cli

    monkeypatch.setattr(cli, "app", typer.Typer())  # registered into a scratch app, not the real one
    monkeypatch.setattr(cli, "PARTS", ("gridaudit.contract.cli", "gridaudit.no_such_part"))
    with pytest.raises(ModuleNotFoundError, match="no_such_part"):
        cli._register_parts()
