"""A Spark session shared by every Spark test (startup costs seconds; getOrCreate reuses it)."""

from __future__ import annotations

import pytest

# Tiny fixture datasets: one partition and no adaptive planning keep each query to a few Spark tasks.
TEST_CONF = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.adaptive.enabled": "false",
}


@pytest.fixture(scope="session")
def spark(spark_available):
    from gridaudit.engines.spark import spark_session

    return spark_session("local[2]", TEST_CONF)
