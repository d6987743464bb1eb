"""Rectification deadlines over a year with no official calendar are marked provisional everywhere they are
shown (rectify, tasks show, tasks list --overdue, the export workbook), with one warning; a calendar file
for that year removes the mark. On SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridaudit import workdays
from gridaudit.cli import app

from .test_audit_cli import setup_store

runner = CliRunner()
MARK = "(暂定/provisional)"
CAL_2027 = """\
years:
  2027:
    complete: true
    holidays:
      - {from: 2027-01-01, to: 2027-01-03, name: 元旦}
"""


@pytest.fixture(autouse=True)
def _no_calendar(monkeypatch):
    monkeypatch.delenv("GRIDAUDIT_CALENDAR", raising=False)
    yield
    workdays.configure(None)


def _cli(store_url, *args, user=None, env=None):
    argv = ["--lang", "en", "audit", *args, "--store", store_url] + (["--user", user] if user else [])
    res = runner.invoke(app, argv, env=env)
    assert res.exit_code == 0, f"{argv}\n{res.output}\n{res.exception!r}"
    return res


def _to_rectifying(store_url, tmp_path):
    f = setup_store(store_url, tmp_path)
    _cli(store_url, "plan", "create", "--month", "2026-12", "--findings", str(f), "--top", "2", user="lead")
    _cli(store_url, "tasks", "assign", "1", "--to", "zhang", user="li")
    _cli(store_url, "tasks", "result", "1", "--outcome", "irregular", "--on", "2026-11-20", user="zhang")


def test_deadline_in_an_unknown_year_is_provisional_everywhere(store_url, tmp_path):
    _to_rectifying(store_url, tmp_path)
    res = _cli(
        store_url, "tasks", "rectify", "1", "--responsible", "zhou", "--days", "10", "--today", "2026-12-28", user="li"
    )
    text = " ".join(res.output.split())
    # Dec 29–31 (3) + Jan 1–8 2027 Mon–Fri (6) + Jan 11 = 10 working days, counted Monday–Friday
    assert f"due 2027-01-11 {MARK}" in text
    assert text.count("the official holidays and make-up working days of 2027 are unknown") == 1
    assert "2027 年的法定节假日与调休未知" in text
    assert "UserWarning" not in res.output and "warnings.warn" not in res.output
    show = " ".join(_cli(store_url, "tasks", "show", "1", user="li").output.split())
    assert f"due 2027-01-11 {MARK}" in show
    assert '"deadline_provisional":true' in show  # the trail keeps that it was ordered on a guessed calendar
    overdue = _cli(store_url, "tasks", "list", "--overdue", "--today", "2027-01-20", user="lead").output
    assert "│ 2027-01-11 │" in overdue and "(暂定/" in overdue  # the mark wraps in an 80-column table
    xlsx = tmp_path / "x.xlsx"
    _cli(store_url, "export", "--month", "2026-12", "--out", str(xlsx), user="li")
    from openpyxl import load_workbook

    rows = list(load_workbook(xlsx, read_only=True)["rectifications"].iter_rows(values_only=True))
    col = rows[0].index("deadline provisional")  # --lang en: English headers and values
    assert [r[col] for r in rows[1:]] == ["yes"]
    # once the utility supplies 2027, the mark is gone (the stored date is kept as ordered)
    cal = tmp_path / "cal.yaml"
    cal.write_text(CAL_2027, "utf-8")
    show = " ".join(
        _cli(store_url, "tasks", "show", "1", user="li", env={"GRIDAUDIT_CALENDAR": str(cal)}).output.split()
    )
    assert "due 2027-01-11," in show and "(暂定/provisional)" not in show and "unknown" not in show


def test_a_calendar_file_makes_the_deadline_definitive(store_url, tmp_path):
    _to_rectifying(store_url, tmp_path)
    cal = tmp_path / "cal.yaml"
    cal.write_text(CAL_2027, "utf-8")
    res = runner.invoke(
        app,
        ["--lang", "en", "--calendar", str(cal), "audit", "tasks", "rectify", "1", "--responsible", "zhou"]
        + ["--days", "10", "--today", "2026-12-28", "--store", store_url, "--user", "li"],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    # Dec 29–31 (3) + Jan 4–8 (5) + Jan 11, 12 = 10: New Year's Day holiday from the file moves it a day
    assert "due 2027-01-12" in text and "provisional" not in text and "unknown" not in text
    xlsx = tmp_path / "x.xlsx"
    _cli(store_url, "export", "--month", "2026-12", "--out", str(xlsx), user="li", env={"GRIDAUDIT_CALENDAR": str(cal)})
    from openpyxl import load_workbook

    rows = list(load_workbook(xlsx, read_only=True)["rectifications"].iter_rows(values_only=True))
    assert rows[1][rows[0].index("deadline provisional")] is None
