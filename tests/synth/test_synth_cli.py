from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.dataset import open_dataset

runner = CliRunner()


def test_synth_command_writes_tables_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "s"
    res = runner.invoke(app, ["--lang", "en", "synth", "-n", "400", "-m", "1", "--start", "2024-03",
                              "--out-dir", str(out), "--rate", "theft_bypass=0.05"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "truth.csv").is_file() and (out / "customers.parquet").is_file()
    assert "theft_bypass" in res.output


def test_synth_command_refuses_bad_rates(tmp_path: Path) -> None:
    res = runner.invoke(app, ["--lang", "en", "synth", "--out-dir", str(tmp_path), "--rate", "nonsense=1"])
    assert res.exit_code == 2
    assert "unknown irregularity kind" in res.output


def test_help_has_examples() -> None:
    for cmd in ("synth", "demo"):
        res = runner.invoke(app, [cmd, "--help"])
        assert res.exit_code == 0 and "Example" in res.output and f"gridaudit {cmd}" in res.output


def test_demo_runs_end_to_end_and_reruns(tmp_path: Path) -> None:
    from gridaudit.demo import run

    out = tmp_path / "demo"
    times = run(customers=1500, months=2, out=out, seed=4)
    assert {"synth", "ingest", "total"} <= set(times)
    ds = open_dataset(out / "dataset")
    assert ds.rows("customers") == 1500 and ds.rows("daily_usage") > 0
    run(customers=1500, months=2, out=out, seed=4)  # a second run replaces the first dataset
    assert open_dataset(out / "dataset").version == "v0001"


def test_demo_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    res = runner.invoke(app, ["--lang", "en", "demo", "--out-dir", str(tmp_path)])
    assert res.exit_code == 2 and "not a demo folder" in res.output
    assert (tmp_path / "mine.txt").read_text() == "keep me"
