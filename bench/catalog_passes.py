"""Issue 18: how many times the whole rule catalog reads each source table, from DuckDB's own plan.

    PYTHONPATH=src nice -n 5 python bench/catalog_passes.py /work/data/d100k/dataset/versions/v0001 \
        --json /tmp/passes.json

Every derived table and every rule of the catalog runs once under ``EXPLAIN (ANALYZE, FORMAT JSON)`` (derived
tables first, materialised as the runner does, so the rules read them as in a run); the rows that each scan
operator produced are summed per source table. ``passes`` is those rows ÷ the table's rows: how many full reads
of the table the catalog costs (a scan that skips row groups counts only the rows it produced). Unlike CPU
seconds these counts do not depend on the machine's load, so two trees can be compared in one line each.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from gridaudit.rules import load_catalog, runner  # noqa: E402
from gridaudit.rules.runner import DuckDBSettings, duckdb_engine  # noqa: E402
from gridaudit.rules.safety import check_rule_sql, param_names  # noqa: E402
from rules_bench import as_dataset  # noqa: E402


def scanned_rows(tree: dict[str, Any]) -> dict[str, int]:
    """Rows produced by each scan operator of a DuckDB JSON profile, summed per table (file stem or table name)."""
    found: dict[str, int] = defaultdict(int)

    def walk(node: dict[str, Any]) -> None:
        extra = node.get("extra_info") or {}
        source = extra.get("Filename(s)") or extra.get("Table")
        if source and any(k in str(node.get("name", "")).upper() for k in ("SCAN", "READ_PARQUET")):
            name = Path(str(source).split(",")[0].strip()).stem if extra.get("Filename(s)") else str(source)
            found[name.rsplit(".", 1)[-1]] += int(node.get("intermediate_rows") or 0)
        for child in node.get("children", []):
            walk(child)

    for root in tree.get("operator", []):
        walk(root)
    return dict(found)


def catalog_passes(source: Path) -> dict[str, Any]:
    """Rows read per rule (and derived table) and source table over the whole catalog on ``source``."""
    rules = load_catalog()
    with tempfile.TemporaryDirectory() as tmp:
        ds = as_dataset(source, Path(tmp))
        engine = duckdb_engine(ds, DuckDBSettings(threads=2))
        try:
            sizes = {
                t: int(engine.query(f"SELECT COUNT(*) AS n FROM {t}").column(0)[0].as_py()) for t in engine.tables()
            }
            users = [(r.sql, r.header.tables) for r in rules] + [
                (d.sql, d.header.tables) for r in rules for d in r.needs
            ]
            runner._provide_calendar(engine, users, {t.lower() for t in engine.tables()})
            reads: dict[str, dict[str, int]] = {}
            for rule in rules:
                for derived in rule.needs:
                    if derived.id not in reads:
                        reads[derived.id] = scanned_rows(explain(engine, derived.sql, {}))
                        runner._materialise(engine, derived, None)
                params = rule.bind(None)
                used = param_names(check_rule_sql(rule.sql, set(rule.header.tables) | set(rule.header.derived)))
                values = {k: v for k, v in {**params, "period": None}.items() if k in used}
                reads[rule.id] = scanned_rows(explain(engine, rule.sql, values))
        finally:
            engine.close()
    totals: dict[str, int] = defaultdict(int)
    for per_table in reads.values():
        for table, rows in per_table.items():
            totals[table] += rows
    passes = {t: round(n / sizes[t], 2) for t, n in totals.items() if sizes.get(t)}
    return {"sizes": sizes, "reads": reads, "totals": dict(totals), "passes": passes}


def explain(engine: Any, sql: str, values: dict[str, Any]) -> dict[str, Any]:
    """DuckDB's ``EXPLAIN ANALYZE`` of one query as its JSON tree (the query runs)."""
    plan = engine.con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, values).fetchall()
    return dict(json.loads(plan[0][1]))


def markdown(
    result: dict[str, Any], tables: tuple[str, ...] = ("daily_usage", "interval_usage", "readings", "bills")
) -> str:
    """Passes per source table, then each of ``tables``' readers with the passes they cost."""
    sizes, reads = result["sizes"], result["reads"]
    lines = ["| source table | rows | rows read by the catalog | passes |", "|---|---:|---:|---:|"]
    for table, rows in sorted(result["totals"].items(), key=lambda kv: -kv[1]):
        if sizes.get(table):
            lines.append(f"| {table} | {sizes[table]:,} | {rows:,} | {result['passes'][table]:.1f} |")
    for table in tables:
        readers = sorted(((r[table], k) for k, r in reads.items() if r.get(table)), reverse=True)
        if readers and sizes.get(table):
            lines += ["", f"{table} ({sizes[table]:,} rows), read by:", ""]
            lines += [f"* {k}: {n / sizes[table]:.2f}" for n, k in readers]
    return "\n".join(lines)


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="synth output folder or dataset version folder (Parquet files)")
    ap.add_argument("--json", type=Path, help="also write the counts as JSON")
    args = ap.parse_args()
    result = catalog_passes(args.source)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), "utf-8")
    print(markdown(result))


if __name__ == "__main__":
    main()
