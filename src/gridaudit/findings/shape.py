"""The findings shape: one table layout for every analyzer (DESIGN §5), its stable ids and Parquet files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ENTITY_TYPES = ("customer", "meter", "area", "feeder", "staff", "work_order", "bill")
FAMILIES = (
    "reading",
    "billing",
    "tariff",
    "collection",
    "process",
    "metering",
    "seal",
    "contract",
    "theft",
    "loss",
    "tip",
)
SEVERITIES = ("low", "medium", "high", "critical")

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("finding_id", pa.string(), nullable=False),
        pa.field("rule_id", pa.string(), nullable=False),
        pa.field("family", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("entity_type", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("period", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("kwh_at_stake", pa.float64()),
        pa.field("yuan_at_stake", pa.float64()),
        pa.field("responsible_staff_id", pa.string()),
        pa.field("evidence", pa.string()),
        pa.field("run_id", pa.string()),
    ]
)


def finding_id(rule_id: str, entity_type: str, entity_id: str, period: str | None) -> str:
    """Stable id of a finding: a hash of rule, entity and period (same data → same id)."""
    key = "\x1f".join([rule_id, entity_type, str(entity_id), period or ""])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def evidence_json(values: dict[str, Any]) -> str:
    """Evidence as compact, key-sorted JSON (deterministic across runs)."""
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))


def findings_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Build a findings table from dicts, filling ``finding_id`` and checking the shape."""
    for r in rows:
        r.setdefault("finding_id", finding_id(r["rule_id"], r["entity_type"], r["entity_id"], r.get("period")))
        if isinstance(r.get("evidence"), dict):
            r["evidence"] = evidence_json(r["evidence"])
    return pa.Table.from_pylist(rows, schema=FINDINGS_SCHEMA)


def read_findings(path: str | Path) -> pa.Table:
    """Read a findings Parquet file and check it has the findings shape."""
    table = pq.read_table(path)
    missing = [f.name for f in FINDINGS_SCHEMA if f.name not in table.column_names]
    if missing:
        raise ValueError(f"{path}: not a findings file, missing columns {', '.join(missing)}")
    return table.select(FINDINGS_SCHEMA.names).cast(FINDINGS_SCHEMA)


def write_findings(table: pa.Table, path: str | Path) -> None:
    """Write findings sorted by finding_id, so equal runs give equal files."""
    table = table.cast(FINDINGS_SCHEMA).sort_by("finding_id")
    pq.write_table(table, path, compression="zstd")
