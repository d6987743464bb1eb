"""The ``--mapping`` file: how a utility's own names map onto the contract.

YAML with three optional sections::

    tables:                 # file stem, sheet name or database table/view -> contract table
      抄表数据2024: readings
      v_mr_read: readings
    columns:                # per contract table: source header -> contract column
      readings:
        表号: meter_id
        示数值: reading
    values:                 # per table.column: source label -> canonical code
      readings.read_type:
        人工抄表: actual
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gridaudit.contract.spec import load_contract, normalize_header
from gridaudit.ingest.errors import unusable

DATE_SUFFIX = re.compile(r"[\s_\-.]*(\d{4}([\-_.年]?\d{1,2}月?)?([\-_.]?\d{1,2}日?)?|\d{8})$")


@dataclass
class Mapping:
    """Names a utility uses, mapped onto contract tables, columns and domain codes."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    sha256: str = ""

    def table_for(self, name: str, anywhere: bool = True) -> str | None:
        """The contract table for a file stem, sheet or relation name, from the mapping then the contract.

        A mapping entry matches the stem with or without a trailing date (``MR_EXPORT_202402``); the contract
        finds a table name or alias anywhere in the stem (:meth:`Contract.table_for_name`), and raises
        :class:`~gridaudit.contract.spec.AmbiguousName` when two tables are named equally well. With
        ``anywhere=False`` (database relations: a replica holds ``readings_archive`` too) the stem, with or
        without a trailing date, must be the name.
        """
        stem = Path(name).name
        for suffix in (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".tsv"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
        forms = {normalize_header(stem), normalize_header(DATE_SUFFIX.sub("", stem))}
        for src, table in self.tables.items():
            if normalize_header(src) in forms:
                return table
        contract = load_contract()
        if anywhere:
            return contract.table_for_name(stem)
        return next((t for f in sorted(forms) if (t := contract.table_for_name(f, anywhere=False))), None)

    def column_for(self, table: str, header: str) -> str | None:
        """The contract column for a source header of ``table``, from the mapping then the contract aliases."""
        folded = normalize_header(header)
        for src, col in self.columns.get(table, {}).items():
            if normalize_header(src) == folded:
                return col
        return load_contract().column_for_header(table, header)

    def value_aliases(self, table: str, column: str) -> dict[str, str]:
        """Extra label -> code entries for ``table.column``."""
        return self.values.get(f"{table}.{column}", {})


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and check a mapping file (``None`` gives the empty mapping)."""
    if path is None:
        return Mapping()
    p = Path(path)
    try:
        raw_bytes = p.read_bytes()
        raw = yaml.safe_load(raw_bytes.decode("utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise unusable(str(p), f"映射文件无法读取: {exc}", f"mapping file cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) - {"tables", "columns", "values"}:
        raise unusable(
            str(p),
            "映射文件只能包含 tables、columns、values 三节",
            "mapping file may only hold tables, columns, values",
        )
    contract = load_contract()
    m = Mapping(
        tables={str(k): str(v) for k, v in (raw.get("tables") or {}).items()},
        columns={
            str(t): {str(k): str(v) for k, v in (cols or {}).items()} for t, cols in (raw.get("columns") or {}).items()
        },
        values={
            str(c): {str(k): str(v) for k, v in (vals or {}).items()} for c, vals in (raw.get("values") or {}).items()
        },
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
    )
    for src, table in m.tables.items():
        if table not in contract.tables:
            raise unusable(str(p), f"tables.{src}: 未知的表 {table}", f"tables.{src}: unknown table {table}")
    for table, cols in m.columns.items():
        if table not in contract.tables:
            raise unusable(str(p), f"columns: 未知的表 {table}", f"columns: unknown table {table}")
        for src, col in cols.items():
            if col not in contract.tables[table].columns:
                raise unusable(
                    str(p), f"columns.{table}.{src}: 未知的列 {col}", f"columns.{table}.{src}: unknown column {col}"
                )
    for key, vals in m.values.items():
        table, _, col = key.partition(".")
        column = contract.tables[table].columns.get(col) if table in contract.tables else None
        if column is None or column.domain is None:
            raise unusable(
                str(p), f"values.{key}: 不是有取值范围的列", f"values.{key}: not a column with a value domain"
            )
        allowed = contract.domains[column.domain].values
        for label, code in vals.items():
            if code not in allowed:
                raise unusable(
                    str(p),
                    f"values.{key}.{label}: {code} 不在取值范围内",
                    f"values.{key}.{label}: {code} is not in {allowed}",
                )
    return m
