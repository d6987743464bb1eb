"""Row-level checks of one column, as SQL conditions over its typed value and its raw text.

Each check is data: a name, a condition that is TRUE for a failing row, and a message in Chinese
and English. The pipeline ORs them into one ``__bad`` flag per row while reading (one pass), and
evaluates them one by one only on the few bad rows to fill the failure-cases table.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridaudit.contract.spec import Column, Table, load_contract
from gridaudit.ingest.coerce import ident, lit

DEFAULT_PERIOD_TOLERANCE_MONTHS = 1

TYPE_NAMES = {
    "string": ("文本", "text"),
    "int": ("整数", "integer"),
    "float": ("数值", "number"),
    "date": ("日期", "date"),
    "timestamp": ("时间", "timestamp"),
    "period": ("年月 (YYYY-MM)", "billing month (YYYY-MM)"),
    "bool": ("是/否", "yes/no"),
}


@dataclass(frozen=True)
class Check:
    """One row-level check of a column: ``fails`` is SQL over ``{t}`` (typed) and ``{r}`` (raw text)."""

    name: str
    fails: str
    zh: str
    en: str
    severity: str = "error"  # error: the row is rejected; warning: the row is kept, the failure recorded

    def condition(self, typed: str, raw: str) -> str:
        """The failing condition with the column's typed and raw expressions filled in."""
        return "(" + self.fails.format(t=typed, r=raw) + ")"


def _fmt(x: float) -> str:
    return f"{x:g}"


def column_checks(col: Column, today_sql: str, now_sql: str) -> list[Check]:
    """The row-level checks the contract asks of ``col`` (required, type or domain, finite, range, not future)."""
    checks: list[Check] = []
    if col.required:
        checks.append(
            Check("required", "{r} IS NULL", f"必填列 {col.name} 为空", f"required column {col.name} is blank")
        )
    if col.domain:
        values = ", ".join(load_contract().domains[col.domain].values)
        checks.append(
            Check(
                "domain",
                "{r} IS NOT NULL AND {t} IS NULL",
                f"{col.name} 的取值不在允许范围内 ({values})",
                f"{col.name} is not one of the allowed values ({values})",
            )
        )
    elif col.type != "string":
        zh, en = TYPE_NAMES[col.type]
        checks.append(
            Check(
                "type",
                "{r} IS NOT NULL AND {t} IS NULL",
                f"{col.name} 不是有效的{zh}",
                f"{col.name} is not a valid {en}",
            )
        )
    if col.type in ("float", "int"):
        if col.type == "float":
            checks.append(
                Check(
                    "finite",
                    "NOT isfinite({t})",
                    f"{col.name} 不是有限数值 (NaN 或无穷)",
                    f"{col.name} is NaN or infinite",
                )
            )
        if col.min is not None:
            checks.append(
                Check(
                    "range",
                    f"{{t}} < {col.min!r}",
                    f"{col.name} 须 ≥ {_fmt(col.min)}",
                    f"{col.name} must be ≥ {_fmt(col.min)}",
                )
            )
        if col.gt is not None:
            checks.append(
                Check(
                    "range",
                    f"{{t}} <= {col.gt!r}",
                    f"{col.name} 须 > {_fmt(col.gt)}",
                    f"{col.name} must be > {_fmt(col.gt)}",
                )
            )
        if col.max is not None:
            checks.append(
                Check(
                    "range",
                    f"{{t}} > {col.max!r}",
                    f"{col.name} 须 ≤ {_fmt(col.max)}",
                    f"{col.name} must be ≤ {_fmt(col.max)}",
                )
            )
    if col.not_future and col.type in ("date", "timestamp"):
        bound = today_sql if col.type == "date" else now_sql
        checks.append(
            Check("not_future", f"{{t}} > {bound}", f"{col.name} 是未来的日期", f"{col.name} is in the future")
        )
    return checks


def today_literals(today: object) -> tuple[str, str]:
    """SQL literals for 'today' (dates) and 'end of today' (timestamps) used by not-future checks."""
    return f"DATE {lit(str(today))}", f"(TIMESTAMP {lit(str(today))} + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND)"


@dataclass(frozen=True)
class RowCheck:
    """A check over several columns of a row, reported against ``column`` with ``value`` (SQL) as its value."""

    column: str
    needs: tuple[str, ...]
    check: Check
    value: str


def table_checks(spec: Table, tolerance_months: int = DEFAULT_PERIOD_TOLERANCE_MONTHS) -> list[RowCheck]:
    """The checks across columns that the contract asks of ``spec``: each ``period_dates`` date must fall in
    its period's month, or up to ``tolerance_months`` months before or after (reads near a month's end)."""
    out: list[RowCheck] = []
    for date_col, period_col in spec.period_dates.items():
        d, p = ident(date_col), ident(period_col)
        tol = int(tolerance_months)
        fails = f"abs(date_diff('month', CAST({p} || '-01' AS DATE), date_trunc('month', {d}))) > {tol}"
        window_zh = "同月" if tol == 0 else f"同月或前后 {tol} 个月内"
        window_en = "the same month" if tol == 0 else f"its month or within {tol} month(s) of it"
        check = Check(
            "period_date",
            fails,
            f"{period_col} 与 {date_col} 不符: {date_col} 须在{period_col}{window_zh}",
            f"{period_col} does not fit {date_col}: {date_col} must fall in {window_en}",
        )
        value = f"CAST({p} AS VARCHAR) || ' / ' || CAST({d} AS VARCHAR)"
        out.append(RowCheck(period_col, (period_col, date_col), check, value))
    return out
