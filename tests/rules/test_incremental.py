"""Incremental monthly runs: each rule reads only its look-back window, and finds what a full-history run finds.

On a synthetic utility built here (gridaudit.synth), the whole catalog runs twice for a month: once over the
whole history (``incremental=False``) and once reading only each rule's window. Both must give the same finding
ids, rule by rule — for the last month (what a monthly job runs on) and for one in the middle (later data
exists); a rule whose declared look-back is too short fails (shown on one rule below).
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules import load_catalog
from gridaudit.rules.loader import RuleError, load_rule
from gridaudit.rules.runner import plan_windows, run_rules
from gridaudit.rules.window import Lookback, Window, period_bounds, window_for, windowed_sql

MONTH = "2024-08"  # the last month of the synthetic utility: what a monthly job runs on
MIDDLE = "2024-05"


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from gridaudit.dataset import commit_version, stage_version
    from gridaudit.synth.config import Rates, SynthConfig
    from gridaudit.synth.generate import generate

    root = tmp_path_factory.mktemp("incr-synth")
    rates = dataclasses.replace(Rates(), process_overdue_step=0.5)
    generate(SynthConfig(customers=3000, months=8, start="2024-01", seed=7, rates=rates), root / "src")
    staged = stage_version(root / "ds")
    for src in sorted((root / "src").glob("*.parquet")):
        (staged.path / src.name).symlink_to(src)
    return commit_version(staged, {"sources": [str(root / "src")]})


def findings_by_rule(dataset, rules, incremental, period=MONTH):
    engine = DuckDBEngine(dataset, threads=2)
    try:
        findings, reports = run_rules(engine, rules, period=period, incremental=incremental)
    finally:
        engine.close()
    assert [r.rule_id for r in reports if r.status != "ok"] == [], [r for r in reports if r.status != "ok"]
    out: dict[str, set[str]] = {r.id: set() for r in rules}
    for row in findings.select(["rule_id", "finding_id"]).to_pylist():
        out[row["rule_id"]].add(row["finding_id"])
    return out, reports


def differing(full, incr):
    return sorted(rid for rid in full if full[rid] != incr[rid])


@pytest.fixture(scope="module")
def full_run(synth):
    return findings_by_rule(synth, load_catalog(), incremental=False)


def test_every_rule_declares_its_look_back():
    undeclared = [r.id for r in load_catalog() if r.header.lookback is None]
    assert undeclared == []
    derived = {d.id: d for r in load_catalog() for d in r.needs}
    assert [d for d, x in derived.items() if x.header.lookback is None] == []


def test_incremental_month_equals_the_full_run_for_every_rule(synth, full_run):
    full, _ = full_run
    rules = load_catalog()
    incr, reports = findings_by_rule(synth, rules, incremental=True)
    assert differing(full, incr) == []
    fired = sorted(rid for rid, ids in full.items() if ids)
    assert len(fired) >= 30, fired  # the comparison means something for most of the catalog
    windows = {r.rule_id: r.window for r in reports}
    assert windows["reading_missed"] == "2024-08-01.."
    assert windows["theft_reverse_with_falling_use"] == "2024-05-01.."  # baseline_months = 3
    assert windows["theft_intermittent_low_days"] == "all"


def test_incremental_middle_month_equals_the_full_run_for_every_rule(synth):
    rules = load_catalog()
    full, _ = findings_by_rule(synth, rules, incremental=False, period=MIDDLE)
    incr, _ = findings_by_rule(synth, rules, incremental=True, period=MIDDLE)
    assert differing(full, incr) == []
    assert sum(bool(ids) for ids in full.values()) >= 30


def test_a_look_back_too_short_is_caught(synth, full_run):
    """billing_sudden_change_peers compares each bill with the previous one: with no look-back it finds nothing."""
    full, _ = full_run
    rule = {r.id: r for r in load_catalog()}["billing_sudden_change_peers"]
    short = rule.model_copy(update={"header": rule.header.model_copy(update={"lookback": Lookback(months=0)})})
    incr, _ = findings_by_rule(synth, [short], incremental=True)
    assert full[rule.id], "the synthetic month has findings of this rule"
    assert differing({rule.id: full[rule.id]}, incr) == [rule.id]
    ok, _ = findings_by_rule(synth, [rule], incremental=True)  # the declared look-back, run alone
    assert ok[rule.id] == full[rule.id]


def test_a_look_back_follows_its_parameter(synth):
    rule = {r.id: r for r in load_catalog()}["theft_reverse_with_falling_use"]
    assert window_for(rule.header.lookback, rule.bind({"baseline_months": 6}), MONTH) == Window(date(2024, 2, 1))
    rules = load_catalog()
    plan = plan_windows(rules, {r.id: r.bind() for r in rules}, MONTH)
    # a derived table is built over the union of its readers' windows, widened by its own look-back
    assert plan.derived["bill_metered_kwh"] is None  # its readers need the whole history
    assert plan.derived["reading_day_ami"] is None
    assert plan.derived["reading_seq"] is None  # the typical use of estimated / wrong read is over every reading
    some = [r for r in rules if r.id in ("reading_decreased", "reading_reader_disagrees_ami")]
    plan = plan_windows(some, {r.id: r.bind() for r in some}, MONTH)
    assert plan.derived["reading_day_ami"] == Window(date(2024, 5, 1))
    # reading_seq (look-back 0) is built over its readers' windows: 4 months for three cycles back
    some = [r for r in rules if r.id in ("reading_decreased", "reading_same_consumption")]
    plan = plan_windows(some, {r.id: r.bind() for r in some}, MONTH)
    assert plan.derived["reading_seq"] == Window(date(2024, 4, 1))
    assert plan.derived_columns["reading_seq"] == ("period", "month")


def test_windowed_sql_filters_each_time_series_table_and_leaves_ctes_alone():
    window = Window(period_bounds("2024-03")[0])
    sql = (
        "WITH daily_usage AS (SELECT 1 AS x) SELECT * FROM readings r JOIN bills ON bills.bill_id = r.meter_id "
        "JOIN meters m ON m.meter_id = r.meter_id, daily_usage"
    )
    out = windowed_sql(sql, window, {"readings": ("period", "month"), "bills": ("period", "month"),
                                     "daily_usage": ("day", "date")})  # fmt: skip
    assert "WHERE period >= '2024-03') AS r" in out
    assert ") AS bills" in out and "JOIN meters AS m" in out
    assert "FROM readings" in out and out.count("WHERE") == 2  # the CTE daily_usage is not a table
    assert windowed_sql(sql, None, {"readings": ("period", "month")}) == sql


def test_a_look_back_must_name_an_int_param(tmp_path):
    folder = tmp_path / "billing"
    folder.mkdir()
    path = folder / "billing_x.sql"
    path.write_text(
        "/*---\nid: billing_x\ntitle: {zh: x, en: x}\nfamily: billing\nseverity: low\nentity_type: bill\n"
        "tables: [bills]\nlookback: {months: share + 1}\n"
        "params:\n  share: {type: float, default: 0.5, doc: {zh: x, en: x}}\n"
        "description: {zh: x, en: x}\n---*/\nSELECT bill_id AS entity_id, period, 1.0 AS score FROM bills\n",
        "utf-8",
    )
    with pytest.raises(RuleError, match="not an int param"):
        load_rule(path)
    path.write_text(path.read_text("utf-8").replace("share + 1", "-2"), "utf-8")
    with pytest.raises(RuleError, match="lookback"):
        load_rule(path)


@pytest.fixture(scope="module")
def synth_without_curves(synth, tmp_path_factory):
    """The synthetic utility without its daily and interval curves (small enough to load into PostgreSQL)."""
    from gridaudit.dataset import commit_version, stage_version

    staged = stage_version(tmp_path_factory.mktemp("incr-small") / "ds")
    for table in synth.tables():
        if table not in ("daily_usage", "interval_usage"):
            (staged.path / f"{table}.parquet").symlink_to(synth.table_path(table).resolve())
    return commit_version(staged, {"sources": ["incr-synth without curves"]})


@pytest.mark.postgres
def test_incremental_run_on_postgres_finds_what_duckdb_finds(synth_without_curves, pg_url):
    from gridaudit.engines.postgres import PostgresEngine

    rules = load_catalog()
    engines = {
        "duckdb": DuckDBEngine(synth_without_curves, threads=2),
        "postgres": PostgresEngine(pg_url, dataset=synth_without_curves, schema="ga_test_rules_incr"),
    }
    got = {}
    try:
        for name, engine in engines.items():
            findings, reports = run_rules(engine, rules, period=MONTH, incremental=True)
            got[name] = (
                {r.rule_id: r.status for r in reports},
                sorted(findings.select(["rule_id", "finding_id"]).to_pylist(), key=lambda r: r["finding_id"]),
            )
    finally:
        for engine in engines.values():
            engine.close()
    status, rows = got["duckdb"]
    assert "error" not in status.values() and sum(s == "ok" for s in status.values()) >= 30, status
    assert {r["rule_id"] for r in rows} >= {"billing_sudden_change_peers", "reading_missed"}
    assert got["postgres"] == got["duckdb"]


def test_rules_run_with_a_period_is_incremental_unless_full_history(tmp_path):
    from typer.testing import CliRunner

    from gridaudit.cli import app
    from gridaudit.findings.store import list_runs
    from gridaudit.rules.harness import build_fixture_dataset, fixture_files, load_fixture

    rule = {r.id: r for r in load_catalog()}["billing_sudden_change_peers"]
    fx = load_fixture(fixture_files(rule)[0])
    ds = build_fixture_dataset(rule, fx, tmp_path / "ds")
    period = fx.get("period") or max(row["period"] for row in fx["tables"]["bills"])
    base = ["--lang", "en", "rules", "run", "--dataset", str(ds.root), "--only", rule.id, "--period", period]
    for extra, incremental in (([], True), (["--full-history"], False)):
        res = CliRunner().invoke(app, [*base, *extra])
        assert res.exit_code == 0, res.output
        record = list_runs(ds.root)[-1].record  # the run just appended (runs are listed in append order)
        assert record["extra"]["scope"]["incremental"] is incremental
        (status,) = [s for s in record["rules"] if s["rule_id"] == rule.id]
        # the window it read (its 2-month look-back), recorded only for incremental runs
        expect = window_for(rule.header.lookback, rule.bind(), period)
        assert status["window"] == (f"{expect.start}.." if incremental else "")


def test_rules_show_prints_the_look_back():
    from typer.testing import CliRunner

    from gridaudit.cli import app

    res = CliRunner().invoke(app, ["rules", "show", "theft_reverse_with_falling_use"])
    assert res.exit_code == 0 and "lookback={months: baseline_months}" in res.output
    res = CliRunner().invoke(app, ["rules", "show", "theft_intermittent_low_days"])
    assert "lookback=all" in res.output


@pytest.mark.spark
def test_incremental_run_on_spark_finds_what_duckdb_finds(synth_without_curves, spark):
    from gridaudit.engines.spark import SparkEngine

    rules = [r for r in load_catalog() if r.family in ("billing", "reading", "collection")]
    got = {}
    for name, engine in (("duckdb", DuckDBEngine(synth_without_curves, threads=2)),
                         ("spark", SparkEngine(synth_without_curves, spark=spark))):  # fmt: skip
        try:
            findings, reports = run_rules(engine, rules, period=MONTH, incremental=True)
        finally:
            engine.close()
        got[name] = ({r.rule_id: r.status for r in reports}, sorted(findings.column("finding_id").to_pylist()))
    assert "error" not in got["duckdb"][0].values() and got["duckdb"][1]
    assert got["spark"] == got["duckdb"]
