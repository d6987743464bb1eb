"""Derived tables (`<catalog>/_derived/<id>.sql`) and rule templates (`<family>/<name>.template.sql`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules.harness import build_fixture_dataset
from gridaudit.rules.loader import RuleError, load_catalog, load_rule
from gridaudit.rules.runner import run_rules

from .rules_runner_helpers import SQL_BIG, make_dataset, write_rule

DERIVED = """/*---
id: {id}
description: {{zh: 每表示数合计, en: total reading per meter}}
tables: [{tables}]
---*/
{sql}
"""
TOTALS_SQL = "SELECT meter_id, SUM(reading) AS total, COUNT(*) AS n FROM readings GROUP BY meter_id"
RULE_SQL = (
    "SELECT meter_id AS entity_id, NULL AS period, total AS score, n AS ev_reads "
    "FROM reading_totals WHERE total > $limit"
)


def write_derived(folder: Path, did: str, sql: str = TOTALS_SQL, tables: str = "readings") -> Path:
    path = folder / "_derived" / f"{did}.sql"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DERIVED.format(id=did, tables=tables, sql=sql), "utf-8")
    return path


def derived_rule(folder: Path, rid: str, derived: str = "reading_totals", sql: str = RULE_SQL) -> Path:
    path = write_rule(folder, rid, sql)
    text = path.read_text("utf-8").replace("params:", f"derived: [{derived}]\nparams:", 1)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture()
def dataset(tmp_path):
    return make_dataset(tmp_path / "ds")


def run_on(dataset, rules: list, derived_log: list | None = None) -> tuple:
    """Run ``rules`` on ``dataset`` in a fresh DuckDB engine, closed afterwards: (findings, reports)."""
    engine = DuckDBEngine(dataset)
    try:
        return run_rules(engine, rules, derived_log=derived_log)
    finally:
        engine.close()


def test_derived_table_is_built_once_shared_and_dropped(dataset, tmp_path):
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals")
    derived_rule(cat, "reading_total_big")
    derived_rule(cat, "reading_total_any", sql=RULE_SQL.replace("$limit", "0 * $limit"))
    rules = load_catalog([cat], builtin=False)
    assert [d.id for d in rules[0].needs] == ["reading_totals"]
    assert "readings" in rules[0].all_tables
    engine = DuckDBEngine(dataset)
    log: list = []
    try:
        findings, reports = run_rules(engine, rules, derived_log=log)
        with pytest.raises(Exception, match="reading_totals"):
            engine.query("SELECT * FROM reading_totals")
    finally:
        engine.close()
    assert [(r.rule_id, r.family, r.status) for r in log] == [("reading_totals", "derived", "ok")]
    assert [r.status for r in reports] == ["ok", "ok"]
    # CPU time of this process while each ran (DuckDB's threads included): some, and at most its share of the run
    assert all(0 < r.cpu_seconds < 60 for r in log + reports)
    hits = {r.rule_id: r.hits for r in reports}
    assert hits == {"reading_total_big": 2, "reading_total_any": 3}
    big = [f["entity_id"] for f in findings.to_pylist() if f["rule_id"] == "reading_total_big"]
    assert sorted(big) == ["M1", "M3"]


def test_broken_derived_table_fails_only_its_rules(dataset, tmp_path):
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals", sql="SELECT meter_id, no_such_column AS total FROM readings")
    derived_rule(cat, "reading_total_big")
    write_rule(cat, "reading_big", SQL_BIG)
    log: list = []
    _, reports = run_on(dataset, load_catalog([cat], builtin=False), derived_log=log)
    by_id = {r.rule_id: r for r in reports}
    assert by_id["reading_big"].status == "ok"
    assert by_id["reading_total_big"].status == "error"
    assert "reading_totals" in by_id["reading_total_big"].message
    assert log[0].status == "error"


def test_derived_table_over_a_missing_table_skips_its_rules(dataset, tmp_path):
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals", sql="SELECT meter_id, 1.0 AS total, 1 AS n FROM seals", tables="seals")
    derived_rule(cat, "reading_total_big")
    log: list = []
    _, reports = run_on(dataset, load_catalog([cat], builtin=False), derived_log=log)
    assert reports[0].status == "skipped" and "seals" in reports[0].message
    assert log == []


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT meter_id, reading AS total FROM readings WHERE reading > $x", "no parameters"),
        ("SELECT meter_id, 1 AS total FROM seals", "seals"),
    ],
)
def test_derived_sql_is_checked_like_rule_sql(dataset, tmp_path, sql, problem):
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals", sql=sql)
    derived_rule(cat, "reading_total_big")
    _, reports = run_on(dataset, load_catalog([cat], builtin=False))
    assert reports[0].status == "error" and problem in reports[0].message


def test_rule_may_read_only_the_derived_tables_it_declares(dataset, tmp_path):
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals")
    write_rule(cat, "reading_sneaky", RULE_SQL)  # reads reading_totals without declaring it
    _, reports = run_on(dataset, load_catalog([cat], builtin=False))
    assert reports[0].status == "error" and "reading_totals" in reports[0].message


def test_loader_errors_for_derived_tables(tmp_path):
    cat = tmp_path / "cat"
    path = derived_rule(cat, "reading_total_big", derived="nope")
    with pytest.raises(RuleError, match="unknown derived table nope"):
        load_rule(path)
    write_derived(cat, "readings")
    with pytest.raises(RuleError, match="hide the contract table"):
        load_catalog([cat], builtin=False)
    (cat / "_derived" / "readings.sql").unlink()
    write_derived(cat, "loop_a", sql="SELECT * FROM loop_b", tables="readings\nderived: [loop_b]")
    write_derived(cat, "loop_b", sql="SELECT * FROM loop_a", tables="readings\nderived: [loop_a]")
    derived_rule(cat, "reading_total_big", derived="loop_a")
    with pytest.raises(RuleError, match="loop"):
        load_catalog([cat], builtin=False)


def test_builtin_derived_tables_load_and_fixture_datasets_hold_their_tables(tmp_path):
    rules = {r.id: r for r in load_catalog()}
    rule = rules["theft_stopped_register"]
    assert {d.id for d in rule.needs} == {"meter_month_usage", "area_day_usage"}
    assert "daily_usage" in rule.all_tables
    ds = build_fixture_dataset(rules["reading_decreased"], {"tables": {}}, tmp_path / "fx")
    assert {"readings", "daily_usage"} <= set(ds.tables())


TEMPLATE = """/*---
template: reading_over
family: reading
entity_type: meter
tables: [readings]
params:
  limit: {type: float, default: 0.0, doc: {zh: 上限, en: limit}}
instances:
  - id: reading_over_100
    title: {zh: 超过100, en: over 100}
    severity: low
    params: {limit: {default: 100.0}}
    description: {zh: 示数超过100, en: reading over 100}
  - id: reading_over_200
    title: {zh: 超过200, en: over 200}
    severity: high
    params: {limit: {default: 200.0}}
    description: {zh: 示数超过200, en: reading over 200}
---*/
SELECT meter_id AS entity_id, period, reading AS score FROM readings
WHERE reading > $limit AND ($period IS NULL OR period = $period)
"""


def test_template_instances_are_rules_of_their_own(dataset, tmp_path):
    path = tmp_path / "cat" / "reading" / "reading_over.template.sql"
    path.parent.mkdir(parents=True)
    path.write_text(TEMPLATE, "utf-8")
    rules = load_catalog([tmp_path / "cat"], builtin=False)
    assert [(r.id, r.header.severity, r.bind()["limit"]) for r in rules] == [
        ("reading_over_100", "low", 100.0),
        ("reading_over_200", "high", 200.0),
    ]
    findings, _ = run_on(dataset, rules)
    got = sorted(zip(findings.column("rule_id").to_pylist(), findings.column("entity_id").to_pylist(), strict=True))
    assert got == [("reading_over_100", "M1"), ("reading_over_100", "M3"), ("reading_over_200", "M3")]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("template: reading_over", "template: other"), "template: reading_over"),
        (("params: {limit: {default: 200.0}}", "params: {cap: {default: 1.0}}"), "template param: cap"),
        (("params: {limit: {default: 200.0}}", "params: {limit: {type: int}}"), "template param: limit"),
        (("- id: reading_over_200", "- id: reading_over_100"), "instance ids repeat"),
        (("severity: high", "severity: huge"), "severity"),
        (("    severity: high", "    severity: high\n    sql: x"), "unknown keys"),
    ],
)
def test_template_errors_name_the_problem(tmp_path, change, problem):
    path = tmp_path / "cat" / "reading" / "reading_over.template.sql"
    path.parent.mkdir(parents=True)
    path.write_text(TEMPLATE.replace(*change), "utf-8")
    with pytest.raises(RuleError, match=problem):
        load_catalog([tmp_path / "cat"], builtin=False)


def test_builtin_metering_event_templates_keep_nine_rules():
    rules = {r.id: r for r in load_catalog() if r.path.name.endswith(".template.sql")}
    assert len([i for i in rules if i.startswith("metering_event_")]) == 9
    assert rules["metering_event_magnetic"].bind()["event_types"] == "magnetic"
    assert rules["metering_event_cover_open"].header.severity == "high"


FIXED_TEMPLATE = (
    TEMPLATE.replace(
        "WHERE reading > $limit", "WHERE CASE WHEN $side = 'above' THEN reading > $limit ELSE reading < $limit END"
    )
    .replace("    params: {limit: {default: 200.0}}", "    params: {limit: {default: 200.0}}\n    fixed: {side: below}")
    .replace("    params: {limit: {default: 100.0}}", "    params: {limit: {default: 100.0}}\n    fixed: {side: above}")
)


def test_template_instances_may_fix_values_that_set_cannot_change(dataset, tmp_path):
    path = tmp_path / "cat" / "reading" / "reading_over.template.sql"
    path.parent.mkdir(parents=True)
    path.write_text(FIXED_TEMPLATE, "utf-8")
    rules = {r.id: r for r in load_catalog([tmp_path / "cat"], builtin=False)}
    assert rules["reading_over_100"].header.fixed == {"side": "above"}
    assert rules["reading_over_200"].bind() == {"limit": 200.0, "side": "below"}
    findings, reports = run_on(dataset, list(rules.values()))
    assert [r.status for r in reports] == ["ok", "ok"]
    got = sorted(zip(findings.column("rule_id").to_pylist(), findings.column("entity_id").to_pylist(), strict=True))
    assert got == [("reading_over_100", "M1"), ("reading_over_100", "M3"), ("reading_over_200", "M1"),
                   ("reading_over_200", "M2")]  # fmt: skip
    with pytest.raises(RuleError, match="fixed"):
        rules["reading_over_100"].bind({"side": "below"})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("fixed: {side: below}", "fixed: {limit: 1.0}"), "limit"),
        (("fixed: {side: below}", "fixed: {Side: below}"), "snake_case"),
        (("fixed: {side: below}", "fixed: {side: [1, 2]}"), "side"),
        (("fixed: {side: below}", "fixed: {period: x}"), "period"),
    ],
)
def test_fixed_values_are_checked(tmp_path, change, problem):
    path = tmp_path / "cat" / "reading" / "reading_over.template.sql"
    path.parent.mkdir(parents=True)
    path.write_text(FIXED_TEMPLATE.replace(*change), "utf-8")
    with pytest.raises(RuleError, match=problem):
        load_catalog([tmp_path / "cat"], builtin=False)


def test_derived_table_is_dropped_after_its_last_reader(dataset, tmp_path):
    """A derived table lives until the last rule that reads it has run, not to the end of the run (issue 18: at
    1 M customers the early rules' tables took memory from the later rules)."""
    cat = tmp_path / "cat"
    write_derived(cat, "reading_totals")
    derived_rule(cat, "reading_a_first", sql=RULE_SQL.replace("$limit", "0 * $limit"))
    write_rule(cat, "reading_b_plain", SQL_BIG)
    derived_rule(cat, "reading_c_last")
    write_rule(cat, "reading_d_plain", SQL_BIG)
    rules = load_catalog([cat], builtin=False)
    assert [r.id for r in rules] == ["reading_a_first", "reading_b_plain", "reading_c_last", "reading_d_plain"]
    engine = DuckDBEngine(dataset)
    present: dict[str, bool] = {}

    def seen(rule, report) -> None:
        try:
            engine.query("SELECT count(*) FROM reading_totals")
            present[rule.id] = True
        except Exception:  # noqa: BLE001 - dropped
            present[rule.id] = False

    try:
        _, reports = run_rules(engine, rules, progress=seen)
    finally:
        engine.close()
    assert [r.status for r in reports] == ["ok"] * 4
    assert present == {
        "reading_a_first": True,
        "reading_b_plain": True,
        "reading_c_last": False,
        "reading_d_plain": False,
    }
    assert {r.rule_id: r.hits for r in reports}["reading_c_last"] == 2
