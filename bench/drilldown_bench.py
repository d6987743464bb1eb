"""What makes a customer drill-down fast: the order of ``daily_usage`` in its Parquet file.

    nice -n 10 python bench/drilldown_bench.py --dataset /work/bench-web-1m/dataset --work /tmp/drill

Writes three copies of the dataset's ``daily_usage`` (Parquet, DuckDB's default row groups of 122,880 rows):
``as ingested`` (a plain copy), ``by day`` (sorted by day, then meter: an export in date order, the worst case:
every row group spans all meters) and ``by meter`` (sorted by meter, then day). For the same sample of
customers' meters it times the customer page's daily-use query (``views.customer``: the 120 days' energy of
the customer's meters, joined to ``meters`` for the multiplier) and its readings-against-AMI join, each on
a fresh DuckDB connection per copy, and counts the row groups whose meter_id range can hold the meter (what
DuckDB's zone maps leave to read). Ratios are to ``by meter`` in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

DAILY_SQL = (
    "SELECT d.day, SUM(d.kwh * m.multiplier) AS kwh FROM read_parquet($f) d "
    "JOIN meters m ON m.meter_id = d.meter_id WHERE d.meter_id IN (SELECT unnest($m)) "
    "AND d.day BETWEEN $lo AND $hi GROUP BY d.day ORDER BY d.day"
)
AMI_SQL = (
    "SELECT r.meter_id, r.read_on, r.reading - d.register AS diff FROM readings r "
    "LEFT JOIN read_parquet($f) d ON d.meter_id = r.meter_id AND d.day = r.read_on "
    "WHERE r.meter_id IN (SELECT unnest($m)) ORDER BY r.read_on DESC, r.meter_id"
)


def copies(dataset: Path, work: Path) -> dict[str, Path]:
    """The three copies of daily_usage (made when missing)."""
    import duckdb

    from gridaudit.dataset import open_dataset

    ds = open_dataset(dataset)
    src = ds.table_glob("daily_usage")
    work.mkdir(parents=True, exist_ok=True)
    out = {
        "as ingested": work / "as_ingested.parquet",
        "by day": work / "by_day.parquet",
        "by meter": work / "by_meter.parquet",
    }
    orders = {"as ingested": "", "by day": "ORDER BY day, meter_id", "by meter": "ORDER BY meter_id, day"}
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'; SET threads = 2; SET preserve_insertion_order = true")
    for name, path in out.items():
        if not path.exists():
            t = time.perf_counter()
            con.execute(f"COPY (SELECT * FROM read_parquet('{src}') {orders[name]}) TO '{path}' (FORMAT parquet)")
            print(f"wrote {name}: {time.perf_counter() - t:.0f} s", flush=True)
    con.close()
    return out


def groups_touched(path: Path, meters: list[str]) -> int:
    """Row groups whose meter_id min..max could hold one of ``meters``."""
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    col = md.schema.names.index("meter_id")
    n = 0
    for i in range(md.num_row_groups):
        st = md.row_group(i).column(col).statistics
        if any(st.min <= m <= st.max for m in meters):
            n += 1
    return n


def main() -> None:
    """Write the copies, time the two drill-down queries on each, print a Markdown table."""
    import duckdb

    from gridaudit.dataset import open_dataset

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gridaudit-drilldown"))
    ap.add_argument("--customers", type=int, default=20, help="sample customers (every 50,000th with a meter)")
    a = ap.parse_args()
    paths = copies(a.dataset, a.work)
    ds = open_dataset(a.dataset)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for t in ("meters", "readings"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{ds.table_glob(t)}')")
    sample = con.execute(
        "SELECT customer_id, list(meter_id ORDER BY meter_id) AS m FROM meters WHERE customer_id IS NOT NULL "
        "GROUP BY customer_id ORDER BY hash(customer_id) LIMIT $n",
        {"n": a.customers},
    ).fetchall()
    lo, hi = con.execute(f"SELECT MAX(day) - 119, MAX(day) FROM read_parquet('{paths['as ingested']}')").fetchone()
    con.close()
    print(f"{len(sample)} customers; daily_usage window {lo}..{hi}\n")
    results: dict[str, dict[str, float]] = {}
    for name, path in paths.items():
        c = duckdb.connect()
        c.execute("SET threads = 2")
        for t in ("meters", "readings"):
            c.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{ds.table_glob(t)}')")
        c.execute(DAILY_SQL, {"f": str(path), "m": sample[0][1], "lo": lo, "hi": hi}).fetchall()  # file metadata
        daily, ami, groups = [], [], []
        for _cid, meters in sample:
            t = time.perf_counter()
            c.execute(DAILY_SQL, {"f": str(path), "m": meters, "lo": lo, "hi": hi}).fetchall()
            daily.append(time.perf_counter() - t)
            t = time.perf_counter()
            c.execute(AMI_SQL, {"f": str(path), "m": meters}).fetchall()
            ami.append(time.perf_counter() - t)
            groups.append(groups_touched(path, meters))
        c.close()
        results[name] = {
            "daily": statistics.median(daily),
            "ami": statistics.median(ami),
            "groups": statistics.median(groups),
        }
    import pyarrow.parquet as pq

    base = results["by meter"]
    print("| daily_usage order | row groups | groups a customer touches (median) | daily use p50 ms | ÷ by meter | "
          "readings vs AMI p50 ms | ÷ by meter |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        n = pq.ParquetFile(paths[name]).metadata.num_row_groups
        print(
            f"| {name} | {n} | {r['groups']:.0f} | {r['daily'] * 1000:.0f} | {r['daily'] / base['daily']:.1f}× | "
            f"{r['ami'] * 1000:.0f} | {r['ami'] / base['ami']:.1f}× |"
        )


if __name__ == "__main__":
    main()
