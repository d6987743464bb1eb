"""Billing-cycle loss per area and period, and the gap to the synchronous (calendar, AMI) loss explained.

Billing-cycle loss for area a and period P:
    supply = Σ over a's area_total meters of (last reading in P − last reading in P−1) × multiplier
    sales  = Σ bills.kwh of a's customers for P
Synchronous loss (same area, calendar month P, daily_usage): supply_sync − sales_sync.

gap = billing loss − synchronous loss, split exactly (up to float rounding, shown as ``gap_residual``) into:
    gap_supply_read_days    billing supply − calendar supply (the area meter's read days are not month ends)
    gap_customer_read_days  −Σ (AMI use in the customer's read window − AMI use in the calendar month)
    gap_estimated_reads     −Σ (bill − AMI use in the read window) for bills on an estimated reading
    gap_billing_other       −Σ (bill − AMI use in the read window) for other bills (wrong reads, virtual/withheld kWh)
    gap_missing_ami         −Σ bills of customers with no AMI data that month
    gap_unbilled            +Σ AMI use of customers with no bill that period
A customer's read window for P is [read day of P−1, read day of P): a reading is the register at 00:00
of its read day, and a daily_usage row holds the energy of its day. AMI use is taken from the customer-day
table of the balance window (``ll_cust_day``, built by behind.prepare_series), so a read window reaching
before the window start counts only its days inside the window.
"""

from __future__ import annotations

import pyarrow as pa

from gridaudit.engines import Engine
from gridaudit.engines.stages import materialise_staged, split_stages
from gridaudit.lineloss.balance import Window
from gridaudit.lineloss.inputs import ask

BILLING_SQL = """
WITH periods AS (SELECT DISTINCT period FROM ll_days),
cust_area AS (
    SELECT customer_id, MIN(node_id) AS area_id FROM ll_meter_map
    WHERE node_kind = 'area_sales' GROUP BY customer_id
),
rd AS (
    SELECT r.meter_id, r.period, MAX(r.read_on) AS read_on, MAX(r.reading) AS reading,
           MAX(CASE WHEN r.read_type = 'estimated' THEN 1 ELSE 0 END) AS estimated
    FROM readings r JOIN ll_meter_map mm ON mm.meter_id = r.meter_id
    WHERE mm.node_kind IN ('area_sales', 'area_supply')
    GROUP BY r.meter_id, r.period
),
win AS (
    SELECT rd.*, LAG(read_on) OVER (PARTITION BY meter_id ORDER BY period) AS read_prev,
           LAG(reading) OVER (PARTITION BY meter_id ORDER BY period) AS reading_prev
    FROM rd
),
supply_bc AS (
    SELECT mm.node_id AS area_id, w.period, SUM((w.reading - w.reading_prev) * mm.multiplier) AS supply_billing
    FROM win w JOIN ll_meter_map mm ON mm.meter_id = w.meter_id
    WHERE mm.node_kind = 'area_supply' AND w.reading_prev IS NOT NULL AND w.period IN (SELECT period FROM periods)
    GROUP BY mm.node_id, w.period
),
cal AS (
    SELECT k.customer_id, x.period, x.ami_cal
    FROM (SELECT b.cust_no, dd.period, SUM(b.use) AS ami_cal
          FROM ll_cust_day b JOIN ll_days dd ON dd.day = b.day
          GROUP BY b.cust_no, dd.period) x
    JOIN ll_cust_key k ON k.cust_no = x.cust_no
),
cw0 AS (
    SELECT mm.customer_id, w.period, MAX(w.estimated) AS estimated, MAX(w.read_prev) AS read_prev,
           MAX(w.read_on) AS read_on, COUNT(w.read_prev) AS windows
    FROM win w JOIN ll_meter_map mm ON mm.meter_id = w.meter_id
    WHERE mm.node_kind = 'area_sales' AND w.period IN (SELECT period FROM periods)
    GROUP BY mm.customer_id, w.period
),
cwin AS (  -- a join, not a correlated subquery (DuckDB's plan for that one ran out of memory at 1 M customers)
    SELECT cw0.customer_id, cw0.period, MAX(cw0.estimated) AS estimated, MAX(cw0.windows) AS windows,
           SUM(x.use) AS ami_win
    FROM cw0
    LEFT JOIN ll_cust_key k ON k.customer_id = cw0.customer_id
    LEFT JOIN ll_cust_day x ON x.cust_no = k.cust_no AND x.day >= cw0.read_prev AND x.day < cw0.read_on
    GROUP BY cw0.customer_id, cw0.period
),
billed AS (
    SELECT b.customer_id, b.period, SUM(b.kwh) AS bill
    FROM bills b WHERE b.period IN (SELECT period FROM periods)
    GROUP BY b.customer_id, b.period
),
cp AS (
    SELECT COALESCE(bl.customer_id, cal.customer_id) AS customer_id, COALESCE(bl.period, cal.period) AS period,
           bl.bill, cal.ami_cal, cw.ami_win, COALESCE(cw.estimated, 0) AS estimated, COALESCE(cw.windows, 0) AS windows
    FROM billed bl
    FULL OUTER JOIN cal ON cal.customer_id = bl.customer_id AND cal.period = bl.period
    LEFT JOIN cwin cw ON cw.customer_id = COALESCE(bl.customer_id, cal.customer_id)
                     AND cw.period = COALESCE(bl.period, cal.period)
),
cls AS (
    SELECT ca.area_id, cp.*,
           CASE WHEN cp.bill IS NOT NULL AND cp.ami_cal IS NOT NULL AND cp.windows > 0
                THEN COALESCE(cp.ami_win, 0) ELSE cp.ami_cal END AS ami_win_used
    FROM cp JOIN cust_area ca ON ca.customer_id = cp.customer_id
),
area_sales AS (
    SELECT area_id, period,
           SUM(COALESCE(bill, 0)) AS sales_billing,
           SUM(COALESCE(ami_cal, 0)) AS sales_sync,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NOT NULL THEN ami_win_used - ami_cal ELSE 0 END)
               AS read_offset,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NOT NULL AND estimated = 1 THEN bill - ami_win_used ELSE 0 END)
               AS est_diff,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NOT NULL AND estimated = 0 THEN bill - ami_win_used ELSE 0 END)
               AS other_diff,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NULL THEN bill ELSE 0 END) AS no_ami_billed,
           SUM(CASE WHEN bill IS NULL AND ami_cal IS NOT NULL THEN ami_cal ELSE 0 END) AS unbilled_ami,
           SUM(CASE WHEN bill IS NULL AND ami_cal IS NOT NULL THEN 1 ELSE 0 END) AS customers_unbilled,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NOT NULL AND estimated = 1 THEN 1 ELSE 0 END)
               AS bills_estimated,
           SUM(CASE WHEN bill IS NOT NULL AND ami_cal IS NULL THEN 1 ELSE 0 END) AS customers_no_ami
    FROM cls GROUP BY area_id, period
),
supply_sync AS (
    SELECT n.node_id AS area_id, nd.period, SUM(CAST(nd.wh AS DOUBLE)) / 1000.0 AS supply_sync
    FROM ll_node_day nd JOIN ll_nodes n ON n.node_no = nd.node_no
    WHERE n.node_kind = 'area_supply' GROUP BY n.node_id, nd.period
)
SELECT a.area_id, dd.period,
       s.supply_billing, COALESCE(sl.sales_billing, 0) AS sales_billing,
       s.supply_billing - COALESCE(sl.sales_billing, 0) AS loss_billing,
       ss.supply_sync, COALESCE(sl.sales_sync, 0) AS sales_sync,
       ss.supply_sync - COALESCE(sl.sales_sync, 0) AS loss_sync,
       COALESCE(s.supply_billing, 0) - ss.supply_sync AS gap_supply_read_days,
       -COALESCE(sl.read_offset, 0) AS gap_customer_read_days,
       -COALESCE(sl.est_diff, 0) AS gap_estimated_reads,
       -COALESCE(sl.other_diff, 0) AS gap_billing_other,
       -COALESCE(sl.no_ami_billed, 0) AS gap_missing_ami,
       COALESCE(sl.unbilled_ami, 0) AS gap_unbilled,
       COALESCE(sl.customers_unbilled, 0) AS customers_unbilled,
       COALESCE(sl.bills_estimated, 0) AS bills_estimated,
       COALESCE(sl.customers_no_ami, 0) AS customers_no_ami
FROM areas a CROSS JOIN (SELECT DISTINCT period FROM ll_days) dd
LEFT JOIN supply_bc s ON s.area_id = a.area_id AND s.period = dd.period
LEFT JOIN area_sales sl ON sl.area_id = a.area_id AND sl.period = dd.period
LEFT JOIN supply_sync ss ON ss.area_id = a.area_id AND ss.period = dd.period
"""

GAP_PARTS = (
    "gap_supply_read_days",
    "gap_customer_read_days",
    "gap_estimated_reads",
    "gap_billing_other",
    "gap_missing_ami",
    "gap_unbilled",
)


def billing_cycle_loss(engine: Engine, window: Window) -> pa.Table:
    """Billing-cycle vs synchronous loss per area and period, with the gap split into its causes."""
    # every CTE its own stage (dropped once ll_bc is made): one big join or aggregate at a time, each able to spill;
    # the query in one piece held several 12 M-row hash tables at once and ran out of 4 GB at 1 M customers
    staged = split_stages(BILLING_SQL, every=True, prefix="ll_bc_", where="billing: ")
    made = materialise_staged(engine, "ll_bc", staged)
    for name in reversed(made):
        engine.drop_materialised(name)
    parts = " + ".join(GAP_PARTS)
    cases = " ".join(f"WHEN ABS({p}) = big THEN '{p.removeprefix('gap_')}'" for p in GAP_PARTS)
    sql = f"""
    WITH g AS (
        SELECT *, COALESCE(supply_billing, 0) - sales_billing - loss_sync AS gap,
               GREATEST({", ".join(f"ABS({p})" for p in GAP_PARTS)}) AS big
        FROM ll_bc
    )
    SELECT area_id, period, supply_billing, sales_billing, loss_billing,
           100.0 * loss_billing / NULLIF(supply_billing, 0) AS loss_rate_billing_pct,
           supply_sync, sales_sync, loss_sync, 100.0 * loss_sync / NULLIF(supply_sync, 0) AS loss_rate_sync_pct,
           gap, {", ".join(GAP_PARTS)}, gap - ({parts}) AS gap_residual,
           CASE WHEN big = 0 THEN NULL {cases} END AS main_cause,
           customers_unbilled, bills_estimated, customers_no_ami
    FROM g ORDER BY area_id, period
    """
    return ask(engine, sql)
