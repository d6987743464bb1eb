"""Line-loss outputs for the views: the precomputed tables of a stored loss run, else one ``run_loss``.

``gridaudit loss`` keeps its balance tables with its run in the findings store
(:mod:`gridaudit.lineloss.stored`). :func:`loss_outputs` reads them from the newest run of the dataset's
current version, made with the settings in force, whose window covers the months the view shows; only when
no run covers them does it run :func:`gridaudit.lineloss.run.run_loss` for that window (and its notes say
so, for the page header). Either way the result is kept per (dataset folder, version, window, settings
file): a new dataset version is a new key, so nothing stale is served. The cache holds a few windows
(``MAX_CACHED``), oldest dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from gridaudit.engines import Engine
from gridaudit.i18n import both
from gridaudit.lineloss.inputs import LossInputError
from gridaudit.lineloss.run import LossResult, run_loss
from gridaudit.lineloss.settings import LossSettings, load_settings
from gridaudit.lineloss.stored import latest_loss_outputs, load_result
from gridaudit.views.common import dataset_of, month_days, shift_month

MAX_CACHED = 8
_CACHE: OrderedDict[tuple[str, str, str, str, str], LossResult] = OrderedDict()
_DERIVED: dict[tuple[str, str, str, str, str], dict[Any, Any]] = {}  # what views made of a cached result
_LOCK = threading.Lock()
_SPANS: dict[tuple[str, str], tuple[date, date]] = {}


def loss_settings(settings_file: str | Path | None = None) -> LossSettings:
    """The line-loss settings in force (the utility's file, else the defaults)."""
    return load_settings(settings_file)


def data_months(engine: Engine) -> tuple[str, str]:
    """The first and last month of daily usage in the dataset (cached per version)."""
    ds = dataset_of(engine)
    key = (str(ds.root), ds.version)
    if key not in _SPANS:
        lo, hi = engine.query("SELECT MIN(day) AS lo, MAX(day) AS hi FROM daily_usage").to_pylist()[0].values()
        if lo is None:
            raise LossInputError(f"{ds.root}: daily_usage 没有数据 / daily_usage holds no rows")
        _SPANS[key] = (lo, hi)
    lo, hi = _SPANS[key]
    return lo.strftime("%Y-%m"), hi.strftime("%Y-%m")


def window_months(engine: Engine, month: str, months: int) -> tuple[str, str]:
    """The ``months`` months up to ``month``, clipped to the months the dataset has."""
    lo, hi = data_months(engine)
    first = max(shift_month(month, -(months - 1)), lo)
    return first, min(month, hi)


def loss_outputs(engine: Engine, first: str, last: str, settings_file: str | Path | None = None) -> LossResult:
    """The line-loss outputs over the months ``first``..``last``: a stored run's, else computed (cached; see the
    module docstring).

    A window with no data is ``LossInputError`` (its message names the months the data covers)."""
    ds = dataset_of(engine)
    key = _key(engine, first, last, settings_file)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    start, end = month_days(first)[0], month_days(last)[1]
    settings = loss_settings(settings_file)
    stored = latest_loss_outputs(ds.root, start, end, settings, ds.version)
    if stored is not None:
        result = load_result(stored, start, end)
    else:
        result = run_loss(ds, start=start, end=end, settings=settings, engine=engine)  # on the page's engine
        result.notes.append(
            both(
                f"没有覆盖 {first}..{last} 的线损运行，本页现算（运行 gridaudit loss 可预先计算）",
                f"no loss run covers {first}..{last}: computed for this page (run gridaudit loss to precompute)",
            )
        )
    with _LOCK:
        _CACHE[key] = result
        _DERIVED.pop(key, None)
        while len(_CACHE) > MAX_CACHED:
            old, _ = _CACHE.popitem(last=False)
            _DERIVED.pop(old, None)
    return result


def _key(engine: Engine, first: str, last: str, settings_file: str | Path | None) -> tuple[str, str, str, str, str]:
    ds = dataset_of(engine)
    return (str(ds.root), ds.version, first, last, str(settings_file or ""))


def loss_derived(
    engine: Engine,
    first: str,
    last: str,
    settings_file: str | Path | None,
    name: Any,
    make: Callable[[LossResult], Any],
) -> Any:
    """``make(result)`` for the loss outputs over ``first``..``last``, kept with the cached result under ``name``
    (a view's index or roll-up of it: made once, dropped with the result). ``make`` may run twice when two
    requests race for a new name; both get an equal value."""
    result = loss_outputs(engine, first, last, settings_file)
    key = _key(engine, first, last, settings_file)
    with _LOCK:
        found = _DERIVED.get(key, {})
        if name in found:
            return found[name]
    value = make(result)
    with _LOCK:
        if _CACHE.get(key) is result:
            _DERIVED.setdefault(key, {})[name] = value
    return value


def clear_cache() -> None:
    """Forget every cached run (tests, or after a settings change)."""
    with _LOCK:
        _CACHE.clear()
        _DERIVED.clear()
        _SPANS.clear()


__all__ = [
    "LossInputError", "clear_cache", "data_months", "loss_derived", "loss_outputs", "loss_settings", "window_months",
]  # fmt: skip
