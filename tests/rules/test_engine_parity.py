"""Every rule fixture on PostgreSQL and Spark: the same finding keys as DuckDB (DESIGN §4)."""

from __future__ import annotations

import pytest

from gridaudit.rules import load_catalog
from gridaudit.rules.harness import fixture_files, run_fixture

CASES = [(r, f) for r in load_catalog() for f in fixture_files(r)]
IDS = [f"{r.id}/{p.name}" for r, p in CASES]


@pytest.fixture(scope="module")
def duckdb_keys():
    return {}


def _duck(rule, path, cache):
    key = (rule.id, path)
    if key not in cache:
        cache[key] = run_fixture(rule, path).got
    return cache[key]


@pytest.mark.postgres
@pytest.mark.parametrize(("rule", "path"), CASES, ids=IDS)
def test_fixture_on_postgres(rule, path, pg_url, duckdb_keys):
    from gridaudit.engines.postgres import PostgresEngine

    result = run_fixture(rule, path, lambda ds: PostgresEngine(pg_url, dataset=ds, schema="ga_test_rules_parity"))
    assert result.ok, result.describe()
    assert result.got == _duck(rule, path, duckdb_keys)


@pytest.mark.spark
@pytest.mark.parametrize(("rule", "path"), CASES, ids=IDS)
def test_fixture_on_spark(rule, path, spark, duckdb_keys):
    from gridaudit.engines.spark import SparkEngine

    result = run_fixture(rule, path, lambda ds: SparkEngine(ds, spark=spark))
    assert result.ok, result.describe()
    assert result.got == _duck(rule, path, duckdb_keys)
