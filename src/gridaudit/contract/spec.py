"""The import contract as typed objects, loaded once from ``tables.yaml``.

Everything that needs to know a table's columns, types, keys, value domains or
Chinese aliases reads it from here: ingest, the engines, synth and the docs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field

ColumnType = Literal["string", "int", "float", "date", "timestamp", "period", "bool"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "period": pa.string(),
    "bool": pa.bool_(),
}

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "period": "VARCHAR",
    "bool": "BOOLEAN",
}


class Text(BaseModel):
    """A label in Chinese and English."""

    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str


class Column(BaseModel):
    """One contract column: its type, whether it is required, its checks and aliases."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    type: ColumnType
    required: bool = False
    aliases: list[str] = Field(default_factory=list)
    domain: str | None = None
    min: float | None = None
    max: float | None = None
    gt: float | None = None
    not_future: bool = False
    description: str = ""

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type a dataset stores this column as."""
        return ARROW_TYPES[self.type]

    @property
    def sql_type(self) -> str:
        """The SQL type (DuckDB dialect) of this column."""
        return SQL_TYPES[self.type]


class Table(BaseModel):
    """One contract table: its columns, unique key, foreign keys and aliases."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    title: Text
    aliases: list[str] = Field(default_factory=list)
    key: list[str]
    foreign_keys: dict[str, str] = Field(default_factory=dict)
    period_dates: dict[str, str] = Field(default_factory=dict)  # date column -> the period column it must fit
    columns: dict[str, Column]

    @property
    def required(self) -> list[str]:
        """Names of the required columns, in contract order."""
        return [c.name for c in self.columns.values() if c.required]

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the contract columns (extra columns are kept as strings)."""
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=not c.required) for c in self.columns.values()])

    def absent(self, present: Iterable[str]) -> list[Column]:
        """Contract columns not among ``present``: a dataset written under an older contract lacks the optional
        columns added since (the engines show them as NULL, as ingest writes them today)."""
        have = set(present)
        return [c for c in self.columns.values() if c.name not in have]

    def fk_severity(self, column: str) -> str:
        """``error`` (the row is rejected) for a required foreign-key column that names nothing, ``warning``
        (the row is kept, the failure recorded) for an optional one: a reference to a reader not in staff
        loses no reading."""
        return "error" if self.columns[column].required else "warning"

    def foreign_key(self, column: str) -> tuple[str, str]:
        """The (table, column) a foreign-key column refers to."""
        table, col = self.foreign_keys[column].split(".")
        return table, col


class Domain(BaseModel):
    """A value domain: canonical codes and the utility labels that map onto them."""

    model_config = ConfigDict(extra="forbid")
    values: list[str]
    aliases: dict[str, str] = Field(default_factory=dict)

    def canonical(self, value: str) -> str | None:
        """The canonical code for ``value`` (a code or an alias), or None if it is not in the domain."""
        v = value.strip()
        if v in self.values:
            return v
        if v.lower() in self.values:
            return v.lower()
        return self.aliases.get(v)


class Contract(BaseModel):
    """The whole import contract."""

    model_config = ConfigDict(extra="forbid")
    domains: dict[str, Domain]
    tables: dict[str, Table]

    def table(self, name: str) -> Table:
        """The table called ``name``; KeyError names the known tables."""
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"unknown table {name!r}; contract tables: {', '.join(self.tables)}") from None

    def table_for_name(self, name: str, anywhere: bool = True) -> str | None:
        """The contract table a file or sheet name stands for (``customers.csv``, ``用户档案.xlsx``).

        The whole stem first (a table name, an alias or the Chinese title); else the longest of those found
        anywhere in it, with dates and words around it (``抄表示数_202402_更正``, ``2024年2月抄表示数``,
        ``readings-2024-02-final``). An ASCII name must stand as a word (``xreadingsx`` names nothing).
        Two different tables found at the same length raise :class:`AmbiguousName`. ``anywhere=False``
        matches the whole stem only.
        """
        stem = normalize_header(re.sub(r"\.(csv|txt|tsv|xlsx|xlsm|xls|parquet|gz)$", "", name.strip(), flags=re.I))
        stem = re.sub(r"\.(csv|txt)$", "", stem)
        names = self._table_names()
        if stem in names or not anywhere:
            return names.get(stem)
        best: dict[str, int] = {}
        for alias, table in names.items():
            if _contains(stem, alias) and len(alias) > best.get(table, 0):
                best[table] = len(alias)
        if not best:
            return None
        top = max(best.values())
        winners = sorted(t for t, n in best.items() if n == top)
        if len(winners) > 1:
            raise AmbiguousName(name, winners)
        return winners[0]

    def _table_names(self) -> dict[str, str]:
        """Every folded name, alias and Chinese title -> its table."""
        out: dict[str, str] = {}
        for t in self.tables.values():
            for n in (t.name, t.title.zh, *t.aliases):
                out.setdefault(normalize_header(n), t.name)
        return out

    def table_names_hint(self) -> str:
        """The accepted table names for a message: ``units (供电单位), feeders (线路), …``."""
        return ", ".join(f"{t.name} ({t.title.zh})" for t in self.tables.values())

    def column_for_header(self, table: str, header: str) -> str | None:
        """The contract column a source header stands for in ``table`` (name or Chinese alias)."""
        h = normalize_header(header)
        t = self.table(table)
        if h in t.columns:
            return h
        for col in t.columns.values():
            if h in (normalize_header(a) for a in col.aliases):
                return col.name
        return None


class AmbiguousName(ValueError):
    """A file or sheet name that names two contract tables equally well."""

    def __init__(self, name: str, tables: list[str]) -> None:
        self.name = name
        self.tables = tables
        super().__init__(f"{name!r} names more than one table: {', '.join(tables)}")


def _contains(stem: str, alias: str) -> bool:
    """Whether ``alias`` occurs in ``stem``; an ASCII alias only as a whole word (digits, ``_`` around it)."""
    if not alias.isascii():
        return alias in stem
    return re.search(rf"(?<![a-z]){re.escape(alias)}(?![a-z])", stem) is not None


def normalize_header(text: str) -> str:
    """Fold a header or file name for matching: NFKC (full-width → ASCII), trimmed, lower case,
    spaces and dashes as underscores, units in brackets dropped (``合同容量(kVA)`` → ``合同容量``)."""
    t = unicodedata.normalize("NFKC", str(text)).strip().lstrip("\ufeff")
    t = re.sub(r"[（(\[【].*?[)）\]】]$", "", t).strip()
    t = re.sub(r"[\s\-]+", "_", t)
    return t.lower()


@cache
def load_contract() -> Contract:
    """Load and validate the contract from the package's ``tables.yaml`` (cached)."""
    raw = yaml.safe_load(resources.files("gridaudit.contract").joinpath("tables.yaml").read_text("utf-8"))
    for tname, t in raw["tables"].items():
        t["name"] = tname
        for cname, c in t["columns"].items():
            c["name"] = cname
    contract = Contract.model_validate(raw)
    _check_consistency(contract)
    return contract


def _check_consistency(contract: Contract) -> None:
    """Refuse a contract whose keys, foreign keys or domains point at nothing."""
    for t in contract.tables.values():
        for k in t.key:
            if k not in t.columns:
                raise ValueError(f"contract: {t.name}.key names unknown column {k}")
        for col, ref in t.foreign_keys.items():
            rt, rc = ref.split(".")
            if col not in t.columns or rt not in contract.tables or rc not in contract.tables[rt].columns:
                raise ValueError(f"contract: bad foreign key {t.name}.{col} -> {ref}")
        for d, p in t.period_dates.items():
            if t.columns.get(d) is None or t.columns[d].type != "date" or t.columns.get(p) is None:
                raise ValueError(f"contract: {t.name}.period_dates {d}: {p} needs a date and a period column")
            if t.columns[p].type != "period":
                raise ValueError(f"contract: {t.name}.period_dates {d}: {p} is not a period column")
        for c in t.columns.values():
            if c.domain and c.domain not in contract.domains:
                raise ValueError(f"contract: {t.name}.{c.name} uses unknown domain {c.domain}")
