"""The ground truth: one row per injected irregularity (kind, entity_type, entity_id, start, end, detail)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

TRUTH_COLUMNS = ("kind", "entity_type", "entity_id", "start", "end", "detail")


@dataclass
class Truth:
    """Truth rows collected while a chunk is generated."""

    rows: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)

    def add(self, kind: str, entity_type: str, entity_id: str, start: str, end: str, **detail: object) -> None:
        """Record one irregularity; ``detail`` is stored as JSON text (numbers rounded)."""
        clean = {k: _plain(v) for k, v in detail.items()}
        self.rows.append(
            (kind, entity_type, entity_id, start, end, json.dumps(clean, ensure_ascii=False, sort_keys=True))
        )

    def columns(self) -> dict[str, list[str]]:
        """The rows as columns in truth.csv order."""
        return {c: [r[i] for r in self.rows] for i, c in enumerate(TRUTH_COLUMNS)}


def _plain(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return round(float(v), 4)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def day_str(sim_start: date, idx: int) -> str:
    """ISO date of a day index."""
    return (sim_start + timedelta(days=int(idx))).isoformat()
