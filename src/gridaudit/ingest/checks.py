"""Row-level checks of one column, as SQL conditions over its typed value and its raw text.

Each check is data: a name, a condition that is TRUE for a failing row, and a message in Chinese
and English. The pipeline ORs them into one ``__bad`` flag per row while reading (one pass), and
evaluates them one by one only on the few bad rows to fill the failure-cases table.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridaudit.contract.spec import Column, load_contract
from gridaudit.ingest.coerce import lit

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
