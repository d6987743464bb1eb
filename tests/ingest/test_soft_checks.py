"""Warnings that keep the row (an optional reference that names nothing) and the period/date check (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridaudit.cli import app
from gridaudit.ingest import IngestSettings, ingest

from .ingest_helpers import METERS, write

STAFF = "staff_id,unit_id,role\nS1,U1,reader\n"
HEADER = "meter_id,period,read_on,reading,read_type,reader_id\n"


@pytest.fixture
def ds(tmp_path: Path) -> Path:
    """meters and staff (S1 only), no readings yet."""
    root = tmp_path / "ds"
    r = ingest([write(tmp_path / "a", "meters.csv", METERS), write(tmp_path / "a", "staff.csv", STAFF)], root)
    assert r.exit_code == 0, r.errors
    return root


def _fails(r) -> list[tuple]:
    return sorted(
        (x["row"], x["column_name"], x["check_name"], x["severity"], x["value"]) for x in r.failures.to_pylist()
    )


@pytest.mark.parametrize("extra_bad_row", [False, True])  # the usual path, and the path that lists bad rows
def test_unknown_optional_reader_is_a_warning_and_the_row_is_kept(ds, tmp_path, extra_bad_row):
    text = HEADER + "M1,2024-02,2024-02-29,130,actual,S1\nM2,2024-02,2024-02-29,260,actual,S404\n"
    if extra_bad_row:
        text += "M3,2024-02,2024-02-29,-5,ami,S1\n"
    r = ingest([write(tmp_path, "readings.csv", text)], ds)
    got = _fails(r)
    expected = [(3, "reader_id", "foreign_key", "warning", "S404")]
    if extra_bad_row:
        expected.append((4, "reading", "range", "error", "-5"))
    assert got == expected
    assert r.exit_code == (1 if extra_bad_row else 0)
    assert r.changed and r.rows["readings"] == 2 and r.rejected["readings"] == (1 if extra_bad_row else 0)
    kept = {x["meter_id"]: x["reader_id"] for x in r.dataset.read("readings").to_pylist()}
    assert kept == {"M1": "S1", "M2": "S404"}  # nothing lost
    stored = r.dataset.read("failure_cases").to_pylist()
    assert [(x["column_name"], x["severity"]) for x in stored if x["severity"] == "warning"] == [
        ("reader_id", "warning")
    ]


def test_unknown_optional_reader_with_duplicates_takes_the_full_path(ds, tmp_path):
    text = HEADER + "M1,2024-02,2024-02-29,130,actual,S404\nM1,2024-02,2024-02-29,130,actual,S404\n"
    r = ingest([write(tmp_path, "readings.csv", text)], ds)
    assert _fails(r) == [
        (2, "reader_id", "foreign_key", "warning", "S404"),
        (3, "reader_id", "foreign_key", "warning", "S404"),
    ]
    assert r.exit_code == 0 and r.rows["readings"] == 1


def test_unknown_required_meter_is_still_an_error(ds, tmp_path):
    r = ingest([write(tmp_path, "readings.csv", HEADER + "M404,2024-02,2024-02-29,1,actual,S1\n")], ds)
    assert _fails(r) == [(2, "meter_id", "foreign_key", "error", "M404")]
    assert r.exit_code == 1 and r.rows["readings"] == 0


def test_warnings_do_not_block_strict_and_the_report_says_rows_were_kept(ds, tmp_path):
    f = write(tmp_path, "readings.csv", HEADER + "M1,2024-02,2024-02-29,130,actual,S404\n")
    res = CliRunner().invoke(app, ["ingest", str(f), "--dataset", str(ds), "--strict", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "1 warning" in res.output and "rows kept" in res.output and "reader_id" in res.output


@pytest.mark.parametrize(
    ("period", "read_on", "ok"),
    [
        ("2024-02", "2024-02-29", True),
        ("2024-02", "2024-03-01", True),  # read early next month: billing reads near month end
        ("2024-02", "2024-01-31", True),
        ("2024-02", "2024-04-01", False),
        ("2030-01", "2024-03-01", False),
    ],
)
def test_period_must_fit_read_on(ds, tmp_path, period, read_on, ok):
    f = write(tmp_path, "readings.csv", HEADER + f"M1,{period},{read_on},130,actual,S1\n")
    r = ingest([f], ds, settings=IngestSettings(today=None))
    if ok:
        assert r.exit_code == 0 and r.rows["readings"] == 1, _fails(r)
    else:
        assert _fails(r) == [(2, "period", "period_date", "error", f"{period} / {read_on}")]
        assert r.rows["readings"] == 0
        assert "read_on" in r.failures.to_pylist()[0]["message_en"]


def test_period_tolerance_is_a_setting(ds, tmp_path):
    f = write(tmp_path, "readings.csv", HEADER + "M1,2024-02,2024-03-01,130,actual,S1\n")
    r = ingest([f], ds, settings=IngestSettings(period_tolerance_months=0))
    assert [x["check_name"] for x in r.failures.to_pylist()] == ["period_date"]
    r2 = ingest([f], ds, settings=IngestSettings(period_tolerance_months=2))
    assert r2.exit_code == 0 and r2.rows["readings"] == 1
