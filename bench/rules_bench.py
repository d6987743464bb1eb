"""Issue 4 benchmark: rule quality against truth.csv, and catalog speed against a full scan.

Quality: the whole catalog (both rules helpers' rules) on a synthetic utility (default 20,000 customers ×
12 months), findings scored per truth kind through each rule's ``truth_kinds`` (bench/rules_quality.py).
Speed: the whole catalog on a large synthetic utility on DuckDB (2 threads) as a ratio against one scan of
every column of every table in the same process; peak RSS; five rules written as an analyst would in pandas,
as a ratio against the same rules on DuckDB. Incremental (issue 18): the catalog for the last month reading each
rule's look-back window, against the full-year run in the same process (``--incremental-source``, with
``--time-ordered`` also on a copy whose time-series tables are written in time order).

    PYTHONPATH=src nice -n 10 python bench/rules_bench.py --quality-source /tmp/synth20k \
        --speed-source /work/bench-data/synth-1m/source --pandas-source /tmp/synth20k --write BENCHMARKS.md

A ``*-source`` folder is synth output (Parquet per table, truth.csv); it is wrapped as a dataset version by
linking the files (ingest is measured in its own bench), so the numbers are the rules' alone.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from gridaudit.contract import load_contract  # noqa: E402
from gridaudit.dataset import Dataset, commit_version, stage_version  # noqa: E402
from gridaudit.engines import Engine  # noqa: E402
from gridaudit.engines.duckdb import DuckDBEngine  # noqa: E402
from gridaudit.rules import load_catalog  # noqa: E402
from gridaudit.rules.runner import DuckDBSettings, RuleReport, duckdb_engine, run_rules  # noqa: E402
from rules_quality import load_truth, score  # noqa: E402

PANDAS_RULES = (
    "reading_missed",
    "billing_virtual_qty",
    "billing_adjustment_unapproved",
    "collection_payment_late_post",
    "tariff_bill_code_mismatch",
)


def as_dataset(source: Path, root: Path) -> Dataset:
    """Wrap a synth output folder as a dataset version (symlinks to its Parquet files)."""
    staged = stage_version(root)
    for table in load_contract().tables:
        src = source / f"{table}.parquet"
        if src.exists():
            (staged.path / src.name).symlink_to(src.resolve())
    return commit_version(staged, {"sources": [str(source)]})


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def full_scan_seconds(engine: Engine, dataset: Dataset) -> float:
    """One pass over every column of every table (a hash of every value, so Parquet statistics cannot answer).

    Through the engine protocol (columns, query), so the same scan is the baseline on DuckDB and on Spark."""
    started = time.perf_counter()
    for table in dataset.tables():
        cols = engine.columns(table)
        exprs = ", ".join(f'max(hash("{c}"))' for c in cols)
        engine.query(f'SELECT count(*), {exprs} FROM "{table}"')
    return time.perf_counter() - started


# --- five rules as an analyst would write them in pandas ------------------------------------------


def pd_reading_missed(src: Path) -> int:
    r = pd.read_parquet(src / "readings.parquet", columns=["meter_id", "period"])
    m = pd.read_parquet(
        src / "meters.parquet", columns=["meter_id", "role", "customer_id", "installed_on", "removed_on"]
    )
    c = pd.read_parquet(src / "customers.parquet", columns=["customer_id", "status", "connected_on"])
    periods = pd.DataFrame({"period": sorted(r["period"].unique())})
    periods["first_day"] = pd.to_datetime(periods["period"] + "-01")
    act = m[m.role == "customer"].merge(c[c.status == "active"], on="customer_id").merge(periods, how="cross")
    inst = pd.to_datetime(act.installed_on)
    rem = pd.to_datetime(act.removed_on)
    conn = pd.to_datetime(act.connected_on)
    act = act[
        (inst.isna() | (inst < act.first_day))
        & (conn.isna() | (conn < act.first_day))
        & (rem.isna() | (rem >= act.first_day + pd.DateOffset(months=1)))
    ]
    have = r.drop_duplicates()
    out = act.merge(have, on=["meter_id", "period"], how="left", indicator=True)
    return int((out["_merge"] == "left_only").sum())


def pd_billing_virtual_qty(src: Path) -> int:
    r = pd.read_parquet(src / "readings.parquet", columns=["meter_id", "period", "read_on", "reading"])
    m = pd.read_parquet(src / "meters.parquet", columns=["meter_id", "role", "customer_id", "multiplier"])
    b = pd.read_parquet(src / "bills.parquet", columns=["bill_id", "customer_id", "period", "kwh", "adjustment_kwh"])
    r = r.sort_values(["meter_id", "read_on", "period"])
    r["prev"] = r.groupby("meter_id")["reading"].shift()
    r = r[r.prev.notna() & (r.reading >= r.prev)].merge(m[m.role == "customer"], on="meter_id")
    r["metered"] = (r.reading - r.prev) * r.multiplier
    met = r.groupby(["customer_id", "period"], as_index=False)["metered"].sum()
    x = b.merge(met, on=["customer_id", "period"])
    x["expected"] = x.metered + x.adjustment_kwh.fillna(0)
    tol = (x.expected.abs() * 0.02).clip(lower=1.0)
    x["dev"] = (x.kwh - x.expected).abs() > tol
    g = x.groupby("customer_id")["dev"].agg(["size", "sum"])
    pattern = g[(g["size"] >= 3) & (g["sum"] / g["size"] >= 0.75)].index
    hit = x[(x.kwh - x.expected > tol) & ~x.customer_id.isin(pattern)]
    return len(hit)


def pd_billing_adjustment_unapproved(src: Path) -> int:
    b = pd.read_parquet(
        src / "bills.parquet", columns=["bill_id", "adjustment_kwh", "adjustment_yuan", "adjustment_order_id"]
    )
    w = pd.read_parquet(src / "work_orders.parquet", columns=["order_id", "status"])
    adj = b[(b.adjustment_kwh.fillna(0).abs() > 0) | (b.adjustment_yuan.fillna(0).abs() > 0)]
    x = adj.merge(w, left_on="adjustment_order_id", right_on="order_id", how="left")
    bad = (
        x.status.fillna("")
        .str.lower()
        .isin(["cancelled", "canceled", "rejected", "open", "pending", "撤销", "作废", "驳回"])
    )
    return int((x.adjustment_order_id.isna() | x.order_id.isna() | bad).sum())


def pd_collection_payment_late_post(src: Path) -> int:
    p = pd.read_parquet(src / "payments.parquet", columns=["customer_id", "paid_at", "posted_at"])
    p = p[p.posted_at.notna()]
    days = (p.posted_at - p.paid_at).dt.total_seconds() / 86400
    late = p[days > 3.0]
    return len(late.groupby([late.customer_id, late.paid_at.dt.strftime("%Y-%m")]).size())


def pd_tariff_bill_code_mismatch(src: Path) -> int:
    b = pd.read_parquet(src / "bills.parquet", columns=["bill_id", "customer_id", "tariff_code"])
    c = pd.read_parquet(src / "customers.parquet", columns=["customer_id", "tariff_code", "category"])
    t = pd.read_parquet(src / "tariffs.parquet", columns=["tariff_code", "category", "valid_from"])
    t = t.sort_values("valid_from").groupby("tariff_code").tail(1)
    x = b.merge(c, on="customer_id", suffixes=("", "_cust")).merge(
        t, on="tariff_code", how="left", suffixes=("", "_tariff")
    )
    return int(
        ((x.tariff_code != x.tariff_code_cust) & (x.category_tariff.isna() | (x.category_tariff != x.category))).sum()
    )


PANDAS = {
    "reading_missed": pd_reading_missed,
    "billing_virtual_qty": pd_billing_virtual_qty,
    "billing_adjustment_unapproved": pd_billing_adjustment_unapproved,
    "collection_payment_late_post": pd_collection_payment_late_post,
    "tariff_bill_code_mismatch": pd_tariff_bill_code_mismatch,
}


def quality(source: Path, work: Path) -> str:
    ds = as_dataset(source, work / "quality")
    rules = load_catalog()
    engine = duckdb_engine(ds, DuckDBSettings(threads=2))
    started = time.perf_counter()
    findings, reports = run_rules(engine, rules)
    took = time.perf_counter() - started
    engine.close()
    per_kind, per_rule = score(findings, rules, load_truth(source / "truth.csv"))
    slow = sorted(reports, key=lambda r: -r.seconds)[:8]
    fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    lines = [
        f"Quality: {len(rules)} rules on `{source.name}` ({ds.rows('customers'):,} customers), "
        f"{len(findings):,} findings in {took:.1f} s on DuckDB; errors: "
        f"{sum(r.status == 'error' for r in reports)}, skipped: {sum(r.status == 'skipped' for r in reports)}.",
        "",
        "Slowest rules: " + ", ".join(f"{r.rule_id} {r.seconds:.1f} s" for r in slow) + ".",
        "",
        "| truth kind | truth rows | recall | findings of its rules | precision | rules |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for k in per_kind:
        lines.append(
            f"| {k['kind']} | {k['truth']} | {fmt(k['recall'])} | {k['findings']} | {fmt(k['precision'])} "
            f"| {k['rules']} |"
        )
    lines += [
        "",
        "Per rule (precision only for rules that name truth kinds):",
        "",
        "| rule | truth kinds | findings | precision |",
        "|---|---|---:|---:|",
    ]
    for r in per_rule:
        lines.append(f"| {r['rule']} | {r['kinds']} | {r['findings']} | {fmt(r['precision'])} |")
    return "\n".join(lines)


SCAN_REPEATS = 3


def speed(source: Path, work: Path, families: list[str] | None = None, memory_limit: str = "4GB") -> str:
    ds = as_dataset(source, work / "speed")
    rules = [r for r in load_catalog() if not families or r.family in families]
    engine = duckdb_engine(ds, DuckDBSettings(memory_limit=memory_limit, threads=2))
    scans = []
    for _ in range(SCAN_REPEATS):  # a 0.4 s scan moves by half between runs on a loaded machine: keep the least
        cpu0 = time.process_time()
        scans.append((full_scan_seconds(engine, ds), time.process_time() - cpu0))
    scan, scan_cpu = min(w for w, _ in scans), min(c for _, c in scans)
    rss_scan = peak_rss_mb()
    derived: list[RuleReport] = []
    started, cpu0 = time.perf_counter(), time.process_time()
    findings, reports = run_rules(engine, rules, derived_log=derived)
    took, took_cpu = time.perf_counter() - started, time.process_time() - cpu0
    engine.close()
    for r in sorted(reports + derived, key=lambda r: -r.seconds):  # the full profile, for the log
        print(f"  {r.rule_id:45s} {r.family:10s} {r.status:7s} {r.hits:>9,} {r.seconds:8.1f} s", file=sys.stderr)
    slow = sorted(reports, key=lambda r: -r.seconds)[:8]
    fams: dict[str, float] = {}
    for r in reports + derived:
        fams[r.family] = fams.get(r.family, 0.0) + r.seconds
    rows = {t: ds.rows(t) for t in ("customers", "bills", "readings", "daily_usage", "interval_usage")}
    what = f"families {'/'.join(families)}" if families else "whole catalog"
    return "\n".join(
        [
            f"Speed: `{source}` — " + ", ".join(f"{t} {n:,}" for t, n in rows.items()) + ".",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| one scan of every column of every table (baseline, least of {SCAN_REPEATS}) | {scan:.1f} s |",
            f"| {what}, {len(rules)} rules, DuckDB 2 threads, memory_limit {memory_limit} | {took:.1f} s |",
            f"| ratio catalog / scan | {took / scan:.1f}× |",
            f"| CPU seconds (all threads): scan / catalog / ratio | {scan_cpu:.2f} / {took_cpu:.1f} / "
            f"{took_cpu / scan_cpu:.1f}× |",
            f"| of which derived tables ({len(derived)}, built once) | {sum(d.seconds for d in derived):.1f} s |",
            f"| findings | {len(findings):,} |",
            f"| peak RSS after the scan / after the catalog | {rss_scan:,.0f} MB / {peak_rss_mb():,.0f} MB |",
            f"| rule errors / skipped | {sum(r.status == 'error' for r in reports)} / "
            f"{sum(r.status == 'skipped' for r in reports)} |",
            "",
            "Derived tables: " + ", ".join(f"{d.rule_id} {d.seconds:.1f} s" for d in derived) + ".",
            "",
            "Slowest rules: " + ", ".join(f"{r.rule_id} {r.seconds:.1f} s" for r in slow) + ".",
            "",
            "Seconds per family: "
            + ", ".join(f"{f} {t:.1f}" for f, t in sorted(fams.items(), key=lambda x: -x[1]))
            + ".",
        ]
    )


def pandas_ratio(source: Path, work: Path) -> str:
    ds = as_dataset(source, work / "pandas")
    by_id = {r.id: r for r in load_catalog()}
    lines = [
        f"pandas vs DuckDB on `{source.name}` ({ds.rows('customers'):,} customers), same hits required:",
        "",
        "| rule | DuckDB s | pandas s | pandas / DuckDB | hits (both) |",
        "|---|---:|---:|---:|---:|",
    ]
    for rid in PANDAS_RULES:
        engine = DuckDBEngine(ds, threads=2)
        started = time.perf_counter()
        findings, _ = run_rules(engine, [by_id[rid]])
        duck = time.perf_counter() - started
        engine.close()
        started = time.perf_counter()
        hits = PANDAS[rid](source)
        pand = time.perf_counter() - started
        same = "✓" if hits == len(findings) else f"✗ pandas {hits}"
        lines.append(f"| {rid} | {duck:.2f} | {pand:.2f} | {pand / duck:.1f}× | {len(findings):,} {same} |")
    return "\n".join(lines)


def last_month(dataset: Dataset, engine: DuckDBEngine) -> str:
    """The last billing month of the data (what a monthly job runs on)."""
    return str(engine.query("SELECT max(period) AS p FROM bills").column("p")[0].as_py())


def time_ordered(source: Path, out: Path) -> Path:
    """A copy of a synth folder whose time-series tables are written in time order (Parquet row groups then
    cover a few days each, so a window's filter skips the others); the other tables are linked."""
    import duckdb

    from gridaudit.rules.window import TIME_COLUMNS

    out.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    for src in sorted(source.iterdir()):
        table = src.name.removesuffix(".parquet")
        if src.suffix == ".parquet" and table in TIME_COLUMNS:
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{src}') ORDER BY \"{TIME_COLUMNS[table][0]}\") "
                f"TO '{out / src.name}' (FORMAT parquet)"
            )
        else:
            (out / src.name).symlink_to(src.resolve())
    con.close()
    return out


def incremental(source: Path, work: Path, period: str | None = None, memory_limit: str = "4GB") -> str:
    """The whole catalog for one month, incremental (each rule's look-back window), against the full-year run
    (every month, the whole history) and the full-history run of that month, in one process on one engine."""
    ds = as_dataset(source, work / f"incremental-{source.name}")
    rules = load_catalog()
    engine = duckdb_engine(ds, DuckDBSettings(memory_limit=memory_limit, threads=2))
    period = period or last_month(ds, engine)
    scan = full_scan_seconds(engine, ds)
    timings: dict[str, tuple[float, int, list[RuleReport], list[RuleReport]]] = {}
    for name, per, inc in (("full year", None, False), ("month, full history", period, False),
                           ("month, incremental", period, True)):  # fmt: skip
        derived: list[RuleReport] = []
        started = time.perf_counter()
        findings, reports = run_rules(engine, rules, period=per, derived_log=derived, incremental=inc)
        timings[name] = (time.perf_counter() - started, len(findings), reports, derived)
        errors = [r.rule_id for r in reports if r.status != "ok"]
        print(f"  {name}: {timings[name][0]:.1f} s, {len(findings):,} findings, not ok: {errors}", file=sys.stderr)
    engine.close()
    full = timings["full year"][0]
    inc_reports, inc_derived = timings["month, incremental"][2], timings["month, incremental"][3]
    windowed = [r for r in inc_reports if r.window != "all"]
    lines = [
        f"Incremental: `{source}` — {ds.rows('customers'):,} customers, {ds.rows('daily_usage'):,} daily rows; "
        f"period {period}; whole catalog ({len(rules)} rules), DuckDB 2 threads, memory_limit {memory_limit}, "
        "one process.",
        "",
        "| run | seconds | findings | / full-year run | / one full scan |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (took, n, _, _) in timings.items():
        lines.append(f"| {name} | {took:.1f} | {n:,} | {took / full:.2f} | {took / scan:.1f}× |")
    slow = sorted(inc_reports + inc_derived, key=lambda r: -r.seconds)[:10]
    lines += [
        f"| one scan of every column of every table (baseline) | {scan:.1f} | | | 1.0× |",
        "",
        f"Rules reading a window: {len(windowed)} of {len(inc_reports)} "
        f"({sum(r.seconds for r in windowed):.1f} s); reading the whole history: "
        f"{len(inc_reports) - len(windowed)} ({sum(r.seconds for r in inc_reports if r.window == 'all'):.1f} s); "
        f"derived tables {sum(d.seconds for d in inc_derived):.1f} s.",
        "",
        "Slowest in the incremental run: "
        + ", ".join(f"{r.rule_id} {r.seconds:.1f} s ({r.window})" for r in slow)
        + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quality-source", type=Path)
    ap.add_argument("--speed-source", type=Path)
    ap.add_argument("--pandas-source", type=Path)
    ap.add_argument("--incremental-source", type=Path, help="Time the incremental monthly run against a full one")
    ap.add_argument("--period", help="Month of the incremental run (default: the last month of the data)")
    ap.add_argument(
        "--time-ordered", action="store_true", help="Also time the incremental run on a time-ordered copy of the data"
    )
    ap.add_argument("--families", help="Comma-separated families for the speed run (default: the whole catalog)")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit for the speed run")
    ap.add_argument("--write", type=Path, help="Append the results under '## Issue 4 — rules' in this file")
    args = ap.parse_args()
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.quality_source:
            parts.append(quality(args.quality_source, work))
            print(parts[-1], flush=True)
        if args.pandas_source:
            parts.append(pandas_ratio(args.pandas_source, work))
            print(parts[-1], flush=True)
        if args.incremental_source:
            parts.append(incremental(args.incremental_source, work, args.period, args.memory_limit))
            print(parts[-1], flush=True)
            if args.time_ordered:
                ordered = time_ordered(args.incremental_source, work / "time-ordered" / args.incremental_source.name)
                parts.append(incremental(ordered, work, args.period, args.memory_limit))
                print(parts[-1], flush=True)
        if args.speed_source:
            fams = args.families.split(",") if args.families else None
            parts.append(speed(args.speed_source, work, fams, args.memory_limit))
            print(parts[-1], flush=True)
    if args.write and parts:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        text = args.write.read_text("utf-8") if args.write.exists() else ""
        text += f"\n### Run at {commit}: `python bench/rules_bench.py`\n\n" + "\n\n".join(parts) + "\n"
        args.write.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
