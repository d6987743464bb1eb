"""The data object of the monthly report: every figure, table and chart, computed once.

Cells hold numbers, dates, plain strings (names, ids) or :class:`~gridaudit.i18n.Text` (labels); a renderer
only picks the language and formats. ``Column.kind`` says how a value is formatted (and summed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gridaudit.i18n import Text

# which way is better for a figure: a rise of these is worse, of GOOD_RISE better; others are neutral
BAD_RISE = frozenset(
    {"loss_rate", "loss_kwh", "areas_high", "areas_extreme", "areas_negative", "overdue", "escalations", "tasks_open"}
)
GOOD_RISE = frozenset({"tasks_closed", "recovered", "recovered_all", "on_time_rate", "hit_rate"})
KINDS = ("text", "int", "kwh", "yuan", "pct", "rate", "score", "date")  # rate: a share 0..1 shown as %


def month_shift(month: str, delta: int) -> str:
    """``YYYY-MM`` moved by ``delta`` months."""
    idx = int(month[:4]) * 12 + int(month[5:7]) - 1 + delta
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


@dataclass(frozen=True)
class Column:
    """A table column: its key, its label and how its values are formatted."""

    key: str
    label: Text
    kind: str = "text"


@dataclass
class Figure:
    """One key figure of the month with the month before and the same month last year (None: no data)."""

    key: str
    label: Text
    kind: str
    value: float | int | None
    prev: float | int | None = None
    last_year: float | int | None = None

    def judged(self, change: float | None) -> str | None:
        """``worse``, ``better`` or None (no change, or no better direction) for a change of this figure."""
        if not change or (self.key not in BAD_RISE and self.key not in GOOD_RISE):
            return None
        return "worse" if (change > 0) == (self.key in BAD_RISE) else "better"

    @property
    def change_prev(self) -> float | None:
        """Value minus the month before (None when either is missing)."""
        return _diff(self.value, self.prev)

    @property
    def change_year(self) -> float | None:
        """Value minus the same month last year (None when either is missing)."""
        return _diff(self.value, self.last_year)


def _diff(a: float | int | None, b: float | int | None) -> float | None:
    return None if a is None or b is None else round(float(a) - float(b), 6)


@dataclass
class Table:
    """A table of a section: columns, rows (one list per row, in column order) and an optional totals row."""

    key: str
    title: Text
    columns: list[Column]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    note: Text | None = None


@dataclass
class Series:
    """One series of a chart."""

    name: Text
    values: list[float | None]


@dataclass
class Chart:
    """A chart's data: categories on x, one or more series; ``kind`` is ``line`` or ``bar``."""

    key: str
    title: Text
    kind: str
    x_label: Text
    y_label: Text
    categories: list[str | Text]
    series: list[Series]
    y_kind: str = "int"


@dataclass
class Section:
    """One numbered section of the report."""

    key: str
    number: int
    title: Text
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)


@dataclass
class MonthlyReport:
    """The month's report: which month (audit work) and data month (loss, findings), scope, sections."""

    month: str
    data_month: str | None
    unit_id: str | None
    unit_name: str | None
    company: str
    generated_at: datetime
    sources: list[Text]
    sections: list[Section]

    @property
    def title(self) -> Text:
        """The report title."""
        return Text(f"{self.month} 月度稽查报告", f"Monthly audit report {self.month}")

    def section(self, key: str) -> Section:
        """The section with ``key``."""
        return next(s for s in self.sections if s.key == key)

    def figure(self, key: str) -> Figure:
        """A figure by key, from any section."""
        return next(f for s in self.sections for f in s.figures if f.key == key)

    def table(self, key: str) -> Table:
        """A table by key, from any section."""
        return next(t for s in self.sections for t in s.tables if t.key == key)


def col(key: str, zh: str, en: str, kind: str = "text") -> Column:
    """A :class:`Column` (shorthand for the section builders)."""
    return Column(key, Text(zh, en), kind)


def totals_row(
    columns: list[Column], rows: list[list[Any]], label: Text, sum_kinds: tuple[str, ...] = ("int", "kwh", "yuan")
) -> list[Any]:
    """A totals row: ``label`` in the first column, sums of the summable columns, blanks elsewhere."""
    out: list[Any] = [label]
    for i, c in enumerate(columns[1:], start=1):
        if c.kind in sum_kinds:
            vals = [r[i] for r in rows if isinstance(r[i], int | float)]
            s = sum(vals)
            out.append(None if not vals else round(s, 2) if isinstance(s, float) else s)
        else:
            out.append(None)
    return out


def day_range(month: str) -> tuple[date, date]:
    """First and last day of ``month``."""
    first = date.fromisoformat(f"{month}-01")
    nxt = date.fromisoformat(f"{month_shift(month, 1)}-01")
    return first, date.fromordinal(nxt.toordinal() - 1)
