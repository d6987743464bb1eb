"""The done-when loop, scripted from the CLI on SQLite and PostgreSQL."""

import re

from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.findings import write_findings

from .conftest import PEOPLE, make_findings

runner = CliRunner()


def cli(store_url, *args, user=None, code=0, lang="en"):
    argv = ["--lang", lang, "audit", *args, "--store", store_url]
    if user:
        argv += ["--user", user]
    res = runner.invoke(app, argv)
    if code is None:  # caller checks the outcome
        return " ".join(res.output.split())
    assert res.exit_code == code, f"{argv}\n{res.output}\n{res.exception!r}"
    if code == 2:
        assert "Traceback" not in res.output
    if code != 0 or "─" not in res.output:
        return " ".join(res.output.split())  # rich wraps long messages at 80 columns
    return res.output


def setup_store(store_url, tmp_path):
    runner.invoke(app, ["audit", "init", "--store", store_url])
    for uid, role, unit, staff, manager in PEOPLE:
        args = ["users", "add", uid, "--role", role, "--name", uid.title()]
        args += ["--unit", unit] if unit else []
        args += ["--staff-id", staff] if staff else []
        args += ["--manager", manager] if manager else []
        cli(store_url, *args, user=None if uid == "admin" else "admin")
    f = tmp_path / "findings.parquet"
    write_findings(make_findings(12), f)
    return f


def test_cli_full_loop(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    out = cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), "--top", "6", user="lead")
    assert re.search(r"plan 1 \(2025-07\): read 12 findings, created 6 tasks", out)
    # re-planning the same findings never takes a finding twice
    out = cli(store_url, "plan", "create", "--month", "2025-08", "--findings", str(f), user="lead")
    assert "created 6 tasks" in out and "finding already taken 6" in out
    listing = cli(store_url, "tasks", "list", "--plan", "1", user="li")
    assert "6 rows" in listing
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 seal broken")
    # tasks by priority: 1 = C011 reading (responsible staff S01 = rectifier zhou and auditor wu), 2 = C010 theft,
    # 3 = C009 reading
    tid = "1"
    cli(store_url, "tasks", "assign", tid, "--to", "zhang", user="li")
    cli(
        store_url,
        "tasks",
        "result",
        tid,
        "--outcome",
        "irregular",
        "--kind",
        "field",
        "--recovered-kwh",
        "300",
        "--recovered-yuan",
        "165",
        "--attach",
        str(photo),
        "--attachments",
        str(tmp_path / "att"),
        "--on",
        "2025-07-10",
        user="zhang",
    )
    import hashlib

    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    assert (tmp_path / "att" / sha[:2] / sha).read_bytes() == photo.read_bytes()
    cli(store_url, "tasks", "rectify", tid, "--responsible", "zhou", "--days", "5", "--today", "2025-09-29", user="li")
    cli(store_url, "tasks", "reply", tid, "--text", "已补抄", "--today", "2025-10-09", user="zhou")
    cli(store_url, "tasks", "verify", tid, "--reject", "--reason", "与现场不符", user="li")
    cli(store_url, "tasks", "reply", tid, "--text", "已更正电量", "--today", "2025-10-10", user="zhou")
    out = cli(store_url, "tasks", "verify", tid, "--accept", user="wu", code=2)
    assert "segregation of duties" in out
    out = cli(store_url, "tasks", "verify", tid, "--accept", user="li")
    assert "accepted" in out
    out = cli(store_url, "tasks", "close", tid, user="zhou", code=2)
    assert "may not close" in out
    out = cli(store_url, "tasks", "close", tid, user="lead")
    assert "closed" in out
    # a theft task closed straight after the result
    cli(store_url, "tasks", "assign", "2", "--to", "sun", user="lead")
    cli(
        store_url,
        "tasks",
        "result",
        "2",
        "--outcome",
        "theft",
        "--recovered-kwh",
        "5400",
        "--recovered-yuan",
        "3024",
        "--violation-type",
        "seal_broken",
        user="sun",
    )
    cli(store_url, "tasks", "close", "2", user="li")
    out = cli(
        store_url,
        "penalty",
        "theft",
        "--date",
        "2024-03-01",
        "--capacity-kw",
        "10",
        "--tariff",
        "0.5",
        "--task",
        "2",
        user="sun",
        code=2,
    )  # task 2 is closed: nothing booked
    assert "cannot take a penalty" in out
    show = cli(store_url, "tasks", "show", tid, user="li")
    assert sha in show
    for action in ("assign", "result", "attach", "rectify", "reply", "reject", "accept", "close"):
        assert f" {action} " in show
    # a violation task with a penalty booked before closing
    cli(store_url, "tasks", "assign", "3", "--to", "sun", user="li")
    cli(store_url, "tasks", "result", "3", "--outcome", "violation", "--violation-type", "高价低接", user="sun")
    out = cli(
        store_url,
        "penalty",
        "tariff_misuse",
        "--date",
        "2024-03-01",
        "--monthly-kwh",
        "1000",
        "--high-price",
        "0.85",
        "--low-price",
        "0.55",
        "--task",
        "3",
        user="sun",
    )
    assert "¥900.00" in out and "¥1,800.00" in out and "booked against task 3" in out
    cli(store_url, "tasks", "close", "3", user="li")
    out = cli(store_url, "assess", "--month", "2025-07", "--as-of", "2025-10-31", user="lead")
    assert "staff S01" in out and "unit U2" in out, out
    import json

    rows = json.loads(cli(store_url, "assess", "--month", "2025-07", "--as-of", "2025-10-31", "--json", user="lead"))
    s01 = next(r for r in rows if r["key"] == "S01")
    assert (s01["confirmed"], s01["rect_on_time"], s01["on_time_rate"]) == (2, 1, 1.0)
    assert sum(r["penalty_yuan"] for r in rows if r["level"] == "unit") == 1800
    xlsx = tmp_path / "audit-2025-07.xlsx"
    out = cli(store_url, "export", "--month", "2025-07", "--out", str(xlsx), user="lead")
    assert "tasks 6" in out and "penalties 1" in out
    from openpyxl import load_workbook

    wb = load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["plan", "tasks", "results", "rectifications", "assessment", "penalties"]  # --lang en
    rect = list(wb["rectifications"].iter_rows(values_only=True))
    assert rect[0][1] == "task" and rect[1][10] == 2  # two replies (one rejected)
    csv = tmp_path / "inspections.csv"
    out = cli(store_url, "export-inspections", "--out", str(csv), user="lead")
    assert "wrote 3 inspections" in out and csv.read_text().count("\n") == 4
    assert cli(store_url, "verify-log").count("intact") == 1


def test_cli_errors_are_clear_and_exit_2(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), user="lead")
    out = cli(store_url, "tasks", "assign", "999", "--to", "zhang", user="li", code=2)
    assert "unknown task 999" in out and "未知任务 999" in out
    out = cli(store_url, "tasks", "close", "1", user="li", code=2)
    assert "task 1 is new; cannot close" in out and "不能执行“关闭”" in out
    out = cli(store_url, "tasks", "assign", "1", "--to", "zhang", user="zhou", code=2)
    assert "role responsible may not assign" in out
    out = cli(store_url, "users", "add", "x", "--role", "auditor", user="li", code=2)
    assert "only an admin may add users" in out
    out = cli(store_url, "plan", "create", "--month", "2025-13", "--findings", str(f), user="lead", code=2)
    assert "must be YYYY-MM" in out
    out = cli(
        store_url,
        "plan",
        "create",
        "--month",
        "2025-07",
        "--findings",
        str(tmp_path / "no.parquet"),
        user="lead",
        code=2,
    )
    assert "findings file not found" in out
    out = cli(store_url, "tasks", "assign", "1", "--to", "zhang", code=2)
    assert "--user" in out
    out = cli(store_url, "assess", "--month", "2025-07", user="ghost", code=2)
    assert "unknown user ghost" in out
    cli(store_url, "export", "--month", "2025-07", "--out", str(tmp_path / "a.xlsx"), user="li")
    from gridaudit.audit.store import open_store
    from gridaudit.audit.trail import history

    st = open_store(store_url, tmp_path / "att")
    with st.transaction() as s:
        assert [(e.actor, e.action) for e in history(s, "plan", "2025-07")] == [("li", "export")]
    st.dispose()
    out = cli(store_url, "tasks", "assign", "1", "--to", "zhang", user="li", code=0, lang="zh")
    assert "已派发给 zhang" in out


def test_first_user_must_be_admin(tmp_path):
    url = str(tmp_path / "c.db")
    cli(url, "init")
    out = cli(url, "users", "add", "li", "--role", "auditor", code=2)
    assert "first user must be an admin" in out
    cli(url, "users", "add", "root", "--role", "admin")
    assert "root" in cli(url, "users", "list", user="root")


def test_missing_store_is_an_error_and_nothing_is_created(tmp_path, pg_audit_server):
    """A mistyped --store never creates a new empty store: exit 2, the path named, nothing on disk."""
    typo = tmp_path / "casse.db"
    for args in (["users", "list"], ["users", "add", "root", "--role", "admin"], ["verify-log"], ["tasks", "list"]):
        out = cli(str(typo), *args, code=2)
        assert "does not exist" in out and str(typo) in out and "audit init" in out
    folder = tmp_path / "nosuch"
    cli(str(folder), "verify-log", code=2)
    assert not typo.exists() and not folder.exists()
    # a PostgreSQL database without a case store is refused the same way, and gains no table
    import psycopg

    url, created = pg_audit_server
    schema = f"gridaudit_empty_{len(created)}_{id(tmp_path) % 100000}"
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{schema}"')
    created.append(schema)
    pg = f"{url}?options=-csearch_path%3D{schema}"
    out = cli(pg, "users", "list", code=2)
    assert "does not exist" in out and "audit init" in out
    with psycopg.connect(url) as con:
        n = con.execute("select count(*) from information_schema.tables where table_schema = %s", (schema,)).fetchone()
    assert n == (0,)
    out = cli(pg, "init")
    assert "case store ready" in out
    assert "audit_users" not in cli(pg, "users", "list", code=0)


def _one_closed_theft_task(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), "--top", "2", user="lead")
    cli(store_url, "tasks", "assign", "2", "--to", "sun", user="lead")
    cli(store_url, "tasks", "result", "2", "--outcome", "theft", "--violation-type", "seal_broken", user="sun")
    cli(store_url, "tasks", "close", "2", user="li")


def test_export_inspections_any_name_into_a_dataset_prints_the_ingest_summary(store_url, tmp_path):
    _one_closed_theft_task(store_url, tmp_path)
    csv, ds = tmp_path / "labels-2025-07.csv", tmp_path / "ds"
    out = " ".join(cli(store_url, "export-inspections", "--out", str(csv), "--dataset", str(ds), user="li").split())
    assert "wrote 1 inspections" in out and "IngestResult" not in out and "pyarrow" not in out
    assert "Ingest summary" in out and "inspections" in out and "is now at version" in out
    from gridaudit.dataset import open_dataset

    assert open_dataset(ds).read("inspections").column("outcome").to_pylist() == ["theft"]


def test_export_refuses_an_xlsx_path_without_xlsx_suffix(store_url, tmp_path):
    _one_closed_theft_task(store_url, tmp_path)
    out = cli(store_url, "export", "--month", "2025-07", "--out", str(tmp_path / "out.csv"), user="li", code=2)
    assert "--out must name an .xlsx file" in out and not (tmp_path / "out.csv").exists()


def test_plan_create_with_no_finding_in_scope_says_so_and_creates_nothing(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    args = ("plan", "create", "--month", "2031-01", "--findings", str(f))
    out = cli(store_url, *args, "--entity-type", "meter", user="lead", code=2)
    assert "no findings matched, no plan created: read 12 findings, left out: entity_type 12" in out
    assert "没有问题符合范围" in out
    assert "2031-01" not in cli(store_url, "plan", "list", user="li")  # the refused plan was rolled back
    out = cli(store_url, *args, user="lead")
    assert "(2031-01): read 12 findings, created 12 tasks" in out
    assert "2031-01" in cli(store_url, "plan", "list", user="li")


def test_tasks_list_keeps_rule_and_entity_ids_whole_at_80_columns(store_url, tmp_path):
    import pyarrow as pa

    setup_store(store_url, tmp_path)
    table = make_findings(4)
    n = table.num_rows
    rule = "contract_two_part_demand_over_contract"
    table = table.set_column(table.schema.get_field_index("rule_id"), "rule_id", pa.array([rule] * n))
    ids = [f"C{i:03d}-0012345678" for i in range(n)]
    table = table.set_column(table.schema.get_field_index("entity_id"), "entity_id", pa.array(ids))
    f = tmp_path / "long.parquet"
    write_findings(table, f)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), user="lead")
    res = runner.invoke(
        app,
        ["--lang", "en", "audit", "tasks", "list", "--store", store_url, "--user", "li"],
        env={"COLUMNS": "80"},
        terminal_width=80,
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in res.output, res.output
    assert sum(rule in line for line in lines) == n  # every id whole, on one line
    assert all(any(f"customer:{i}" in line for line in lines) for i in ids), res.output


def _trail_counts(store_url):
    """(trail events, escalation rows) in the store."""
    from sqlalchemy import func, select

    from gridaudit.audit.models import Escalation, Event
    from gridaudit.audit.store import open_store

    st = open_store(store_url)
    try:
        with st.transaction() as s:
            return tuple(s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Event, Escalation))
    finally:
        st.dispose()


def test_listing_overdue_is_read_only(store_url, tmp_path):
    """`tasks list --overdue` lists; only `audit escalate` escalates (and writes the trail)."""
    f = setup_store(store_url, tmp_path)
    cli(store_url, "plan", "create", "--month", "2025-07", "--findings", str(f), "--top", "2", user="lead")
    cli(store_url, "tasks", "assign", "1", "--to", "zhang", user="li")
    cli(store_url, "tasks", "result", "1", "--outcome", "irregular", "--kind", "desk", user="zhang")
    cli(store_url, "tasks", "rectify", "1", "--responsible", "zhou", "--days", "3", "--today", "2025-08-01", user="li")
    before = _trail_counts(store_url)
    for who in ("li", "lead"):  # users who see the task and may escalate: listing still does not
        out = cli(store_url, "tasks", "list", "--overdue", "--today", "2025-08-11", user=who)
        assert "1 rows" in out
        assert _trail_counts(store_url) == before
    out = cli(store_url, "escalate", "--today", "2025-08-11", user="li")
    assert "escalated 1" in out
    events, escalations = _trail_counts(store_url)
    assert escalations == before[1] + 1 and events > before[0]
