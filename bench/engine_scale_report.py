"""Markdown tables of bench/engine_scale.py's JSON lines: ratios to the scan, memory, growth between sizes.

Each phase cell: wall seconds (× the scan's wall seconds, CPU seconds × the scan's CPU seconds: the CPU ratio
holds better on a shared machine). The latest line of each (size, engine, phase) counts (a file may hold several
runs). Growth is the exponent b of cost ∝ customers^b between two sizes on one engine: b = ln(t₂/t₁) / ln(n₂/n₁)
(1 = linear), of the wall seconds and of the CPU seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

PHASES = ("scan", "catalog", "loss", "risk")


def latest(path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(size, engine, phase) → the last line recorded for it."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for text in path.read_text("utf-8").splitlines():
        if text.strip():
            rec = json.loads(text)
            out[(rec["size"], rec["engine"], rec["phase"])] = rec
    return out


def cell(rec: dict[str, Any] | None, ratio: bool = True) -> str:
    """Seconds (and × scan) of one phase, or why there are none."""
    if rec is None:
        return "–"
    if rec["status"] != "ok":
        return rec["status"] if rec["status"] != "budget" else f"> {rec['message'].split()[-2]} s"
    if ratio and "x_scan" in rec:
        cpu = f", CPU {rec['x_scan_cpu']:.0f}×" if "x_scan_cpu" in rec else ""
        return f"{rec['seconds']:.1f} s ({rec['x_scan']:.1f}×{cpu})"
    return f"{rec['seconds']:.1f} s"


def exponent(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """b of t ∝ n^b between two ok lines of different sizes."""
    if not a or not b or a["status"] != "ok" or b["status"] != "ok" or a["customers"] == b["customers"]:
        return "–"
    n = math.log(b["customers"] / a["customers"])
    wall = f"{math.log(b['seconds'] / a['seconds']) / n:.2f}"
    ca, cb = (r.get("cpu_s", 0) + r.get("cluster_cpu_s", 0) for r in (a, b))
    return wall + (f" / {math.log(cb / ca) / n:.2f}" if ca > 0 and cb > 0 else "")


def report(path: Path) -> str:
    """The tables for one results file."""
    recs = latest(path)
    sizes = sorted({(r["customers"], k[0]) for k, r in recs.items()})
    engines = [e for e in ("duckdb", "spark-local", "spark-cluster") if any(k[1] == e for k in recs)]
    lines = [
        "| size | engine | open | one full scan (CPU s) | catalog (× scan) | line loss (× scan) | risk score (× scan) "
        "| peak RSS MB catalog / loss / risk | cluster peak MB | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for _, size in sizes:
        for eng in engines:
            got = {p: recs.get((size, eng, p)) for p in ("open", *PHASES)}
            if not any(got.values()):
                continue
            peaks = " / ".join(str(r.get("peak_mb", "–")) if r else "–" for r in (got[p] for p in PHASES[1:]))
            cluster = max((r.get("cluster_peak_mb", 0) for r in got.values() if r), default=0)
            loads = [r[k] for r in got.values() if r for k in ("load_start", "load_end") if k in r]
            load = f"{min(loads):.1f}–{max(loads):.1f}" if loads else "–"
            scan_cpu = (
                f" ({got['scan']['cpu_one_scan_s']:.1f})" if got["scan"] and "cpu_one_scan_s" in got["scan"] else ""
            )
            lines.append(
                f"| {size} | {eng} | {cell(got['open'], False)} | {cell(got['scan'], False)}{scan_cpu} | "
                f"{cell(got['catalog'])} | {cell(got['loss'])} | {cell(got['risk'])} | {peaks} | "
                f"{cluster or '–'} | {load} |"
            )
    lines += ["", "Growth exponent b (seconds ∝ customers^b) between consecutive sizes, wall / CPU:", ""]
    lines += ["| engine | sizes | " + " | ".join(PHASES) + " |", "|---|---|" + "---:|" * len(PHASES)]
    for eng in engines:
        have = [s for _, s in sizes if any((s, eng, p) in recs for p in PHASES)]
        for lo, hi in zip(have, have[1:], strict=False):
            cols = [exponent(recs.get((lo, eng, p)), recs.get((hi, eng, p))) for p in PHASES]
            lines.append(f"| {eng} | {lo} → {hi} | " + " | ".join(cols) + " |")
    spark = [e for e in engines if e != "duckdb"]
    if "duckdb" in engines and spark:
        lines += ["", "Spark seconds / DuckDB seconds (below 1: Spark is faster):", ""]
        lines += ["| size | engine | " + " | ".join(PHASES) + " |", "|---|---|" + "---:|" * len(PHASES)]
        for _, size in sizes:
            for eng in spark:
                cols = []
                for p in PHASES:
                    d, s = recs.get((size, "duckdb", p)), recs.get((size, eng, p))
                    ok = d and s and d["status"] == "ok" and s["status"] == "ok"
                    cols.append(f"{s['seconds'] / d['seconds']:.1f}" if ok else "–")  # type: ignore[index]
                if any(c != "–" for c in cols):
                    lines.append(f"| {size} | {eng} | " + " | ".join(cols) + " |")
    return "\n".join(lines)
