"""``gridaudit dataset info``: what a dataset holds — tables, rows, periods covered, versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from gridaudit.contract.spec import load_contract
from gridaudit.dataset import Dataset, open_dataset, versions
from gridaudit.ingest.coerce import ident, lit


def coverage_column(table: str) -> str | None:
    """The column whose range tells which period a table covers (period, else a key date/timestamp)."""
    contract = load_contract()
    if table not in contract.tables:
        return None
    spec = contract.tables[table]
    if "period" in spec.columns:
        return "period"
    for k in spec.key:
        if spec.columns[k].type in ("date", "timestamp"):
            return k
    for c in spec.columns.values():
        if c.required and c.type in ("date", "timestamp"):
            return c.name
    return None


def dataset_info(root: str | Path) -> dict[str, Any]:
    """Tables with rows and covered period, and the list of versions with their time and sources."""
    ds: Dataset = open_dataset(root)
    con = duckdb.connect()
    tables = []
    for t in ds.tables():
        col = coverage_column(t)
        lo = hi = None
        if col:
            lo, hi = con.execute(
                f"SELECT CAST(min({ident(col)}) AS VARCHAR), CAST(max({ident(col)}) AS VARCHAR) "
                f"FROM read_parquet({lit(ds.table_glob(t))}, union_by_name = true)"
            ).fetchall()[0]
        tables.append({"table": t, "rows": ds.rows(t), "column": col, "from": lo, "to": hi})
    con.close()
    hist = []
    for v in versions(Path(root)):
        m = open_dataset(root, v).manifest
        hist.append(
            {
                "version": v,
                "created_at": m.get("created_at"),
                "sources": len(m.get("sources", [])),
                "rejected": sum(int(x) for x in m.get("rejected", {}).values()),
                "current": v == ds.version,
            }
        )
    return {"root": str(root), "version": ds.version, "tables": tables, "versions": hist}
