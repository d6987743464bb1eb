"""The working-day calendar: a utility's calendar file extends or overrides chinese-calendar; a year known
to neither is weekends-only, warned once, and every deadline over it is provisional."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridaudit import workdays
from gridaudit.calendar_file import CalendarError, load_calendar_file
from gridaudit.cli import app

runner = CliRunner()

# an illustrative 2027 schedule (not the official one) in the documented format
CAL_2027 = """\
years:
  2027:
    complete: true
    holidays:
      - {date: 2027-01-01, name: 元旦}
      - {from: 2027-02-05, to: 2027-02-11, name: 春节}
      - {from: 2027-10-01, to: 2027-10-07, name: 国庆节}
    workdays:
      - {date: 2027-02-13, name: 春节调休}
      - {date: 2027-09-26, name: 国庆节调休}
  2025:
    complete: false
    holidays:
      - {date: 2025-07-01, name: 本地停工日}
"""


@pytest.fixture(autouse=True)
def _no_calendar(monkeypatch):
    """Each test starts with no calendar file and ends by dropping whatever it configured."""
    monkeypatch.delenv("GRIDAUDIT_CALENDAR", raising=False)
    workdays.configure(None)
    yield
    workdays.configure(None)


@pytest.fixture
def cal_file(tmp_path) -> Path:
    p = tmp_path / "calendar.yaml"
    p.write_text(CAL_2027, "utf-8")
    return p


def test_chinese_calendar_make_up_saturday_is_a_workday():
    assert workdays.is_workday(date(2025, 2, 8))  # Saturday, 调休 for the Spring Festival
    assert not workdays.is_workday(date(2025, 10, 1))
    assert workdays.day_info(date(2025, 10, 1)).name == "国庆节"
    assert workdays.year_source(2025) == workdays.SOURCE_CC
    assert workdays.add_workdays(date(2025, 9, 26), 1) == date(2025, 9, 28)  # Sunday 调休


def test_a_file_year_2027_extends_chinese_calendar(cal_file):
    seen: list[str] = []
    workdays.configure(cal_file, notify=seen.append)
    assert workdays.year_source(2027) == workdays.SOURCE_FILE
    assert not workdays.is_workday(date(2027, 2, 8))  # Monday in the Spring Festival
    assert workdays.is_workday(date(2027, 2, 13))  # Saturday 调休 from the file
    assert not workdays.is_workday(date(2027, 2, 14))  # an ordinary Sunday
    assert workdays.day_info(date(2027, 2, 13)).name == "春节调休"
    # Feb 4 (Thu) + 1 working day: Fri 5 … Thu 11 off, Fri 12 is the next working day
    d = workdays.deadline(date(2027, 2, 4), 1)
    assert d == workdays.Deadline(date(2027, 2, 12), provisional=False)
    assert d.label() == "2027-02-12"
    assert workdays.deadline(date(2027, 2, 12), 1).day == date(2027, 2, 13)
    assert not seen  # a known year gives no warning


def test_a_partial_file_year_amends_chinese_calendar(cal_file):
    workdays.configure(cal_file)
    info = workdays.day_info(date(2025, 7, 1))
    assert (info.workday, info.name, info.source) == (False, "本地停工日", workdays.SOURCE_FILE)
    assert not workdays.is_workday(date(2025, 10, 1))  # chinese-calendar still answers the other days
    assert workdays.day_info(date(2025, 10, 1)).source == workdays.SOURCE_CC
    assert workdays.is_workday(date(2025, 2, 8))


def test_a_complete_file_year_overrides_chinese_calendar(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("years:\n  2025:\n    complete: true\n    holidays:\n      - {date: 2025-03-03, name: 测试}\n")
    workdays.configure(p)
    assert workdays.is_workday(date(2025, 10, 1))  # the file says nothing about National Day: a Wednesday
    assert not workdays.is_workday(date(2025, 2, 8))  # nor about the 调休 Saturday
    assert not workdays.is_workday(date(2025, 3, 3))


def test_unknown_year_is_weekends_only_warned_once_and_provisional():
    seen: list[str] = []
    workdays.configure(None, notify=seen.append)
    assert workdays.year_source(2028) == workdays.SOURCE_WEEKENDS
    assert workdays.is_provisional(date(2028, 5, 1))
    assert workdays.is_workday(date(2028, 5, 1))  # a Monday: Labour Day unknown
    d = workdays.deadline(date(2028, 4, 28), 10)
    assert d.provisional and d.label().endswith("(暂定/provisional)")
    for i in range(30):
        workdays.is_workday(date(2028, 6, 1 + i))
    assert len(seen) == 1
    assert "2028" in seen[0] and "provisional" in seen[0] and "暂定" in seen[0]
    # a deadline spanning the turn of the year into an unknown year is provisional; inside 2026 it is not
    assert workdays.deadline(date(2026, 12, 28), 10).provisional
    assert not workdays.deadline(date(2026, 12, 1), 5).provisional
    assert workdays.deadline_text(date(2026, 12, 1), date(2026, 12, 8)) == "2026-12-08"


def test_rules_workday_calendar_uses_the_same_calendar(cal_file):
    days = dict(workdays.workday_calendar(date(2027, 2, 12), date(2027, 2, 14)))
    assert days == {date(2027, 2, 12): True, date(2027, 2, 13): False, date(2027, 2, 14): False}
    workdays.configure(cal_file)
    days = dict(workdays.workday_calendar(date(2027, 2, 12), date(2027, 2, 14)))
    assert days == {date(2027, 2, 12): True, date(2027, 2, 13): True, date(2027, 2, 14): False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027: {}\n", "years"),
        ("years:\n  2027:\n    holidays: []\n", "complete"),
        ("years:\n  2027:\n    complete: true\n    holidays:\n      - {date: 2026-12-31, name: x}\n", "not in 2027"),
        ("years:\n  2027:\n    complete: true\n    holidays:\n      - {date: 2027-13-01, name: x}\n", "YYYY-MM-DD"),
        ("years:\n  2027:\n    complete: true\n    holidays:\n      - {date: 2027-01-01}\n", "missing name"),
        (
            "years:\n  2027:\n    complete: true\n    holidays:\n      - {date: 2027-01-02, name: a}\n"
            "    workdays:\n      - {date: 2027-01-02, name: b}\n",
            "both a holiday and a workday",
        ),
        ("years:\n  twenty:\n    complete: true\n", "not a year"),
    ],
)
def test_bad_calendar_files_are_named(tmp_path, text, expected):
    p = tmp_path / "bad.yaml"
    p.write_text(text, "utf-8")
    with pytest.raises(CalendarError) as err:
        load_calendar_file(p)
    assert expected in str(err.value) and str(p) in str(err.value)


def test_a_bad_calendar_option_is_exit_2_without_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("years:\n  2027:\n    holidays: []\n", "utf-8")
    for args, env in (([f"--calendar={p}"], {}), ([], {"GRIDAUDIT_CALENDAR": str(p)})):
        res = runner.invoke(app, ["--lang", "en", *args, "calendar", "show", "2027"], env=env)
        assert res.exit_code == 2, res.output
        assert "complete" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["--lang", "en", "--calendar", str(tmp_path / "nope.yaml"), "calendar", "show", "2027"])
    assert res.exit_code == 2 and "not found" in " ".join(res.output.split())


def test_calendar_show_a_file_year(cal_file):
    res = runner.invoke(app, ["--lang", "en", "calendar", "show", "2027", "--calendar", str(cal_file)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "source: calendar file" in out and str(cal_file.name) in " ".join(out.split()).replace(" ", "")
    assert "2027-02-05 – 2027-02-11" in out and "春节" in out and "元旦" in out
    assert "2027-02-13" in out and "春节调休" in out and "Sat" in out
    # Feb 2027: 20 weekdays − 5 weekdays of the Spring Festival + 1 Saturday = 16
    assert "│ 2027-02 │ 16 " in out
    assert "provisional" not in out


def test_calendar_show_env_and_chinese_calendar_year(cal_file):
    res = runner.invoke(app, ["--lang", "en", "calendar", "show", "2025"], env={"GRIDAUDIT_CALENDAR": str(cal_file)})
    assert res.exit_code == 0, res.output
    assert "source: chinese-calendar" in res.output and "amends" in res.output
    assert "本地停工日" in res.output and "2025-09-28" in res.output  # 调休 Sunday from chinese-calendar
    assert "│ 2025-10 │ 18 " in res.output and "│ year    │ 247 " in res.output  # 248 less the file's holiday


def test_calendar_show_an_unknown_year():
    res = runner.invoke(app, ["--lang", "en", "calendar", "show", "2028"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "weekends only (provisional)" in text and "has no official holiday schedule" in text
    assert "Holidays: none" in text and "│ 2028-05 │ 23 " in res.output
    assert "UserWarning" not in res.output
