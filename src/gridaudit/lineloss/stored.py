"""Line-loss outputs kept with their run in the findings store, and read back precomputed.

``gridaudit loss`` appends one run (analyzer ``loss``) whose folder holds, beside ``findings.parquet``,
every output table of :meth:`gridaudit.lineloss.run.LossResult.tables` (balance_daily/monthly/window,
technical_monthly/window, suspects, mapping, trends, billing_cycle) and, in run.json, their row counts,
the window and the settings. The web views and the monthly report read those tables through
:func:`latest_loss_outputs` when a run of the current dataset version covers the months they show, and
compute only when none does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from gridaudit.findings.store import RunInfo, list_runs, read_run, read_run_table
from gridaudit.i18n import Text, both
from gridaudit.lineloss.balance import BalanceTables, Window
from gridaudit.lineloss.settings import LossSettings

ANALYZER = "loss"
PERIOD_TABLES = ("balance_monthly", "technical_monthly", "billing_cycle")  # period is YYYY-MM
DAY_TABLES = ("balance_daily",)  # one row per day (first_day)
REQUIRED = ("balance_daily", "balance_monthly", "balance_window", "suspects", "mapping", "trends")


@dataclass(frozen=True)
class StoredLoss:
    """A loss run of the findings store whose output tables are kept in its folder."""

    run: RunInfo
    window: Window

    @property
    def tables(self) -> dict[str, int]:
        """Output table name → row count."""
        return self.run.tables

    def path(self, name: str) -> Path:
        """The Parquet file of output table ``name``."""
        return self.run.table_path(name)

    def read(self, name: str, months: list[str] | None = None, columns: list[str] | None = None) -> pa.Table:
        """Output table ``name``; per-month and per-day tables keep only the days of ``months`` when given."""
        where: Callable[[pa.Table], Any] | None = None
        if months is not None and name in PERIOD_TABLES:
            wanted = pa.array(months, pa.string())
            where = lambda t: pc.is_in(t.column("period"), value_set=wanted)  # noqa: E731
        elif months and name in DAY_TABLES:
            lo, hi = month_window(min(months), max(months))
            where = lambda t: pc.and_(  # noqa: E731
                pc.greater_equal(t.column("first_day"), lo), pc.less_equal(t.column("first_day"), hi)
            )
        return read_run_table(self.run, name, columns=columns, where=where)

    def note(self) -> Text:
        """What a page or report says about where its line-loss figures come from."""
        w = self.window
        return Text(
            f"线损数据取自线损运行 {self.run.run_id}（{w.start}..{w.end}，预先计算）",
            f"line-loss figures from loss run {self.run.run_id} ({w.start}..{w.end}, precomputed)",
        )


def _settings_key(settings: LossSettings | dict[str, Any]) -> str:
    raw = asdict(settings) if isinstance(settings, LossSettings) else settings
    return json.dumps(raw, sort_keys=True, default=str)


def _window(run: RunInfo) -> Window | None:
    try:
        lo, hi = run.record["params"]["window"]
        return Window(date.fromisoformat(lo), date.fromisoformat(hi))
    except (KeyError, TypeError, ValueError):
        return None


def loss_runs(dataset_dir: str | Path, version: str | None = None) -> list[StoredLoss]:
    """Loss runs with their output tables kept, of dataset ``version`` (default: the current one), oldest
    first."""
    from gridaudit.dataset import open_dataset

    version = version or open_dataset(dataset_dir).version
    out = []
    for run in list_runs(dataset_dir, [ANALYZER]):
        window = _window(run)
        if window is None or run.dataset_version != version or not set(REQUIRED) <= set(run.tables):
            continue
        out.append(StoredLoss(run, window))
    return out


def latest_loss_outputs(
    dataset_dir: str | Path,
    start: date,
    end: date,
    settings: LossSettings | None = None,
    version: str | None = None,
) -> StoredLoss | None:
    """The newest loss run of the dataset's current version whose window covers ``start``..``end`` (and, when
    ``settings`` is given, made with those settings); None when no run covers it."""
    want = _settings_key(settings) if settings is not None else None
    for stored in reversed(loss_runs(dataset_dir, version)):
        w = stored.window
        if w.start > start or w.end < end:
            continue
        if want is not None and _settings_key(stored.run.record["params"].get("settings", {})) != want:
            continue
        return stored
    return None


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last``."""
    out, y, m = [], int(first[:4]), int(first[5:7])
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def load_result(stored: StoredLoss, start: date, end: date) -> Any:
    """A :class:`~gridaudit.lineloss.run.LossResult` read from a stored run, its per-month tables kept to the
    months of ``start``..``end`` (window-wide tables — suspects, mapping, trends — are the run's)."""
    from gridaudit.lineloss.run import LossResult

    months = months_between(start.strftime("%Y-%m"), end.strftime("%Y-%m"))
    extra = stored.run.record.get("extra", {})
    return LossResult(
        window=Window(start, end),
        balance=BalanceTables(
            stored.read("balance_daily", months),
            stored.read("balance_monthly", months),
            stored.read("balance_window"),
        ),
        billing=stored.read("billing_cycle", months) if "billing_cycle" in stored.tables else None,
        technical_monthly=stored.read("technical_monthly", months),
        technical_window=stored.read("technical_window"),
        suspects=stored.read("suspects"),
        mapping=stored.read("mapping"),
        trends=stored.read("trends"),
        findings=read_run(stored.run),
        notes=[*extra.get("notes", []), both(stored.note())],
        seconds=dict(extra.get("seconds", {})),
        dataset_root=stored.run.path.parents[2],
        dataset_version=stored.run.dataset_version,
        run_id=stored.run.run_id,
    )


def month_window(first: str, last: str) -> tuple[date, date]:
    """The first day of ``first`` and the last day of ``last`` (months ``YYYY-MM``)."""
    lo = date(int(first[:4]), int(first[5:7]), 1)
    nxt = date(int(last[:4]), int(last[5:7]), 28) + timedelta(days=4)
    return lo, nxt.replace(day=1) - timedelta(days=1)


__all__ = ["StoredLoss", "latest_loss_outputs", "load_result", "loss_runs", "month_window", "months_between"]
