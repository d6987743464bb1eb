"""The ``gridaudit rules`` commands through typer's in-process runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import read_findings
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import build_fixture_dataset, fixture_dir, load_fixture
from gridaudit.rules.loader import builtin_catalog

CATALOG = builtin_catalog()
runner = CliRunner()


@pytest.fixture()
def fixture_dataset(tmp_path):
    rule = {r.id: r for r in load_catalog()}["billing_withheld_qty"]
    fx = load_fixture(CATALOG / "billing" / "billing_withheld_qty" / "fixture.yaml")
    return build_fixture_dataset(rule, fx, tmp_path / "ds")


def test_list_and_show():
    res = runner.invoke(app, ["--lang", "en", "rules", "list", "--family", "billing"])
    assert res.exit_code == 0, res.output
    assert "billing_withheld_qty" in res.output and "reading_missed" not in res.output
    res = runner.invoke(app, ["rules", "show", "reading_missed"])
    assert res.exit_code == 0 and "LEFT JOIN readings" in res.output
    res = runner.invoke(app, ["rules", "show", "nope"])
    assert res.exit_code == 2


def test_run_writes_findings_with_set_and_only(fixture_dataset, tmp_path):
    out = tmp_path / "f.parquet"
    args = ["--lang", "en", "rules", "run", "--dataset", str(fixture_dataset.root), "--out", str(out)]
    res = runner.invoke(app, [*args, "--family", "billing"])
    assert res.exit_code == 0, res.output
    f = read_findings(out)
    assert sorted(f.column("entity_id").to_pylist()) == ["B1", "B4"]
    res = runner.invoke(
        app, [*args, "--only", "billing_withheld_qty", "--set", "billing_withheld_qty.tolerance_kwh=150"]
    )
    assert res.exit_code == 0, res.output
    assert read_findings(out).column("entity_id").to_pylist() == ["B4"]
    res = runner.invoke(app, [*args, "--only", "billing_withheld_qty", "--set", "billing_withheld_qty.tolerance_kwh"])
    assert res.exit_code == 2
    res = runner.invoke(app, [*args, "--period", "2024-13"])
    assert res.exit_code == 2


def test_rules_test_command_passes_and_catches_a_broken_fixture(tmp_path):
    res = runner.invoke(app, ["--lang", "en", "rules", "test", "--only", "reading_decreased"])
    assert res.exit_code == 0, res.output
    assert "1/1 fixtures passed" in res.output
    cat = tmp_path / "cat" / "reading"
    cat.mkdir(parents=True)
    src = {r.id: r for r in load_catalog()}["reading_decreased"]
    (cat / "reading_mine.sql").write_text(
        src.path.read_text("utf-8").replace("id: reading_decreased", "id: reading_mine")
    )
    (cat / "reading_mine").mkdir()
    fx = (CATALOG / "reading" / "reading_decreased" / "fixture.yaml").read_text("utf-8")
    (cat / "reading_mine" / "fixture.yaml").write_text(fx.replace("entity_id: M1", "entity_id: M3"))
    res = runner.invoke(
        app, ["--lang", "en", "rules", "test", "--catalog", str(tmp_path / "cat"), "--only", "reading_mine"]
    )
    assert res.exit_code == 1, res.output
    assert "FAIL" in res.output and "M3" in res.output


def test_run_for_a_month_without_data_says_so_and_exits_2(fixture_dataset):
    args = ["--lang", "en", "rules", "run", "--dataset", str(fixture_dataset.root), "--family", "billing"]
    res = runner.invoke(app, [*args, "--period", "2031-01"])
    text = " ".join(res.output.split())
    assert res.exit_code == 2, res.output
    assert f"no data for 2031-01 in dataset {fixture_dataset.root} (data covers 2024-01..2024-02)" in text
    assert "0 findings" not in text
    res = runner.invoke(app, [*args, "--period", "2024-02"])
    assert res.exit_code == 0 and "2 findings" in " ".join(res.output.split()), res.output


def test_run_lists_derived_tables_apart_from_the_rules(tmp_path):
    rule = {r.id: r for r in load_catalog()}["reading_estimated_vs_ami"]
    ds = build_fixture_dataset(rule, load_fixture(fixture_dir(rule) / "fixture.yaml"), tmp_path / "ds")
    res = runner.invoke(
        app, ["--lang", "en", "rules", "run", "--dataset", str(ds.root), "--only", "reading_estimated_vs_ami"]
    )
    assert res.exit_code == 0, res.output
    built, results = res.output.split("derived tables built")[1].split("rule results")
    derived = [d.id for d in rule.needs]
    assert derived and all(d in built for d in derived)
    assert "reading_estimated_vs_ami" in results and not any(d in results for d in derived)
