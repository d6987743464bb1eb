"""Open the tables line loss reads, with every contract column present (missing optional ones as NULL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from gridaudit.contract import load_contract
from gridaudit.dataset import Dataset, open_dataset
from gridaudit.engines.duckdb import sql_literal
from gridaudit.i18n import both

REQUIRED = ("feeders", "areas", "customers", "meters", "daily_usage")
OPTIONAL = ("units", "readings", "bills", "interval_usage", "meter_events", "tariffs")
SQL_TYPES = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "period": "VARCHAR",
    "bool": "BOOLEAN",
}


class LossInputError(ValueError):
    """The dataset lacks what the balance needs."""


@dataclass
class LossInputs:
    """A DuckDB connection with one view per available table, and which optional tables exist."""

    con: duckdb.DuckDBPyConnection
    dataset: Dataset
    present: set[str]

    def has(self, table: str) -> bool:
        """Whether ``table`` is available."""
        return table in self.present


def open_inputs(dataset: Dataset | str | Path, threads: int | None = None) -> LossInputs:
    """Open ``dataset`` for line loss: views named like the tables, optional columns filled with NULL."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    missing = [t for t in REQUIRED if not ds.has(t)]
    if missing:
        raise LossInputError(
            both(f"{ds.root}: 线损计算缺少表 {', '.join(missing)}", f"{ds.root}: line loss needs table(s) {missing}")
        )
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    contract = load_contract()
    present = set()
    for table in REQUIRED + OPTIONAL:
        if not ds.has(table):
            continue
        present.add(table)
        glob = sql_literal(ds.table_glob(table))
        src = f"read_parquet({glob}, union_by_name = true)"
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        extra = [
            f"CAST(NULL AS {SQL_TYPES.get(col.type, 'VARCHAR')}) AS {name}"
            for name, col in contract.table(table).columns.items()
            if name not in have
        ]
        cols = ", ".join(["*", *extra])
        con.execute(f'CREATE VIEW "{table}" AS SELECT {cols} FROM {src}')
    return LossInputs(con=con, dataset=ds, present=present)


def data_span(inputs: LossInputs) -> tuple[date, date]:
    """First and last day in daily_usage (the default window)."""
    lo, hi = inputs.con.execute("SELECT MIN(day), MAX(day) FROM daily_usage").fetchall()[0]
    if lo is None:
        raise LossInputError(
            both(f"{inputs.dataset.root}: daily_usage 为空", f"{inputs.dataset.root}: daily_usage is empty")
        )
    return lo, hi


def run_script(con: duckdb.DuckDBPyConnection, script: str, params: dict | None = None) -> None:
    """Run ``;``-separated statements, giving each only the ``$name`` parameters it uses."""
    params = params or {}
    for stmt in (s.strip() for s in script.split(";\n")):
        if stmt:
            con.execute(stmt, {k: v for k, v in params.items() if f"${k}" in stmt})
