"""Spark stages are leaves (issue 18): a materialised stage's plan does not carry the stages it was built from.

With ``.cache()`` a stage's plan held every earlier stage's plan, once per path that reaches it, and one run
of the risk features' 30-odd stages left 2.6 GB of the driver's 4 GB heap in use at 10 k customers (BENCHMARKS.md,
"Spark risk features at 10 k"). Here a chain of stages each reading the previous one twice would double the
plan at every step; as leaves it stays the size of one step.
"""

from __future__ import annotations

import pytest

from .readings_data import readings_dataset

DEPTH = 5  # 2**5 copies of the first stage's plan in the last one's, were stages not leaves


@pytest.fixture()
def dataset(tmp_path):
    return readings_dataset(tmp_path / "ds", 3)


@pytest.mark.spark
def test_a_stage_reading_stages_twice_has_a_plan_of_one_step_and_drop_frees_its_rows(dataset, spark):
    from gridaudit.engines.spark import SparkEngine

    engine = SparkEngine(dataset, spark=spark)
    persisted = spark.sparkContext._jsc.getPersistentRDDs().size()
    try:
        engine.materialise("st0", "SELECT meter_id, reading AS x FROM readings")
        for i in range(1, DEPTH + 1):
            engine.materialise(
                f"st{i}",
                f"SELECT a.meter_id, a.x + b.x AS x FROM st{i - 1} a JOIN st{i - 1} b ON a.meter_id = b.meter_id",
            )
        assert spark.sparkContext._jsc.getPersistentRDDs().size() == persisted + DEPTH + 1  # rows kept per stage
        last = engine.spark.table(f"st{DEPTH}")
        plan = last._jdf.queryExecution().executedPlan().toString()
        assert "readings" not in plan and "Join" not in plan, plan  # no earlier stage's plan in it
        assert len(plan) < 2_000, len(plan)
        got = engine.query(f"SELECT meter_id, x FROM st{DEPTH} ORDER BY meter_id")
        assert got.column("x").to_pylist() == [float(i * 2**DEPTH) for i in range(1, 4)]
        for i in range(DEPTH + 1):
            engine.drop_materialised(f"st{i}")
        assert spark.sparkContext._jsc.getPersistentRDDs().size() == persisted  # drop frees the rows now
        assert not {f"st{i}" for i in range(DEPTH + 1)} & engine.tables()
    finally:
        engine.close()
