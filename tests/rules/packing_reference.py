"""The per-row findings packing the runner used before rules/packing.py (kept as the reference of its test).

Only the assembly is kept: a dict and ``evidence_json`` per row. The value conversions (ids, numbers, evidence
values) and the pick among a key's rows are packing.py's own, so the test checks the column-wise assembly and
JSON encoding, not copies of those functions against themselves.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from gridaudit.findings import evidence_json, finding_id
from gridaudit.rules.loader import REQUIRED_OUTPUTS, Rule
from gridaudit.rules.packing import OPTIONAL_NUMBERS, number, plain, rank, text


def findings_rows(rule: Rule, result: pa.Table, run_id: str, exclude: set[str]) -> list[dict[str, Any]]:
    """Turn a rule's result rows into findings dicts (evidence from the ``ev_*`` columns), one per key."""
    names = [n.lower() for n in result.column_names]
    result = result.rename_columns(names)
    for required in REQUIRED_OUTPUTS:
        if required not in names:
            raise KeyError(required)
    ev_cols = sorted(n for n in names if n.startswith("ev_"))
    best: dict[str, dict[str, Any]] = {}
    for rec in result.to_pylist():
        if rec["entity_id"] is None:
            continue
        entity = text(rec["entity_id"])
        per = None if rec["period"] is None else text(rec["period"])
        fid = finding_id(rule.id, rule.header.entity_type, entity, per)
        if fid in exclude:
            continue
        row = {
            "finding_id": fid,
            "rule_id": rule.id,
            "family": rule.family,
            "severity": rule.header.severity,
            "entity_type": rule.header.entity_type,
            "entity_id": entity,
            "period": per,
            **{k: number(rec.get(k)) for k in OPTIONAL_NUMBERS},
            "responsible_staff_id": None
            if rec.get("responsible_staff_id") is None
            else text(rec["responsible_staff_id"]),
            "evidence": evidence_json({c[3:]: plain(rec[c]) for c in ev_cols}),
            "run_id": run_id,
        }
        old = best.get(fid)
        if old is None or rank(row) > rank(old):
            best[fid] = row
    return list(best.values())
