"""Line loss on complete days (同期线损 on 可算日): gap days are left out of the rate, too few days → not computable."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.lineloss.run import run_loss
from gridaudit.lineloss.settings import CompleteDays, LossSettings, settings_from_dict
from gridaudit.settings_file import SettingsError

from .lineloss_tiny import without_days

# A2's rate straight from the raw files over the days not in $skip (integer Wh per meter-day, as documented).
A2_RATE = """
WITH e AS (
    SELECT d.day, m.role, CAST(ROUND(d.kwh * m.multiplier * 1000) AS BIGINT) AS wh
    FROM read_parquet($du) d JOIN read_parquet($me) m USING (meter_id)
    LEFT JOIN read_parquet($cu) c ON c.customer_id = m.customer_id
    WHERE d.day >= DATE '2025-01-01' AND d.day <= DATE '2025-01-31' AND NOT list_contains($skip, d.day)
      AND (m.meter_id = 'MT_A2' OR (m.role = 'customer' AND c.area_id = 'A2'))
)
SELECT SUM(CASE WHEN role = 'area_total' THEN wh ELSE 0 END) AS supply,
       SUM(CASE WHEN role = 'customer' THEN wh ELSE 0 END) AS sales
FROM e
"""


def _independent_rate(root: Path, skip: list[date]) -> float:
    ds = open_dataset(root)
    params = {
        "du": ds.table_glob("daily_usage"),
        "me": ds.table_glob("meters"),
        "cu": ds.table_glob("customers"),
        "skip": skip,
    }
    supply, sales = duckdb.sql(A2_RATE, params=params).fetchall()[0]
    return 100.0 * (supply - sales) / supply


def _a2_january(result) -> dict:
    return next(x for x in result.balance.monthly.to_pylist() if x["level"] == "area" and x["entity_id"] == "A2")


def test_a_gap_day_is_left_out_and_the_rate_is_over_the_other_days(tmp_path, tiny):
    root, _ = tiny
    gap = [date(2025, 1, 5)]
    ds = without_days(root, tmp_path / "ds", ["MT_A2", "MT_A3"], gap)
    r = run_loss(ds, period="2025-01")
    a2 = _a2_january(r)
    assert a2["band"] != "not_computable"
    assert a2["supply_ok"] is False  # the supply meter did miss a day …
    assert (a2["days"], a2["days_used"], a2["days_left_out"]) == (31, 30, 1)
    assert a2["left_out_days"] == "2025-01-05"
    assert a2["loss_rate_pct"] == pytest.approx(_independent_rate(ds, gap), abs=1e-9)
    # … and the rate is not the all-days one (the gap day's sales without its supply would lower it)
    assert a2["loss_rate_pct"] != pytest.approx(100.0 * a2["loss_kwh"] / a2["supply_kwh"], abs=0.1)
    assert a2["supply_kwh_used"] - a2["sales_kwh_used"] == pytest.approx(a2["loss_kwh_used"], abs=1e-9)
    day = next(x for x in r.balance.daily.to_pylist() if x["entity_id"] == "A2" and x["period"] == "2025-01-05")
    assert (day["band"], day["days_used"], day["loss_rate_pct"]) == ("not_computable", 0, None)
    # A3 (high: C_MAP's energy passes it) missed the same day: its finding's evidence says which days count
    a3 = next(f for f in r.findings.to_pylist() if f["entity_id"] == "A3" and f["rule_id"] == "loss_area_high")
    ev = json.loads(a3["evidence"])
    assert (ev["days_used"], ev["days_left_out"], ev["left_out_days"]) == (30, 1, "2025-01-05")
    a3_row = next(x for x in r.balance.monthly.to_pylist() if x["entity_id"] == "A3")
    assert ev["supply_kwh"] == pytest.approx(a3_row["supply_kwh_used"], abs=1e-3)
    assert ev["supply_kwh"] == pytest.approx(a3_row["supply_kwh"], abs=1e-3)  # a missing day adds no supply …
    assert ev["sales_kwh"] < a3_row["sales_kwh"]  # … but its sales are left out too


def test_too_few_computable_days_stay_not_computable(tmp_path, tiny):
    root, _ = tiny
    gaps = [date(2025, 1, 1) + timedelta(days=i) for i in range(0, 20, 2)]  # 10 of 31 days
    ds = without_days(root, tmp_path / "ds", ["MT_A2"], gaps)
    strict = run_loss(ds, period="2025-01")  # default: 80 % of 31 days → 25 needed, 21 computable
    a2 = _a2_january(strict)
    assert (a2["days_used"], a2["days_left_out"]) == (21, 10)
    assert a2["band"] == "not_computable"
    assert a2["left_out_days"].split(",") == [d.isoformat() for d in gaps]
    lenient = run_loss(ds, period="2025-01", settings=LossSettings(days=CompleteDays(min_days_share=0.6)))
    a2 = _a2_january(lenient)
    assert a2["band"] != "not_computable"
    assert a2["loss_rate_pct"] == pytest.approx(_independent_rate(ds, gaps), abs=1e-9)
    # the levels still tie out on all days (missing supply counts 0 kWh in the energy columns)
    m = lenient.balance.monthly.to_pylist()
    f1 = next(x for x in m if x["entity_id"] == "F1")
    u1 = next(x for x in m if x["level"] == "unit" and x["entity_id"] == "U1")
    areas = [x for x in m if x["level"] == "area" and x["feeder_id"] == "F1"]
    assert u1["loss_kwh"] == pytest.approx(f1["loss_kwh"] + sum(a["loss_kwh"] for a in areas), abs=1e-6)


def test_low_coverage_days_are_left_out(tiny):
    """A4 has one customer of ten without AMI data on days 10–14 (90 % < 95 %): those days are left out."""
    root, _ = tiny
    r = run_loss(root, period="2025-01")
    a4 = next(x for x in r.balance.monthly.to_pylist() if x["entity_id"] == "A4")
    assert a4["days_left_out"] == 5
    assert a4["left_out_days"].split(",") == [(date(2025, 1, 11) + timedelta(days=i)).isoformat() for i in range(5)]
    assert a4["coverage_used"] == pytest.approx(1.0)
    assert a4["coverage"] < 1.0
    assert a4["band"] != "not_computable"
    loose = run_loss(root, period="2025-01", settings=LossSettings(days=CompleteDays(min_day_coverage=0.8)))
    a4 = next(x for x in loose.balance.monthly.to_pylist() if x["entity_id"] == "A4")
    assert a4["days_left_out"] == 0 and a4["left_out_days"] == ""


def test_required_days_rule():
    d = CompleteDays(min_days_share=0.8, min_days=7)
    assert [d.required(n) for n in (1, 5, 7, 10, 31, 366)] == [1, 5, 7, 8, 25, 293]


def test_days_settings_are_read_and_checked():
    s = settings_from_dict({"days": {"min_day_coverage": 0.9, "min_days_share": 0.5, "min_days": 3}})
    assert s.days == CompleteDays(0.9, 0.5, 3)
    with pytest.raises(SettingsError, match="min_days_share"):
        settings_from_dict({"days": {"min_days_share": 1.5}}, "x.yaml")
    with pytest.raises(SettingsError, match="x.yaml"):
        settings_from_dict({"days": {"min_day": 3}}, "x.yaml")
