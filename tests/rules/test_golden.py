"""Golden fixtures: an expected finding may pin its whole row (score, kWh, yuan, staff, evidence)."""

from __future__ import annotations

import shutil

import pytest
import yaml
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import fixture_files, load_fixture, run_fixture, update_fixture
from gridaudit.rules.loader import builtin_catalog

RULES = {r.id: r for r in load_catalog()}
runner = CliRunner()
VIRTUAL = builtin_catalog() / "billing" / "billing_virtual_qty" / "fixture.yaml"
GOLDEN_B1 = {
    "entity_id": "B1",
    "period": "2024-02",
    "score": 100.0,
    "kwh_at_stake": 100.0,
    "yuan_at_stake": None,
    "responsible_staff_id": "K1",
    "evidence": {
        "adjustment_kwh": None,
        "billed_kwh": 600.0,
        "customer_id": "C1",
        "expected_kwh": 500.0,
        "metered_kwh": 500.0,
    },
}


def write_fixture(tmp_path, expect):
    fx = load_fixture(VIRTUAL)
    fx["expect"] = expect
    path = tmp_path / "fixture.yaml"
    path.write_text(yaml.safe_dump(fx, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_golden_row_passes_and_each_pinned_value_is_compared(tmp_path):
    rule = RULES["billing_virtual_qty"]
    assert run_fixture(rule, write_fixture(tmp_path, [GOLDEN_B1])).ok
    near = {**GOLDEN_B1, "score": 100.0 + 1e-9, "evidence": {**GOLDEN_B1["evidence"], "billed_kwh": 600.00000001}}
    assert run_fixture(rule, write_fixture(tmp_path, [near])).ok  # floats within a small tolerance
    for field, wrong in [
        ("score", 99.0),
        ("kwh_at_stake", 10.0),
        ("yuan_at_stake", 50.0),
        ("responsible_staff_id", "K2"),
        ("evidence", {**GOLDEN_B1["evidence"], "metered_kwh": 400.0}),
        ("evidence", {k: v for k, v in GOLDEN_B1["evidence"].items() if k != "customer_id"}),
    ]:
        result = run_fixture(rule, write_fixture(tmp_path, [{**GOLDEN_B1, field: wrong}]))
        assert not result.ok, field
        assert field in result.describe() and "B1" in result.describe()


def test_a_golden_row_pins_every_value_even_those_it_leaves_out(tmp_path):
    rule = RULES["billing_virtual_qty"]
    partial = {k: v for k, v in GOLDEN_B1.items() if k != "kwh_at_stake"}  # absent = expected null
    result = run_fixture(rule, write_fixture(tmp_path, [partial]))
    assert not result.ok and "kwh_at_stake" in result.describe()


def test_key_only_fixtures_stay_valid(tmp_path):
    rule = RULES["billing_virtual_qty"]
    assert run_fixture(rule, write_fixture(tmp_path, [{"entity_id": "B1", "period": "2024-02"}])).ok
    assert not run_fixture(rule, write_fixture(tmp_path, [{"entity_id": "B2", "period": "2024-02"}])).ok


def test_update_rewrites_expect_keeps_the_rest_and_reports_changes(tmp_path):
    rule = RULES["billing_virtual_qty"]
    path = tmp_path / "fixture.yaml"
    text = VIRTUAL.read_text("utf-8").split("expect:")[0] + "expect:\n  - {entity_id: B9, period: '2024-02'}\n"
    path.write_text(text, "utf-8")
    assert not run_fixture(rule, path).ok
    change = update_fixture(rule, path)
    assert change.changed and change.added == ["B1 2024-02"] and change.removed == ["B9 2024-02"]
    new = path.read_text("utf-8")
    assert new.split("expect:")[0] == text.split("expect:")[0]  # note and tables untouched
    assert load_fixture(path)["expect"] == [GOLDEN_B1]
    assert run_fixture(rule, path).ok
    again = update_fixture(rule, path)
    assert not again.changed and path.read_text("utf-8") == new


def test_rules_test_update_command(tmp_path):
    cat = tmp_path / "cat" / "billing"
    src = RULES["billing_virtual_qty"]
    shutil.copytree(src.path.parent / src.id, cat / src.id)
    shutil.copy(src.path, cat / src.path.name)
    fx = cat / "billing_virtual_qty" / "fixture.yaml"
    fx.write_text(fx.read_text("utf-8").split("expect:")[0] + "expect: []\n", "utf-8")
    args = ["--lang", "en", "rules", "test", "--catalog", str(tmp_path / "cat"), "--only", "billing_virtual_qty"]
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and "FAIL" in res.output
    res = runner.invoke(app, [*args, "--update"])
    assert res.exit_code == 0, res.output
    assert "updated" in res.output and "+ B1 2024-02" in res.output and str(fx) in res.output
    res = runner.invoke(app, args)
    assert res.exit_code == 0 and "1/1 fixtures passed" in res.output, res.output


@pytest.mark.parametrize("rule_id", [r for r in RULES if r.startswith(("billing_", "reading_"))], ids=lambda r: r)
def test_billing_and_reading_fixtures_are_golden(rule_id):
    for path in fixture_files(RULES[rule_id]):
        expect = load_fixture(path)["expect"] or []
        assert all("evidence" in e and "score" in e for e in expect), f"{path}: not golden rows"
