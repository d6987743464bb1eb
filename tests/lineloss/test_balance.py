"""The four-axis balance ties out against an independent SQL recomputation written here."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from gridaudit.dataset import open_dataset
from gridaudit.lineloss.run import run_loss

# Written separately from gridaudit.lineloss.balance: straight from the raw tables, no node map, no deltas.
# Energy definition (docs/lineloss.md): integer Wh = round(kwh × multiplier × 1000) per meter-day, summed exactly.
INDEPENDENT = """
WITH anc AS (SELECT unit_id, unit_id AS anc FROM un
             UNION ALL SELECT unit_id, parent_id FROM un WHERE parent_id IS NOT NULL),
u AS (
    SELECT d.meter_id, d.day, strftime(d.day, '%Y-%m') AS period,
           CAST(ROUND(d.kwh * m.multiplier * 1000) AS BIGINT) AS e,
           m.role, m.area_id AS m_area, m.feeder_id AS m_feeder,
           c.area_id AS c_area, c.feeder_id AS c_feeder
    FROM du d JOIN me m USING (meter_id) LEFT JOIN cu c ON c.customer_id = m.customer_id
),
area_supply AS (SELECT m_area AS area_id, period, SUM(e) AS e FROM u WHERE role = 'area_total' GROUP BY 1, 2),
area_sales AS (SELECT COALESCE(c_area, m_area) AS area_id, period, SUM(e) AS e FROM u
               WHERE role = 'customer' AND COALESCE(c_area, m_area) IS NOT NULL GROUP BY 1, 2),
direct AS (SELECT COALESCE(c_feeder, m_feeder) AS feeder_id, period, SUM(e) AS e FROM u
           WHERE role = 'customer' AND COALESCE(c_area, m_area) IS NULL GROUP BY 1, 2),
head AS (SELECT m_feeder AS feeder_id, period, SUM(e) AS e FROM u WHERE role = 'feeder_head' GROUP BY 1, 2),
areas_x AS (
    SELECT a.area_id, a.feeder_id, f.unit_id, p.period,
           COALESCE(s.e, 0) AS supply, COALESCE(l.e, 0) AS sales
    FROM ar a JOIN fe f USING (feeder_id) CROSS JOIN (SELECT DISTINCT period FROM u) p
    LEFT JOIN area_supply s ON s.area_id = a.area_id AND s.period = p.period
    LEFT JOIN area_sales l ON l.area_id = a.area_id AND l.period = p.period
),
feeders_x AS (
    SELECT f.feeder_id, f.unit_id, p.period, COALESCE(h.e, 0) AS supply,
           COALESCE((SELECT SUM(supply) FROM areas_x x WHERE x.feeder_id = f.feeder_id AND x.period = p.period), 0)
             + COALESCE(dr.e, 0) AS sales
    FROM fe f CROSS JOIN (SELECT DISTINCT period FROM u) p
    LEFT JOIN head h ON h.feeder_id = f.feeder_id AND h.period = p.period
    LEFT JOIN direct dr ON dr.feeder_id = f.feeder_id AND dr.period = p.period
)
SELECT 'area' AS level, area_id AS entity_id, period, CAST(supply AS DOUBLE) / 1000.0 AS supply,
       CAST(sales AS DOUBLE) / 1000.0 AS sales, CAST(supply - sales AS DOUBLE) / 1000.0 AS loss FROM areas_x
UNION ALL
SELECT 'feeder', feeder_id, period, CAST(supply AS DOUBLE) / 1000.0, CAST(sales AS DOUBLE) / 1000.0,
       CAST(supply - sales AS DOUBLE) / 1000.0
FROM feeders_x
UNION ALL
SELECT 'unit', fu.anc, fu.period, CAST(fu.supply AS DOUBLE) / 1000.0, NULL,
       CAST(fu.floss + COALESCE(au.aloss, 0) AS DOUBLE) / 1000.0
FROM (SELECT anc.anc, f.period, SUM(f.supply) AS supply, SUM(f.supply - f.sales) AS floss
      FROM feeders_x f JOIN anc ON anc.unit_id = f.unit_id GROUP BY 1, 2) fu
LEFT JOIN (SELECT anc.anc, a.period, SUM(a.supply - a.sales) AS aloss
           FROM areas_x a JOIN anc ON anc.unit_id = a.unit_id GROUP BY 1, 2) au
       ON au.anc = fu.anc AND au.period = fu.period
"""

# Unit sales straight from the customers (area customers + direct), to check sales = supply − loss.
UNIT_SALES = """
WITH anc AS (SELECT unit_id, unit_id AS anc FROM un
             UNION ALL SELECT unit_id, parent_id FROM un WHERE parent_id IS NOT NULL)
SELECT anc.anc AS unit_id, strftime(d.day, '%Y-%m') AS period,
       CAST(SUM(CAST(ROUND(d.kwh * m.multiplier * 1000) AS BIGINT)) AS DOUBLE) / 1000.0 AS sales
FROM du d JOIN me m USING (meter_id) JOIN cu c ON c.customer_id = m.customer_id
LEFT JOIN ar a ON a.area_id = COALESCE(c.area_id, m.area_id)
JOIN fe f ON f.feeder_id = COALESCE(a.feeder_id, c.feeder_id, m.feeder_id)
JOIN anc ON anc.unit_id = f.unit_id
WHERE m.role = 'customer'
GROUP BY 1, 2
"""


@pytest.fixture(scope="module")
def result(tiny):
    root, _ = tiny
    return run_loss(root)


@pytest.fixture(scope="module")
def raw(tiny):
    root, _ = tiny
    ds = open_dataset(root)
    con = duckdb.connect()
    for name, table in (
        ("du", "daily_usage"),
        ("me", "meters"),
        ("cu", "customers"),
        ("ar", "areas"),
        ("fe", "feeders"),
        ("un", "units"),
    ):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{ds.table_glob(table)}')")
    return con


def test_monthly_balance_equals_independent_sql(result, raw):
    expected = {(r[0], r[1], r[2]): r[3:] for r in raw.execute(INDEPENDENT).fetchall()}
    got = {(r["level"], r["entity_id"], r["period"]): r for r in result.balance.monthly.to_pylist()}
    checked = 0
    for key, (supply, sales, loss) in expected.items():
        row = got[key]
        assert row["supply_kwh"] == supply, key
        if sales is not None:
            assert row["sales_kwh"] == sales, key
        assert row["loss_kwh"] == loss, key
        checked += 1
    assert checked == 3 * (4 + 2 + 3)  # 3 months × (4 areas + 2 feeders + 3 units)


def test_unit_sales_are_the_customers_sales(result, raw):
    got = {(r["entity_id"], r["period"]): r for r in result.balance.monthly.to_pylist() if r["level"] == "unit"}
    rows = raw.execute(UNIT_SALES).fetchall()
    assert len(rows) == 9
    for unit, period, sales in rows:
        assert got[(unit, period)]["sales_kwh"] == sales


def test_levels_roll_up_exactly(result):
    """unit loss = Σ feeder loss + Σ area loss; voltage levels partition the unit; month = Σ days."""
    from decimal import Decimal

    m = result.balance.monthly.to_pylist()

    def dec(x: float) -> Decimal:
        return Decimal(repr(x)).quantize(Decimal("0.001"))

    for period in ("2025-01", "2025-02", "2025-03"):
        for unit, units in (("U1", {"U1"}), ("U2", {"U2"}), ("U0", {"U1", "U2"})):
            u = next(r for r in m if r["level"] == "unit" and r["entity_id"] == unit and r["period"] == period)
            feeders = {"U1": {"F1"}, "U2": {"F2"}, "U0": {"F1", "F2"}}[unit]
            parts = [
                r for r in m if r["period"] == period and r["level"] in ("area", "feeder") and r["feeder_id"] in feeders
            ]
            assert dec(u["loss_kwh"]) == sum(dec(r["loss_kwh"]) for r in parts)
            volts = [r for r in m if r["level"] == "voltage" and r["period"] == period and r["unit_id"] in units]
            assert dec(u["loss_kwh"]) == sum(dec(r["loss_kwh"]) for r in volts)
    d = result.balance.daily.to_pylist()
    jan = [r for r in d if r["level"] == "area" and r["entity_id"] == "A2" and r["period"].startswith("2025-01")]
    mon = next(r for r in m if r["level"] == "area" and r["entity_id"] == "A2" and r["period"] == "2025-01")
    assert len(jan) == 31
    assert sum(dec(r["supply_kwh"]) for r in jan) == dec(mon["supply_kwh"])


def test_negative_and_high_areas_and_coverage(result):
    w = {r["entity_id"]: r for r in result.balance.window.to_pylist() if r["level"] == "area"}
    assert w["A1"]["band"] == "negative"  # mapping error: C_MAP billed on A1, fed from A3
    assert w["A3"]["band"] in ("high", "extreme")
    assert w["A4"]["coverage"] == pytest.approx(895 / 900)
    days = {r["period"]: r for r in result.balance.daily.to_pylist() if r["entity_id"] == "A4"}
    assert days["2025-01-12"]["coverage"] == pytest.approx(0.9)
    assert days["2025-01-12"]["band"] == "not_computable"
    assert days["2025-01-20"]["band"] != "not_computable"


def test_window_from_to_and_period(tiny):
    root, _ = tiny
    r = run_loss(root, start=date(2025, 2, 1), end=date(2025, 2, 10))
    assert r.window.label == "2025-02-01..2025-02-10"
    a1 = next(x for x in r.balance.window.to_pylist() if x["entity_id"] == "A1")
    assert a1["days"] == 10
    p = run_loss(root, period="2025-02")
    assert {x["period"] for x in p.balance.monthly.to_pylist()} == {"2025-02"}


def test_missing_supply_meter_day_is_left_out_and_still_ties_out(tmp_path, tiny):
    import pyarrow.compute as pc

    from gridaudit.dataset import commit_version, stage_version

    root, _ = tiny
    src = open_dataset(root)
    dst = tmp_path / "ds"
    st = stage_version(dst)
    for t in src.tables():
        tab = src.read(t)
        if t == "daily_usage":  # area A2's total meter silent on 2025-01-05
            drop = pc.and_(pc.equal(tab["meter_id"], "MT_A2"), pc.equal(tab["day"], pa_date(2025, 1, 5)))
            tab = tab.filter(pc.invert(drop))
        st.write_table(t, tab)
    commit_version(st, {"sources": ["test"]})
    r = run_loss(dst, period="2025-01")
    a2 = next(x for x in r.balance.monthly.to_pylist() if x["entity_id"] == "A2")
    assert a2["band"] != "not_computable" and a2["supply_ok"] is False and a2["days_left_out"] == 1
    f1 = next(x for x in r.balance.monthly.to_pylist() if x["entity_id"] == "F1")
    u1 = next(x for x in r.balance.monthly.to_pylist() if x["level"] == "unit" and x["entity_id"] == "U1")
    areas = [x for x in r.balance.monthly.to_pylist() if x["level"] == "area" and x["feeder_id"] == "F1"]
    assert u1["loss_kwh"] == pytest.approx(f1["loss_kwh"] + sum(a["loss_kwh"] for a in areas), abs=1e-6)


def pa_date(y: int, m: int, d: int):
    import pyarrow as pa

    return pa.scalar(date(y, m, d), pa.date32())
