"""Complete days above the area (可算日 for 分线, 分压, 分区): a feeder day counts only when its head meter and every
area meter on its sales side reported and enough of the customers fed directly did; the voltage level follows its
feeders or areas; the unit (supply = feeder heads, sales = all customers) does not depend on the area meters."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.lineloss.run import LossResult, run_loss
from gridaudit.lineloss.settings import CompleteDays, LossSettings

from .lineloss_tiny import derive, without_days

# Energy of one feeder's meters straight from the raw files (integer Wh per meter-day, as documented), over the
# January days not in $skip: head, area meters, customers fed directly, all customers on the feeder.
FEEDER_WH = """
WITH e AS (
    SELECT m.role, c.customer_id, c.area_id AS c_area, CAST(ROUND(d.kwh * m.multiplier * 1000) AS BIGINT) AS wh,
           COALESCE(c.feeder_id, m.feeder_id, a.feeder_id) AS feeder_id
    FROM read_parquet($du) d JOIN read_parquet($me) m USING (meter_id)
    LEFT JOIN read_parquet($cu) c ON c.customer_id = m.customer_id
    LEFT JOIN read_parquet($ar) a ON a.area_id = m.area_id
    WHERE d.day >= DATE '2025-01-01' AND d.day <= DATE '2025-01-31' AND NOT list_contains($skip, d.day)
)
SELECT SUM(CASE WHEN role = 'feeder_head' THEN wh ELSE 0 END) AS head,
       SUM(CASE WHEN role = 'area_total' THEN wh ELSE 0 END) AS areas,
       SUM(CASE WHEN role = 'customer' AND c_area IS NULL THEN wh ELSE 0 END) AS direct,
       SUM(CASE WHEN role = 'customer' THEN wh ELSE 0 END) AS customers
FROM e WHERE feeder_id = $feeder
"""

GAP = date(2025, 1, 5)


def _raw(root: Path, feeder: str, skip: list[date]) -> dict[str, int]:
    ds = open_dataset(root)
    params = {t: ds.table_glob(n) for t, n in (("du", "daily_usage"), ("me", "meters"), ("cu", "customers"))}
    params |= {"ar": ds.table_glob("areas"), "skip": skip, "feeder": feeder}
    rel = duckdb.sql(FEEDER_WH, params=params)
    return dict(zip(rel.columns, rel.fetchall()[0], strict=True))


def _feeder_rate(root: Path, feeder: str, skip: list[date]) -> float:
    e = _raw(root, feeder, skip)
    return 100.0 * (e["head"] - e["areas"] - e["direct"]) / e["head"]


def _unit_rate(root: Path, feeder: str, skip: list[date]) -> float:
    e = _raw(root, feeder, skip)
    return 100.0 * (e["head"] - e["customers"]) / e["head"]


def _row(result: LossResult, entity: str, table: str = "monthly", period: str = "2025-01") -> dict:
    return next(
        x for x in getattr(result.balance, table).to_pylist() if x["entity_id"] == entity and x["period"] == period
    )


@pytest.mark.parametrize("min_day_coverage", [0.0, 0.7, 0.95])
def test_a_missing_area_meter_day_leaves_the_feeder_day_out(tmp_path, tiny, min_day_coverage):
    """A silent area meter is not excused by the coverage share: it leaves the feeder day out whatever the
    threshold (F1 has 4 sales meters, so 3 of 4 = 75 % passed 0.7 and 0.0 before — as one of 20+ areas passes 95 %
    — and the area's energy was missing from the feeder's out)."""
    root, _ = tiny
    ds = without_days(root, tmp_path / "ds", ["MT_A2"], [GAP])
    r = run_loss(ds, period="2025-01", settings=LossSettings(days=CompleteDays(min_day_coverage=min_day_coverage)))
    f1 = _row(r, "F1")
    assert (f1["days_used"], f1["days_left_out"], f1["left_out_days"]) == (30, 1, GAP.isoformat())
    assert (f1["area_days_measured"], f1["area_days_expected"]) == (3 * 31 - 1, 3 * 31)
    assert f1["supply_ok"] is True  # the head meter itself reported every day
    assert f1["band"] != "not_computable"
    assert f1["loss_rate_pct"] == pytest.approx(_feeder_rate(ds, "F1", [GAP]), abs=1e-9)
    # counting the gap day would add its head energy without A2's share of the out: a higher rate
    assert _feeder_rate(ds, "F1", []) > f1["loss_rate_pct"] + 0.5
    day = _row(r, "F1", "daily", GAP.isoformat())
    assert (day["band"], day["loss_rate_pct"], day["area_days_measured"], day["area_days_expected"]) == (
        "not_computable",
        None,
        2,
        3,
    )
    # the voltage levels follow: 10 kV is F1's balance, 0.4 kV has A2's meter on its supply side
    for vl in ("U1:10.0kV", "U1:0.4kV"):
        assert _row(r, vl)["left_out_days"] == GAP.isoformat(), vl
    # the unit's balance (feeder heads − all customers) has no area meter in it: the day counts
    u1 = _row(r, "U1")
    assert (u1["days_left_out"], u1["area_days_expected"]) == (0, 0)
    assert u1["loss_rate_pct"] == pytest.approx(_unit_rate(ds, "F1", []), abs=1e-9)
    assert _row(r, "F2")["days_left_out"] == 0


def test_a_missing_head_meter_day_leaves_feeder_voltage_and_unit_out(tmp_path, tiny):
    root, _ = tiny
    gap = date(2025, 1, 7)
    ds = without_days(root, tmp_path / "ds", ["MF_F1"], [gap])
    r = run_loss(ds, period="2025-01")
    for entity in ("F1", "U1:10.0kV", "U1", "U0"):
        row = _row(r, entity)
        assert (row["days_left_out"], row["left_out_days"]) == (1, gap.isoformat()), entity
    assert _row(r, "F1")["supply_ok"] is False
    assert _row(r, "F1")["loss_rate_pct"] == pytest.approx(_feeder_rate(ds, "F1", [gap]), abs=1e-9)
    assert _row(r, "U1")["loss_rate_pct"] == pytest.approx(_unit_rate(ds, "F1", [gap]), abs=1e-9)
    for entity in ("U1:0.4kV", "A1", "A2", "F2"):
        assert _row(r, entity)["days_left_out"] == 0, entity


def test_a_missing_direct_customer_day_is_a_coverage_question(tmp_path, tiny):
    """C_DIR, F1's only customer fed directly, silent one day: 3 of F1's 4 sales meters (its 3 area meters and C_DIR)
    reported, 75 % — left out at the default 95 %, kept at 70 % (where a silent area meter is still left out)."""
    root, _ = tiny
    gap = date(2025, 1, 9)
    ds = without_days(root, tmp_path / "ds", ["MC_DIR"], [gap])
    strict = _row(run_loss(ds, period="2025-01"), "F1")
    assert (strict["days_left_out"], strict["left_out_days"]) == (1, gap.isoformat())
    assert (strict["meter_days_reporting"], strict["meter_days_expected"]) == (4 * 31 - 1, 4 * 31)
    assert (strict["area_days_measured"], strict["area_days_expected"]) == (3 * 31, 3 * 31)
    assert strict["coverage_used"] == pytest.approx(1.0)
    loose = run_loss(ds, period="2025-01", settings=LossSettings(days=CompleteDays(min_day_coverage=0.7)))
    f1 = _row(loose, "F1")
    assert f1["days_left_out"] == 0
    assert f1["loss_rate_pct"] == pytest.approx(_feeder_rate(ds, "F1", []), abs=1e-9)


def test_coverage_counts_the_sales_side_meters(tiny):
    """meter_days_* count the sales side: a feeder's area meters and customers fed directly; a unit's customers
    (area meters cancel out of a unit's balance, so they are not in its coverage)."""
    root, truth = tiny
    r = run_loss(root, period="2025-01")
    customers = open_dataset(root).read("customers")
    on = {f: pc.sum(pc.equal(customers["feeder_id"], f)).as_py() for f in ("F1", "F2")}
    direct = {
        f: pc.sum(pc.and_(pc.equal(customers["feeder_id"], f), pc.is_null(customers["area_id"]))).as_py() for f in on
    }
    areas = {"F1": 3, "F2": 1}
    for f in ("F1", "F2"):
        row = _row(r, f)
        assert row["meter_days_expected"] == 31 * (direct[f] + areas[f]), f
        assert (row["area_days_measured"], row["area_days_expected"]) == (31 * areas[f],) * 2
    assert _row(r, "U1")["meter_days_expected"] == 31 * on["F1"]
    assert _row(r, "U1:10.0kV")["meter_days_expected"] == 31 * (direct["F1"] + areas["F1"])
    u0 = _row(r, "U0")
    assert u0["meter_days_expected"] == 31 * customers.num_rows
    assert u0["meter_days_expected"] - u0["meter_days_reporting"] == 5  # truth["gappy"] silent on days 10–14
    assert truth["gappy"] in customers["customer_id"].to_pylist()


def test_an_area_without_its_meter_makes_the_feeder_not_computable(tmp_path, tiny):
    """An area with customers but no area meter leaves a hole in the feeder's out on every day; an area with
    neither meter nor customers (not yet in service) does not."""
    root, _ = tiny
    src = open_dataset(root)
    areas = src.read("areas")
    empty = pa.Table.from_pylist([{"area_id": "A5", "feeder_id": "F1", "unit_id": "U1"}], schema=areas.schema)
    with_empty = derive(root, tmp_path / "empty", {"areas": pa.concat_tables([areas, empty])})
    r = run_loss(with_empty, period="2025-01")
    f1 = _row(r, "F1")
    assert (f1["days_left_out"], f1["area_days_measured"], f1["area_days_expected"]) == (0, 4 * 31, 4 * 31)
    assert f1["band"] != "not_computable"
    assert _row(r, "A5")["band"] == "not_computable"

    meters = src.read("meters")
    no_meter = derive(
        with_empty, tmp_path / "nometer", {"meters": meters.filter(pc.not_equal(meters["meter_id"], "MT_A3"))}
    )
    r = run_loss(no_meter, period="2025-01")
    f1 = _row(r, "F1")
    assert (f1["days_used"], f1["area_days_measured"], f1["area_days_expected"]) == (0, 3 * 31, 4 * 31)
    assert (f1["band"], f1["loss_rate_pct"]) == ("not_computable", None)
    assert _row(r, "A3")["band"] == "not_computable"
    assert _row(r, "F2")["days_left_out"] == 0 and _row(r, "F2")["band"] != "not_computable"
    assert _row(r, "U1")["days_left_out"] == 0  # heads − customers: still measured
