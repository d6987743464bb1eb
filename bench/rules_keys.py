"""Issue 18: the whole catalog's findings, saved for a before/after comparison of a speed change.

    PYTHONPATH=src nice -n 5 python bench/rules_keys.py run /tmp/synth20k /tmp/before.parquet
    PYTHONPATH=src nice -n 5 python bench/rules_keys.py compare /tmp/before.parquet /tmp/after.parquet

``run`` runs every rule on DuckDB (2 threads) over a synth output folder and writes the findings (every column
but run_id, which depends on the SQL text) with the per-rule and derived-table seconds on stderr. ``compare``
prints, per rule, the findings only in one file and the findings whose score, money or evidence differ; it
exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

from gridaudit.rules import load_catalog  # noqa: E402
from gridaudit.rules.runner import DuckDBSettings, RuleReport, duckdb_engine, run_rules  # noqa: E402
from rules_bench import as_dataset  # noqa: E402


def run(source: Path, out: Path, rule_ids: list[str] | None = None) -> None:
    """Run the catalog (or ``rule_ids``) on ``source`` and write its findings to ``out``."""
    rules = [r for r in load_catalog() if not rule_ids or r.id in rule_ids]
    with tempfile.TemporaryDirectory() as tmp:
        ds = as_dataset(source, Path(tmp))
        engine = duckdb_engine(ds, DuckDBSettings(threads=2))
        derived: list[RuleReport] = []
        started = time.perf_counter()
        findings, reports = run_rules(engine, rules, derived_log=derived)
        took = time.perf_counter() - started
        engine.close()
    for r in sorted(reports + derived, key=lambda r: -r.cpu_seconds):
        print(
            f"  {r.rule_id:45s} {r.family:10s} {r.status:7s} {r.hits:>9,} {r.seconds:8.2f} s "
            f"{r.cpu_seconds:8.2f} s CPU",
            file=sys.stderr,
        )
    print(f"CPU seconds (all threads): {sum(r.cpu_seconds for r in reports + derived):.1f}", file=sys.stderr)
    bad = [r.rule_id for r in reports + derived if r.status != "ok"]
    print(f"{len(findings):,} findings in {took:.1f} s; not ok: {bad}", file=sys.stderr)
    pq.write_table(findings.drop_columns(["run_id"]), out)


def compare(before: Path, after: Path, common: bool = False) -> int:
    """Print the differences between two findings files per rule; 0 when they are the same."""
    a = {r["finding_id"]: r for r in pq.read_table(before).to_pylist()}
    b = {r["finding_id"]: r for r in pq.read_table(after).to_pylist()}
    rules = sorted({r["rule_id"] for r in a.values()} | {r["rule_id"] for r in b.values()})
    if common:  # only the rules found in both files (e.g. one file holds a few rules of the other)
        rules = sorted({r["rule_id"] for r in a.values()} & {r["rule_id"] for r in b.values()})
    differs = 0
    for rule in rules:
        ka = {k for k, r in a.items() if r["rule_id"] == rule}
        kb = {k for k, r in b.items() if r["rule_id"] == rule}
        changed = sorted(k for k in ka & kb if a[k] != b[k])
        if ka != kb or changed:
            differs += 1
            print(f"{rule}: {len(ka)} → {len(kb)}, only before {len(ka - kb)}, only after {len(kb - ka)}, "
                  f"changed {len(changed)}")  # fmt: skip
            for k in changed[:3]:
                print(f"    before {a[k]}\n    after  {b[k]}")
    print(f"{len(a):,} vs {len(b):,} findings over {len(rules)} rules; rules that differ: {differs}")
    return 1 if differs else 0


def main() -> None:
    """Command line: run or compare."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("source", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--rules", help="Comma-separated rule ids (default: the whole catalog)")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--common", action="store_true", help="Compare only the rules found in both files")
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.source, args.out, args.rules.split(",") if args.rules else None)
    else:
        sys.exit(compare(args.before, args.after, args.common))


if __name__ == "__main__":
    main()
