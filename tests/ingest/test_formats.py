"""XLSX (merged two-row headers), Parquet, mapping files and the coercion of utility forms."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gridaudit.ingest import coerce, ingest

from .ingest_helpers import METERS, write


def test_xlsx_with_title_row_merged_over_header(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "抄表示数"
    ws.append(["2024年2月 抄表示数明细 (某供电所)"])
    ws.merge_cells("A1:E1")
    ws.append(["表号", "账期", "抄表日期", "示数", "抄表方式"])
    ws.append(["M1", "2024-02", dt.datetime(2024, 2, 29), 130, "实抄"])
    ws.append(["M2", 202402, dt.datetime(2024, 2, 29), -4, "采集"])
    m = wb.create_sheet("电能表")
    m.append(["基本信息", None, "计量"])  # a two-row header: group labels merged over the columns
    m.merge_cells("A1:B1")
    m.append(["表号", "表计类型", "倍率"])
    m.append(["M1", "用户表", 1])
    m.append(["M2", "用户表", 40])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    r = ingest([path], tmp_path / "ds")
    assert r.rows == {"meters": 2, "readings": 1}
    f = r.failures.to_pylist()
    assert [(x["source"], x["row"], x["column_name"], x["check_name"]) for x in f] == [
        (f"{path}[抄表示数]", 4, "reading", "range")
    ]
    reading = r.dataset.read("readings").to_pylist()[0]
    assert reading["read_on"] == dt.date(2024, 2, 29) and reading["period"] == "2024-02"
    assert reading["read_type"] == "actual"


def test_xlsx_missing_required_column_is_named(tmp_path: Path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "meters"
    ws.append(["meter_id", "role"])
    ws.append(["M1", "customer"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    r = ingest([path], tmp_path / "ds")
    assert r.exit_code == 2 and "book.xlsx[meters]" in r.errors[0] and "multiplier" in r.errors[0]


def test_parquet_source_with_typed_columns(tmp_path: Path):
    t = pa.table(
        {
            "meter_id": ["M1", "M1", "M2"],
            "day": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
            "kwh": [1.5, float("nan"), 3.0],
        }
    )
    pq.write_table(t, tmp_path / "daily_usage.parquet")
    r = ingest([tmp_path / "daily_usage.parquet"], tmp_path / "ds")
    assert r.rows == {"daily_usage": 2}
    assert [(x["row"], x["check_name"]) for x in r.failures.to_pylist()] == [(2, "finite")]
    assert r.dataset.read("daily_usage").schema.field("day").type == pa.date32()


def test_folder_of_parquet_parts_named_after_table(tmp_path: Path):
    d = tmp_path / "exports" / "daily_usage"
    d.mkdir(parents=True)
    for i in range(2):
        pq.write_table(pa.table({"meter_id": [f"M{i}"], "day": ["2024-01-01"], "kwh": ["1"]}), d / f"part-{i}.parquet")
    r = ingest([tmp_path / "exports"], tmp_path / "ds")
    assert r.exit_code == 0 and r.rows == {"daily_usage": 2}


def test_mapping_file_names_tables_columns_and_values(tmp_path: Path):
    src = write(tmp_path, "MR_EXPORT_202402.csv", "ASSET_NO,YM,RD_DATE,RD_VAL,RD_MODE\nM1,202402,20240229,9,人工抄表\n")
    meters = write(tmp_path, "meters.csv", METERS)
    mapping = write(
        tmp_path,
        "map.yaml",
        "tables: {MR_EXPORT_202402: readings}\n"
        "columns:\n  readings: {ASSET_NO: meter_id, YM: period, RD_DATE: read_on, RD_VAL: reading,\n"
        "    RD_MODE: read_type}\n"
        "values:\n  readings.read_type: {人工抄表: actual}\n",
    )
    r = ingest([meters, src], tmp_path / "ds", mapping=mapping)
    assert r.exit_code == 0, (r.errors, r.failures.to_pylist())
    assert r.dataset.read("readings").to_pylist()[0]["read_type"] == "actual"
    bad = write(tmp_path, "bad.yaml", "tables: {X: no_such_table}\n")
    r2 = ingest([src], tmp_path / "ds", mapping=bad)
    assert r2.exit_code == 2 and "no_such_table" in r2.errors[0]


def test_unknown_file_name_is_unusable(tmp_path: Path):
    f = write(tmp_path, "stuff.csv", "a,b\n1,2\n")
    r = ingest([f], tmp_path / "ds")
    assert r.exit_code == 2 and "stuff.csv" in r.errors[0] and "--mapping" in r.errors[0]


@pytest.mark.parametrize(
    ("fn", "text", "expected"),
    [
        (coerce.date, "2024-01-31", dt.date(2024, 1, 31)),
        (coerce.date, "2024/1/31", dt.date(2024, 1, 31)),
        (coerce.date, "20240131", dt.date(2024, 1, 31)),
        (coerce.date, "2024年1月31日", dt.date(2024, 1, 31)),
        (coerce.date, "２０２４-０１-３１", dt.date(2024, 1, 31)),
        (coerce.date, "2024-02-30", None),
        (coerce.timestamp, "2024/1/31 8:05", dt.datetime(2024, 1, 31, 8, 5)),
        (coerce.timestamp, "2024年1月31日 08:00:00", dt.datetime(2024, 1, 31, 8)),
        (coerce.timestamp, "20240131080000", dt.datetime(2024, 1, 31, 8)),
        (coerce.period, "2024-01", "2024-01"),
        (coerce.period, "202401", "2024-01"),
        (coerce.period, "2024年1月", "2024-01"),
        (coerce.period, "2024/1", "2024-01"),
        (coerce.period, "2024-13", None),
        (coerce.number, "1,234.5", 1234.5),
        (coerce.number, "１２３", 123.0),
        (coerce.number, "  ", None),
        (coerce.number, "abc", None),
    ],
)
def test_coercion_of_utility_forms(fn, text, expected):
    got = duckdb.execute(f"SELECT {fn(coerce.blank('$v'))}", {"v": text}).fetchall()[0][0]
    assert got == expected


def test_file_names_with_a_date_suffix(tmp_path: Path):
    meters = write(tmp_path, "电能表_20240229.csv", METERS)
    readings = write(tmp_path, "抄表示数_202402.csv", "表号,账期,抄表日期,示数,抄表方式\nM1,202402,20240229,7,实抄\n")
    r = ingest([meters, readings], tmp_path / "ds")
    assert r.exit_code == 0 and r.rows == {"meters": 3, "readings": 1}


def test_identical_rows_repeated_are_kept_once(tmp_path: Path):
    meters = write(tmp_path, "meters.csv", METERS + "M1,customer,1,C1\n")
    r = ingest([meters], tmp_path / "ds")
    assert r.exit_code == 0 and r.rows == {"meters": 3} and r.tables["meters"]["duplicates_dropped"] == 1
