"""Line-loss outputs kept with their run in the findings store, read back by the views and the report."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import gridaudit
from gridaudit.cli import app
from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.findings.store import list_runs
from gridaudit.lineloss.stored import latest_loss_outputs, loss_runs

SRC = str(Path(gridaudit.__file__).resolve().parents[1])
TABLES = {
    "balance_daily", "balance_monthly", "balance_window", "technical_monthly", "technical_window",
    "suspects", "mapping", "trends", "billing_cycle",
}  # fmt: skip


@pytest.fixture
def ds(tiny, tmp_path) -> Path:
    """A private copy of the tiny dataset (its findings store starts empty)."""
    root = tmp_path / "ds"
    shutil.copytree(tiny[0], root, ignore=shutil.ignore_patterns("findings"))
    return root


def _loss_cli(ds: Path, *args: str) -> None:
    res = CliRunner().invoke(app, ["--lang", "en", "loss", "--dataset", str(ds), *args])
    assert res.exit_code == 0, res.output


def _no_compute(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
    raise AssertionError("line loss was computed although a stored run covers the window")


def _same(a, b, key: list[str]) -> None:  # noqa: ANN001
    """Equal tables up to row order and float rounding (DuckDB's parallel sums differ in the last digit)."""
    order = [(k, "ascending") for k in key]
    ra, rb = a.sort_by(order).to_pylist(), b.sort_by(order).to_pylist()
    assert len(ra) == len(rb) and ra[0].keys() == rb[0].keys()
    for x, y in zip(ra, rb, strict=True):
        for k, v in x.items():
            w = y[k]
            if isinstance(v, float) and isinstance(w, float):
                assert math.isclose(v, w, rel_tol=1e-9, abs_tol=1e-9), (k, x, y)
            else:
                assert v == w, (k, x, y)


def test_loss_run_keeps_its_tables_equal_to_the_out_dir_copy(ds, tmp_path):
    out = tmp_path / "out"
    _loss_cli(ds, "--out-dir", str(out))
    (run,) = list_runs(ds)
    rec = json.loads((run.path / "run.json").read_text("utf-8"))
    assert set(rec["tables"]) == TABLES and set(run.tables) == TABLES
    assert rec["params"]["window"] == ["2025-01-01", "2025-03-31"]
    assert rec["params"]["settings"]["default"]["high_from"] == 10.0
    for name in TABLES:
        kept = pq.read_table(run.path / f"{name}.parquet")
        assert kept.num_rows == rec["tables"][name]["rows"] == run.tables[name]
        assert kept.equals(pq.read_table(out / f"{name}.parquet")), name
    assert rec["tables"]["balance_monthly"]["rows"] > 0 and rec["tables"]["mapping"]["rows"] == 1
    (stored,) = loss_runs(ds)
    assert stored.run.run_id == run.run_id
    assert latest_loss_outputs(ds, date(2025, 2, 1), date(2025, 2, 28)) is not None
    assert latest_loss_outputs(ds, date(2024, 12, 1), date(2025, 2, 28)) is None  # not covered


def test_newest_covering_run_wins_and_settings_must_match(ds, tmp_path):
    from gridaudit.lineloss.settings import LossSettings, load_settings

    _loss_cli(ds)
    _loss_cli(ds, "--period", "2025-02")
    whole, feb = [s.run.run_id for s in loss_runs(ds)]
    assert latest_loss_outputs(ds, date(2025, 2, 1), date(2025, 2, 28)).run.run_id == feb  # type: ignore[union-attr]
    assert latest_loss_outputs(ds, date(2025, 1, 1), date(2025, 3, 31)).run.run_id == whole  # type: ignore[union-attr]
    y = tmp_path / "loss.yaml"
    y.write_text("bands:\n  levels:\n    area: {high_from: 12}\n")
    s = load_settings(y)
    assert latest_loss_outputs(ds, date(2025, 1, 1), date(2025, 3, 31), s) is None
    assert latest_loss_outputs(ds, date(2025, 1, 1), date(2025, 3, 31), LossSettings()) is not None


def test_views_read_the_stored_run_and_compute_only_without_one(ds, monkeypatch):
    from gridaudit.lineloss.run import run_loss
    from gridaudit.views import loss as vloss
    from gridaudit.views.dashboard import loss_block

    vloss.clear_cache()
    eng = DuckDBEngine(open_dataset(ds))
    calls: list[tuple] = []
    real = vloss.run_loss

    def counting(*a, **k):  # noqa: ANN002, ANN003, ANN202
        calls.append((a, k))
        return real(*a, **k)

    monkeypatch.setattr(vloss, "run_loss", counting)
    try:
        computed = loss_block(eng, "2025-03", None, None, None)
        assert len(calls) == 1 and computed is not None
        assert any("computed for this page" in n for n in computed.notes)
        _loss_cli(ds)
        vloss.clear_cache()
        monkeypatch.setattr(vloss, "run_loss", _no_compute)
        block = loss_block(eng, "2025-03", None, None, None)
        assert block is not None and any("precomputed" in n for n in block.notes)
        assert block.bands == computed.bands and block.history == computed.history
        res = vloss.loss_outputs(eng, "2025-02", "2025-03")
        assert res.run_id == loss_runs(ds)[0].run.run_id
        assert set(res.balance.monthly.column("period").to_pylist()) == {"2025-02", "2025-03"}
        fresh = run_loss(ds)
        want = fresh.balance.daily.filter(pc.greater_equal(fresh.balance.daily.column("first_day"), date(2025, 2, 1)))
        _same(res.balance.daily, want, ["level", "entity_id", "first_day"])
        _same(res.suspects, fresh.suspects, ["area_id", "customer_id"])
        _same(res.mapping, fresh.mapping, ["customer_id"])
        (stored,) = loss_runs(ds)
        assert res.suspects.equals(pq.read_table(stored.path("suspects")))  # read as kept, not recomputed
    finally:
        eng.close()
        vloss.clear_cache()


def test_report_inputs_read_the_stored_run_and_say_so(ds, monkeypatch):
    import gridaudit.lineloss.run as llrun
    from gridaudit.reports.monthly.inputs import read_inputs

    computed = read_inputs(ds, "2025-03")
    assert computed.loss_source is not None and "computed for this report" in computed.loss_source.en
    _loss_cli(ds)
    monkeypatch.setattr(llrun, "run_loss", _no_compute)
    inp = read_inputs(ds, "2025-04")  # the month after the data: the data month is 2025-03
    (stored,) = loss_runs(ds)
    assert inp.loss_source is not None and stored.run.run_id in inp.loss_source.en
    assert inp.data_month == "2025-03"
    assert inp.loss["balance_monthly"].equals(pq.read_table(stored.path("balance_monthly")))
    _same(inp.loss["balance_monthly"], computed.loss["balance_monthly"], ["level", "entity_id", "period"])


SLOW_WRITER = r"""
import sys, time
from pathlib import Path
import pyarrow.compute as pc
import pyarrow.parquet as pq
from gridaudit.findings.store import now_utc
from gridaudit.lineloss.run import append_to_store, run_loss
from gridaudit.lineloss.settings import LossSettings
root, ready = Path(sys.argv[1]), Path(sys.argv[2])
real = pq.write_table
def slow(table, path, **kw):
    real(table, path, **kw)
    ready.write_text("mid-write")
    time.sleep(120)
pq.write_table = slow
result = run_loss(root)
append_to_store(result, LossSettings(), now_utc())
"""


def test_kill_9_while_writing_the_tables_leaves_no_half_run(ds, tmp_path):
    _loss_cli(ds, "--period", "2025-01")
    (earlier,) = loss_runs(ds)
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(ds), str(ready)], env=env)
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
    (partial,) = (ds / "findings").glob(".tmp-*")
    assert (partial / "findings.parquet").is_file() and len(list(partial.glob("*.parquet"))) == 2
    assert not (partial / "run.json").exists()
    assert [s.run.run_id for s in loss_runs(ds)] == [earlier.run.run_id]
    assert [r.run_id for r in list_runs(ds)] == [earlier.run.run_id]
    assert latest_loss_outputs(ds, date(2025, 1, 1), date(2025, 3, 31)) is None  # the half run is never read
