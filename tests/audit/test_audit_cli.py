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
    assert res.exit_code == code, f"{argv}\n{res.output}\n{res.exception!r}"
    if code == 2:
        assert "Traceback" not in res.output
    return res.output


def setup_store(store_url, tmp_path):
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
    listing = cli(store_url, "tasks", "list", "--plan", "1")
    assert "6 rows" in listing
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 seal broken")
    tid = "2"  # a reading finding: responsible staff S01 (user zhou, rectifier; and auditor wu)
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
        "--on",
        "2025-07-10",
        user="zhang",
    )
    cli(store_url, "tasks", "rectify", tid, "--responsible", "zhou", "--days", "5", "--today", "2025-09-29", user="li")
    cli(store_url, "tasks", "reply", tid, "--text", "已补抄", "--today", "2025-10-09", user="zhou")
    cli(store_url, "tasks", "verify", tid, "--reject", "--reason", "与现场不符", user="li")
    cli(store_url, "tasks", "reply", tid, "--text", "已更正电量", "--today", "2025-10-10", user="zhou")
    out = cli(store_url, "tasks", "verify", tid, "--accept", user="li")
    assert "accepted" in out
    out = cli(store_url, "tasks", "close", tid, user="lead")
    assert "closed" in out
    # a theft task closed straight after the result
    cli(store_url, "tasks", "assign", "1", "--to", "sun", user="lead")
    cli(
        store_url,
        "tasks",
        "result",
        "1",
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
    cli(store_url, "tasks", "close", "1", user="li")
    show = cli(store_url, "tasks", "show", tid)
    assert [a for a in ("assign", "result", "attach", "rectify", "reply", "reject", "accept", "close") if a in show]
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
    out = cli(store_url, "tasks", "assign", "1", "--to", "zhang", user="li", code=0, lang="zh")
    assert "已派发给 zhang" in out


def test_first_user_must_be_admin(tmp_path):
    url = str(tmp_path / "c.db")
    out = cli(url, "users", "add", "li", "--role", "auditor", code=2)
    assert "first user must be an admin" in out
    cli(url, "users", "add", "root", "--role", "admin")
    assert "root" in cli(url, "users", "list")
