"""What makes a customer drill-down fast: the order of the big tables in their Parquet files.

    nice -n 10 python bench/drilldown_bench.py --dataset /work/bench-web-1m/dataset --work /tmp/drill

For each table the customer page reads by meter or customer (``daily_usage``, ``readings``, ``bills``,
``payments``, ``meters``) it writes two copies (DuckDB's default row groups of 122,880 rows): ``as ingested``
(a plain copy of the dataset's file) and ``sorted`` (by meter_id or customer_id, then the date). For the same
sample of customers it times the customer page's query of that table (``views.customer``; daily use: the
120 days' energy of the customer's meters joined to ``meters``), each copy on its own DuckDB connection with
its file's metadata read once first, and counts the row groups whose key range (min..max) can hold the
customer's keys: what DuckDB's zone maps leave to read. Ratio: as ingested ÷ sorted, in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

# table → (key, sort order, the page's query on a copy at $f)
TABLES = {
    "daily_usage": (
        "meter_id",
        "meter_id, day",
        "SELECT d.day, SUM(d.kwh * m.multiplier) AS kwh FROM read_parquet($f) d "
        "JOIN meters m ON m.meter_id = d.meter_id WHERE d.meter_id IN (SELECT unnest($m)) "
        "AND d.day BETWEEN $lo AND $hi GROUP BY d.day ORDER BY d.day",
    ),
    "readings": (
        "meter_id",
        "meter_id, read_on",
        "SELECT * FROM read_parquet($f) WHERE meter_id IN (SELECT unnest($m)) ORDER BY read_on DESC, meter_id",
    ),
    "bills": ("customer_id", "customer_id, period", "SELECT * FROM read_parquet($f) WHERE customer_id = $c"),
    "payments": ("customer_id", "customer_id, paid_at", "SELECT * FROM read_parquet($f) WHERE customer_id = $c"),
    "meters": ("customer_id", "customer_id, meter_id", "SELECT * FROM read_parquet($f) WHERE customer_id = $c"),
}


def copies(dataset: Path, work: Path) -> dict[str, dict[str, Path]]:
    """table → {"as ingested": path, "sorted": path} (made when missing)."""
    import duckdb

    from gridaudit.dataset import open_dataset

    ds = open_dataset(dataset)
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'; SET threads = 2")
    out: dict[str, dict[str, Path]] = {}
    for table, (_key, order, _sql) in TABLES.items():
        src = ds.table_glob(table)
        out[table] = {"as ingested": work / f"{table}.as_ingested.parquet", "sorted": work / f"{table}.sorted.parquet"}
        for name, path in out[table].items():
            if not path.exists():
                t = time.perf_counter()
                by = f"ORDER BY {order}" if name == "sorted" else ""
                con.execute(f"COPY (SELECT * FROM read_parquet('{src}') {by}) TO '{path}' (FORMAT parquet)")
                print(f"wrote {table} {name}: {time.perf_counter() - t:.0f} s", flush=True)
    con.close()
    return out


def groups_touched(path: Path, key: str, values: list[str]) -> tuple[int, int]:
    """(row groups whose ``key`` min..max could hold one of ``values``, row groups in all)."""
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    col = md.schema.names.index(key)
    n = 0
    for i in range(md.num_row_groups):
        st = md.row_group(i).column(col).statistics
        if st is None or not st.has_min_max or any(st.min <= v <= st.max for v in values):
            n += 1
    return n, md.num_row_groups


def main() -> None:
    """Write the copies, time each table's drill-down query on both, print a Markdown table."""
    import duckdb
    import pyarrow.parquet as pq

    from gridaudit.dataset import open_dataset

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/gridaudit-drilldown"))
    ap.add_argument("--customers", type=int, default=15, help="sample customers (a hash-ordered sample)")
    a = ap.parse_args()
    paths = copies(a.dataset, a.work)
    ds = open_dataset(a.dataset)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW meters AS SELECT * FROM read_parquet('{ds.table_glob('meters')}')")
    sample = con.execute(
        "SELECT customer_id, list(meter_id ORDER BY meter_id) AS m FROM meters WHERE customer_id IS NOT NULL "
        "GROUP BY customer_id ORDER BY hash(customer_id) LIMIT $n",
        {"n": a.customers},
    ).fetchall()
    lo, hi = con.execute(
        f"SELECT MAX(day) - 119, MAX(day) FROM read_parquet('{ds.table_glob('daily_usage')}')"
    ).fetchone()
    con.close()
    print(f"{len(sample)} customers; daily use window {lo}..{hi}\n")
    print(
        "| table | rows | copy | row groups | groups holding a customer's keys (median) | p50 ms | ingested ÷ sorted |"
    )
    print("|---|---:|---|---:|---:|---:|---:|")
    for table, (key, _order, sql) in TABLES.items():
        p50: dict[str, float] = {}
        for name, path in paths[table].items():
            c = duckdb.connect()
            c.execute("SET threads = 2")
            c.execute(f"CREATE VIEW meters AS SELECT * FROM read_parquet('{ds.table_glob('meters')}')")

            def params(cid: str, meters: list[str], path: Path = path, sql: str = sql) -> dict[str, object]:
                p: dict[str, object] = {"f": str(path)}
                if "$m" in sql:
                    p["m"] = meters
                if "$c" in sql:
                    p["c"] = cid
                if "$lo" in sql:
                    p.update(lo=lo, hi=hi)
                return p

            c.execute(sql, params(*sample[0])).fetchall()  # the file's metadata, once
            times, groups = [], []
            for cid, meters in sample:
                t = time.perf_counter()
                c.execute(sql, params(cid, meters)).fetchall()
                times.append(time.perf_counter() - t)
                groups.append(groups_touched(path, key, meters if key == "meter_id" else [cid]))
            c.close()
            p50[name] = statistics.median(times)
            rows = pq.ParquetFile(path).metadata.num_rows
            ratio = f"{p50['as ingested'] / p50['sorted']:.1f}×" if name == "sorted" else ""
            print(
                f"| {table} | {rows:,} | {name} | {groups[0][1]} | {statistics.median(g[0] for g in groups):.0f} | "
                f"{p50[name] * 1000:.1f} | {ratio} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
