"""Each bad input gives a message naming file, row and column, and the previous dataset survives."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gridaudit.dataset import open_dataset, versions
from gridaudit.ingest import ingest

from .ingest_helpers import METERS, READINGS_FEB, write

HEADER = "meter_id,period,read_on,reading,read_type\n"


@pytest.fixture
def ds(base) -> Path:
    """A dataset with meters and January readings (version v0001)."""
    meters, readings, root = base
    assert ingest([meters, readings], root).exit_code == 0
    return root


def assert_intact(root: Path) -> None:
    assert versions(root) == ["v0001"]
    d = open_dataset(root)
    assert d.version == "v0001" and d.read("readings").num_rows == 3 and d.read("meters").num_rows == 3
    assert not list(root.glob(".staging-*"))


def test_empty_file(ds, tmp_path):
    f = write(tmp_path, "readings.csv", "")
    r = ingest([f], ds)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "第 1 行" in r.errors[0] and "empty" in r.errors[0]
    assert_intact(ds)


def test_header_only(ds, tmp_path):
    f = write(tmp_path, "readings.csv", HEADER)
    r = ingest([f], ds)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "第 2 行" in r.errors[0] and "header only" in r.errors[0]
    assert_intact(ds)


def test_binary_garbage_named_csv(ds, tmp_path):
    f = tmp_path / "readings.csv"
    f.write_bytes(os.urandom(3000) + b"\x00" * 10)
    r = ingest([f], ds)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "binary" in r.errors[0]
    assert_intact(ds)


def test_missing_required_column_names_file_and_column(ds, tmp_path):
    f = write(tmp_path, "readings.csv", "meter_id,period,read_on,read_type\nM1,2024-02,2024-02-29,actual\n")
    r = ingest([f], ds)
    assert r.exit_code == 2
    assert str(f) in r.errors[0] and "reading" in r.errors[0] and "required column reading is missing" in r.errors[0]
    assert_intact(ds)


def test_unusable_file_among_good_ones_writes_nothing(ds, tmp_path):
    good = write(tmp_path / "a", "readings.csv", READINGS_FEB)
    bad = write(tmp_path / "b", "meters.csv", "meter_id,multiplier\nM7,1\n")
    r = ingest([good, bad], ds)
    assert r.exit_code == 2 and any("role" in e for e in r.errors)
    assert_intact(ds)


def test_duplicate_keys_with_different_values_are_rejected(ds, tmp_path):
    f = write(
        tmp_path,
        "readings.csv",
        HEADER + "M1,2024-02,2024-02-29,130,actual\nM1,2024-02,2024-02-29,131,actual\nM2,2024-02,2024-02-29,5,ami\n",
    )
    r = ingest([f], ds)
    assert r.exit_code == 1
    rows = sorted((x["row"], x["check_name"], x["column_name"]) for x in r.failures.to_pylist())
    assert rows == [(2, "unique", "meter_id, period, read_on"), (3, "unique", "meter_id, period, read_on")]
    assert r.dataset.read("readings").num_rows == 4  # 3 of January + M2 of February


def test_gbk_file_read_as_utf8_by_mistake_is_detected(ds, tmp_path):
    text = (
        "电能表编号,抄表年月,抄表日期,本次示数,抄表方式\n"
        "M1,2024年2月,2024年2月29日,130,人工\n"
        'M2,202402,2024/2/29,"1,260",采集\n'
    )
    f = write(tmp_path, "抄表示数.csv", text, "gbk")
    with pytest.raises(UnicodeDecodeError):
        f.read_bytes().decode("utf-8")
    r = ingest([f], ds)
    assert r.exit_code == 0, r.errors
    t = {x["meter_id"]: x for x in r.dataset.read("readings").to_pylist() if x["period"] == "2024-02"}
    assert t["M1"]["read_type"] == "actual" and t["M2"]["reading"] == 1260.0 and t["M2"]["read_type"] == "ami"
    assert r.dataset.manifest["sources"][0]["encoding"] == "gb18030"


def test_mixed_encoding_is_reported_with_row(ds, tmp_path):
    good = ("电能表编号,抄表年月,抄表日期,本次示数,抄表方式\nM1,2024-02,2024-02-29,130,人工\n").encode()
    bad = "M2,2024-02,2024-02-29,260,采集\n".encode("gbk")
    f = tmp_path / "readings.csv"
    f.write_bytes(good + bad)
    r = ingest([f], ds)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "第 3 行" in r.errors[0] and "mixed encoding" in r.errors[0]
    assert_intact(ds)


def test_reading_for_unknown_meter_negative_nan_future(ds, tmp_path):
    f = write(
        tmp_path,
        "readings.csv",
        HEADER + "M404,2024-02,2024-02-29,1,actual\nM1,2024-02,2024-02-29,-1,actual\n"
        "M2,2024-02,2024-02-29,nan,actual\nM3,2099-02,2099-02-28,1,actual\n",
    )
    r = ingest([f], ds)
    got = sorted((x["row"], x["column_name"], x["check_name"], x["value"]) for x in r.failures.to_pylist())
    assert got == [
        (2, "meter_id", "foreign_key", "M404"),
        (3, "reading", "range", "-1"),
        (4, "reading", "finite", "nan"),
        (5, "read_on", "not_future", "2099-02-28"),
    ]
    assert r.exit_code == 1 and r.rows["readings"] == 0 and not r.changed
    assert_intact(ds)


def test_fifo_cut_off_mid_row(ds, tmp_path):
    fifo = tmp_path / "readings.csv"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write((HEADER + "M1,2024-02,2024-02-29,130,actual\nM2,2024-02,2024-02-2").encode())

    th = threading.Thread(target=writer)
    th.start()
    r = ingest([fifo], ds)
    th.join()
    assert r.exit_code == 2 and str(fifo) in r.errors[0] and "第 3 行" in r.errors[0] and "cut off" in r.errors[0]
    assert_intact(ds)


@pytest.mark.parametrize("how", ["delete", "truncate"])
def test_file_deleted_or_truncated_while_read(ds, tmp_path, how):
    f = write(tmp_path, "readings.csv", READINGS_FEB)

    def hook(event: str, info: dict) -> None:
        if event == "read" and f.exists():
            if how == "delete":
                f.unlink()
            else:
                with open(f, "r+b") as fh:
                    fh.truncate(40)

    r = ingest([f], ds, on_event=hook)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "vanished or changed while being read" in r.errors[0]
    assert_intact(ds)


def test_meters_and_readings_in_chinese_gbk_folder(tmp_path):
    src = tmp_path / "导出"
    write(src, "电能表.csv", "表号,表计类型,倍率\nM1,用户表,1\nM2,考核表,80\n", "gbk")
    write(src, "抄表示数.csv", "表号,账期,抄表日期,示数,抄表方式\nM1,2024-01,20240131,12,实抄\n", "gb18030")
    r = ingest([src], tmp_path / "ds")
    assert r.exit_code == 0, r.errors
    assert r.dataset.read("meters").to_pylist()[1]["role"] == "area_total"
    assert r.rows == {"meters": 2, "readings": 1}


def test_utf8_bom_header(tmp_path):
    f = write(tmp_path, "meters.csv", "\ufeff" + METERS)
    r = ingest([f], tmp_path / "ds")
    assert r.exit_code == 0 and r.rows["meters"] == 3
    assert r.dataset.read("meters").column_names[0] == "meter_id"


def test_blank_lines_keep_row_numbers_and_extra_fields_are_flagged(ds, tmp_path):
    f = write(
        tmp_path,
        "readings.csv",
        HEADER
        + "M1,2024-02,2024-02-29,130,actual\n\n\nM2,2024-02,2024-02-29,-2,ami\r\nM3,2024-02,2024-02-29,5,ami,oops\n",
    )
    r = ingest([f], ds)
    got = sorted((x["row"], x["check_name"], x["value"]) for x in r.failures.to_pylist())
    assert got == [(5, "range", "-2"), (6, "fields", "oops")]
    assert r.rows["readings"] == 1


def test_second_concurrent_ingest_is_refused(ds, tmp_path):
    from filelock import FileLock

    with FileLock(str(ds / ".ingest.lock")):
        r = ingest([write(tmp_path, "readings.csv", READINGS_FEB)], ds)
    assert r.exit_code == 2 and "another ingest" in r.errors[0]
    assert_intact(ds)


def test_bad_rows_and_duplicates_together_take_the_full_path(ds, tmp_path):
    f = write(
        tmp_path,
        "readings.csv",
        HEADER + "M1,2024-02,2024-02-29,1,actual\nM1,2024-02,2024-02-29,2,actual\nM2,2024-02,2024-02-29,x,ami\n"
        "M3,2024-02,2024-02-29,9,ami\n",
    )
    events: list[str] = []
    r = ingest([f], ds, on_event=lambda e, i: events.append(e))
    assert events.count("read") == 1 and events.count("recheck") == 1  # one "read" per source for progress bars
    got = sorted((x["row"], x["check_name"]) for x in r.failures.to_pylist())
    assert got == [(2, "unique"), (3, "unique"), (4, "type")]
    assert r.rows["readings"] == 1 and r.rejected["readings"] == 3
    import pyarrow.parquet as pq

    q = pq.read_table(r.dataset.path / "_quarantine" / "readings.parquet")
    assert sorted(q["row"].to_pylist()) == [2, 3, 4]


def test_units_parent_is_checked_against_the_same_ingest(tmp_path):
    f = write(tmp_path, "units.csv", "unit_id,name,parent_id\nU1,公司,\nU2,县公司,U1\nU3,供电所,U9\n")
    r = ingest([f], tmp_path / "ds")
    assert [(x["row"], x["column_name"], x["check_name"], x["severity"]) for x in r.failures.to_pylist()] == [
        (4, "parent_id", "foreign_key", "warning")  # parent_id is optional: U3 is kept, the failure recorded
    ]
    assert r.rows == {"units": 3} and r.exit_code == 0


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_detected(ds, tmp_path, codec):
    text = "表号,账期,抄表日期,示数,抄表方式\nM1,2024-02,2024-02-29,130,实抄\nM2,2024-02,2024-02-29,260,采集\n"
    f = write(tmp_path, "抄表示数.csv", text, codec)
    assert not f.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    r = ingest([f], ds)
    assert r.exit_code == 0, r.errors
    assert r.dataset.manifest["sources"][0]["encoding"] == codec
    feb = {x["meter_id"]: x["reading"] for x in r.dataset.read("readings").to_pylist() if x["period"] == "2024-02"}
    assert feb == {"M1": 130.0, "M2": 260.0}


def test_utf16_without_bom_that_does_not_decode_says_what_it_looks_like(ds, tmp_path):
    f = tmp_path / "readings.csv"
    good = "meter_id,period,read_on,reading,read_type\n".encode("utf-16-le")
    f.write_bytes(good + b"\x00\xd8A\x00")  # a lone high surrogate
    r = ingest([f], ds)
    assert r.exit_code == 2 and "UTF-16LE" in r.errors[0] and "not a text file" not in r.errors[0]
    assert_intact(ds)


def _no_sql(text: str) -> None:
    for word in ("SELECT", "COPY", "read_csv", "LINE 1", "Error:"):
        assert word not in text, text


def test_file_deleted_while_listing_bad_rows_is_reported_plainly(ds, tmp_path):
    f = write(tmp_path, "readings.csv", READINGS_FEB + "M1,2024-02,2024-02-28,-1,actual\n")

    def hook(event: str, info: dict) -> None:
        if event == "recheck" and f.exists():
            f.unlink()

    r = ingest([f], ds, on_event=hook)
    assert r.exit_code == 2 and str(f) in r.errors[0]
    assert "vanished or changed while being read" in r.errors[0] and "在读取过程中消失或被修改" in r.errors[0]
    _no_sql(r.errors[0])
    assert_intact(ds)


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_file_deleted_between_decoding_and_reading_is_reported_plainly(ds, tmp_path, monkeypatch, kind):
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from gridaudit.ingest import run as run_mod

    f = write(tmp_path, "readings.csv", READINGS_FEB)
    if kind == "parquet":
        pq.write_table(pacsv.read_csv(f), tmp_path / "readings.parquet")
        f.unlink()
        f = tmp_path / "readings.parquet"
    name = f"{kind}_relation"
    real = getattr(run_mod, name)

    def deleting(*args, **kwargs):
        f.unlink()  # a real deletion, just before DuckDB first opens the file
        return real(*args, **kwargs)

    monkeypatch.setattr(run_mod, name, deleting)
    r = ingest([f], ds)
    assert r.exit_code == 2 and str(f) in r.errors[0] and "vanished or changed while being read" in r.errors[0]
    _no_sql(r.errors[0])
    assert_intact(ds)


def test_missing_source_leaves_no_new_dataset_folder(tmp_path):
    from typer.testing import CliRunner

    from gridaudit.cli import app

    root = tmp_path / "x"
    res = CliRunner().invoke(app, ["ingest", str(tmp_path / "nonexist.csv"), "--dataset", str(root), "--lang", "en"])
    out = " ".join(res.output.split())  # the console wraps long lines
    assert res.exit_code == 2 and "nonexist.csv" in out and "no such file" in out
    assert not root.exists()


def test_unusable_content_leaves_no_new_dataset_folder(tmp_path):
    f = write(tmp_path, "readings.csv", "")
    r = ingest([f], tmp_path / "new")
    assert r.exit_code == 2 and not (tmp_path / "new").exists()
    existing = tmp_path / "old"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    r = ingest([f], existing)
    assert r.exit_code == 2 and {p.name for p in existing.iterdir()} - {".ingest.lock"} == {"keep.txt"}
