"""Issue 18: CPU seconds and DuckDB ``EXPLAIN ANALYZE`` of a few rules, their derived tables built first.

    PYTHONPATH=src nice -n 5 python bench/rule_profile.py /tmp/synth20k theft_intermittent_low_days \
        --explain /tmp/profile --repeat 2

Each rule runs ``--repeat`` times (best CPU kept) after the derived tables it reads are materialised (their CPU
printed on their own). ``--explain DIR`` also writes each rule's ``EXPLAIN ANALYZE`` to ``DIR/<rule>.txt``;
``--stages`` prints the CPU of the rule up to each of its CTEs (a count of the CTE's rows).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from gridaudit.rules import load_catalog, runner  # noqa: E402
from gridaudit.rules.runner import DuckDBSettings, duckdb_engine  # noqa: E402
from gridaudit.rules.safety import check_rule_sql, param_names  # noqa: E402
from rules_bench import as_dataset  # noqa: E402


def flat_operators(tree: Any) -> list[str]:
    """Every operator of a DuckDB JSON profile, slowest first: seconds, rows, name, its main detail."""
    found: list[tuple[float, str]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        name = node.get("name") or node.get("operator_name") or ""
        extra = node.get("extra_info") or {}
        detail = "; ".join(f"{k}={v}" for k, v in extra.items() if k in DETAIL_KEYS)
        secs = float(node.get("timing", node.get("operator_timing")) or 0.0)
        rows = int(node.get("intermediate_rows", node.get("operator_cardinality")) or 0)
        found.append((secs, f"{secs:8.3f} s {rows:>12,} rows  d{depth:<3} {name.strip()}  {detail[:300]}"))
        for child in node.get("children", []):
            walk(child, depth + 1)

    roots = tree.get("operator", tree.get("children", [])) if isinstance(tree, dict) else tree
    for root in roots:
        walk(root, 0)
    system = tree.get("system", {}) if isinstance(tree, dict) else {}
    head = [
        f"spilled {system.get('total_bytes_spilled', '?')} B, peak buffer {system.get('peak_buffer_memory', '?')} B, "
        f"allocated {system.get('total_memory_allocated', '?')} B "
        "(operator timings: summed over threads with the profiler on, compare them with each other)"
    ]
    return head + [line for _, line in sorted(found, key=lambda f: -f[0])]


DETAIL_KEYS = (
    "Conditions",
    "Groups",
    "Aggregates",
    "CTE Name",
    "Projections",
    "Join Type",
    "Expression",
    "Function",
    "Filters",
    "Estimated Cardinality",
    "Partition",
    "Orders",
)


def stage_queries(sql: str) -> list[tuple[str, str]]:
    """For each CTE of a rule's ``WITH`` (top-level, in order), a query counting its rows: the CPU of each is the
    cost of the rule up to that CTE (DuckDB computes only what the count needs, so unused columns are skipped)."""
    final = sql.rindex("\nSELECT")  # the rule's own SELECT after its CTEs
    body = sql[:final]
    names = re.findall(r"^(?:WITH )?(\w+) AS \(", body, re.M)
    return [(name, f"{body}\nSELECT count(*) AS n FROM {name}") for name in names]


def profile(source: Path, rule_ids: list[str], repeat: int, explain: Path | None, stages: bool = False) -> None:
    """Print each rule's best CPU and wall seconds and row count on ``source``; optionally its plan."""
    rules = [r for r in load_catalog() if r.id in rule_ids]
    with tempfile.TemporaryDirectory() as tmp:
        ds = as_dataset(source, Path(tmp))
        engine = duckdb_engine(ds, DuckDBSettings(threads=2))
        sqls = [(r.sql, r.header.tables) for r in rules] + [(d.sql, d.header.tables) for r in rules for d in r.needs]
        runner._provide_calendar(engine, sqls, {t.lower() for t in engine.tables()})
        made: set[str] = set()
        for rule in rules:
            for d in rule.needs:
                if d.id not in made:
                    cpu, wall = time.process_time(), time.perf_counter()
                    error = runner._materialise(engine, d, None)
                    made.add(d.id)
                    print(f"  {d.id:45s} derived {time.perf_counter() - wall:7.2f} s "
                          f"{time.process_time() - cpu:7.2f} s CPU {error}")  # fmt: skip
            params = rule.bind(None)
            used = param_names(check_rule_sql(rule.sql, set(rule.header.tables) | set(rule.header.derived)))
            values = {k: v for k, v in {**params, "period": None}.items() if k in used}
            best = (float("inf"), 0.0, 0)
            for _ in range(repeat):
                cpu, wall = time.process_time(), time.perf_counter()
                rows = engine.query(rule.sql, values).num_rows
                best = min(best, (time.process_time() - cpu, time.perf_counter() - wall, rows))
            print(f"  {rule.id:45s} rule    {best[1]:7.2f} s {best[0]:7.2f} s CPU {best[2]:>9,} rows")
            if stages:
                for name, sql in stage_queries(rule.sql):
                    cpu = time.process_time()
                    engine.query(sql, {k: v for k, v in values.items() if f"${k}" in sql})
                    print(f"    up to {name:39s} {time.process_time() - cpu:7.2f} s CPU")
            if explain:
                explain.mkdir(parents=True, exist_ok=True)
                plan = engine.con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + rule.sql, values).fetchall()
                tree = json.loads(plan[0][1])
                (explain / f"{rule.id}.json").write_text(json.dumps(tree, indent=1))
                (explain / f"{rule.id}.txt").write_text("\n".join(flat_operators(tree)))
        engine.close()


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="synth output folder")
    ap.add_argument("rules", help="comma-separated rule ids")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--explain", type=Path, help="write EXPLAIN ANALYZE per rule into this folder")
    ap.add_argument("--stages", action="store_true", help="also the CPU of each rule up to each of its CTEs")
    args = ap.parse_args()
    profile(args.source, args.rules.split(","), args.repeat, args.explain, args.stages)


if __name__ == "__main__":
    main()
