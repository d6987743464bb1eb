"""Write contract tables chunk by chunk: one Parquet file per table (a row group per chunk) or one CSV
per table (appended), with exactly the contract's columns and types, plus ``truth.csv``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from gridaudit.contract import load_contract
from gridaudit.synth.truth import TRUTH_COLUMNS

TRUTH_FILE = "truth.csv"
ROW_GROUP = 1_000_000


def _array(values: Any, typ: pa.DataType, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, typ)
    if isinstance(values, tuple):  # (values, null mask)
        return pa.array(values[0], typ, mask=np.asarray(values[1]))
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values if values.type == typ else values.cast(typ)
    return pa.array(values, typ)


def contract_table(name: str, cols: dict[str, Any]) -> pa.Table:
    """An Arrow table of contract table ``name`` from column values (lists, numpy, Arrow, (values, mask));
    columns not given are null. Raises KeyError on a column the contract does not know."""
    spec = load_contract().table(name)
    unknown = set(cols) - set(spec.columns)
    if unknown:
        raise KeyError(f"{name}: columns not in the contract: {sorted(unknown)}")
    first = next(v for v in cols.values() if v is not None)
    n = len(first[0]) if isinstance(first, tuple) else len(first)
    schema = spec.arrow_schema()
    arrays = [_array(cols.get(f.name), f.type, n) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


class TableWriter:
    """Appends chunks of every table to ``out/<table>.parquet`` or ``out/<table>.csv``."""

    def __init__(self, out: Path, fmt: str) -> None:
        self.out = Path(out)
        self.fmt = fmt
        self.out.mkdir(parents=True, exist_ok=True)
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv_started: set[str] = set()
        self.rows: dict[str, int] = {t: 0 for t in load_contract().tables}
        for t in self.rows:
            for suffix in (".parquet", ".csv"):
                (self.out / f"{t}{suffix}").unlink(missing_ok=True)
        (self.out / TRUTH_FILE).unlink(missing_ok=True)
        self._truth_started = False

    def write(self, name: str, cols: dict[str, Any]) -> None:
        """Append rows of contract table ``name`` (nothing when ``cols`` is empty or has no rows)."""
        if not cols:
            return
        table = contract_table(name, cols)
        if table.num_rows == 0:
            return
        self.rows[name] += table.num_rows
        if self.fmt == "parquet":
            w = self._parquet.get(name)
            if w is None:
                w = pq.ParquetWriter(self.out / f"{name}.parquet", table.schema, compression="zstd")
                self._parquet[name] = w
            w.write_table(table, row_group_size=ROW_GROUP)
        else:
            self._append_csv(self.out / f"{name}.csv", _for_csv(table), name not in self._csv_started)
            self._csv_started.add(name)

    def write_truth(self, columns: dict[str, list[str]]) -> None:
        """Append truth rows (kind, entity_type, entity_id, start, end, detail)."""
        table = pa.table({c: pa.array(columns.get(c, []), pa.string()) for c in TRUTH_COLUMNS})
        if table.num_rows or not self._truth_started:
            self._append_csv(self.out / TRUTH_FILE, table, not self._truth_started)
            self._truth_started = True

    def _append_csv(self, path: Path, table: pa.Table, header: bool) -> None:
        with open(path, "ab") as fh:
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=header))

    def close(self) -> dict[str, int]:
        """Finish every file; a table that got no rows is written empty with its schema in Parquet and left out
        in CSV (ingest refuses header-only CSV files). Returns row counts."""
        for w in self._parquet.values():
            w.close()
        spec = load_contract()
        for name, n in self.rows.items():
            if n == 0:
                empty = spec.table(name).arrow_schema().empty_table()
                if self.fmt == "parquet":
                    pq.write_table(empty, self.out / f"{name}.parquet", compression="zstd")
        if not self._truth_started:
            self.write_truth({})
        return dict(self.rows)


def _for_csv(table: pa.Table) -> pa.Table:
    """Whole-second timestamps in CSV (``2024-01-05 09:30:00``)."""
    cols = [c.cast(pa.timestamp("s")) if pa.types.is_timestamp(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(cols, names=table.column_names)
