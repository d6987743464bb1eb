"""Line-loss balance speed: N customers × D days of daily_usage on DuckDB, as a ratio to one scan of daily_usage.

    nice -n 10 python bench/lineloss_bench.py --customers 1000000 --days 365 --threads 2 --data /tmp/ll-bench-1m

Generates a daily_usage-like dataset with DuckDB ``range()`` when ``--data`` has none (100 customers per area,
20 areas per feeder, 25 feeders per unit, one root unit; area totals = 1.05 × their customers, feeder heads =
1.02 × their areas; a few areas with a 40 % "thief" drop from mid-year), then times in the same process:

* baseline: one scan of daily_usage reading every column the balance reads (meter_id, day, kwh);
* balance:  gridaudit.lineloss.balance.run_balance (all four levels, per day, month and window);
* full run: gridaudit.lineloss.run.run_loss (balance + technical + customers behind + trends + findings).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date
from pathlib import Path

import duckdb

from gridaudit.dataset import commit_version, is_dataset, open_dataset, stage_version
from gridaudit.lineloss.balance import Window, run_balance
from gridaudit.lineloss.inputs import data_span, open_inputs
from gridaudit.lineloss.run import run_loss
from gridaudit.lineloss.settings import LossSettings

START = date(2025, 1, 1)


def generate(root: Path, customers: int, days: int, threads: int) -> None:
    st = stage_version(root)
    p = st.path
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    n_areas = max(customers // 100, 1)
    n_feeders = max(n_areas // 20, 1)
    n_units = max(n_feeders // 25, 1)
    con.execute(f"""
        COPY (SELECT 'ROOT' AS unit_id, 'County' AS name, CAST(NULL AS VARCHAR) AS parent_id
              UNION ALL SELECT 'U' || i, 'Station ' || i, 'ROOT' FROM range({n_units}) t(i))
        TO '{p}/units.parquet' (FORMAT parquet);
        COPY (SELECT 'F' || i AS feeder_id, 'U' || (i % {n_units}) AS unit_id, 10.0 AS voltage_kv
              FROM range({n_feeders}) t(i)) TO '{p}/feeders.parquet' (FORMAT parquet);
        COPY (SELECT 'A' || i AS area_id, 'F' || (i % {n_feeders}) AS feeder_id,
                     'U' || ((i % {n_feeders}) % {n_units}) AS unit_id,
                     400.0 AS transformer_kva, 0.4 AS no_load_loss_kw, 4.2 AS load_loss_kw
              FROM range({n_areas}) t(i)) TO '{p}/areas.parquet' (FORMAT parquet);
        COPY (SELECT 'C' || i AS customer_id, 'U' || (((i // 100) % {n_feeders}) % {n_units}) AS unit_id,
                     'residential' AS category, 'R1' AS tariff_code, 0.4 AS voltage_kv, 8.0 AS contract_kva,
                     'active' AS status, 'A' || (i // 100) AS area_id
              FROM range({customers}) t(i)) TO '{p}/customers.parquet' (FORMAT parquet);
        COPY (SELECT 'M' || i AS meter_id, 'customer' AS role, 1.0 AS multiplier, 'C' || i AS customer_id,
                     CAST(NULL AS VARCHAR) AS area_id, CAST(NULL AS VARCHAR) AS feeder_id FROM range({customers}) t(i)
              UNION ALL SELECT 'T' || i, 'area_total', 1.0, NULL, 'A' || i, NULL FROM range({n_areas}) t(i)
              UNION ALL SELECT 'H' || i, 'feeder_head', 1.0, NULL, NULL, 'F' || i FROM range({n_feeders}) t(i))
        TO '{p}/meters.parquet' (FORMAT parquet);
    """)
    (p / "daily_usage").mkdir()
    usage = f"""
        WITH b AS (
            SELECT c.i AS cust, c.i // 100 AS area, DATE '{START}' + CAST(d.j AS INTEGER) AS day,
                   (4.0 + (hash(c.i) % 800) / 100.0) * (1.0 + 0.25 * sin(d.j / 58.0))
                   * (0.7 + (hash(c.i * 7919 + d.j) % 600) / 1000.0) AS base,
                   (c.i // 100) % 97 = 0 AND c.i % 100 = 3 AND d.j > {days // 2} AS thief
            FROM range({customers}) c(i), range({days}) d(j)
        )
        SELECT cust, area, day, base * CASE WHEN thief THEN 0.6 ELSE 1.0 END AS true_kwh,
               base * CASE WHEN thief THEN 0.36 ELSE 1.0 END AS kwh
        FROM b
    """
    con.execute(f"""COPY (SELECT 'M' || cust AS meter_id, day, ROUND(kwh, 3) AS kwh FROM ({usage}))
                    TO '{p}/daily_usage/customers' (FORMAT parquet, PER_THREAD_OUTPUT true)""")
    con.execute(f"""CREATE TEMP TABLE area_day AS SELECT area, day, SUM(true_kwh) * 1.05 AS kwh FROM ({usage})
                    GROUP BY area, day""")
    con.execute(f"""COPY (SELECT 'T' || area AS meter_id, day, ROUND(kwh, 3) AS kwh FROM area_day
                          UNION ALL
                          SELECT 'H' || (area % {n_feeders}), day, ROUND(SUM(kwh) * 1.02, 3) FROM area_day
                          GROUP BY area % {n_feeders}, day)
                    TO '{p}/daily_usage/totals.parquet' (FORMAT parquet)""")
    for f in (p / "daily_usage" / "customers").glob("*.parquet"):
        f.rename(p / "daily_usage" / f"customers_{f.name}")
    (p / "daily_usage" / "customers").rmdir()
    commit_version(st, {"sources": [f"bench/lineloss_bench.py {customers}x{days}"]})


CPU: dict[str, float] = {}


def timed(fn, name: str = ""):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    CPU[name] = time.process_time() - c0
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", type=Path, default=Path("/tmp/ll-bench-1m"))
    ap.add_argument("--full", action="store_true", help="also time the full run (run_loss)")
    a = ap.parse_args()
    if not is_dataset(a.data):
        t, _ = timed(lambda: generate(a.data, a.customers, a.days, a.threads))
        print(f"generated {a.data} in {t:.1f} s")
    ds = open_dataset(a.data)
    rows = ds.rows("daily_usage")
    inputs = open_inputs(ds, threads=a.threads)
    eng = inputs.engine
    scan_sql = "SELECT COUNT(meter_id), SUM(kwh), MIN(day) FROM daily_usage"
    t_scan, _ = timed(lambda: eng.query(scan_sql), "scan1")
    lo, hi = data_span(inputs)
    t_bal, bal = timed(lambda: run_balance(eng, Window(lo, hi), LossSettings()), "balance")
    t_scan2, _ = timed(lambda: eng.query(scan_sql), "scan2")
    scan = min(t_scan, t_scan2)
    inputs.close()
    print(f"daily_usage rows: {rows:,}; threads {a.threads}")
    print(f"scan of daily_usage: {scan:.2f} s (runs {t_scan:.2f}, {t_scan2:.2f})")
    print(
        f"balance (4 levels, day/month/window): {t_bal:.2f} s = {t_bal / scan:.1f} × scan; "
        f"{bal.daily.num_rows:,} daily rows"
    )
    if a.full:
        t_full, res = timed(lambda: run_loss(ds, threads=a.threads))
        print(f"full run_loss: {t_full:.2f} s = {t_full / scan:.1f} × scan; findings {res.findings.num_rows}")
    cscan = min(CPU["scan1"], CPU["scan2"])
    cbal = CPU["balance"]
    print(f"CPU seconds (all threads): scan {cscan:.2f}, balance {cbal:.2f} = {cbal / cscan:.1f} × scan")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
