"""Issue 18: outside the engines, no gridaudit module touches a DuckDB, psycopg or Spark object.

Every module of src/gridaudit is checked with :func:`tests.risk.test_engine_only.offences` (an engine library
import, an engine class name, ``.con`` on anything), except the few that keep a connection of their own for a
reason listed in ``EXCEPTIONS``. A listed exception that no longer offends must be taken off the list.
"""

from __future__ import annotations

from pathlib import Path

from tests.risk.test_engine_only import offences

import gridaudit

SRC = Path(gridaudit.__file__).parent

# path under src/gridaudit (a folder ends with "/") → why it may use an engine library directly
EXCEPTIONS: dict[str, str] = {
    "engines/": "the engines themselves: the one place that opens DuckDB, psycopg and Spark objects",
    "ingest/": "ingest's validation and conversion keep their own DuckDB connection (reading CSV/XLSX/Parquet "
    "sources before a dataset version exists) and read source databases with psycopg (ingest --from-sql)",
    "synth/calibration.py": "a realism check of the synthetic generator against the London LCL CSV files: "
    "it reads raw external files, not a dataset version, and is no analyzer, web or report module",
}


def _excepted(rel: str) -> bool:
    return any(rel == key or (key.endswith("/") and rel.startswith(key)) for key in EXCEPTIONS)


def test_no_module_outside_the_engines_touches_an_engine_library():
    modules = sorted(SRC.rglob("*.py"))
    checked = [m for m in modules if not _excepted(m.relative_to(SRC).as_posix())]
    names = {m.relative_to(SRC).as_posix() for m in checked}
    # the modules issue 18 names are among those checked (a move would otherwise skip them silently)
    assert {
        "web/engines.py",
        "web/deps.py",
        "views/common.py",
        "views/loss.py",
        "audit/recheck.py",
        "rules/runner.py",
        "lineloss/run.py",
        "risk/features.py",
        "reports/__init__.py",
        "cli_options.py",
        "sqlconsole.py",
    } <= names
    found = [f"{m.relative_to(SRC).as_posix()}: {o}" for m in checked for o in offences(m)]
    assert found == []


def test_every_exception_is_still_needed():
    for key in EXCEPTIONS:
        paths = sorted((SRC / key).rglob("*.py")) if key.endswith("/") else [SRC / key]
        assert paths and all(p.is_file() for p in paths), f"{key} no longer exists: take it off EXCEPTIONS"
        assert any(offences(p) for p in paths), f"{key} no longer touches an engine library: take it off EXCEPTIONS"
