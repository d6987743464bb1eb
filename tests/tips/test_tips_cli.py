"""The done-when loop from the CLI: tip → finding → task → confirmed result → approved reward in the ledger,
with the reporter's identity in no output but the audit lead's, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app

from .conftest import CONTACT, PEOPLE

runner = CliRunner()
SECRET = "13800138000"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "cases.db")
        return
    import psycopg

    url = request.getfixturevalue("pg_url")
    schema = f"gridaudit_tips_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{url}?options=-csearch_path%3D{schema}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def cli(*args, code=0):
    res = runner.invoke(app, ["--lang", "en", *args])
    out = " ".join(res.output.split())
    assert res.exit_code == code, f"{args}\n{res.output}\n{res.exception!r}"
    if code == 2:
        assert "Traceback" not in res.output
    return out


def setup(store_url):
    cli("audit", "init", "--store", store_url)
    for uid, role, unit, staff in PEOPLE:
        args = ["audit", "users", "add", uid, "--role", role, "--store", store_url]
        args += ["--unit", unit] if unit else []
        args += ["--staff-id", staff] if staff else []
        args += ["--user", "admin"] if uid != "admin" else []
        cli(*args)


def task_of(store_url, customer):
    from sqlalchemy import select

    from gridaudit.audit.models import Task
    from gridaudit.audit.store import open_store

    st = open_store(store_url)
    try:
        with st.transaction() as s:
            return s.execute(select(Task.task_id, Task.family).where(Task.entity_id == customer)).one()
    finally:
        st.dispose()


def test_tip_to_approved_reward(store_url, dataset, tmp_path):
    setup(store_url)
    st = ["--store", store_url]
    ds = ["--dataset", str(dataset)]
    out = cli("tips", "add", *ds, "--customer", "C3", "--what", "夜间私拉电线", "--channel", "电话",
              "--on", "2025-06-03",
              "--contact", CONTACT, *st, "--user", "li")  # fmt: skip
    assert "tip 1: matched to customer C3" in out and "tip findings" in out
    assert CONTACT not in out and SECRET not in out
    out = cli("tips", "add", *ds, "--customer", "C3", "--what", "夜间私拉电线", "--channel", "phone",
              "--on", "2025-06-03",
              *st, "--user", "lead")  # fmt: skip
    assert "same as tip 1: not entered twice" in out and "entered 0, duplicates 1" in out
    f = tmp_path / "tips.csv"
    f.write_bytes(
        f"台区编号,用户编号,举报内容,渠道,举报日期,联系方式\nA1,,私接电线,网站,2025-06-05,{CONTACT}\n,C9,绕表,信函,2025-06-06,\n".encode(
            "gbk"
        )
    )
    out = cli("tips", "import", str(f), *ds, *st, "--user", "li")
    assert "tip 2: ambiguous, candidates C1, C2" in out and "tip 3: unknown subject (no customer C9" in out
    out = cli("tips", "match", "2", "C2", *ds, *st, "--user", "li")
    assert "tip 2: matched to customer C2" in out
    out = cli("tips", "from-work-orders", *ds, *st, "--user", "li")
    assert "tip 4: matched to customer C5" in out and "W3" in out
    out = cli("tips", "from-work-orders", *ds, *st, "--user", "li")
    assert "entered 0, duplicates 1" in out
    # the reporter: the audit lead's list only
    for who in ("li", "mgr", "view", "admin"):
        out = cli("tips", "list", *st, "--user", who, "--json")
        assert SECRET not in out and "reporter" not in out and "夜间私拉电线" in out
    cli("tips", "list", *st, "--user", "zhang", code=2)
    out = cli("tips", "list", *st, "--user", "lead", "--json")
    assert SECRET in out
    out = cli("tips", "show", "2", *st, "--user", "li")
    assert "customer C2 (unit U1)" in out and "reporter" not in out and SECRET not in out
    assert SECRET in cli("tips", "show", "2", *st, "--user", "lead")
    # findings: family tip, evidence without the reporter
    from gridaudit.findings import load_findings

    found = load_findings(dataset, analyzers=["tips"])
    assert sorted(found.column("entity_id").to_pylist()) == ["C2", "C3", "C5"]
    assert set(found.column("family").to_pylist()) == {"tip"}
    assert set(found.column("rule_id").to_pylist()) == {"tip_phone", "tip_web", "tip_95598"}
    for p in (dataset / "findings").rglob("*"):
        if p.is_file():
            assert SECRET.encode() not in p.read_bytes() and CONTACT.encode() not in p.read_bytes()
    by_customer = {r["entity_id"]: json.loads(r["evidence"]) for r in found.to_pylist()}
    assert by_customer["C3"]["tip_ids"] == [1] and by_customer["C3"]["channel"] == "phone"
    assert by_customer["C3"]["unit_id"] == "U2" and by_customer["C3"]["what"] == "夜间私拉电线"
    # a plan from the findings store: tips become tasks
    out = cli("audit", "plan", "create", "--month", "2025-07", *ds, *st, "--user", "lead")
    assert "created 3 tasks" in out
    tid, family = task_of(store_url, "C3")
    assert family == "tip"
    cli("audit", "tasks", "assign", str(tid), "--to", "zhang", *st, "--user", "li")
    out = cli("tips", "reward", "propose", str(tid), *st, "--user", "li", code=2)
    assert "not confirmed" in out
    cli("audit", "tasks", "result", str(tid), "--outcome", "theft", "--kind", "field", "--recovered-kwh", "5000",
        "--recovered-yuan", "3000", "--on", "2025-07-10", *st, "--user", "zhang")  # fmt: skip
    rewards = tmp_path / "rewards.yaml"
    rewards.write_text("versions:\n  - {effective_from: 2025-01-01, share: 0.1, cap_yuan: 250}\n", "utf-8")
    out = cli("tips", "reward", "propose", str(tid), "--rewards", str(rewards), *st, "--user", "lead")
    assert "reward 1 (tip 1" in out and "250.00 yuan" in out and "capped" in out
    cli("tips", "reward", "propose", str(tid), *st, "--user", "li", code=2)  # one open reward per tip
    out = cli("tips", "reward", "approve", "1", *st, "--user", "lead", code=2)
    assert "another person must approve it" in out
    out = cli("tips", "reward", "approve", "1", *st, "--user", "li", code=2)
    assert "may not reward_approve" in out
    out = cli("tips", "reward", "approve", "1", *st, "--user", "mgr")
    assert "reward 1 approved and booked" in out
    cli("tips", "reward", "approve", "1", *st, "--user", "lead2", code=2)
    out = cli("tips", "reward", "list", "--month", "2025-07", "--json", *st, "--user", "li")
    [line] = json.loads(out)
    assert (line["amount_yuan"], line["status"], line["decided_by"]) == (250.0, "approve", "mgr")
    # the assessment shows it
    rows = json.loads(cli("audit", "assess", "--month", "2025-07", "--json", *st, "--user", "lead"))
    assert sum(r["rewards_yuan"] for r in rows if r["level"] == "unit") == 250.0
    out = cli("audit", "assess", "--month", "2025-07", *st, "--user", "lead")
    assert "│ 250" in out  # the tip-reward column (shown when there are rewards)
    # the export workbook: no reporter anywhere
    xlsx = tmp_path / "audit.xlsx"
    cli("audit", "export", "--month", "2025-07", "--out", str(xlsx), *st, "--user", "li")
    from openpyxl import load_workbook

    wb = load_workbook(xlsx, read_only=True)
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "tip_phone" in cells and not any(SECRET in c for c in cells)
    # closed, the tip task teaches its channel's hit rate (rule tip_phone), which feeds the next plan's priority
    cli("audit", "tasks", "close", str(tid), *st, "--user", "li")
    rates = json.loads(cli("audit", "hit-rates", "--json", *st, "--user", "li"))
    assert {(r["level"], r["key"], r["hits"], r["n"]) for r in rates} >= {
        ("rule", "tip_phone", 1, 1),
        ("family", "tip", 1, 1),
    }
    # the trail: intact, no payload holds the reporter, each reveal is an event
    assert "audit trail intact" in cli("audit", "verify-log", *st)
    _check_trail_and_tamper(store_url)


def _check_trail_and_tamper(store_url):
    from sqlalchemy import select, text

    from gridaudit.audit.models import Event
    from gridaudit.audit.store import open_store

    st = open_store(store_url)
    try:
        with st.transaction() as s:
            events = list(s.execute(select(Event)).scalars())
        assert not any(SECRET in e.payload or SECRET in e.entity_id for e in events)
        views = [e for e in events if e.action == "tip_reporter_view"]
        assert {(e.actor, e.entity_id) for e in views} == {("lead", "1"), ("lead", "2")}
        assert {"tip_add", "tip_match", "tip_reward_propose", "tip_reward_approve"} <= {e.action for e in events}
        with pytest.raises(Exception, match="append-only"), st.engine.begin() as con:
            con.execute(text("UPDATE audit_tip_rewards SET amount_yuan = 9999"))
        with st.engine.begin() as con:
            con.execute(text("UPDATE audit_tips SET customer_id = 'C1' WHERE tip_id = 1"))
    finally:
        st.dispose()
    out = cli("audit", "verify-log", "--store", store_url, code=1)
    assert "audit_tips row 1" in out and "TAMPERED" in out
