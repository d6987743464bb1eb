"""Incremental runs: each rule's look-back, the data window it gives, and the SQL that reads only that window.

A rule (or derived table) declares in its header how much data before the run's period it reads::

    lookback: {months: 3}                  # the period and the three months before it
    lookback: {months: baseline_months + 1}  # grows with an int parameter (after --set)
    lookback: {days: 45}
    lookback: all                          # the whole history (e.g. "first month that qualifies")

A run for one period (``--period YYYY-MM``) then restricts every time-series table the rule reads to the
rows from ``period start − look-back`` on: the table reference is replaced by a filtered subquery on the
table's time column, so the engine pushes the filter into its Parquet scan (row-group statistics) and every
join, window and aggregate above it works on the window only. Master data (customers, meters, tariffs, work
orders, seals, ...) is read whole. A derived table's own look-back is the data it needs before the first
row it must produce (e.g. the previous reading for a LAG); it is materialised over the union of the windows
of the selected rules that read it, and a rule reads only its own window of a derived table that names a
``window_column``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, field_validator
from sqlglot import exp

# time-series contract tables and the column (and its kind) a window is cut on
TIME_COLUMNS: dict[str, tuple[str, str]] = {
    "daily_usage": ("day", "date"),
    "interval_usage": ("ts", "timestamp"),
    "readings": ("period", "month"),
    "bills": ("period", "month"),
    "payments": ("paid_at", "timestamp"),
    "meter_events": ("ts", "timestamp"),
}
AMOUNT = re.compile(r"^\s*(?:(?P<param>[a-z][a-z0-9_]*)\s*(?:(?P<sign>[+-])\s*(?P<plus>\d+))?|(?P<num>\d+))\s*$")


class Lookback(BaseModel):
    """How far before the run's period a rule or derived table reads: months and days, each a whole number or
    ``int_param [± N]`` (evaluated with the rule's bound parameters)."""

    model_config = ConfigDict(extra="forbid")
    months: int | str = 0
    days: int | str = 0

    @field_validator("months", "days")
    @classmethod
    def _amount(cls, v: int | str) -> int | str:
        if isinstance(v, int):
            if v < 0:
                raise ValueError(f"look-back {v} must not be negative")
            return v
        if not AMOUNT.match(v):
            raise ValueError(f"look-back {v!r} must be a whole number or 'int_param ± N'")
        return v

    def params(self) -> list[str]:
        """The parameter names the look-back reads."""
        out = []
        for v in (self.months, self.days):
            m = AMOUNT.match(str(v))
            if m and m.group("param"):
                out.append(m.group("param"))
        return out

    def amounts(self, values: dict[str, Any]) -> tuple[int, int]:
        """(months, days) with parameters taken from ``values``."""
        return _amount(self.months, values), _amount(self.days, values)


LookbackSpec = Lookback | Literal["all"] | None  # None: not declared, read as "all"


def _amount(v: int | str, values: dict[str, Any]) -> int:
    if isinstance(v, int):
        return v
    m = AMOUNT.match(v)
    assert m is not None  # checked when the header loaded
    if m.group("num"):
        return int(m.group("num"))
    value = values.get(m.group("param"))
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"look-back parameter {m.group('param')} = {value!r} is not a whole number ≥ 0")
    plus = int(m.group("plus") or 0)
    return max(0, value + plus if m.group("sign") != "-" else value - plus)


def check_lookback_params(spec: LookbackSpec, params: dict[str, Any]) -> None:
    """A look-back may only name int parameters the rule declares (``params``: name → Param)."""
    if not isinstance(spec, Lookback):
        return
    for name in spec.params():
        p = params.get(name)
        if p is None or getattr(p, "type", None) != "int":
            raise ValueError(f"look-back names {name!r}, which is not an int param of the rule")


@dataclass(frozen=True)
class Window:
    """The dates a run reads: from ``start`` on (whole days). The window stays open after the period: rules that
    look ahead (the next reading, the month after an event) or measure to the end of the data (overdue, unposted)
    then see what a full-history run sees, and for the latest month there is nothing after it to read."""

    start: date

    def union(self, other: Window) -> Window:
        """The smallest window covering both."""
        return Window(min(self.start, other.start))


def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    first = date.fromisoformat(f"{period}-01")
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    idx = day.year * 12 + day.month - 1 - months
    return date(idx // 12, idx % 12 + 1, 1)


def window_for(spec: LookbackSpec, values: dict[str, Any], period: str | None) -> Window | None:
    """The window a rule reads for ``period``, or None (whole history: no period, or look-back ``all``)."""
    if period is None or not isinstance(spec, Lookback):
        return None
    months, days = spec.amounts(values)
    first, _ = period_bounds(period)
    return Window(months_before(first, months) - timedelta(days=days))


def widen(window: Window | None, spec: LookbackSpec, values: dict[str, Any]) -> Window | None:
    """``window`` moved earlier by a derived table's own look-back (None stays None; ``all`` gives None)."""
    if window is None or not isinstance(spec, Lookback):
        return None
    months, days = spec.amounts(values)
    start = window.start if months == 0 else months_before(window.start, months)
    return Window(start - timedelta(days=days))


def _condition(column: str, kind: str, window: Window) -> exp.Condition:
    """``column`` within ``window`` as a sqlglot condition over a literal."""
    col = exp.column(column)
    if kind == "month":
        lo: exp.Expression = exp.Literal.string(window.start.strftime("%Y-%m"))
    else:
        lo = exp.cast(exp.Literal.string(window.start.isoformat()), "DATE")
        if kind == "timestamp":
            lo = exp.cast(lo, "TIMESTAMP")
    return exp.GTE(this=col, expression=lo)


def windowed_sql(sql: str, window: Window | None, columns: dict[str, tuple[str, str]]) -> str:
    """``sql`` (DuckDB dialect) with each reference to a table in ``columns`` (name → (time column, kind))
    replaced by ``(SELECT * FROM name WHERE <column within window>) AS alias``; unchanged when ``window``
    is None or the query reads none of those tables. CTEs that happen to share a table's name are left alone."""
    if window is None:
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    wanted = {k.lower(): v for k, v in columns.items() if k.lower() not in ctes}
    changed = False

    def swap(node: exp.Expression) -> exp.Expression:
        nonlocal changed
        if not isinstance(node, exp.Table) or node.args.get("db") or not isinstance(node.this, exp.Identifier):
            return node
        spec = wanted.get(node.name.lower())
        if spec is None:
            return node
        changed = True
        inner = exp.select("*").from_(exp.table_(node.name)).where(_condition(spec[0], spec[1], window))
        return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(node.alias_or_name)))

    out = tree.transform(swap)
    return out.sql(dialect="duckdb") if changed else sql


def describe(window: Window | None) -> str:
    """A window as text for the run report (``all`` when the whole history is read)."""
    return "all" if window is None else f"{window.start.isoformat()}.."
