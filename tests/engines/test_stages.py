"""Staged queries as a tree: split, assemble, run through the protocol; unportable SQL refused before an engine."""

from __future__ import annotations

import pytest
from tests.rules.rules_runner_helpers import make_dataset, write_rule

from gridaudit.engines import open_engine
from gridaudit.engines.stages import (
    UnportableSQL,
    assemble,
    check_portable,
    materialise_staged,
    plan_stages,
    run_staged,
    split_stages,
)
from gridaudit.rules import load_catalog
from gridaudit.rules.loader import load_rule
from gridaudit.rules.runner import run_rules

SQL = """
WITH big AS (SELECT meter_id, reading FROM readings WHERE reading > 100),
     counted AS (SELECT count(*) AS n FROM big),
     top AS (SELECT max(reading) AS m FROM big)
SELECT b.meter_id, b.reading, c.n, t.m FROM big b CROSS JOIN counted c CROSS JOIN top t
WHERE b.reading >= $least ORDER BY b.meter_id
"""


def test_a_cte_read_twice_becomes_a_stage_and_the_rest_stays_inline():
    staged = split_stages(SQL, prefix="q1__")
    assert staged.names == ["q1__big"]
    assert "q1__big" in staged.final and "WITH counted" in staged.final  # the others read the stage, inline
    assert "$least" in staged.final  # parameters stay in the final query
    every = split_stages(SQL, every=True)
    assert every.names == ["big", "counted", "top"]
    assert not split_stages("SELECT 1 AS x").stages
    assert plan_stages(SQL, "duckdb").stages == ()  # DuckDB materialises a CTE read twice itself
    assert plan_stages(SQL, "spark", prefix="s__").names == ["s__big"]


def test_staged_assembled_and_one_statement_give_the_same_rows(tmp_path):
    engine = open_engine(make_dataset(tmp_path / "ds"))
    try:
        whole = engine.query(SQL, {"least": 200.0}).to_pylist()
        assert whole == [{"meter_id": "M3", "reading": 250.0, "n": 2, "m": 250.0}]
        for staged in (split_stages(SQL, prefix="t__"), split_stages(SQL, every=True, prefix="e__")):
            assert run_staged(engine, staged, {"least": 200.0}).to_pylist() == whole
            assert not {s for s in staged.names} & engine.tables()  # stages are dropped after the run
            assert engine.query(assemble(staged), {"least": 200.0}).to_pylist() == whole
    finally:
        engine.close()


def test_a_stage_with_parameters_or_recursion_is_refused():
    with pytest.raises(UnportableSQL, match=r"\$parameters|参数"):
        split_stages("WITH a AS (SELECT * FROM t WHERE x > $p) SELECT * FROM a JOIN a b USING (x)")
    with pytest.raises(UnportableSQL, match="recursive|递归"):
        split_stages("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r")
    with pytest.raises(UnportableSQL, match="one SELECT|SELECT"):
        split_stages("DELETE FROM t")


PARAM_SQL = """
WITH big AS (SELECT meter_id, reading FROM readings WHERE reading > $floor),
     top AS (SELECT max(reading) AS m FROM big)
SELECT b.meter_id, b.reading, t.m FROM big b CROSS JOIN top t
WHERE b.reading >= $least AND b.meter_id IN (SELECT meter_id FROM big) ORDER BY b.meter_id
"""


def test_a_rule_stage_may_read_parameters_and_gets_only_its_own(tmp_path):
    """A rule's CTE read twice becomes a stage on Spark even when it reads ``$parameters`` (issue 18: a rule
    whose CTEs read one another grew into a plan of 800 shuffles); each stage is bound with the ones it reads."""
    staged = split_stages(PARAM_SQL, prefix="r__", params=True)
    assert staged.names == ["r__big"] and staged.stages[0].params == ("floor",)
    assert "$least" in staged.final and "$floor" not in staged.final
    assert plan_stages(PARAM_SQL, "spark", prefix="r__", params=True).names == ["r__big"]
    engine = open_engine(make_dataset(tmp_path / "ds"))
    try:
        params = {"floor": 100.0, "least": 200.0}
        whole = engine.query(PARAM_SQL, params).to_pylist()
        assert whole == [{"meter_id": "M3", "reading": 250.0, "m": 250.0}]
        assert run_staged(engine, staged, params).to_pylist() == whole
        assert run_staged(engine, staged, {"floor": 300.0, "least": 200.0}).to_pylist() == []  # the stage's bound
        assert "r__big" not in engine.tables()
    finally:
        engine.close()


def test_a_staged_table_binds_each_stage_with_its_own_parameters(tmp_path):
    """``materialise_staged`` with ``params`` (line loss on Spark stages its ``$parameter`` CTEs read twice,
    issue 18): every stage and the final table get the parameters they read, and the rows are the query's."""
    staged = split_stages(PARAM_SQL, prefix="m__", params=True)
    engine = open_engine(make_dataset(tmp_path / "ds"))
    try:
        params = {"floor": 100.0, "least": 200.0}
        made = materialise_staged(engine, "m_out", staged, params)
        assert made == ["m__big"]
        assert (
            engine.query("SELECT * FROM m_out ORDER BY meter_id").to_pylist()
            == engine.query(PARAM_SQL, params).to_pylist()
        )
        for name in ["m_out", *made]:
            engine.drop_materialised(name)
        made = materialise_staged(engine, "m_out", staged, {"floor": 300.0, "least": 200.0})
        assert engine.query("SELECT count(*) AS n FROM m_out").to_pylist() == [{"n": 0}]  # the stage's bound
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("sql", "construct"),
    [
        ("SELECT meter_id, count(*) AS n FROM t GROUP BY ALL", "GROUP BY ALL"),
        ("SELECT * EXCLUDE (a) FROM t", "EXCLUDE"),
        ("SELECT hour(ts) AS h FROM t", "hour"),
        ("SELECT arg_max(a, b) AS x FROM t", "arg_max"),
        ("SELECT approx_count_distinct(a) AS x FROM t", "approx_count_distinct"),
        # day-of-week numbering differs (DuckDB and PostgreSQL: Sunday 0; Spark: Sunday 1), and sqlglot writes
        # DuckDB's EXTRACT(dow …) back as DAYOFWEEK, which PostgreSQL refuses
        ("SELECT EXTRACT(dow FROM day) AS d FROM t", "dow"),
        ("SELECT dayofweek(day) AS d FROM t", "dayofweek"),
        ("SELECT isodow(day) AS d FROM t", "isodow"),
        ("SELECT date_part('dow', day) AS d FROM t", "dow"),
        ("SELECT median(a) OVER (PARTITION BY b) AS x FROM t", "window"),
        ("SELECT quantile_cont(a, 0.9) OVER (PARTITION BY b) AS x FROM t", "window"),
    ],
)
def test_design_constructs_are_refused_for_the_server_engines(sql, construct):
    check_portable(sql, "duckdb")  # the source dialect: nothing to refuse
    for engine in ("postgres", "spark"):
        with pytest.raises(UnportableSQL, match=construct):
            check_portable(sql, engine, "r1: ")


def test_the_catalog_is_portable_to_every_engine():
    checked = 0
    for rule in load_catalog():
        for sql, name in [(rule.sql, rule.id)] + [(d.sql, d.id) for d in rule.needs]:
            for engine in ("postgres", "spark"):
                check_portable(sql, engine, f"{name}: ")
                checked += 1
    assert checked > 100


@pytest.mark.spark
def test_the_runner_refuses_an_unportable_rule_before_the_engine(tmp_path, spark):
    from gridaudit.engines.spark import SparkEngine

    path = write_rule(
        tmp_path / "cat",
        "reading_group_all",
        "SELECT meter_id AS entity_id, period, count(*) AS ev_n FROM readings GROUP BY ALL",
    )
    rule = load_rule(path)
    dataset = make_dataset(tmp_path / "ds")
    duck = open_engine(dataset)
    try:
        _, reports = run_rules(duck, [rule])
        assert reports[0].status == "ok"  # DuckDB runs its own dialect
    finally:
        duck.close()
    engine = SparkEngine(dataset, spark=spark)
    try:
        _, reports = run_rules(engine, [rule])
        assert reports[0].status == "error" and "GROUP BY ALL" in reports[0].message  # refused, never sent
    finally:
        engine.close()
