"""Billing-cycle loss and its gap to synchronous loss; the technical-loss model against hand calculation."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.lineloss.billing import GAP_PARTS
from gridaudit.lineloss.run import run_loss
from gridaudit.lineloss.settings import settings_from_dict

from .lineloss_tiny import derive


@pytest.fixture(scope="module")
def result(tiny):
    root, _ = tiny
    return run_loss(root, start=date(2025, 1, 1), end=date(2025, 2, 28))


def _raw(root):
    ds = open_dataset(root)
    con = duckdb.connect()
    for t in ("daily_usage", "meters", "customers"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{ds.table_glob(t)}')")
    return con


def test_gap_is_split_exactly(result):
    rows = result.billing.to_pylist()
    assert len(rows) == 4 * 2
    for r in rows:
        assert r["gap"] == pytest.approx(sum(r[p] for p in GAP_PARTS), abs=1e-6)
        assert abs(r["gap_residual"]) < 1e-6
        assert r["loss_billing"] == pytest.approx(r["supply_billing"] - r["sales_billing"])


def test_gap_causes(result, tiny):
    root, truth = tiny
    by = {(r["area_id"], r["period"]): r for r in result.billing.to_pylist()}
    # the estimated read on C_A1_02 (+60 kWh on the February reading)
    assert by[("A1", "2025-02")]["bills_estimated"] == 1
    assert by[("A1", "2025-02")]["gap_estimated_reads"] == pytest.approx(-60.0, abs=1e-3)
    # C_A3_07 has AMI data but no bill
    con = _raw(root)
    jan_use = con.execute(
        "SELECT SUM(kwh) FROM daily_usage WHERE meter_id = ? AND day < DATE '2025-02-01'", ["M" + truth["unbilled"]]
    ).fetchall()[0][0]
    assert by[("A3", "2025-01")]["customers_unbilled"] == 1
    assert by[("A3", "2025-01")]["gap_unbilled"] == pytest.approx(jan_use, rel=1e-9)
    # customers are read on the 25th: the January bill misses 25–31 January
    tail = con.execute(
        """SELECT SUM(d.kwh * m.multiplier) FROM daily_usage d JOIN meters m USING (meter_id)
           JOIN customers c ON c.customer_id = m.customer_id
           WHERE c.area_id = 'A2' AND d.day BETWEEN DATE '2025-01-25' AND DATE '2025-01-31'"""
    ).fetchall()[0][0]
    assert by[("A2", "2025-01")]["gap_customer_read_days"] == pytest.approx(tail, rel=1e-9)
    assert by[("A2", "2025-01")]["main_cause"] == "customer_read_days"
    # area meters are read on the 1st: billing supply = calendar supply
    assert by[("A2", "2025-01")]["gap_supply_read_days"] == pytest.approx(0.0, abs=1e-6)


def test_technical_loss_by_load_shape_factor(result):
    s = settings_from_dict({})
    k, pf = s.technical.load_shape_factor, s.technical.power_factor
    days = [r for r in result.balance.daily.to_pylist() if r["level"] == "area" and r["entity_id"] == "A2"]
    expect = sum(0.24 * 24 + 2.6 * (k * k * r["supply_kwh"] ** 2 / 24) / (200 * pf) ** 2 for r in days)
    tw = next(r for r in result.technical_window.to_pylist() if r["area_id"] == "A2")
    assert tw["technical_kwh"] == pytest.approx(expect, rel=1e-9)
    assert tw["line_kwh"] is None and tw["method"] == "load_shape"
    assert tw["non_technical_kwh"] == pytest.approx(tw["loss_kwh"] - tw["technical_kwh"])


def test_technical_loss_from_interval_data_and_line_term(tiny, tmp_path):
    root, _ = tiny
    src = open_dataset(root)
    areas = src.read("areas")
    areas = areas.append_column("line_r_eq_ohm", pa.array([0.05, None, None, None], pa.float64()))
    # A1's total meter: 24 hourly reads a day in January, 1.2 register kWh each hour, multiplier 80 → 96 kW
    ts = [datetime(2025, 1, 1) + timedelta(hours=h) for h in range(31 * 24)]
    iu = pa.table({"meter_id": ["MT_A1"] * len(ts), "ts": pa.array(ts, pa.timestamp("s")), "kwh": [1.2] * len(ts)})
    dst = derive(root, tmp_path / "ds", {"areas": areas, "interval_usage": iu})
    r = run_loss(dst, period="2025-01")
    tm = next(x for x in r.technical_monthly.to_pylist() if x["area_id"] == "A1")
    pf = 0.9
    q_day = 24 * 96.0**2  # Σ P² Δt over one day, kW²·h
    assert tm["method"] == "interval"
    assert tm["load_kwh"] == pytest.approx(31 * 2.6 * q_day / (200 * pf) ** 2, rel=1e-9)
    assert tm["line_kwh"] == pytest.approx(31 * 0.05 * q_day / (0.4**2 * pf**2) / 1000, rel=1e-9)
    other = next(x for x in r.technical_monthly.to_pylist() if x["area_id"] == "A2")
    assert other["method"] == "load_shape" and other["line_kwh"] is None
