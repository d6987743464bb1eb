"""``gridaudit demo`` step for rules: run the whole catalog on DuckDB and summarise findings per family."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gridaudit.console import console
from gridaudit.i18n import msg


def run_demo(dataset: Any, out_dir: str | Path) -> None:
    """Run every catalog rule on ``dataset`` (a Dataset or its folder), append the run to the dataset's findings
    store (a copy goes to ``out_dir/findings.parquet``); summarise."""
    from rich.table import Table

    from gridaudit.dataset import open_dataset
    from gridaudit.engines import EngineSettings, open_engine
    from gridaudit.findings import append_run
    from gridaudit.findings.store import copy_run, now_utc
    from gridaudit.rules.loader import load_catalog
    from gridaudit.rules.record import rules_provenance
    from gridaudit.rules.runner import run_rules

    ds = dataset if hasattr(dataset, "tables") else open_dataset(dataset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rules = load_catalog()
    started = time.perf_counter()
    began = now_utc()
    engine = open_engine(ds, EngineSettings())  # DuckDB with the rules run's limits
    derived: list[Any] = []
    try:
        findings, reports = run_rules(engine, rules, derived_log=derived)
    finally:
        engine.close()
    prov = rules_provenance(
        rules, None, reports, engine="duckdb", started_at=began, ended_at=now_utc(), dataset_version=ds.version,
        derived=derived,
    )  # fmt: skip
    run = append_run(ds.root, findings, prov)
    copy_run(run, out / "findings.parquet")
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
    console.print(
        msg(
            f"{len(rules)} 条规则，{len(findings):,} 条问题，用时 {took:.1f} 秒 → 问题库运行 {run.run_id}",
            f"{len(rules)} rules, {len(findings):,} findings in {took:.1f} s → store run {run.run_id}",
        )
    )
