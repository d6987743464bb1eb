"""sqlglot transpilation keeps ``$name`` parameters as typed, bound placeholders."""

from __future__ import annotations

from datetime import date

from gridaudit.engines.transpile import param_sql_type, transpile

SQL = "SELECT a FROM t WHERE x > $tol AND ($period IS NULL OR p = $period) AND n % 2 = 0 AND d < $day"


def test_postgres_placeholders_and_percent_escaped():
    out = transpile(SQL, "postgres", {"tol": 1.5, "period": None, "day": date(2024, 1, 1)})
    assert "CAST(%(tol)s AS DOUBLE PRECISION)" in out
    assert out.count("CAST(%(period)s AS TEXT)") == 2
    assert "CAST(%(day)s AS DATE)" in out
    assert "n %% 2" in out and "$" not in out


def test_spark_placeholders():
    out = transpile(SQL, "spark", {"tol": 3, "period": "2024-01", "day": date(2024, 1, 1)})
    assert "CAST(:tol AS BIGINT)" in out and "CAST(:period AS STRING)" in out and "CAST(:day AS DATE)" in out


def test_param_types():
    assert [param_sql_type(v) for v in (True, 1, 1.0, "x", None)] == [
        "BOOLEAN",
        "BIGINT",
        "DOUBLE",
        "VARCHAR",
        "VARCHAR",
    ]
