"""Issue 18: the risk analyzer reaches data only through the engine protocol (no engine library, no ``.con``)."""

from __future__ import annotations

import ast
from pathlib import Path

import gridaudit.risk

ENGINE_LIBRARIES = ("duckdb", "psycopg", "pyspark")
ENGINE_CLASSES = ("DuckDBEngine", "PostgresEngine", "SparkEngine")


def offences(path: Path) -> list[str]:
    """What in one module reaches past the protocol: an engine library import, an engine class, ``.con``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(a.name for a in node.names)]
        for name in names:
            parts = name.split(".")
            engine_module = name.startswith("gridaudit.engines.") and parts[-1] in ("duckdb", "postgres", "spark")
            if parts[0] in ENGINE_LIBRARIES or engine_module or name in ENGINE_CLASSES:
                found.append(f"{path.name}:{node.lineno} imports {name}")
        if isinstance(node, ast.Attribute) and node.attr == "con":
            found.append(f"{path.name}:{node.lineno} uses .con")
        if isinstance(node, ast.Name) and node.id in ENGINE_CLASSES:
            found.append(f"{path.name}:{node.lineno} names {node.id}")
    return found


def test_risk_modules_use_only_the_engine_protocol():
    folder = Path(gridaudit.risk.__file__).parent
    modules = sorted(folder.glob("*.py"))
    assert {"features.py", "pipeline.py", "augment.py", "model.py", "record.py"} <= {m.name for m in modules}
    assert [o for m in modules for o in offences(m)] == []


def test_the_check_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import duckdb\nfrom gridaudit.engines.duckdb import DuckDBEngine\n"
        "def f(e):\n    return e.con.execute('SELECT 1')\n",
        "utf-8",
    )
    got = offences(bad)
    assert any("imports duckdb" in o for o in got) and any("DuckDBEngine" in o for o in got)
    assert any("uses .con" in o for o in got)
