"""Score rule findings against a synthetic utility's truth.csv, per truth kind (recall, precision)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa


def _month(text: str) -> str:
    return text[:7]


def load_truth(path: Path) -> list[dict[str, Any]]:
    """truth.csv rows with start/end reduced to months."""
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["m0"], r["m1"] = _month(r["start"]), _month(r["end"] or r["start"])
    return rows


def _matches(truth: dict[str, Any], entity_type: str, entity_id: str, period: str | None) -> bool:
    if truth["entity_type"] != entity_type or truth["entity_id"] != entity_id:
        return False
    return period is None or truth["m0"] <= period <= truth["m1"]


def score(findings: pa.Table, rules: list[Any], truth: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Per kind: truth rows, rules claiming it, recall, precision; per rule: findings and precision."""
    kinds_of = {r.id: set(r.header.truth_kinds) for r in rules}
    by_entity: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for t in truth:
        by_entity[(t["entity_type"], t["entity_id"])].append(t)
    hit_truth: set[int] = set()
    rule_stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    kind_findings: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in findings.select(["rule_id", "entity_type", "entity_id", "period"]).to_pylist():
        claimed = kinds_of.get(f["rule_id"], set())
        good = False
        for t in by_entity.get((f["entity_type"], f["entity_id"]), []):
            if t["kind"] in claimed and _matches(t, f["entity_type"], f["entity_id"], f["period"]):
                hit_truth.add(id(t))
                good = True
        rule_stats[f["rule_id"]][0] += 1
        rule_stats[f["rule_id"]][1] += good
        for k in claimed:
            kind_findings[k][0] += 1
            kind_findings[k][1] += good
    kinds = sorted({t["kind"] for t in truth} | {k for ks in kinds_of.values() for k in ks})
    per_kind = []
    for k in kinds:
        rows = [t for t in truth if t["kind"] == k]
        found = sum(id(t) in hit_truth for t in rows)
        n, good = kind_findings.get(k, [0, 0])
        per_kind.append(
            {
                "kind": k,
                "truth": len(rows),
                "rules": ", ".join(sorted(r for r, ks in kinds_of.items() if k in ks)),
                "recall": found / len(rows) if rows else None,
                "findings": n,
                "precision": good / n if n else None,
            }
        )
    per_rule = [
        {
            "rule": r.id,
            "kinds": ", ".join(sorted(kinds_of[r.id])),
            "findings": rule_stats[r.id][0],
            "precision": (rule_stats[r.id][1] / rule_stats[r.id][0])
            if rule_stats[r.id][0] and kinds_of[r.id]
            else None,
        }
        for r in rules
    ]
    return per_kind, per_rule
