from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from gridaudit.dataset import open_dataset, versions
from gridaudit.ingest import ingest

from .ingest_helpers import READINGS_FEB, write


def test_clean_ingest_writes_typed_tables(base):
    meters, readings, ds = base
    r = ingest([meters, readings], ds)
    assert r.exit_code == 0 and r.changed
    assert r.rows == {"meters": 3, "readings": 3}
    assert r.failures.num_rows == 0
    d = open_dataset(ds)
    t = d.read("readings")
    assert str(t.schema.field("read_on").type) == "date32[day]"
    assert t.schema.field("reading").type == "double"
    assert sorted(t["reading"].to_pylist()) == [100.0, 200.5, 5000.0]
    assert d.has("failure_cases") and d.rows("failure_cases") == 0
    assert d.manifest["sources"][0]["sha256"]


def test_reingest_same_sources_changes_nothing(base):
    meters, readings, ds = base
    first = ingest([meters, readings], ds)
    again = ingest([meters, readings], ds)
    assert again.exit_code == 0 and not again.changed
    assert versions(ds) == [first.dataset.version]
    # the same rows given again in another file: checked row by row, still no new version
    copy = write(readings.parent / "again", "readings.csv", readings.read_text())
    third = ingest([copy], ds)
    assert not third.changed and third.tables["readings"]["unchanged"] == 3
    assert versions(ds) == [first.dataset.version]


def test_later_month_merges_by_key_and_carries_other_tables(base, tmp_path: Path):
    meters, readings, ds = base
    v1 = ingest([meters, readings], ds).dataset
    feb = write(tmp_path / "feb", "readings.csv", READINGS_FEB)
    r = ingest([feb], ds)
    assert r.changed and r.exit_code == 0
    d = r.dataset
    assert d.rows("readings") == 6
    assert d.read("readings").group_by(["meter_id", "period", "read_on"]).aggregate([]).num_rows == 6
    # meters carried over by hard link, not rewritten
    assert (d.path / "meters.parquet").stat().st_ino == (v1.path / "meters.parquet").stat().st_ino
    # the previous version is still intact
    assert pq.read_table(v1.path / "readings.parquet").num_rows == 3


def test_changed_row_for_same_key_later_export_wins(base, tmp_path: Path):
    meters, readings, ds = base
    ingest([meters, readings], ds)
    fixed = write(
        tmp_path / "fix",
        "readings.csv",
        "meter_id,period,read_on,reading,read_type\nM1,2024-01,2024-01-31,101,actual\n",
    )
    r = ingest([fixed], ds)
    assert r.changed and r.tables["readings"]["updated"] == 1 and r.tables["readings"]["inserted"] == 0
    t = r.dataset.read("readings").to_pylist()
    assert len(t) == 3
    assert [x["reading"] for x in t if x["meter_id"] == "M1"] == [101.0]


def test_row_failures_are_named_and_quarantined(base, tmp_path: Path):
    meters, _, ds = base
    bad = write(
        tmp_path / "bad",
        "readings.csv",
        "meter_id,period,read_on,reading,read_type\n"
        "M1,2024-01,2024-01-31,100,actual\n"  # row 2 ok
        "M2,2024-01,2024-01-31,-3,actual\n"  # row 3 negative
        "M3,2024-01,2024-01-31,NaN,actual\n"  # row 4 NaN
        "M9,2024-01,2024-01-31,10,actual\n"  # row 5 unknown meter
        "M1,2999-02,2999-02-01,10,actual\n"  # row 6 future
        "M2,2024-02,2024-02-29,10,guess\n",  # row 7 domain
    )
    r = ingest([meters, bad], ds)
    assert r.exit_code == 1 and r.changed
    f = {(x["row"], x["column_name"], x["check_name"]) for x in r.failures.to_pylist()}
    assert f == {
        (3, "reading", "range"),
        (4, "reading", "finite"),
        (5, "meter_id", "foreign_key"),
        (6, "read_on", "not_future"),
        (7, "read_type", "domain"),
    }
    assert all(x["source"] == str(bad) for x in r.failures.to_pylist())
    assert r.rows["readings"] == 1 and r.rejected["readings"] == 5
    d = r.dataset
    assert d.read("readings")["meter_id"].to_pylist() == ["M1"]
    assert d.read("failure_cases").num_rows == 5
    q = pq.read_table(d.path / "_quarantine" / "readings.parquet")
    assert sorted(q["row"].to_pylist()) == [3, 4, 5, 6, 7]
    assert "-3" in q["reading"].to_pylist()
    assert "_quarantine" not in d.tables()


def test_strict_writes_nothing_when_rows_fail(base, tmp_path: Path):
    meters, readings, ds = base
    v1 = ingest([meters, readings], ds).dataset.version
    bad = write(
        tmp_path / "bad", "readings.csv", "meter_id,period,read_on,reading,read_type\nM1,2024-03,2024-03-31,-1,actual\n"
    )
    r = ingest([bad], ds, strict=True)
    assert r.exit_code == 1 and not r.changed
    assert versions(ds) == [v1]
    assert r.failures_path is not None and pq.read_table(r.failures_path).num_rows == 1


def test_a_single_path_is_accepted_as_well_as_a_list(base):
    meters, _, ds = base
    r = ingest(str(meters), ds)
    assert r.exit_code == 0 and r.rows == {"meters": 3}


def test_folder_files_naming_no_table_are_skipped_but_named_files_must_place(tmp_path: Path):
    from .ingest_helpers import METERS

    folder = tmp_path / "export"
    write(folder, "meters.csv", METERS)
    write(folder, "truth.csv", "kind,entity_id\ntheft_bypass,C1\n")
    events: list[tuple[str, dict]] = []
    r = ingest([folder], tmp_path / "ds", on_event=lambda e, i: events.append((e, i)))
    assert r.exit_code == 0 and r.rows == {"meters": 3}
    assert [i["source"] for e, i in events if e == "skip_file"] == [str(folder / "truth.csv")]
    named = ingest([folder / "truth.csv"], tmp_path / "ds2")
    assert named.exit_code == 2 and "truth.csv" in " ".join(named.errors)


def test_reingest_of_identical_bytes_reports_zero_new_rows(base, tmp_path: Path):
    from typer.testing import CliRunner

    from gridaudit.cli import app

    meters, readings, ds = base
    ingest([meters, readings], ds)
    again = ingest([meters, readings], ds)
    assert not again.changed
    assert again.tables["readings"]["inserted"] == 0 and again.tables["readings"]["updated"] == 0
    assert again.tables["readings"]["unchanged"] == 3
    for extra in ([], ["--strict"]):
        res = CliRunner().invoke(
            app, ["ingest", str(meters), str(readings), "--dataset", str(ds), "--lang", "en", *extra]
        )
        assert res.exit_code == 0, res.output
        assert "unchanged, nothing written" in res.output
        rows = [[c.strip() for c in line.strip("│ ").split("│")] for line in res.output.splitlines() if "│" in line]
        cells = next(r for r in rows if r[0] == "readings")
        assert cells[:5] == ["readings", "3", "0", "0", "0"], res.output  # accepted, rejected, inserted, updated


def test_strict_with_failures_reports_nothing_inserted(base, tmp_path: Path):
    meters, readings, ds = base
    ingest([meters, readings], ds)
    bad = write(
        tmp_path / "bad",
        "readings.csv",
        "meter_id,period,read_on,reading,read_type\nM1,2024-02,2024-02-29,130,actual\nM1,2024-03,2024-03-31,-1,actual\n",
    )
    r = ingest([bad], ds, strict=True)
    assert r.exit_code == 1 and not r.changed
    assert r.tables["readings"]["accepted"] == 1 and r.tables["readings"]["inserted"] == 0
