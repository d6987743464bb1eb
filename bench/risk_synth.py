"""Theft-risk scorer on the synthetic utility's injected theft (truth.csv kinds ``theft_*``).

Generates a synthetic utility (``gridaudit synth``), ingests its tables (``gridaudit ingest``), trains on its
inspections and scores everyone (same code as the CLI), then evaluates on the customers that were *not*
inspected (label 1 = a ``theft_*`` row in truth.csv, yuan = stolen kWh × the customer's tariff price).

    PYTHONPATH=src:bench nice -n 10 python bench/risk_synth.py [--customers 5000] [--months 12] [--write]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from gridaudit.risk.metrics import evaluate
from gridaudit.risk.pipeline import score, train
from gridaudit.risk.settings import RiskSettings


def main() -> None:
    """Run synth → ingest → train → score → evaluate; print and optionally write the result."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RiskSettings value (JSON)")
    args = ap.parse_args()
    overrides = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    base = RiskSettings.from_dict({**RiskSettings().to_dict(), **overrides})
    work = Path(tempfile.mkdtemp(prefix="risk_synth_"))
    try:
        src, ds = work / "src", work / "ds"
        cmd = [sys.executable, "-m", "gridaudit"]
        subprocess.run([*cmd, "synth", "--out-dir", str(src), "-n", str(args.customers), "--months", str(args.months),
                        "--seed", str(args.seed)], check=True, capture_output=True)  # fmt: skip
        subprocess.run([*cmd, "ingest", *map(str, sorted(src.glob("*.parquet"))), "--dataset", str(ds), "-q"],
                       check=False, capture_output=True)  # fmt: skip
        scored = {}
        for copies in (0, 1):
            model = work / f"risk_aug{copies}.model"
            res = train(ds, model, settings=replace(base, augment_copies=copies))
            name = f"gridaudit {res.model_kind}" + (f", augment {copies}" if res.model_kind == "lightgbm" else "")
            scored[name] = score(ds, model)
        sup = next(iter(scored.values()))
        scored["gridaudit unsupervised"] = score(ds, None)
        truth = pd.read_csv(src / "truth.csv")
        theft = truth[truth["kind"].str.startswith("theft")]
        stolen = {r.entity_id: json.loads(r.detail).get("stolen_kwh", 0.0) for r in theft.itertuples()}
        inspected = set(pd.read_parquet(src / "inspections.parquet")["customer_id"])
        lab = sup[["customer_id"]].copy()
        lab = lab[~lab["customer_id"].isin(inspected)]
        lab["label"] = lab["customer_id"].isin(stolen).astype(int)
        lab["yuan"] = lab["customer_id"].map(stolen).fillna(0.0) * 0.56
        rows = {}
        for name, sc in scored.items():
            m = lab.merge(sc[["customer_id", "rank"]], on="customer_id")
            rows[name] = evaluate(m["label"].to_numpy(), -m["rank"].to_numpy(dtype=float), m["yuan"].to_numpy())
        labels = res.meta["labels"]
        head = (
            f"synth {args.customers} customers × {args.months} months (seed {args.seed}); trained on "
            f"{labels['rows']} inspections ({labels['positives']} theft/violation); evaluated on "
            f"{len(lab)} uninspected customers, {int(lab['label'].sum())} with injected theft "
            f"({', '.join(sorted(theft['kind'].unique()))})"
        )
        keys = ("roc_auc", "ap_at_100", "map_at_100", "precision_at_50", "precision_at_100", "yuan_at_100")
        md = [head, "", "| scorer | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        for name, m in rows.items():
            md.append(
                f"| {name} | "
                + " | ".join(f"{m[k]:.3f}" if k != "yuan_at_100" else f"{m[k]:,.0f}" for k in keys)
                + " |"
            )
        text = "\n".join(md)
        print(text)
        if args.write:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from bench_report import replace_block

            replace_block("risk_synth", text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
