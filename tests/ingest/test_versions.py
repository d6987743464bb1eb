"""Crash safety (kill -9 mid-ingest), the CLI, ``dataset info`` and ``--from-sql``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.dataset import open_dataset, versions
from gridaudit.ingest import ingest

from .ingest_helpers import METERS, READINGS_FEB, READINGS_JAN, write

REPO = Path(__file__).resolve().parents[2]


def test_kill_9_mid_ingest_leaves_previous_version(base, tmp_path: Path):
    meters, readings, ds = base
    ingest([meters, readings], ds)
    big = tmp_path / "big" / "daily_usage.csv"
    big.parent.mkdir()
    big.write_text(
        "meter_id,day,kwh\n"
        + "".join(f"M{i % 3 + 1},2023-{i // 3 % 12 + 1:02d}-{i // 36 % 28 + 1:02d},1\n" for i in range(1_200_000))
    )
    code = (
        f"import sys; sys.path.insert(0, {str(REPO / 'src')!r}); "
        f"from gridaudit.ingest import ingest; ingest([{str(big)!r}], {str(ds)!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until the new table is being written into staging
        staging = list(ds.glob(".staging-*/_work/daily_usage__*.parquet")) + list(
            ds.glob(".staging-*/daily_usage.parquet")
        )
        if staging:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert versions(ds) == ["v0001"]
    d = open_dataset(ds)
    assert d.version == "v0001" and d.read("readings").num_rows == 3 and not d.has("daily_usage")
    # the next ingest cleans the half-written staging folder and works
    r = ingest([write(tmp_path / "feb", "readings.csv", READINGS_FEB)], ds)
    assert r.changed and r.dataset.version == "v0002" and not list(ds.glob(".staging-*"))


def test_cli_exit_codes_and_info(tmp_path: Path):
    src = tmp_path / "src"
    write(src, "meters.csv", METERS)
    write(src, "readings.csv", READINGS_JAN)
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(src), "--dataset", str(tmp_path / "ds"), "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "version v0001" in res.output
    res = runner.invoke(app, ["ingest", str(src), "--dataset", str(tmp_path / "ds"), "--lang", "en"])
    assert res.exit_code == 0 and "unchanged" in res.output
    bad = write(
        tmp_path / "bad", "readings.csv", "meter_id,period,read_on,reading,read_type\nM1,2024-02,2024-02-29,-1,actual\n"
    )
    res = runner.invoke(app, ["ingest", str(bad), "--dataset", str(tmp_path / "ds"), "--lang", "en"])
    assert res.exit_code == 1 and "out of range" in res.output and "failure cases saved to" in res.output
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv"), "--dataset", str(tmp_path / "ds"), "--lang", "en"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["dataset", "info", str(tmp_path / "ds"), "--lang", "en"])
    assert res.exit_code == 0 and "2024-01" in res.output and "v0001" in res.output and "readings" in res.output
    for cmd in (["ingest", "--help"], ["dataset", "info", "--help"]):
        out = runner.invoke(app, cmd).output
        assert "Example" in out and "gridaudit" in out


@pytest.mark.postgres
def test_from_sql_reads_contract_tables_and_mapped_views(pg_url: str, tmp_path: Path):
    import psycopg

    schema = "gridaudit_ingest_test"
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE TABLE {schema}.meters (meter_id text, role text, multiplier numeric)")
        con.execute(f"INSERT INTO {schema}.meters VALUES ('M1', '用户表', 1), ('M2', 'customer', 40)")
        con.execute(
            f"CREATE TABLE {schema}.mr (表号 text, 账期 text, 抄表日期 date, 示数 double precision, 抄表方式 text)"
        )
        con.execute(
            f"INSERT INTO {schema}.mr VALUES ('M1', '202401', '2024-01-31', 10, '实抄'), "
            "('M3', '2024-01', '2024-01-31', 1, 'ami')"
        )
        con.execute(f"CREATE VIEW {schema}.v_readings AS SELECT * FROM {schema}.mr")
    url = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    mapping = write(tmp_path, "map.yaml", "tables: {v_readings: readings}\n")
    try:
        r = ingest([], tmp_path / "ds", from_sql=url, mapping=mapping)
        assert r.rows == {"meters": 2, "readings": 1}, (r.errors, r.failures.to_pylist())
        f = r.failures.to_pylist()
        assert [(x["row"], x["column_name"], x["check_name"]) for x in f] == [(3, "meter_id", "foreign_key")]
        assert f[0]["source"].endswith(f"#{schema}.v_readings")
        again = ingest([], tmp_path / "ds", from_sql=url, mapping=mapping)
        assert not again.changed
    finally:
        with psycopg.connect(pg_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
