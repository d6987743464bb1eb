"""Which table a file or sheet is: realistic export names, workbooks with a notes sheet (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from gridaudit.ingest import ingest
from gridaudit.ingest.mapping import Mapping

from .ingest_helpers import METERS, write

READINGS_ZH = "表号,账期,抄表日期,示数,抄表方式\nM1,202402,20240229,7,实抄\n"


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("抄表示数_202402_更正.csv", "readings"),
        ("2024年2月抄表示数.csv", "readings"),
        ("readings-2024-02-final.csv", "readings"),
        ("202402_readings_v2.csv", "readings"),
        ("2024年2月实收电费.xlsx", "payments"),  # 实收电费 (payments) is longer than 电费 (bills)
        ("电能表事件_2024.csv", "meter_events"),  # not 电能表 (meters)
        ("工单环节明细.csv", "work_order_steps"),  # not 工单 (work_orders)
        ("meters.csv", "meters"),
        ("truth.csv", None),
        ("readme.txt", None),
        ("说明.csv", None),
        ("xreadingsx.csv", None),  # an ASCII name must stand as a word
    ],
)
def test_table_name_found_anywhere_in_the_stem(name, table):
    assert Mapping().table_for(name) == table


def test_two_tables_named_equally_is_refused_naming_both():
    with pytest.raises(ValueError, match="bills") as exc:
        Mapping().table_for("电费_用户.csv")
    assert "customers" in str(exc.value)


def test_realistic_file_names_ingest(tmp_path: Path):
    meters = write(tmp_path, "电能表_20240229.csv", METERS)
    fixed = write(tmp_path, "抄表示数_202402_更正.csv", READINGS_ZH)
    r = ingest([meters, fixed], tmp_path / "ds")
    assert r.exit_code == 0, r.errors
    assert r.rows == {"meters": 3, "readings": 1}
    other = write(
        tmp_path / "b", "2024年2月抄表示数.csv", READINGS_ZH.replace("M1,202402,20240229,7", "M2,202402,20240229,9")
    )
    r2 = ingest([other], tmp_path / "ds")
    assert r2.exit_code == 0, r2.errors
    assert r2.dataset.read("readings").num_rows == 2


def test_unknown_name_message_lists_accepted_names(tmp_path: Path):
    f = write(tmp_path, "stuff_2024.csv", "a,b\n1,2\n")
    r = ingest([f], tmp_path / "ds")
    assert r.exit_code == 2 and "stuff_2024.csv" in r.errors[0]
    assert "readings (抄表示数)" in r.errors[0] and "bills (电费账单)" in r.errors[0] and "--mapping" in r.errors[0]


def test_ambiguous_name_is_unusable_naming_both_tables(tmp_path: Path):
    f = write(tmp_path, "电费_用户.csv", "a,b\n1,2\n")
    r = ingest([f], tmp_path / "ds")
    assert r.exit_code == 2 and "bills" in r.errors[0] and "customers" in r.errors[0]


def _workbook_with_notes(path: Path, notes_first: bool = True) -> Path:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本表由营销系统导出, 抄表示数单位为 kWh。"])
    notes.append(["导出人: 张三"])
    data = wb.create_sheet("Sheet1")
    data.append(["表号", "账期", "抄表日期", "示数", "抄表方式"])
    data.append(["M1", "2024-02", dt.datetime(2024, 2, 29), 130, "实抄"])
    data.append(["M2", "2024-02", dt.datetime(2024, 2, 29), 260, "采集"])
    if not notes_first:
        wb.move_sheet("说明", offset=1)
    wb.save(path)
    return path


def test_workbook_notes_sheet_is_skipped_with_a_warning(tmp_path: Path):
    book = _workbook_with_notes(tmp_path / "抄表示数_202402.xlsx")
    events: list[tuple[str, dict]] = []
    r = ingest([book], tmp_path / "ds", on_event=lambda e, i: events.append((e, i)))
    assert r.exit_code == 0, r.errors
    assert r.rows == {"readings": 2}
    assert [p.source for p in r.skipped] == [f"{book}[说明]"]
    assert "skipped" in r.skipped[0].text() and "跳过" in r.skipped[0].text()
    assert [i["source"] for e, i in events if e == "skip_sheet"] == [f"{book}[说明]"]


def test_workbook_sheet_named_after_a_table_beside_a_notes_sheet(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"
    wb.active.append(["请勿修改表头"])
    m = wb.create_sheet("电能表")
    for line in METERS.splitlines():
        m.append(line.split(","))
    path = tmp_path / "export.xlsx"  # the file name names no table: only the sheet does
    wb.save(path)
    r = ingest([path], tmp_path / "ds")
    assert r.exit_code == 0, r.errors
    assert r.rows == {"meters": 3} and [p.source for p in r.skipped] == [f"{path}[填表说明]"]


def test_workbook_with_only_notes_is_still_unusable(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["nothing here"])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    r = ingest([path], tmp_path / "ds")
    assert r.exit_code == 2 and "export.xlsx" in r.errors[0]
    assert not (tmp_path / "ds").exists()
