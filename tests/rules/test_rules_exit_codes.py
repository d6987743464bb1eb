"""``rules run`` exits 1 when a rule errors or is refused, still writing the findings of the rules that ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import read_findings
from gridaudit.rules import load_catalog
from gridaudit.rules.harness import build_fixture_dataset, load_fixture

HERE = Path(__file__).parent
runner = CliRunner()


@pytest.fixture()
def fixture_dataset(tmp_path):
    rule = {r.id: r for r in load_catalog()}["billing_withheld_qty"]
    fx = load_fixture(HERE / "billing_withheld_qty" / "fixture.yaml")
    return build_fixture_dataset(rule, fx, tmp_path / "ds")


def _extra_rule(cat: Path, rule_id: str, old: str, new: str) -> None:
    """A copy of billing_withheld_qty named ``rule_id`` with ``old`` replaced by ``new`` in its SQL."""
    src = {r.id: r for r in load_catalog()}["billing_withheld_qty"].path.read_text("utf-8")
    assert old in src
    folder = cat / "billing"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{rule_id}.sql").write_text(src.replace("id: billing_withheld_qty", f"id: {rule_id}").replace(old, new))


def _run(dataset, out, cat, only, lang="en"):
    args = ["--lang", lang, "rules", "run", "--dataset", str(dataset.root), "--out", str(out), "--only", only]
    return runner.invoke(app, [*args, "--catalog", str(cat)])


def test_clean_run_exits_0(fixture_dataset, tmp_path):
    out = tmp_path / "f.parquet"
    args = ["--lang", "en", "rules", "run", "--dataset", str(fixture_dataset.root), "--out", str(out)]
    res = runner.invoke(app, [*args, "--only", "billing_withheld_qty"])
    assert res.exit_code == 0, res.output
    assert "1 findings written to" in " ".join(res.output.split()) and "failed" not in res.output
    assert read_findings(out).column("entity_id").to_pylist() == ["B4"]  # B1 is another rule's


def test_a_failing_rule_exits_1_and_the_others_findings_are_written(fixture_dataset, tmp_path):
    cat = tmp_path / "cat"
    _extra_rule(cat, "billing_broken", "b.kwh AS ev_billed_kwh", "b.no_such_column AS ev_billed_kwh")
    out = tmp_path / "f.parquet"
    res = _run(fixture_dataset, out, cat, "billing_withheld_qty,billing_broken")
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    text = " ".join(res.output.split())
    assert "1 rules failed or were refused" in text and "exit code 1" in text
    assert "the 1 findings of the rules that ran were written to" in text
    f = read_findings(out)
    assert f.column("entity_id").to_pylist() == ["B4"]
    assert set(f.column("rule_id").to_pylist()) == {"billing_withheld_qty"}
    res = _run(fixture_dataset, out, cat, "billing_withheld_qty,billing_broken", lang="zh")
    assert res.exit_code == 1
    assert "1 条规则出错或被拒绝" in " ".join(res.output.split())


def test_a_refused_rule_exits_1(fixture_dataset, tmp_path):
    cat = tmp_path / "cat"
    # reads a file from disk: the sandbox refuses it before it runs
    _extra_rule(cat, "billing_sneaky", "FROM bills b\nJOIN x", "FROM read_csv('/etc/passwd') AS z, bills b\nJOIN x")
    out = tmp_path / "f.parquet"
    res = _run(fixture_dataset, out, cat, "billing_withheld_qty,billing_sneaky")
    assert res.exit_code == 1, res.output
    text = " ".join(res.output.split())
    assert "refused" in text and "1 rules failed or were refused" in text
    assert read_findings(out).column("entity_id").to_pylist() == ["B4"]
