"""Shared pieces of the runner tests: a rule header template, a rule writer and a three-reading dataset."""

from __future__ import annotations

from pathlib import Path

from gridaudit.dataset import Dataset, commit_version, stage_version
from gridaudit.rules.harness import arrow_rows

HEADER = """/*---
id: {id}
title: {{zh: 测试, en: test}}
family: {family}
severity: low
entity_type: meter
tables: [{tables}]
params:
  limit: {{type: float, default: 100.0, doc: {{zh: 上限, en: limit}}}}
  label: {{type: str, default: "x", doc: {{zh: 标签, en: label}}}}
description: {{zh: 测试规则, en: a test rule}}
---*/
"""


def write_rule(folder: Path, rid: str, sql: str, family: str = "reading", tables: str = "readings") -> Path:
    """Write a test rule file ``<folder>/<family>/<rid>.sql`` with HEADER and ``sql``."""
    path = folder / family / f"{rid}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(id=rid, family=family, tables=tables) + sql, "utf-8")
    return path


def unchecked_rule(folder: Path, rid: str, sql: str):
    """A rule whose SQL skipped the loader's checks (the runner must still refuse what is unsafe or malformed)."""
    from gridaudit.rules.loader import load_rule

    return load_rule(write_rule(folder, rid, SQL_BIG)).model_copy(update={"sql": sql})


def make_dataset(root: Path) -> Dataset:
    """A dataset version with three readings (M1 150, M2 50, M3 250 kWh) at ``root``."""
    staged = stage_version(root)
    staged.write_table(
        "readings",
        arrow_rows(
            "readings",
            [
                {
                    "meter_id": "M1",
                    "period": "2024-01",
                    "read_on": "2024-01-15",
                    "reading": 150.0,
                    "read_type": "actual",
                },
                {
                    "meter_id": "M2",
                    "period": "2024-01",
                    "read_on": "2024-01-15",
                    "reading": 50.0,
                    "read_type": "actual",
                },
                {
                    "meter_id": "M3",
                    "period": "2024-02",
                    "read_on": "2024-02-15",
                    "reading": 250.0,
                    "read_type": "actual",
                },
            ],
        ),
    )
    return commit_version(staged, {"sources": ["test"]})


SQL_BIG = (
    "SELECT meter_id AS entity_id, period, reading AS score, reading AS ev_reading, read_on AS ev_day, "
    "'z' AS ev_a FROM readings WHERE reading > $limit AND ($period IS NULL OR period = $period)"
)
