"""The shared engine options of ``rules run``: one EngineSettings, bad combinations exit 2 naming the option."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.cli_options import engine_settings
from gridaudit.engines import open_engine
from gridaudit.findings import read_findings
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import build_fixture_dataset, load_fixture
from gridaudit.rules.loader import builtin_catalog

runner = CliRunner()
RULE = "billing_withheld_qty"


@pytest.fixture()
def dataset(tmp_path):
    rule = {r.id: r for r in load_catalog()}[RULE]
    fx = load_fixture(builtin_catalog() / "billing" / RULE / "fixture.yaml")
    return build_fixture_dataset(rule, fx, tmp_path / "ds")


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--engine", "postgres"], "--pg"),
        (["--engine", "oracle"], "unknown engine"),
        (["--spark-master", "spark://h:7077"], "--engine spark"),
        (["--spark-conf", "spark.x=1"], "--engine spark"),
        (["--engine", "spark", "--spark-conf", "novalue"], "KEY=VALUE"),
        (["--threads", "0"], "threads"),
    ],
)
def test_bad_engine_options_exit_2_before_anything_runs(dataset, extra, says):
    args = ["--lang", "en", "rules", "run", "--dataset", str(dataset.root), "--only", RULE, *extra]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert says in res.output
    assert not (dataset.root / "findings").exists()  # nothing written


def test_duckdb_limits_reach_the_engine_and_the_run_writes(dataset, tmp_path):
    settings = engine_settings("duckdb", memory_limit="1GB", threads=1)
    assert (settings.kind, settings.memory_limit, settings.threads) == ("duckdb", "1GB", 1)
    engine = open_engine(dataset, settings)
    try:
        row = engine.query("SELECT current_setting('threads') AS t, current_setting('memory_limit') AS m").to_pylist()
        assert row[0]["t"] == 1 and row[0]["m"].startswith("953")  # 1GB = 953.6 MiB
    finally:
        engine.close()
    out = tmp_path / "f.parquet"
    args = ["--lang", "en", "rules", "run", "--dataset", str(dataset.root), "--only", RULE, "--out", str(out)]
    res = runner.invoke(app, [*args, "--memory-limit", "1GB", "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert read_findings(out).num_rows >= 1


UNREACHABLE = "postgresql://auditor:s3cret@127.0.0.1:1/none"  # port 1: nothing listens there


@pytest.mark.parametrize(
    "command",
    [
        ["rules", "run", "--only", RULE],
        ["loss"],
        ["risk", "train", "--model", "MODEL"],
        ["risk", "score"],
    ],
)
def test_an_unreachable_postgres_server_exits_2_naming_it_without_its_password(dataset, tmp_path, command):
    command = [str(tmp_path / "m.model") if c == "MODEL" else c for c in command]
    args = ["--lang", "en", *command, "--dataset", str(dataset.root), "--engine", "postgres", "--pg", UNREACHABLE]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "auditor@127.0.0.1:1/none" in text and "Connection refused" in text
    assert "s3cret" not in res.output and "Traceback" not in res.output
    assert not (dataset.root / "findings").exists() and not (tmp_path / "m.model").exists()  # nothing written
