"""Open the tables line loss reads through a query engine, and run its SQL stages through the engine's methods.

Line loss touches data only through the engine protocol (``tables``, ``query`` with bound ``$name``
parameters, ``register_table``, ``materialise``, ``drop_materialised``, ``close``): the DuckDB engine by
default, or any engine passed in (PostgreSQL, Spark; their SQL is transpiled from DuckDB's dialect). The
engine gives every contract column of a table (optional ones missing from the files read as NULL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.dataset import Dataset, open_dataset
from gridaudit.engines import Engine
from gridaudit.engines.stages import STAGING_ENGINES, StagedQuery, materialise_staged, plan_stages, run_staged
from gridaudit.i18n import both

REQUIRED = ("feeders", "areas", "customers", "meters", "daily_usage")
OPTIONAL = ("units", "readings", "bills", "interval_usage", "meter_events", "tariffs")


class LossInputError(ValueError):
    """The dataset lacks what the balance needs."""


@dataclass
class LossInputs:
    """The engine line loss queries, the dataset behind it, and which optional tables exist."""

    engine: Engine
    dataset: Dataset
    present: set[str]
    owned: bool = True  # opened here: close it when the run ends

    def has(self, table: str) -> bool:
        """Whether ``table`` is available."""
        return table in self.present

    def close(self) -> None:
        """Close the engine if it was opened by :func:`open_inputs`."""
        if self.owned:
            self.engine.close()


def open_inputs(dataset: Dataset | str | Path, threads: int | None = None, engine: Engine | None = None) -> LossInputs:
    """Open ``dataset`` for line loss: on ``engine`` when given (left open), else a new DuckDB engine."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    missing = [t for t in REQUIRED if not ds.has(t)]
    if missing:
        raise LossInputError(
            both(f"{ds.root}: 线损计算缺少表 {', '.join(missing)}", f"{ds.root}: line loss needs table(s) {missing}")
        )
    owned = engine is None
    if engine is None:
        from gridaudit.engines import EngineSettings, open_engine

        engine = open_engine(ds, EngineSettings(threads=threads))
    have = engine.tables()
    present = {t for t in REQUIRED + OPTIONAL if ds.has(t) and t in have}
    lost = [t for t in REQUIRED if t not in present]
    if lost:
        raise LossInputError(
            both(
                f"{ds.root}: 引擎 {engine.name} 中缺少表 {', '.join(lost)}",
                f"{ds.root}: engine {engine.name} lacks table(s) {lost}",
            )
        )
    return LossInputs(engine=engine, dataset=ds, present=present, owned=owned)


def data_span(inputs: LossInputs) -> tuple[date, date]:
    """First and last day in daily_usage (the default window)."""
    row = inputs.engine.query("SELECT MIN(day) AS lo, MAX(day) AS hi FROM daily_usage").to_pylist()[0]
    if row["lo"] is None:
        raise LossInputError(
            both(f"{inputs.dataset.root}: daily_usage 为空", f"{inputs.dataset.root}: daily_usage is empty")
        )
    return _as_date(row["lo"]), _as_date(row["hi"])


def _as_date(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value


_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


def used_params(sql: str, params: dict[str, Any] | None) -> dict[str, Any]:
    """The ``params`` that ``sql`` refers to as ``$name`` (DuckDB refuses parameters a statement does not use)."""
    names = set(_PARAM.findall(sql))
    return {k: v for k, v in (params or {}).items() if k in names}


def _staged(engine: Engine, sql: str, prefix: str) -> StagedQuery | None:
    """``sql`` cut into stages on an engine that recomputes CTEs (Spark), or None: run the text as written (the
    other engines' SQL is not even parsed here)."""
    if engine.name not in STAGING_ENGINES:
        return None
    staged = plan_stages(sql, engine.name, prefix=prefix, where=prefix.rstrip("_") + ": ", params=True)
    return staged if staged.stages else None


def stage(engine: Engine, name: str, sql: str, params: dict[str, Any] | None = None) -> None:
    """Materialise the SELECT ``sql`` as temporary table ``name`` on ``engine`` (only the parameters it uses).

    On an engine that recomputes a CTE at every read (Spark), each CTE read twice is built once first as its own
    stage (``name__cte``), dropped once ``name`` is made (``ll_level_day`` reads ``parts`` three times and ``a``
    twice through it: at 10 k customers 21.5 CPU-s as one query on Spark; BENCHMARKS.md); elsewhere the text
    runs as written."""
    staged = _staged(engine, sql, f"{name}__")
    if staged is None:
        engine.materialise(name, sql, used_params(sql, params))
        return
    for made in reversed(materialise_staged(engine, name, staged, used_params(sql, params))):
        engine.drop_materialised(made)


def ask(engine: Engine, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run the SELECT ``sql`` on ``engine`` with the parameters it uses; rows as Arrow (on Spark a CTE read twice
    is built once first, as in :func:`stage`)."""
    staged = _staged(engine, sql, "ll_ask__")
    if staged is None:
        return engine.query(sql, used_params(sql, params))
    return run_staged(engine, staged, used_params(sql, params))


def has_column(engine: Engine, table: str, column: str) -> bool:
    """Whether ``table`` has ``column`` on ``engine``."""
    return column in ask(engine, f'SELECT * FROM "{table}" LIMIT 0').column_names
