"""The runner, loader and safety on a small dataset with a rule folder built in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.rules.loader import RuleError, load_catalog, load_rule
from gridaudit.rules.runner import run_rules

from .rules_runner_helpers import SQL_BIG, make_dataset, unchecked_rule, write_rule


@pytest.fixture()
def dataset(tmp_path):
    return make_dataset(tmp_path / "ds")


def run(dataset, rules, **kw):
    engine = DuckDBEngine(dataset)
    try:
        return run_rules(engine, rules, **kw)
    finally:
        engine.close()


def test_findings_shape_evidence_and_determinism(dataset, tmp_path):
    rule = load_rule(write_rule(tmp_path / "cat", "reading_big", SQL_BIG))
    f1, rep = run(dataset, [rule])
    f2, _ = run(dataset, [rule])
    assert f1.equals(f2)
    assert sorted(f1.column("entity_id").to_pylist()) == ["M1", "M3"]
    assert rep[0].status == "ok" and rep[0].hits == 2
    evidence = dict(zip(f1.column("entity_id").to_pylist(), f1.column("evidence").to_pylist(), strict=True))
    assert list(json.loads(evidence["M1"])) == ["a", "day", "reading"]  # sorted keys, ev_ prefix removed
    assert json.loads(evidence["M1"]) == {"a": "z", "day": "2024-01-15", "reading": 150.0}
    assert set(f1.column("family").to_pylist()) == {"reading"}
    assert f1.column("finding_id").to_pylist() == sorted(f1.column("finding_id").to_pylist())


def test_evidence_numbers_read_the_same_whatever_type_the_engine_gave():
    """Spark's AVG/SUM of a CASE is a DOUBLE or DECIMAL where DuckDB's is an integer: the evidence text is one."""
    from decimal import Decimal

    from gridaudit.rules.runner import findings_rows

    rule = load_catalog()[0]
    rows = {
        "entity_id": ["E1", "E2"],
        "period": ["2024-01", "2024-01"],
        "score": [1.0, 1.0],
        "ev_days": pa.array([30.0, 29.99996], pa.float64()),
        "ev_zero": pa.array([-0.0, 0.00001], pa.float64()),
        "ev_count": pa.array([Decimal("7.00000"), Decimal("7.25000")], pa.decimal128(10, 5)),
    }
    found = {r["entity_id"]: r["evidence"] for r in findings_rows(rule, pa.table(rows), "run", set())}
    assert found["E1"] == '{"count":7,"days":30,"zero":0}'
    assert found["E2"] == '{"count":7.25,"days":30,"zero":0}'


def test_period_override_and_exclude(dataset, tmp_path):
    rule = load_rule(write_rule(tmp_path / "cat", "reading_big", SQL_BIG))
    f, _ = run(dataset, [rule], period="2024-02")
    assert f.column("entity_id").to_pylist() == ["M3"]
    f, _ = run(dataset, [rule], overrides={"reading_big": {"limit": "40"}})
    assert len(f) == 3
    all_ids = set(f.column("finding_id").to_pylist())
    one = sorted(all_ids)[0]
    f2, rep = run(dataset, [rule], overrides={"reading_big": {"limit": 40}}, exclude={one})
    assert set(f2.column("finding_id").to_pylist()) == all_ids - {one}
    assert rep[0].hits == 2
    with pytest.raises(RuleError, match="no parameter"):
        run(dataset, [rule], overrides={"reading_big": {"nope": 1}})
    with pytest.raises(RuleError, match="limit"):
        run(dataset, [rule], overrides={"reading_big": {"limit": "abc"}})


def test_params_are_bound_not_pasted(dataset, tmp_path):
    sql = "SELECT meter_id AS entity_id, period FROM readings WHERE read_type = $label AND reading < $limit"
    rule = load_rule(write_rule(tmp_path / "cat", "reading_label", sql))
    f, rep = run(dataset, [rule], overrides={"reading_label": {"label": "actual' OR '1'='1"}})
    assert rep[0].status == "ok" and len(f) == 0
    f, _ = run(dataset, [rule], overrides={"reading_label": {"label": "actual"}})
    assert f.column("entity_id").to_pylist() == ["M2"]


def test_missing_table_skipped_and_sql_error_reported(dataset, tmp_path):
    cat = tmp_path / "cat"
    ok = load_rule(write_rule(cat, "reading_big", SQL_BIG))
    missing = load_rule(
        write_rule(cat, "billing_x", "SELECT bill_id AS entity_id, period FROM bills", "billing", "bills")
    )
    broken = load_rule(write_rule(cat, "reading_broken", "SELECT no_such_column AS entity_id, period FROM readings"))
    nokey = unchecked_rule(cat, "reading_nokey", "SELECT meter_id FROM readings")  # the loader refuses it too
    f, reps = run(dataset, [missing, broken, nokey, ok])
    status = {r.rule_id: (r.status, r.message) for r in reps}
    assert status["billing_x"][0] == "skipped" and "bills" in status["billing_x"][1]
    assert status["reading_broken"][0] == "error" and "no_such_column" in status["reading_broken"][1]
    assert status["reading_nokey"][0] == "error" and "entity_id" in status["reading_nokey"][1]
    assert status["reading_big"][0] == "ok" and len(f) == 2


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT * FROM readings) TO '/tmp/gridaudit_stolen.csv'",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT line AS entity_id, NULL AS period FROM read_csv('/etc/passwd', columns={'line': 'VARCHAR'})",
        "ATTACH '/tmp/gridaudit_x.db' AS x",
        "INSERT INTO readings SELECT * FROM readings",
        "SELECT meter_id AS entity_id, period FROM readings; DROP VIEW readings",
        "SELECT meter_id AS entity_id, period FROM main.readings",
        "SELECT meter_id AS entity_id, period FROM bills",
    ],
)
def test_unsafe_sql_is_refused(dataset, tmp_path, sql):
    path = write_rule(tmp_path / "cat", "reading_evil", sql)
    try:
        rule = load_rule(path)  # not one query, or no output contract: refused at load
    except RuleError as exc:
        assert "reading_evil.sql" in str(exc)
        rule = unchecked_rule(tmp_path / "cat2", "reading_evil", sql)  # past the loader, the runner refuses it
    f, reps = run(dataset, [rule])
    assert reps[0].status == "error" and len(f) == 0, reps[0]
    assert not Path("/tmp/gridaudit_stolen.csv").exists()
    assert not Path("/tmp/gridaudit_x.db").exists()


def test_duckdb_lock_down_blocks_files_even_without_the_parser(dataset):
    engine = DuckDBEngine(dataset)
    engine.lock_down()
    try:
        assert engine.query("SELECT count(*) AS n FROM readings").column("n").to_pylist() == [3]
        for sql in (
            "SELECT * FROM read_csv('/etc/passwd')",
            "COPY (SELECT 1) TO '/tmp/gridaudit_stolen.csv'",
            "ATTACH '/tmp/gridaudit_x.db' AS x",
            "SET enable_external_access = true",
        ):
            with pytest.raises(Exception):  # noqa: B017 - DuckDB raises several error classes
                engine.query(sql)
        engine.register_table("t", pa.table({"a": [1]}))
        assert engine.query("SELECT a FROM t").column("a").to_pylist() == [1]
    finally:
        engine.close()
    assert not Path("/tmp/gridaudit_stolen.csv").exists()


def test_loader_errors_name_file_and_field(tmp_path):
    path = write_rule(tmp_path / "cat", "reading_bad", SQL_BIG)
    path.write_text(path.read_text("utf-8").replace("severity: low", "severity: huge"), "utf-8")
    with pytest.raises(RuleError, match=r"reading_bad.sql.*severity"):
        load_rule(path)
    wrong = write_rule(tmp_path / "cat2", "reading_stem", SQL_BIG)
    moved = wrong.with_name("reading_other.sql")
    wrong.rename(moved)
    with pytest.raises(RuleError, match="file stem"):
        load_rule(moved)
    bad_table = write_rule(tmp_path / "cat3", "reading_t", SQL_BIG, tables="readings, nonsense")
    with pytest.raises(RuleError, match="contract tables"):
        load_rule(bad_table)
    nodoc = write_rule(tmp_path / "cat4", "reading_nodoc", SQL_BIG)
    nodoc.write_text(nodoc.read_text("utf-8").replace("{zh: 上限, en: limit}", "{zh: 上限}"), "utf-8")
    with pytest.raises(RuleError, match="en"):
        load_rule(nodoc)


def test_extra_catalog_overrides_and_adds(tmp_path):
    extra = tmp_path / "cat"
    write_rule(extra, "reading_missed", SQL_BIG)
    write_rule(extra, "reading_mine", SQL_BIG)
    base = {r.id: r for r in load_catalog()}
    merged = {r.id: r for r in load_catalog(extra=[extra])}
    assert "reading_mine" in merged and "reading_mine" not in base
    assert merged["reading_missed"].path.parent.parent == extra
    assert set(base) <= set(merged)


def test_one_finding_per_key_whatever_the_row_order(tmp_path):
    """Rows of one finding that tie on score and evidence: the pick must not depend on the engine's row order."""
    from gridaudit.rules.runner import findings_rows

    rule = load_rule(write_rule(tmp_path / "cat", "reading_big", SQL_BIG))
    rows = [
        {"entity_id": "M1", "period": "2024-01", "score": 2.0, "kwh_at_stake": k, "responsible_staff_id": s, "ev_a": 1}
        for k, s in [(1.0, "S1"), (1.0, "S2"), (3.0, "S0"), (None, "S9")]
    ]
    picks = set()
    for order in (rows, rows[::-1], rows[1:] + rows[:1], rows[2:] + rows[:2]):
        (one,) = findings_rows(rule, pa.Table.from_pylist(order), "r", set())
        picks.add((one["kwh_at_stake"], one["responsible_staff_id"]))
    assert len(picks) == 1
