"""bench/engine_scale.py end to end on a tiny synthetic utility (DuckDB only), so the issue-18 bench cannot rot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "engine_scale.py"


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """300 customers × 2 months, ingested."""
    from gridaudit.ingest import ingest
    from gridaudit.synth import SynthConfig, generate, source_files

    base = tmp_path_factory.mktemp("engine_scale")
    generate(SynthConfig(customers=300, months=2, start="2024-01", seed=11), base / "src")
    ingest(source_files(base / "src"), base / "ds")
    return base / "ds"


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the bench script with this checkout's sources."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, env=env, timeout=600)


def lines(path: Path) -> list[dict]:
    return [json.loads(t) for t in path.read_text("utf-8").splitlines() if t.strip()]


@pytest.mark.slow
def test_every_phase_is_measured_against_the_scan(tiny_dataset, tmp_path):
    from gridaudit.rules import load_catalog

    out, model = tmp_path / "scale.jsonl", tmp_path / "risk.model"
    done = bench("--data", f"tiny={tiny_dataset}", "--engines", "duckdb", "--out", str(out), "--model", str(model))
    assert done.returncode == 0, done.stderr[-3000:]
    recs = {r["phase"]: r for r in lines(out)}
    assert list(recs) == ["train", "open", "scan", "catalog", "loss", "risk"]
    assert all(r["status"] == "ok" and r["engine"] == "duckdb" and r["customers"] == 300 for r in recs.values())
    assert model.exists()  # trained once, kept for the next sizes and engines
    scan = recs["scan"]["seconds"]
    assert scan == min(recs["scan"]["runs"]) > 0
    for phase in ("catalog", "loss", "risk"):
        assert recs[phase]["x_scan"] == pytest.approx(recs[phase]["seconds"] / scan, rel=0.05, abs=0.02)
        assert recs[phase]["peak_mb"] > 50  # the process tree's resident memory was sampled
    assert recs["catalog"]["rules"] == len(load_catalog()) and recs["catalog"]["errors"] == []
    assert recs["catalog"]["findings"] > 0 and recs["loss"]["monthly_rows"] > 0
    assert recs["risk"]["rows"] == 300  # every customer scored
    per_rule = recs["catalog"]["rule_cpu_s"]  # every rule's and derived table's CPU, the costliest 15 listed
    rules = load_catalog()
    assert set(per_rule) == {r.id for r in rules} | {d.id for r in rules for d in r.needs}
    costly = recs["catalog"]["costliest_cpu"]
    assert len(costly) == 15 and [c[1] for c in costly] == sorted((c[1] for c in costly), reverse=True)
    assert per_rule[costly[0][0]] == max(per_rule.values()) > 0
    assert sum(per_rule.values()) <= recs["catalog"]["cpu_s"] + 0.5

    report = bench("--report", str(out))
    assert report.returncode == 0, report.stderr
    row = next(t for t in report.stdout.splitlines() if t.startswith("| tiny | duckdb"))
    assert f"({recs['catalog']['x_scan']:.1f}×, CPU {recs['catalog']['x_scan_cpu']:.0f}×)" in row


@pytest.mark.slow
def test_a_phase_over_its_budget_is_recorded_not_waited_for(tiny_dataset, tmp_path):
    out = tmp_path / "scale.jsonl"
    done = bench(
        "--data",
        f"tiny={tiny_dataset}",
        "--engines",
        "duckdb",
        "--phases",
        "catalog,loss",
        "--budget-s",
        "0.01",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    recs = lines(out)
    assert [(r["phase"], r["status"]) for r in recs] == [
        ("open", "budget"),
        ("catalog", "not run"),
        ("loss", "not run"),
    ]
    assert recs[0]["message"] == "did not finish within 0.01 s"
