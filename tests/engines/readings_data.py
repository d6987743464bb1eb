"""A one-table dataset for engine tests: ``meters`` readings M1..Mn of 1.0..n kWh in January 2024."""

from __future__ import annotations

from pathlib import Path

from gridaudit.dataset import Dataset, commit_version, stage_version
from gridaudit.rules.harness import arrow_rows


def readings_dataset(folder: Path, meters: int) -> Dataset:
    """Commit a dataset at ``folder`` holding only ``readings``: meter ``Mi`` read ``i`` on 2024-01-15."""
    staged = stage_version(folder)
    rows = [
        {"meter_id": f"M{i}", "period": "2024-01", "read_on": "2024-01-15", "reading": float(i), "read_type": "actual"}
        for i in range(1, meters + 1)
    ]
    staged.write_table("readings", arrow_rows("readings", rows))
    return commit_version(staged, {"sources": ["test"]})
