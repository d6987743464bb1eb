"""``gridaudit demo`` step for rules: run the whole catalog on DuckDB and summarise findings per family."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gridaudit.console import console
from gridaudit.i18n import msg


def run_demo(dataset: Any, out_dir: str | Path) -> None:
    """Run every catalog rule on ``dataset`` (a Dataset or its folder) → ``out_dir/findings.parquet``; summarise."""
    from rich.table import Table

    from gridaudit.dataset import open_dataset
    from gridaudit.findings import write_findings
    from gridaudit.rules.loader import load_catalog
    from gridaudit.rules.runner import duckdb_engine, run_rules

    ds = dataset if hasattr(dataset, "tables") else open_dataset(dataset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rules = load_catalog()
    started = time.perf_counter()
    engine = duckdb_engine(ds)
    try:
        findings, reports = run_rules(engine, rules)
    finally:
        engine.close()
    write_findings(findings, out / "findings.parquet")
    per_family: dict[str, list[int]] = {}
    for r in reports:
        counts = per_family.setdefault(r.family, [0, 0, 0])
        counts[0] += 1
        counts[1] += r.hits
        counts[2] += r.status != "ok"
    table = Table(title=msg("稽查规则：各规则族问题数", "Audit rules: findings per family"))
    for col in (
        msg("规则族", "family"),
        msg("规则数", "rules"),
        msg("问题数", "findings"),
        msg("跳过/出错", "skipped/failed"),
    ):
        table.add_column(col)
    for fam, (n, hits, bad) in sorted(per_family.items()):
        table.add_row(fam, str(n), f"{hits:,}", str(bad))
    console.print(table)
    for r in reports:
        if r.status != "ok":
            console.print(f"  [yellow]{r.rule_id}[/] {r.status}: {r.message}", highlight=False)
    took = time.perf_counter() - started
    target = out / "findings.parquet"
    console.print(
        msg(
            f"{len(rules)} 条规则，{len(findings):,} 条问题，用时 {took:.1f} 秒 → {target}",
            f"{len(rules)} rules, {len(findings):,} findings in {took:.1f} s → {target}",
        )
    )
