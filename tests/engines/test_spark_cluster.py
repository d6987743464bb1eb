"""``rules run --engine spark --spark-master spark://…`` on a real two-worker standalone cluster: DuckDB's findings.

Only three rules run here (the cluster costs a JVM per daemon and per executor, and every Spark query seconds);
every rule fixture of the catalog runs on Spark ``local[2]`` in tests/rules/test_engine_parity.py. The rules
chosen read the pieces a cluster changes: derived tables materialised on the executors (reading_day_ami;
work_order_step_days, whose CTE read twice is built as a stage of its own), and the ``workday_calendar``
registered from the driver (contract_tariff_shop_profile_interval).
"""

from __future__ import annotations

import sys

import pyarrow.parquet as pq
import pytest

from gridaudit.engines import open_engine
from gridaudit.rules import load_catalog
from gridaudit.rules.loader import select_rules
from gridaudit.rules.runner import run_rules

from .spark_cluster import REPO_SRC, run_in_group, spark_env

RULES = ["contract_tariff_shop_profile_interval", "process_completion_check_overdue", "reading_estimated_vs_ami"]
# tiny data: few partitions, no adaptive planning, driver on the loopback
SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory):
    """300 customers × 2 months, ingested (≈ 0.6 MB of Parquet on a local path every worker reads)."""
    from gridaudit.ingest import ingest
    from gridaudit.synth import SynthConfig, generate, source_files

    base = tmp_path_factory.mktemp("cluster_data")
    generate(SynthConfig(customers=300, months=2, start="2024-01", seed=11), base / "src")
    ingest(source_files(base / "src"), base / "ds")
    return base / "ds"


@pytest.mark.spark
@pytest.mark.slow
def test_rules_on_a_two_worker_cluster_match_duckdb(spark_cluster, synth_dataset, tmp_path):
    from gridaudit.dataset import open_dataset

    rules = select_rules(load_catalog(), only=RULES)
    engine = open_engine(open_dataset(synth_dataset))
    try:
        duck, _ = run_rules(engine, rules)
    finally:
        engine.close()
    expected = set(duck.column("finding_id").to_pylist())
    assert set(duck.column("rule_id").to_pylist()) == set(RULES)  # each chosen rule finds something here
    assert len(expected) >= 5  # the chosen rules find something on this dataset (5 + 2 + 3 with seed 11)

    out = tmp_path / "spark.parquet"
    cmd = [sys.executable, "-m", "gridaudit", "--lang", "en", "rules", "run", "--dataset", str(synth_dataset)]
    cmd += ["--engine", "spark", "--spark-master", spark_cluster.master_url, "--memory-limit", "512m"]
    cmd += ["--spark-data", synth_dataset.resolve().as_uri()]  # as a cluster reads HDFS/S3: a URI, not the path
    cmd += [arg for key, value in SPARK_CONF.items() for arg in ("--spark-conf", f"{key}={value}")]
    cmd += ["--only", ",".join(RULES), "--out", str(out)]
    env = spark_env(tmp_path)
    env["PYTHONPATH"] = REPO_SRC + ((":" + env["PYTHONPATH"]) if env.get("PYTHONPATH") else "")
    done = run_in_group(cmd, env, timeout_s=900)
    assert done.returncode == 0, done.stdout[-4000:] + "\n" + spark_cluster.logs()

    got = set(pq.read_table(out).column("finding_id").to_pylist())
    assert got == expected
    app = [a for a in spark_cluster.state()["completedapps"] if a["name"] == "gridaudit"]
    assert app, "the run did not go through the cluster's master"
    # each worker ran an executor of the run, and each executor ran tasks
    for worker in spark_cluster.worker_dirs():
        logs = [p.read_text(errors="replace") for p in worker.glob(f"{app[-1]['id']}/*/stderr")]
        assert any("Finished task" in log for log in logs), f"{worker.name} ran no task"


def _loss_wh(table) -> dict[tuple, tuple]:
    """(level, entity, period) → supply, sales and loss in whole Wh, and the band."""
    return {
        (r["level"], r["entity_id"], r["period"]): (
            round(r["supply_kwh"] * 1000),
            round(r["sales_kwh"] * 1000),
            round(r["loss_kwh"] * 1000),
            r["band"],
        )
        for r in table.to_pylist()
    }


@pytest.mark.spark
@pytest.mark.slow
def test_loss_on_a_two_worker_cluster_balances_to_duckdbs_wh(spark_cluster, synth_dataset, tmp_path):
    from gridaudit.lineloss.run import run_loss

    duck = run_loss(synth_dataset, period="2024-02")
    want = _loss_wh(duck.balance.monthly)
    assert len(want) >= 5 and any(v[2] for v in want.values())  # areas, feeders, voltage levels, units

    def apps() -> int:
        return len([a for a in spark_cluster.state()["completedapps"] if a["name"] == "gridaudit"])

    apps_before = apps()
    out = tmp_path / "loss"
    cmd = [sys.executable, "-m", "gridaudit", "--lang", "en", "loss", "--dataset", str(synth_dataset)]
    cmd += ["--period", "2024-02", "--engine", "spark", "--spark-master", spark_cluster.master_url]
    cmd += ["--memory-limit", "512m", "--spark-data", synth_dataset.resolve().as_uri(), "--out-dir", str(out)]
    cmd += [arg for key, value in SPARK_CONF.items() for arg in ("--spark-conf", f"{key}={value}")]
    env = spark_env(tmp_path)
    env["PYTHONPATH"] = REPO_SRC + ((":" + env["PYTHONPATH"]) if env.get("PYTHONPATH") else "")
    done = run_in_group(cmd, env, timeout_s=1200)
    assert done.returncode == 0, done.stdout[-4000:] + "\n" + spark_cluster.logs()

    got = _loss_wh(pq.read_table(next(out.glob("balance_monthly*.parquet"))))
    assert got.keys() == want.keys()
    bad = {k: (want[k], got[k]) for k in want if want[k] != got[k]}
    assert not bad, dict(list(bad.items())[:5])
    assert apps() == apps_before + 1, "the loss run did not go through the cluster's master"


@pytest.mark.spark
@pytest.mark.slow
def test_risk_scoring_on_a_two_worker_cluster_matches_duckdb(spark_cluster, synth_dataset, tmp_path):
    """``risk score --engine spark --spark-master …`` computes the features on the cluster: DuckDB's raw scores."""
    import pandas as pd

    model = tmp_path / "risk.model"
    base = [sys.executable, "-m", "gridaudit", "--lang", "en", "risk"]
    env = spark_env(tmp_path)
    env["PYTHONPATH"] = REPO_SRC + ((":" + env["PYTHONPATH"]) if env.get("PYTHONPATH") else "")
    done = run_in_group([*base, "train", "--dataset", str(synth_dataset), "--model", str(model)], env, timeout_s=600)
    assert done.returncode == 0, done.stdout[-4000:]
    duck_out = tmp_path / "duck.parquet"
    score = [*base, "score", "--dataset", str(synth_dataset), "--model", str(model)]
    done = run_in_group([*score, "--out", str(duck_out)], env, timeout_s=600)
    assert done.returncode == 0, done.stdout[-4000:]

    spark_out = tmp_path / "spark.parquet"
    cmd = [*score, "--out", str(spark_out), "--engine", "spark", "--spark-master", spark_cluster.master_url]
    cmd += ["--memory-limit", "512m", "--spark-data", synth_dataset.resolve().as_uri()]
    cmd += [arg for key, value in SPARK_CONF.items() for arg in ("--spark-conf", f"{key}={value}")]
    done = run_in_group(cmd, env, timeout_s=1500)
    assert done.returncode == 0, done.stdout[-4000:] + "\n" + spark_cluster.logs()

    duck = pd.read_parquet(duck_out).sort_values("customer_id").reset_index(drop=True)
    spark = pd.read_parquet(spark_out).sort_values("customer_id").reset_index(drop=True)
    assert len(duck) >= 250 and list(duck["customer_id"]) == list(spark["customer_id"])  # every customer scored
    assert duck["raw_score"].nunique() > 10  # the scores tell customers apart
    assert (duck["raw_score"] - spark["raw_score"]).abs().max() < 1e-6
