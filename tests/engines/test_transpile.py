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


def test_list_parameters_are_typed_arrays():
    assert [param_sql_type(v) for v in (["a", None], [1, 2], [1, 2.5], (date(2024, 1, 1),), [], [None], [1, "a"])] == [
        "VARCHAR[]",
        "BIGINT[]",
        "DOUBLE[]",
        "DATE[]",
        "VARCHAR[]",
        "VARCHAR[]",
        "VARCHAR[]",
    ]
    out = transpile("SELECT x FROM t WHERE m IN (SELECT unnest($m))", "postgres", {"m": ["M1", "M2"]})
    assert "UNNEST(CAST(%(m)s AS TEXT[]))" in out
    assert "CAST(:k AS ARRAY<DOUBLE>)" in transpile("SELECT unnest($k) AS k", "spark", {"k": [1.0]})


def test_a_list_parameter_binds_on_postgres(pg_url):
    """The array cast is what PostgreSQL needs to unnest a bound Python list (``unnest(text)`` does not exist)."""
    from gridaudit.engines.postgres import PostgresEngine

    engine = PostgresEngine(pg_url, schema="ga_test_list_param")
    try:
        got = engine.query("SELECT unnest($m) AS m, unnest($k) AS k", {"m": ["a", "b"], "k": [1, 2.5]})
        assert got.to_pylist() == [{"m": "a", "k": 1.0}, {"m": "b", "k": 2.5}]
    finally:
        engine.close()
