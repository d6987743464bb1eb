"""Row indexes over a line-loss result, so one entity's page reads its own rows only.

At a million customers a loss run's ``balance_daily`` holds hundreds of thousands of rows (every area, feeder,
voltage level and unit, every day); turning the whole table into Python rows on each area page cost seconds.
:class:`EntityRows` sorts a table by its key columns once and remembers where each key's rows start and end;
a page then converts only its slice. :func:`loss_index` builds the indexes the area, feeder and dashboard
views use, once per cached loss result (:func:`gridaudit.views.loss.loss_derived`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.lineloss.run import LossResult


class EntityRows:
    """The rows of ``table`` grouped by ``keys`` (columns), each group in the table's own order."""

    def __init__(self, table: pa.Table, keys: list[str]) -> None:  # noqa: D107 - the class docstring says it
        order = pa.array(np.arange(table.num_rows), pa.int64())
        widened = table.append_column("_order", order)
        self.table = widened.sort_by([(k, "ascending") for k in keys] + [("_order", "ascending")]).drop_columns(
            ["_order"]
        )
        self.spans: dict[tuple[Any, ...], tuple[int, int]] = {}
        columns = [self.table.column(k).to_pylist() for k in keys]
        start = 0
        for i in range(1, self.table.num_rows + 1):
            if i == self.table.num_rows or any(col[i] != col[start] for col in columns):
                self.spans[tuple(col[start] for col in columns)] = (start, i)
                start = i

    def rows(self, *key: Any) -> list[dict[str, Any]]:
        """The rows whose key columns equal ``key`` (none: an empty list)."""
        span = self.spans.get(tuple(key))
        if span is None:
            return []
        return self.table.slice(span[0], span[1] - span[0]).to_pylist()


@dataclass
class LossIndex:
    """One loss result's rows by entity: ``daily`` and ``monthly`` by (level, entity_id); ``feeder_areas`` (the
    areas' monthly rows) by (feeder_id, period); ``suspects`` and ``technical`` by area_id; ``mapping`` as rows
    (a few hundred at most)."""

    daily: EntityRows
    monthly: EntityRows
    feeder_areas: EntityRows
    suspects: EntityRows
    technical: EntityRows
    mapping: list[dict[str, Any]]


def build_index(result: LossResult) -> LossIndex:
    """The indexes of ``result`` (a second or two at a million customers, once per result)."""
    import pyarrow.compute as pc

    monthly = result.balance.monthly
    area_months = monthly.filter(pc.equal(monthly.column("level"), "area"))
    return LossIndex(
        daily=EntityRows(result.balance.daily, ["level", "entity_id"]),
        monthly=EntityRows(monthly, ["level", "entity_id"]),
        feeder_areas=EntityRows(area_months, ["feeder_id", "period"]),
        suspects=EntityRows(result.suspects, ["area_id"]),
        technical=EntityRows(result.technical_monthly, ["area_id"]),
        mapping=result.mapping.to_pylist(),
    )


def loss_index(engine: Engine, first: str, last: str, settings_file: str | Path | None = None) -> LossIndex:
    """The :class:`LossIndex` of the loss outputs over ``first``..``last`` (built once per cached result)."""
    from gridaudit.views.loss import loss_derived

    index: LossIndex = loss_derived(engine, first, last, settings_file, "index", build_index)
    return index
