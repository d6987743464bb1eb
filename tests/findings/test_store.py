"""The findings store: atomic appends, kill -9 mid-write, no overwrite, concurrent appends, provenance."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import gridaudit
from gridaudit.cli import app
from gridaudit.findings import FindingsStoreError, RunProvenance, append_run, list_runs, load_findings
from gridaudit.findings import store as fstore

from .conftest import finding, table

SRC = str(Path(gridaudit.__file__).resolve().parents[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC}


def test_append_stamps_run_id_sorts_and_records(dataset):
    rows = table(finding(entity_id="C2", yuan_at_stake=5.0), finding(entity_id="C1", yuan_at_stake=7.0))
    run = append_run(dataset, rows, RunProvenance(analyzer="rules", params={"r1": {"x": 1}}))
    assert run.run_id.startswith("rules-") and run.rows == 2
    got = load_findings(dataset)
    assert set(got.column("run_id").to_pylist()) == {run.run_id}
    assert got.column("finding_id").to_pylist() == sorted(got.column("finding_id").to_pylist())
    rec = json.loads((run.path / "run.json").read_text("utf-8"))
    assert rec["dataset_version"] == "v0001" and rec["analyzer"] == "rules" and rec["engine"] == "duckdb"
    assert rec["counts"]["rows"] == 2 and rec["counts"]["by_family"] == {"billing": 2}
    assert rec["params"] == {"r1": {"x": 1}} and rec["started_at"].endswith("Z")


def test_same_content_twice_gives_two_runs_and_a_collision_never_overwrites(dataset, monkeypatch):
    rows = table(finding(yuan_at_stake=1.0))
    a = append_run(dataset, rows, RunProvenance(analyzer="rules"))
    b = append_run(dataset, rows, RunProvenance(analyzer="rules"))
    assert a.run_id != b.run_id and [r.run_id for r in list_runs(dataset)] == [a.run_id, b.run_id]
    before = (a.path / "findings.parquet").read_bytes()
    monkeypatch.setattr(fstore, "new_run_id", lambda analyzer: a.run_id)  # force a clash with run a
    with pytest.raises(FindingsStoreError, match="already exists"):
        append_run(dataset, table(finding(entity_id="C9", yuan_at_stake=2.0)), RunProvenance(analyzer="rules"))
    assert (a.path / "findings.parquet").read_bytes() == before
    assert not list((dataset / "findings").glob(".tmp-*"))  # the failed write cleaned up after itself


def test_latest_run_per_analyzer_by_default_and_named_runs(dataset):
    r1 = append_run(dataset, table(finding(entity_id="C1", yuan_at_stake=1.0)), RunProvenance(analyzer="rules"))
    r2 = append_run(dataset, table(finding(entity_id="C2", yuan_at_stake=1.0)), RunProvenance(analyzer="rules"))
    l1 = append_run(dataset, table(finding("loss_x", entity_id="A1", entity_type="area", yuan_at_stake=3.0)),
                    RunProvenance(analyzer="loss"))  # fmt: skip
    got = load_findings(dataset)
    assert sorted(got.column("run_id").to_pylist()) == sorted([r2.run_id, l1.run_id])
    assert load_findings(dataset, runs=[r1.run_id]).column("entity_id").to_pylist() == ["C1"]
    assert load_findings(dataset, all_runs=True).num_rows == 3
    assert load_findings(dataset, analyzers=["loss"]).column("run_id").to_pylist() == [l1.run_id]
    with pytest.raises(FindingsStoreError, match="no such run"):
        load_findings(dataset, runs=["rules-nope"])


def test_folders_without_a_complete_run_json_are_ignored(dataset):
    good = append_run(dataset, table(finding(yuan_at_stake=1.0)), RunProvenance(analyzer="rules"))
    runs = dataset / "findings" / "runs"
    (runs / "rules-half").mkdir()
    (runs / "rules-half" / "findings.parquet").write_bytes((good.path / "findings.parquet").read_bytes())
    (runs / "rules-bad").mkdir()
    (runs / "rules-bad" / "findings.parquet").write_bytes(b"x")
    (runs / "rules-bad" / "run.json").write_text("{not json")
    assert [r.run_id for r in list_runs(dataset)] == [good.run_id]


def test_unknown_dataset_is_an_error_naming_the_path(tmp_path):
    with pytest.raises(FindingsStoreError, match=str(tmp_path / "nope")):
        append_run(tmp_path / "nope", table(finding()), RunProvenance(analyzer="rules"))
    with pytest.raises(FindingsStoreError, match="bad analyzer"):
        from .conftest import build_dataset

        append_run(build_dataset(tmp_path / "ds"), table(finding()), RunProvenance(analyzer="Bad Name"))


SLOW_WRITER = """
import sys, time, pathlib
from gridaudit.findings import RunProvenance, append_run, findings_table
root, ready = sys.argv[1], pathlib.Path(sys.argv[2])
def batches():
    for b in range(10_000):
        yield findings_table([dict(rule_id="slow", family="billing", severity="low", entity_type="customer",
                                   entity_id=f"C{b}-{i}", period="2024-05", yuan_at_stake=1.0) for i in range(500)])
        if b == 3:
            ready.write_text("mid-write")
        if b >= 3:
            time.sleep(0.2)
append_run(root, batches(), RunProvenance(analyzer="rules"))
"""


def test_kill_9_mid_write_leaves_earlier_runs_intact(dataset, tmp_path):
    earlier = append_run(dataset, table(finding(yuan_at_stake=4.0)), RunProvenance(analyzer="rules"))
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(dataset), str(ready)], env=_env())
    try:
        deadline = time.time() + 120
        while not ready.exists():
            assert proc.poll() is None, "the writer ended before it was killed"
            assert time.time() < deadline, "the writer never got mid-write"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    partial = list((dataset / "findings").glob(".tmp-*"))
    assert len(partial) == 1 and (partial[0] / "findings.parquet").is_file()  # killed inside the write
    assert not (partial[0] / "run.json").exists()
    assert [r.run_id for r in list_runs(dataset)] == [earlier.run_id]
    got = load_findings(dataset)
    assert got.num_rows == 1 and got.column("yuan_at_stake").to_pylist() == [4.0]
    after = append_run(dataset, table(finding(entity_id="C2", yuan_at_stake=1.0)), RunProvenance(analyzer="loss"))
    assert [r.run_id for r in list_runs(dataset)] == [earlier.run_id, after.run_id]
    res = CliRunner().invoke(app, ["--lang", "en", "findings", "runs", "--dataset", str(dataset)])
    assert res.exit_code == 0 and "1 interrupted writes" in " ".join(res.output.split())


CONCURRENT_WRITER = """
import sys
from gridaudit.findings import RunProvenance, append_run, findings_table
root, k = sys.argv[1], int(sys.argv[2])
rows = [dict(rule_id=f"w{k}", family="billing", severity="low", entity_type="customer", entity_id=f"C{i}",
             period="2024-05", yuan_at_stake=1.0) for i in range(2000 + k)]
print(append_run(root, findings_table(rows), RunProvenance(analyzer="rules")).run_id)
"""


def test_concurrent_appends_all_land(dataset):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(dataset), str(k)],
            env=_env(),
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for k in range(4)
    ]
    ids = []
    for p in procs:
        out, _ = p.communicate(timeout=180)
        assert p.returncode == 0
        ids.append(out.strip())
    runs = {r.run_id: r for r in list_runs(dataset)}
    assert sorted(runs) == sorted(ids) and len(set(ids)) == 4
    for k, rid in enumerate(ids):
        assert runs[rid].rows == 2000 + k
        assert set(load_findings(dataset, runs=[rid]).column("rule_id").to_pylist()) == {f"w{k}"}


RULES = {
    "billing_kwh_only": """/*---
id: billing_kwh_only
title: {zh: 电量, en: kWh only}
family: billing
severity: high
entity_type: bill
tables: [bills]
params:
  min_kwh: {type: float, default: 0, doc: {zh: 下限, en: lower bound}}
description: {zh: 测试, en: test}
---*/
SELECT bill_id AS entity_id, period AS period, kwh AS score, kwh AS kwh_at_stake, kwh AS ev_kwh
FROM bills WHERE kwh > $min_kwh
""",
    "billing_broken": """/*---
id: billing_broken
title: {zh: 坏规则, en: broken}
family: billing
severity: low
entity_type: bill
tables: [bills]
description: {zh: 测试, en: test}
---*/
SELECT bill_id AS entity_id, period AS period, no_such_column AS score FROM bills
""",
}


def test_rules_run_records_provenance(dataset, tmp_path):
    cat = tmp_path / "cat" / "billing"
    cat.mkdir(parents=True)
    for rid, sql in RULES.items():
        (cat / f"{rid}.sql").write_text(sql, "utf-8")
    out = tmp_path / "copy.parquet"
    args = ["--lang", "en", "rules", "run", "--dataset", str(dataset), "--catalog", str(tmp_path / "cat")]
    args += ["--only", "billing_kwh_only,billing_broken", "--set", "billing_kwh_only.min_kwh=50", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code in (0, 1), res.output  # exit codes of erroring rules belong to another change
    [run] = list_runs(dataset)
    rec = run.record
    path = cat / "billing_kwh_only.sql"
    assert rec["rule_files"]["billing_kwh_only"] == {
        "path": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert rec["params"]["billing_kwh_only"] == {"min_kwh": 50.0} and rec["params"]["billing_broken"] == {}
    assert rec["counts"]["rule_status"] == {"error": 1, "ok": 1}
    status = {r["rule_id"]: r for r in rec["rules"]}
    assert status["billing_broken"]["status"] == "error" and "no_such_column" in status["billing_broken"]["message"]
    assert rec["counts"]["rows"] == 2 and rec["counts"]["by_severity"] == {"high": 2}
    assert rec["extra"]["scope"]["only"] == ["billing_kwh_only", "billing_broken"]
    assert rec["started_at"] <= rec["ended_at"] and rec["engine"] == "duckdb"
    # the --out copy is the store's run, priced: B1 (2024-02, RES 0.50) and B2 (2024-05, COM 0.80)
    copy = load_findings(dataset).to_pylist()
    assert {r["entity_id"]: r["yuan_at_stake"] for r in copy} == {"B1": 50.0, "B2": 80.0}
    assert out.read_bytes() == run.findings_path.read_bytes()
