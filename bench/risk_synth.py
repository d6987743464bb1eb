"""Theft-risk scorer on the synthetic utility's injected theft (truth.csv kinds ``theft_*``).

Generates a synthetic utility (``gridaudit synth``), ingests its tables (``gridaudit ingest``), trains on its
inspections and scores everyone (same code as the CLI), then evaluates on the customers that were *not*
inspected (label 1 = a ``theft_*`` row in truth.csv, yuan = stolen kWh × the customer's tariff price).

    PYTHONPATH=src:bench nice -n 10 python bench/risk_synth.py [--customers 5000] [--months 12] [--write]

Several seeds and settings variants in one run (each seed's utility is generated once and every variant trained
on it; ``--write`` is for the single-seed table only):

    PYTHONPATH=src:bench nice -n 5 python bench/risk_synth.py --seeds 42,43,44 --augment 0 \
        --variant 'default' --variant 'snapshot 0 only:train_snapshot_months=[0]' --json-out synth.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gridaudit.risk.metrics import evaluate
from gridaudit.risk.pipeline import score, train
from gridaudit.risk.settings import RiskSettings

KEYS = ("roc_auc", "ap_at_100", "map_at_100", "precision_at_50", "precision_at_100", "yuan_at_100")


def _variant(spec: str) -> tuple[str, dict]:
    """``LABEL`` or ``LABEL:KEY=VALUE[;KEY=VALUE]`` (values JSON) → label and settings overrides."""
    label, _, rest = spec.partition(":")
    return label, {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in rest.split(";") if kv)}


def run_seed(
    customers: int, months: int, seed: int, base: RiskSettings, variants: list[tuple[str, dict]],
    augments: list[int], unsupervised: bool = True,
) -> tuple[str, dict[str, dict], dict[str, dict]]:  # fmt: skip
    """One synthetic utility (seed): every variant × augment trained and scored; metrics on the uninspected.

    Returns the table head, metrics per scorer and each model's own estimates (the model file's metrics)."""
    work = Path(tempfile.mkdtemp(prefix="risk_synth_"))
    try:
        src, ds = work / "src", work / "ds"
        cmd = [sys.executable, "-m", "gridaudit"]
        subprocess.run([*cmd, "synth", "--out-dir", str(src), "-n", str(customers), "--months", str(months),
                        "--seed", str(seed)], check=True, capture_output=True)  # fmt: skip
        subprocess.run([*cmd, "ingest", *map(str, sorted(src.glob("*.parquet"))), "--dataset", str(ds), "-q"],
                       check=False, capture_output=True)  # fmt: skip
        scored, estimates = {}, {}
        res = None
        for label, over in variants:
            for copies in augments:
                settings = RiskSettings.from_dict({**base.to_dict(), **over, "augment_copies": copies})
                model = work / f"risk_{len(scored)}.model"
                t0 = time.perf_counter()
                res = train(ds, model, settings=settings)
                name = f"gridaudit {res.model_kind}" + (f", augment {copies}" if res.model_kind == "lightgbm" else "")
                if len(variants) > 1 or label != "default":
                    name += f" ({label})"
                scored[name] = score(ds, model)
                m = res.meta.get("metrics", {})
                estimates[name] = {k: v for k, v in m.items() if "oof" in k}
                print(f"seed {seed} {name}: train+score {time.perf_counter() - t0:.0f}s", flush=True)
        assert res is not None
        sup = next(iter(scored.values()))
        if unsupervised:
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
            mm = lab.merge(sc[["customer_id", "rank"]], on="customer_id")
            rows[name] = evaluate(mm["label"].to_numpy(), -mm["rank"].to_numpy(dtype=float), mm["yuan"].to_numpy())
        labels = res.meta["labels"]
        head = (
            f"synth {customers} customers × {months} months (seed {seed}); trained on "
            f"{labels['rows']} inspections ({labels['positives']} theft/violation); evaluated on "
            f"{len(lab)} uninspected customers, {int(lab['label'].sum())} with injected theft "
            f"({', '.join(sorted(theft['kind'].unique()))})"
        )
        return head, rows, estimates
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(rows: dict[str, dict]) -> list[str]:
    """Markdown rows of one seed's metrics."""
    md = ["| scorer | " + " | ".join(KEYS) + " |", "|---|" + "---|" * len(KEYS)]
    for name, m in rows.items():
        md.append(
            f"| {name} | " + " | ".join(f"{m[k]:.3f}" if k != "yuan_at_100" else f"{m[k]:,.0f}" for k in KEYS) + " |"
        )
    return md


def mean_table(per_seed: list[dict[str, dict]]) -> list[str]:
    """Markdown: AUC and AP@100 per scorer, each seed and mean ± sd."""
    names = list(per_seed[0])
    md = ["| scorer | AUC per seed | AUC mean ± sd | AP@100 per seed | AP@100 mean ± sd |", "|---|---|---|---|---|"]
    for name in names:
        cells = [name]
        for k in ("roc_auc", "ap_at_100"):
            v = np.array([r[name][k] for r in per_seed])
            cells += [" / ".join(f"{x:.3f}" for x in v), f"{v.mean():.3f} ± {v.std(ddof=1) if len(v) > 1 else 0:.3f}"]
        md.append("| " + " | ".join(cells) + " |")
    return md


def main() -> None:
    """Run synth → ingest → train → score → evaluate; print and optionally write the result."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--seeds", default="", help="several seeds (comma-separated; overrides --seed)")
    ap.add_argument("--augment", default="0,1", help="augment_copies values to train (comma-separated)")
    ap.add_argument("--variant", action="append", default=[], metavar="LABEL[:KEY=VALUE;...]",
                    help="a settings variant (repeat); default: the defaults only")  # fmt: skip
    ap.add_argument("--no-unsupervised", action="store_true")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a RiskSettings value (JSON)")
    args = ap.parse_args()
    overrides = {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    base = RiskSettings.from_dict({**RiskSettings().to_dict(), **overrides})
    seeds = [int(s) for s in args.seeds.split(",") if s] or [args.seed]
    variants = [_variant(v) for v in args.variant] or [("default", {})]
    augments = [int(a) for a in args.augment.split(",") if a]
    results = []
    for seed in seeds:
        head, rows, est = run_seed(
            args.customers, args.months, seed, base, variants, augments, not args.no_unsupervised
        )
        results.append({"seed": seed, "head": head, "metrics": rows, "estimates": est})
        print("\n".join([head, "", *table(rows)]), flush=True)
        if args.json_out is not None:
            args.json_out.write_text(json.dumps(results, indent=1, default=str), "utf-8")
    if len(seeds) > 1:
        print("\n".join(mean_table([r["metrics"] for r in results])))
    elif args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_report import replace_block

        replace_block("risk_synth", "\n".join([results[0]["head"], "", *table(results[0]["metrics"])]))


if __name__ == "__main__":
    main()
