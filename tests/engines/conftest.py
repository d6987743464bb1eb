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


@pytest.fixture(scope="session")
def spark_cluster(spark_available, tmp_path_factory):
    """A Spark standalone master and two workers on 127.0.0.1 (pyspark's ``spark-class``), stopped after the
    session, also when a test failed or pytest is ended by SIGTERM; the stop raises if a Spark process is left
    behind."""
    from .spark_cluster import SparkCluster, sigterm_as_interrupt

    cluster = SparkCluster(tmp_path_factory.mktemp("spark_cluster"))
    with sigterm_as_interrupt():
        try:
            cluster.start(workers=2, cores=1)
            yield cluster
        finally:
            cluster.stop()
