"""``gridaudit findings list|show|summary|runs`` and ``audit plan create`` from the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import RunProvenance, append_run, load_findings, write_findings
from gridaudit.findings.query import FindingFilter, filter_findings, with_units

from .conftest import finding, table

runner = CliRunner()


def cli(*args, code=0):
    res = runner.invoke(app, ["--lang", "en", *args])
    assert res.exit_code == code, f"{args}\n{res.output}\n{res.exception!r}"
    if code == 2:
        assert "Traceback" not in res.output
    return res.output


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def filled(dataset):
    """Two rules runs (the latest holds r1–r4) and one loss run."""
    old = append_run(dataset, table(finding("old", yuan_at_stake=1.0)), RunProvenance(analyzer="rules"))
    rules = append_run(
        dataset,
        table(
            finding(
                "r1",
                entity_id="C1",
                family="billing",
                severity="high",
                period="2024-05",
                yuan_at_stake=10.0,
                responsible_staff_id="S1",
            ),
            finding("r2", entity_id="C3", family="reading", severity="low", period="2024-02", yuan_at_stake=5.0),
            finding("r3", "meter", "M2", family="metering", severity="critical", period="2024-03", kwh_at_stake=10.0),
            finding(
                "r4",
                "staff",
                "S2",
                family="collection",
                severity="medium",
                period="2024-06",
                evidence={"unit_id": "U9"},
            ),
        ),  # fmt: skip
        RunProvenance(analyzer="rules"),
    )
    loss = append_run(
        dataset,
        table(finding("loss_high", "area", "A2", family="loss", period="2024-01..2024-06", yuan_at_stake=50.0)),
        RunProvenance(analyzer="loss"),
    )
    return dataset, old, rules, loss


def _ids(output: str) -> list[str]:
    return sorted(r["rule_id"] for r in json.loads(output))


@pytest.mark.parametrize(
    ("args", "rules"),
    [
        ([], ["loss_high", "r1", "r2", "r3", "r4"]),
        (["--entity-type", "customer"], ["r1", "r2"]),
        (["--entity", "C3"], ["r2"]),
        (["--entity-type", "meter", "--entity", "M2"], ["r3"]),
        (["--staff", "S1"], ["r1"]),  # responsible staff
        (["--staff", "S2"], ["r4"]),  # a staff entity
        (["--unit", "U1"], ["r1", "r3"]),  # C1 → U1; meter M2 → C2 → U1
        (["--unit", "U9"], ["r4"]),  # the evidence's unit wins
        (["--unit", "U2,U9"], ["loss_high", "r2", "r4"]),
        (["--family", "reading", "--family", "loss"], ["loss_high", "r2"]),
        (["--rule", "r3"], ["r3"]),
        (["--severity", "critical,low"], ["r2", "r3"]),
        (["--period", "2024-03"], ["loss_high", "r3"]),  # the loss range covers March
        (["--period", "2024-05..2024-06"], ["loss_high", "r1", "r4"]),
        (["--analyzer", "loss"], ["loss_high"]),
        (["--all-runs"], ["loss_high", "old", "r1", "r2", "r3", "r4"]),
    ],
)
def test_list_filters(filled, args, rules):
    root = filled[0]
    assert _ids(cli("findings", "list", "--dataset", str(root), "--format", "json", *args)) == rules


def test_list_by_run_and_formats(filled):
    root, old, rules, _ = filled
    out = cli("findings", "list", "--dataset", str(root), "--run", old.run_id, "--format", "json")
    assert _ids(out) == ["old"]
    out = cli("findings", "list", "--dataset", str(root), "--run", f"{old.run_id},{rules.run_id}", "--format", "json")
    assert len(json.loads(out)) == 5
    rows = list(csv.DictReader(io.StringIO(cli("findings", "list", "--dataset", str(root), "--format", "csv"))))
    assert [r["rule_id"] for r in rows] == ["loss_high", "r1", "r3", "r2", "r4"]  # largest ¥ first, unknown last
    assert rows[2]["yuan_at_stake"] == "8.0" and rows[2]["unit_id"] == "U1"  # M2 priced through C2 (COM 0.80)
    table_out = flat(cli("findings", "list", "--dataset", str(root), "--limit", "2"))
    assert "5 findings (showing 2)" in table_out and "area:A2" in table_out


def test_summary(filled):
    root = filled[0]
    rows = json.loads(cli("findings", "summary", "--dataset", str(root), "--by", "analyzer", "--format", "json"))
    by = {r["analyzer"]: r for r in rows}
    assert by["loss"]["findings"] == 1 and by["loss"]["yuan_at_stake"] == 50.0
    assert by["rules"]["findings"] == 4 and by["rules"]["yuan_at_stake"] == 23.0 and by["rules"]["money_unknown"] == 1
    out = cli("findings", "summary", "--dataset", str(root), "--by", "nope", code=2)
    assert "cannot summarise by nope" in flat(out)


def test_errors_exit_2(filled, tmp_path):
    root = filled[0]
    out = cli("findings", "list", "--dataset", str(tmp_path / "nowhere"), code=2)
    assert str(tmp_path / "nowhere") in flat(out) and "not a gridaudit dataset" in flat(out)
    out = cli("findings", "show", "deadbeef", "--dataset", str(root), code=2)
    assert "unknown finding deadbeef" in flat(out)
    assert "--format must be table | csv | json" in flat(cli("findings", "list", "--dataset", str(root),
                                                              "--format", "xml", code=2))  # fmt: skip
    assert "bad --severity value: urgent" in flat(cli("findings", "list", "--dataset", str(root), "--severity",
                                                      "urgent", code=2))  # fmt: skip
    assert "--status needs --store" in flat(cli("findings", "list", "--dataset", str(root), "--status", "new", code=2))
    out = cli("findings", "list", "--dataset", str(root), "--store", str(tmp_path / "typo.db"), code=2)
    assert "does not exist" in flat(out) and not (tmp_path / "typo.db").exists()
    assert "no such run" in flat(cli("findings", "list", "--dataset", str(root), "--run", "rules-x", code=2))
    assert "period must be" in flat(cli("findings", "list", "--dataset", str(root), "--period", "2024-13", code=2))
    out = cli("findings", "list", "--dataset", str(root), "--limit", "1", "--limit", "2", code=2)
    assert "--limit may be given only once" in flat(out)


def _people(store_url):
    cli("audit", "init", "--store", store_url)
    cli("audit", "users", "add", "admin", "--role", "admin", "--store", store_url)
    cli("audit", "users", "add", "li", "--role", "auditor", "--store", store_url, "--user", "admin")
    cli("audit", "users", "add", "zhang", "--role", "inspector", "--store", store_url, "--user", "admin")


def test_plan_from_store_status_and_show(filled, store_url, tmp_path):
    root, old, rules, loss = filled
    _people(store_url)
    out = flat(cli("audit", "plan", "create", "--month", "2024-07", "--dataset", str(root), "--top", "2",
                   "--store", store_url, "--user", "li"))  # fmt: skip
    assert "read 5 findings, created 2 tasks" in out and rules.run_id in out and loss.run_id in out
    from gridaudit.audit.models import Plan, Task
    from gridaudit.audit.store import open_store

    st = open_store(store_url)
    try:
        with st.transaction() as s:
            plan = s.query(Plan).one()
            source = json.loads(plan.source)
            taken = {t.task_id: t.finding_id for t in s.query(Task)}
    finally:
        st.dispose()
    assert sorted(r["run_id"] for r in source["runs"]) == sorted([rules.run_id, loss.run_id])
    assert {r["analyzer"] for r in source["runs"]} == {"rules", "loss"} and source["runs"][0]["dataset_version"]
    tid, fid = next(iter(taken.items()))
    cli("audit", "tasks", "assign", str(tid), "--to", "zhang", "--store", store_url, "--user", "li")
    status = {r["finding_id"]: r["audit_status"] for r in json.loads(
        cli("findings", "list", "--dataset", str(root), "--store", store_url, "--format", "json"))}  # fmt: skip
    assert sorted(status.values()) == ["new", "new", "new", "under_audit", "under_audit"]
    new = json.loads(cli("findings", "list", "--dataset", str(root), "--store", store_url, "--status", "new",
                         "--format", "json"))  # fmt: skip
    assert len(new) == 3 and fid not in {r["finding_id"] for r in new}
    shown = json.loads(cli("findings", "show", fid, "--dataset", str(root), "--store", store_url, "--format", "json"))
    assert shown["tasks"] == [{"task_id": tid, "plan_id": 1, "state": "assigned", "assignee": "zhang"}]
    assert shown["audit_status"] == "under_audit" and isinstance(shown["evidence"], dict)
    text = flat(cli("findings", "show", fid, "--dataset", str(root), "--store", store_url))
    assert "audit tasks" in text and "assigned" in text and "zhang" in text and "evidence" in text


def test_plan_create_reads_every_findings_file_and_named_runs(filled, tmp_path):
    root, old, rules, _ = filled
    store = str(tmp_path / "cases.db")
    _people(store)
    f1, f2 = tmp_path / "a.parquet", tmp_path / "b.parquet"
    write_findings(table(finding("fa", entity_id="X1", yuan_at_stake=1.0)), f1)
    write_findings(table(finding("fb", entity_id="X2", yuan_at_stake=1.0)), f2)
    out = flat(cli("audit", "plan", "create", "--month", "2024-07", "--findings", str(f1), "--findings", str(f2),
                   "--store", store, "--user", "li"))  # fmt: skip
    assert "read 2 findings, created 2 tasks" in out
    out = flat(cli("audit", "plan", "create", "--month", "2024-08", "--dataset", str(root), "--run", old.run_id,
                   "--findings", str(f1), "--store", store, "--user", "li"))  # fmt: skip
    assert "read 2 findings" in out and old.run_id in out and rules.run_id not in out
    out = cli("audit", "plan", "create", "--month", "2024-07", "--month", "2024-08", "--dataset", str(root),
              "--store", store, "--user", "li", code=2)  # fmt: skip
    assert "--month may be given only once" in flat(out)
    assert "give --dataset" in flat(cli("audit", "plan", "create", "--month", "2024-09", "--store", store,
                                        "--user", "li", code=2))  # fmt: skip


def test_filter_functions_without_the_cli(filled):
    root = filled[0]
    from gridaudit.audit.plans import entity_units

    t = with_units(load_findings(root), entity_units(root))
    got = filter_findings(t, FindingFilter(units=["U1"], severities=["critical"]))
    assert got.column("rule_id").to_pylist() == ["r3"]
