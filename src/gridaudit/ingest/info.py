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


REFERENCE_TABLES = frozenset({"tariffs"})  # dated, but a tariff's valid_from says nothing about months of data


def data_months(ds: Dataset) -> tuple[str, str] | None:
    """The first and last month (YYYY-MM) any activity table of ``ds`` covers, or None when none holds a row."""
    con = duckdb.connect()
    lo_hi: list[tuple[str, str]] = []
    try:
        for t in ds.tables():
            col = coverage_column(t)
            if col is None or t in REFERENCE_TABLES:
                continue
            lo, hi = con.execute(
                f"SELECT CAST(min({ident(col)}) AS VARCHAR), CAST(max({ident(col)}) AS VARCHAR) "
                f"FROM read_parquet({lit(ds.table_glob(t))}, union_by_name = true)"
            ).fetchall()[0]
            if lo is not None and hi is not None:
                lo_hi.append((lo[:7], hi[:7]))
    finally:
        con.close()
    if not lo_hi:
        return None
    return min(lo for lo, _ in lo_hi), max(hi for _, hi in lo_hi)


def period_outside_data(ds: Dataset, period: str) -> str | None:
    """Why ``period`` (YYYY-MM) cannot be analysed in ``ds`` — no data that month, in both languages — or None."""
    from gridaudit.i18n import both

    span = data_months(ds)
    if span is None:
        return both(f"数据集 {ds.root} 中没有带日期的数据", f"dataset {ds.root} holds no dated data")
    lo, hi = span
    if lo <= period <= hi:
        return None
    return both(
        f"数据集 {ds.root} 中没有 {period} 的数据（数据覆盖 {lo}..{hi}）",
        f"no data for {period} in dataset {ds.root} (data covers {lo}..{hi})",
    )


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
