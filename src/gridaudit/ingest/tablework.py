"""Per-table work in DuckDB: read each source once into a typed work file, then check keys and
foreign keys, write the accepted rows, and merge them by key into the table of the previous version.

The work files live in the staging folder (``_work/``): every step streams from Parquet to Parquet,
so memory stays within DuckDB's ``memory_limit`` whatever the size of the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from gridaudit.contract.spec import Table
from gridaudit.ingest import coerce
from gridaudit.ingest.checks import DEFAULT_PERIOD_TOLERANCE_MONTHS, Check, column_checks, table_checks
from gridaudit.ingest.coerce import ident, lit
from gridaudit.ingest.mapping import Mapping
from gridaudit.ingest.readers import RawRelation

FAILURE_COLUMNS = "table_name, source_id, row, column_name, check_name, value, message_zh, message_en, severity"


def raw_name(col: str) -> str:
    """The work-file column holding ``col``'s source text (kept for bad rows only)."""
    return f"__raw__{col}"


@dataclass
class TableOutcome:
    """What happened to one table in this ingest."""

    accepted: int = 0
    rejected: int = 0
    duplicates_dropped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changed: bool = False
    reread: bool = False  # the sources were read once already (the usual path gave way to the full path)
    present: set[str] = field(default_factory=set)


def pass_one(
    con: duckdb.DuckDBPyConnection,
    rr: RawRelation,
    spec: Table,
    mapping: Mapping,
    src_id: int,
    out: Path,
    today_sql: tuple[str, str],
    fk_refs: dict[str, tuple[str, str, str]] | None = None,
    mode: str = "all",
    period_tolerance: int = DEFAULT_PERIOD_TOLERANCE_MONTHS,
) -> int:
    """Read a source once: coerce every column, check rows (incl. foreign keys against tables already
    written), flag bad rows, write the typed work file. Returns the number of rows written.

    ``mode``: ``all`` writes every row with row number, bad flag and the source text of bad rows; ``good``
    writes only the good rows with only the contract and extra columns (the accepted rows themselves);
    ``bad`` writes only the bad rows, as ``all`` does; ``warn`` writes only the good rows with a warning (an
    optional foreign key naming nothing), as ``all`` does."""
    inner, typed, conds = [], [], []
    for name, col in spec.columns.items():
        if name in rr.columns:
            src_col, src_type = rr.columns[name]
            native = coerce.native(col, ident(src_col), src_type)
            if native is not None:
                inner.append(f"{native} AS {ident(raw_name(name))}")
                typed.append(f"{ident(raw_name(name))} AS {ident(name)}")
            else:
                inner.append(f"{coerce.blank(ident(src_col))} AS {ident(raw_name(name))}")
                expr = coerce.typed(col, ident(raw_name(name)), src_type, mapping.value_aliases(spec.name, name))
                typed.append(f"{expr} AS {ident(name)}")
            for check in column_checks(col, *today_sql):
                conds.append(check.condition(ident(name), ident(raw_name(name))))
        else:
            typed.append(f"CAST(NULL AS {col.sql_type}) AS {ident(name)}")
    for rc in table_checks(spec, period_tolerance):
        if all(c in rr.columns for c in rc.needs):
            conds.append(f"({rc.check.fails})")
    extras = [ident(e) for e in rr.extras]
    raws = [ident(raw_name(n)) for n in rr.columns]
    joins: list[str] = []
    flags: list[str] = []
    warns: list[str] = []
    for i, (fk_col, (_, ref_col, glob)) in enumerate(sorted((fk_refs or {}).items())):
        if fk_col not in rr.columns:
            continue
        joins.append(
            f" LEFT JOIN (SELECT DISTINCT {ident(ref_col)} AS k FROM read_parquet({lit(glob)}, union_by_name = true)) "
            f"fk{i} ON fk{i}.k = t.{ident(fk_col)}"
        )
        flags.append(f"(t.{ident(fk_col)} IS NOT NULL AND fk{i}.k IS NULL) AS {ident(fk_name(fk_col))}")
        (warns if spec.fk_severity(fk_col) == "warning" else conds).append(ident(fk_name(fk_col)))
    over = ["__overflow"] if rr.overflow else []
    if rr.overflow:
        conds.append("__overflow IS NOT NULL")
    bad = f"coalesce({' OR '.join(conds)}, false)" if conds else "false"
    select_inner = ", ".join(["__row", *inner, *extras, *over])
    select_typed = ", ".join(["__row", *raws, *typed, *extras, *over])
    outer = ", ".join(
        [f"{src_id} AS __src", "__row", *(ident(n) for n in spec.columns), *extras, "__bad"]
        + [f"CASE WHEN __bad THEN CAST({r} AS VARCHAR) END AS {r}" for r in raws]
        + [ident(fk_name(c)) for c in sorted(fk_refs or {}) if c in rr.columns]
        + over
    )
    checked = f"(SELECT {select_typed} FROM (SELECT {select_inner} FROM {ident(rr.view)}))"
    if joins:
        checked = f"(SELECT t.*, {', '.join(flags)} FROM {checked} t{''.join(joins)})"
    warn = f"coalesce({' OR '.join(warns)}, false)" if warns else "false"
    where = {"all": "", "good": " WHERE NOT __bad", "bad": " WHERE __bad", "warn": f" WHERE NOT __bad AND {warn}"}[mode]
    if mode == "good":
        outer = ", ".join([*(ident(n) for n in spec.columns), *extras])
    sql = f"COPY (SELECT {outer} FROM (SELECT *, {bad} AS __bad FROM {checked}){where}) TO {lit(str(out))}"
    return int(con.execute(sql + " (FORMAT parquet)").fetchall()[0][0])


def fk_name(col: str) -> str:
    """The work-file flag: ``col`` names no row of the referenced table."""
    return f"__fk__{col}"


def row_failures(
    spec: Table,
    work: str,
    present: set[str],
    today_sql: tuple[str, str],
    fk_checked: dict[str, tuple[str, str, str]],
    work_cols: set[str],
    severity: str = "error",
    period_tolerance: int = DEFAULT_PERIOD_TOLERANCE_MONTHS,
) -> str:
    """SQL listing one failure per failing cell (row-level and foreign-key checks of pass one): of the bad rows
    for ``severity="error"``, of the kept rows for ``"warning"`` (``""`` when there is nothing to list)."""
    parts = []
    for name, col in spec.columns.items():
        if name not in present:
            continue
        if severity == "error":
            for check in column_checks(col, *today_sql):
                parts.append(_failure_select(spec.name, work, name, check, ident(raw_name(name))))
        if name in fk_checked and fk_name(name) in work_cols and spec.fk_severity(name) == severity:
            rt, rc, _ = fk_checked[name]
            check = Check(
                "foreign_key",
                f"coalesce({ident(fk_name(name))}, false)",
                f"{name} 在 {rt}.{rc} 中不存在",
                f"{name} not found in {rt}.{rc}",
                severity,
            )
            parts.append(_failure_select(spec.name, work, name, check, f"CAST({ident(name)} AS VARCHAR)"))
    if severity != "error":
        return " UNION ALL ".join(parts)
    for row_check in table_checks(spec, period_tolerance):
        if all(c in present for c in row_check.needs):
            parts.append(_failure_select(spec.name, work, row_check.column, row_check.check, row_check.value))
    if "__overflow" in work_cols:
        check = Check(
            "fields",
            "__overflow IS NOT NULL",
            "该行字段数多于表头 (值中可能有未加引号的分隔符), 多出的字段",
            "the row has more fields than the header (an unquoted delimiter in a value?); extra fields",
        )
        parts.append(_failure_select(spec.name, work, "(extra fields)", check, "__overflow"))
    return " UNION ALL ".join(parts)


def _failure_select(table: str, work: str, column: str, check: Check, value: str) -> str:
    cond = check.condition(ident(column), ident(raw_name(column))) if "{" in check.fails else check.fails
    rows = "__bad" if check.severity == "error" else "NOT __bad"
    return (
        f"SELECT {lit(table)} AS table_name, __src AS source_id, __row AS row, {lit(column)} AS column_name, "
        f"{lit(check.name)} AS check_name, CAST({value} AS VARCHAR) AS value, {lit(check.zh)} AS message_zh, "
        f"{lit(check.en)} AS message_en, {lit(check.severity)} AS severity FROM {work} WHERE {rows} AND {cond}"
    )


def key_expr(spec: Table, prefix: str = "") -> str:
    """The key columns as a comma list (optionally qualified)."""
    return ", ".join(f"{prefix}{ident(k)}" for k in spec.key)


def data_columns(spec: Table, extras: list[str]) -> list[str]:
    """Contract columns then extras, quoted."""
    return [ident(c) for c in spec.columns] + [ident(e) for e in extras]


def check_keys(con: duckdb.DuckDBPyConnection, spec: Table, work: str) -> tuple[str, int, int]:
    """Find keys used more than once among good rows.

    Creates ``dup_diff`` (keys whose rows differ: all rejected) and ``dup_same`` (identical rows: one kept).
    Returns the failure SQL for differing duplicates and the counts of the two kinds of keys.
    """
    keys = key_expr(spec)
    contract_cols = ", ".join(ident(c) for c in spec.columns)
    # candidates by a 64-bit hash of the key (cheaper to group than the key itself), then confirmed on the key
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup_hashes AS SELECT hash({keys}) AS h FROM {work} WHERE NOT __bad "
        f"GROUP BY 1 HAVING count(*) > 1"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup_keys AS SELECT {key_expr(spec, 'w.')} FROM {work} w "
        f"SEMI JOIN dup_hashes d ON hash({key_expr(spec, 'w.')}) = d.h WHERE NOT __bad GROUP BY ALL HAVING count(*) > 1"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE dup_stats AS SELECT {key_expr(spec, 'w.')}, count(*) AS n, "
        f"min(hash({contract_cols})) <> max(hash({contract_cols})) AS differ "
        f"FROM {work} w SEMI JOIN dup_keys USING ({keys}) WHERE NOT __bad GROUP BY ALL"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE dup_diff AS SELECT {keys} FROM dup_stats WHERE differ")
    con.execute(f"CREATE OR REPLACE TEMP TABLE dup_same AS SELECT {keys}, n FROM dup_stats WHERE NOT differ")
    n_diff = con.execute("SELECT count(*) FROM dup_diff").fetchall()[0][0]
    n_same = con.execute("SELECT coalesce(sum(n - 1), 0) FROM dup_same").fetchall()[0][0]
    key_text = " || '|' || ".join(f"CAST(w.{ident(k)} AS VARCHAR)" for k in spec.key)
    cols = ", ".join(spec.key)
    fail_sql = (
        f"SELECT {lit(spec.name)} AS table_name, __src AS source_id, __row AS row, {lit(cols)} AS column_name, "
        f"'unique' AS check_name, {key_text} AS value, "
        f"{lit(f'主键 ({cols}) 重复且内容不同, 无法判断哪一行正确')} AS message_zh, "
        f"{lit(f'key ({cols}) appears more than once with different values; cannot tell which row is right')} "
        f"AS message_en, 'error' AS severity FROM {work} w SEMI JOIN dup_diff USING ({keys}) WHERE NOT __bad"
    )
    return fail_sql, int(n_diff), int(n_same)


def fk_failures(spec: Table, work: str, column: str, ref_table: str, ref_col: str, ref_glob: str) -> str:
    """SQL listing good rows whose ``column`` names no row of the referenced table (severity from the contract)."""
    return (
        f"SELECT {lit(spec.name)} AS table_name, __src AS source_id, __row AS row, {lit(column)} AS column_name, "
        f"'foreign_key' AS check_name, CAST(w.{ident(column)} AS VARCHAR) AS value, "
        f"{lit(f'{column} 在 {ref_table}.{ref_col} 中不存在')} AS message_zh, "
        f"{lit(f'{column} not found in {ref_table}.{ref_col}')} AS message_en, "
        f"{lit(spec.fk_severity(column))} AS severity "
        f"FROM {work} w WHERE NOT __bad AND w.{ident(column)} IS NOT NULL AND w.{ident(column)} NOT IN "
        f"(SELECT {ident(ref_col)} FROM read_parquet({lit(ref_glob)}, union_by_name = true) "
        f"WHERE {ident(ref_col)} IS NOT NULL)"
    )


def accepted_sql(spec: Table, work: str, extras: list[str], has_rejects: bool, n_same: int) -> str:
    """SQL of the accepted rows: good, not rejected by key or foreign-key checks, identical duplicates once."""
    cols = ", ".join(data_columns(spec, extras))
    keys = key_expr(spec)
    base = f"FROM {work} w WHERE NOT __bad"
    if has_rejects:
        base = f"FROM {work} w ANTI JOIN rejects r ON w.__src = r.source_id AND w.__row = r.row WHERE NOT __bad"
    if not n_same:
        return f"SELECT {cols} {base}"
    first = (
        f"SELECT {cols} FROM (SELECT * {base}) w SEMI JOIN dup_same USING ({keys}) "
        f"QUALIFY row_number() OVER (PARTITION BY {key_expr(spec, 'w.')} ORDER BY __src, __row) = 1"
    )
    rest = f"SELECT {cols} FROM (SELECT * {base}) w ANTI JOIN dup_same USING ({keys})"
    return f"{rest} UNION ALL {first}"


def merge(
    con: duckdb.DuckDBPyConnection, spec: Table, new_path: Path, old_glob: str, out: Path, outcome: TableOutcome
) -> None:
    """Merge the accepted rows into the previous version's table by key: a new row replaces an old row with
    the same key (the later export wins); identical rows change nothing. Writes ``out`` only if something changed."""
    keys = key_expr(spec)
    new = f"read_parquet({lit(str(new_path))})"
    old = f"read_parquet({lit(old_glob)}, union_by_name = true)"
    old_cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {old}").fetchall()}
    common = [c for c in spec.columns if c in old_cols]
    h = ", ".join(ident(c) for c in common)
    ins, upd, same = con.execute(
        f"SELECT count(*) FILTER (WHERE o.__h IS NULL), count(*) FILTER (WHERE o.__h <> n.__h), "
        f"count(*) FILTER (WHERE o.__h = n.__h) FROM (SELECT {keys}, hash({h}) AS __h FROM {new}) n "
        f"LEFT JOIN (SELECT {keys}, hash({h}) AS __h FROM {old}) o USING ({keys})"
    ).fetchall()[0]
    outcome.inserted, outcome.updated, outcome.unchanged = int(ins), int(upd), int(same)
    outcome.changed = bool(ins or upd)
    if not outcome.changed:
        return
    con.execute(
        f"COPY (SELECT * FROM {old} ANTI JOIN {new} n USING ({keys}) UNION ALL BY NAME SELECT * FROM {new}) "
        f"TO {lit(str(out))} (FORMAT parquet)"
    )
