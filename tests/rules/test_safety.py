"""Rule SQL safety: functions that reveal the sandbox's settings, environment or files are refused."""

from __future__ import annotations

import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules.authoring import check_catalog
from gridaudit.rules.loader import load_rule
from gridaudit.rules.runner import run_rules
from gridaudit.rules.safety import UnsafeSQL, check_rule_sql

from .rules_runner_helpers import make_dataset, write_rule

LEAKS = [
    "SELECT current_setting('temp_directory') AS entity_id, NULL AS period FROM readings",
    "SELECT meter_id AS entity_id, period, CURRENT_SETTING('allowed_directories') AS ev_dirs FROM readings",
    "SELECT meter_id AS entity_id, period FROM readings WHERE current_setting('temp_directory') LIKE '/%'",
    "SELECT (SELECT value FROM duckdb_settings() WHERE name = 'temp_directory') AS entity_id, NULL AS period",
    "SELECT * FROM duckdb_settings()",
    "SELECT extension_name AS entity_id, NULL AS period FROM duckdb_extensions()",
    "SELECT getenv('HOME') AS entity_id, NULL AS period FROM readings",
    "SELECT getvariable('x') AS entity_id, NULL AS period FROM readings",
    "SELECT content AS entity_id, NULL AS period FROM read_text('/etc/passwd')",
    "SELECT content AS entity_id, NULL AS period FROM read_blob('/etc/passwd')",
    "SELECT file AS entity_id, NULL AS period FROM glob('/*')",
    "SELECT * FROM pragma_version()",
    "SELECT database_name AS entity_id, NULL AS period FROM pragma_database_list()",
    "SELECT current_query() AS entity_id, NULL AS period FROM readings",
    "SELECT version() AS entity_id, NULL AS period FROM readings",
    "SELECT current_database() AS entity_id, current_schema() AS period FROM readings",
    "SELECT meter_id AS entity_id, period FROM readings WHERE array_length(current_schemas(true)) > 0",
    "SELECT * FROM query('SELECT 1')",
    "WITH s AS (SELECT current_setting('temp_directory') AS d) SELECT d AS entity_id, NULL AS period FROM s",
]


@pytest.mark.parametrize("sql", LEAKS)
def test_leaky_functions_are_refused_by_the_check(sql):
    with pytest.raises(UnsafeSQL, match="not allowed"):
        check_rule_sql(sql, {"readings"})


def test_ordinary_functions_stay_allowed():
    sql = (
        "SELECT meter_id AS entity_id, strftime(read_on, '%Y-%m') AS period, coalesce(reading, 0) AS score, "
        "current_date AS ev_today, greatest(reading, 1.0) AS ev_g FROM readings"
    )
    check_rule_sql(sql, {"readings"})


def test_current_setting_does_not_reach_findings(tmp_path):
    ds = make_dataset(tmp_path / "ds")
    sql = "SELECT meter_id AS entity_id, period, current_setting('temp_directory') AS ev_tmp FROM readings"
    rule = load_rule(write_rule(tmp_path / "cat", "reading_peek", sql))  # loads; the runner refuses it
    assert any("current_setting" in p for p in check_catalog(tmp_path / "cat"))  # and rules check says so
    engine = DuckDBEngine(ds)
    try:
        findings, reports = run_rules(engine, [rule])
    finally:
        engine.close()
    assert reports[0].status == "error" and "current_setting" in reports[0].message.lower()
    assert len(findings) == 0
