"""Line-loss detection quality on the synthetic utility (truth.csv from gridaudit.synth).

    python bench/lineloss_detect.py --dataset DEMO/dataset --truth DEMO/source/truth.csv [--k 10 20 50]

Measures, on one run of gridaudit.lineloss.run.run_loss over the whole dataset:
* areas: areas holding an injected thief (theft_* kinds, by the customer's recorded area) or touched by an
  injected mapping error (recorded and true area), ranked by |non-technical loss rate| of the window —
  share of them in the top k (recall@k) and share of the top k that are such areas (precision@k);
* thieves: share of injected thieves ranked 1st / within top N (behind.top_customers) among the customers of
  their area (a thief in an area that is not flagged counts as missed), and among flagged areas only;
* mapping: recall and precision of loss_mapping_error findings (right customer and right true area);
* negative areas: share of window-negative areas with a mapping error recorded on them whose
  loss_area_negative findings say explained_by_mapping.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from pathlib import Path

from gridaudit.dataset import open_dataset
from gridaudit.lineloss.run import run_loss
from gridaudit.lineloss.settings import LossSettings


def load_truth(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["detail"] = json.loads(r["detail"]) if r.get("detail") else {}
    return rows


def measure(dataset: Path, truth_path: Path, ks: list[int], threads: int | None = None) -> dict:
    settings = LossSettings()
    t0 = time.perf_counter()
    res = run_loss(dataset, settings=settings, threads=threads)
    seconds = time.perf_counter() - t0
    ds = open_dataset(dataset)
    cust_area = dict(zip(*(ds.read("customers", ["customer_id", "area_id"]).to_pydict().values()), strict=True))
    truth = load_truth(truth_path)
    thieves = {r["entity_id"] for r in truth if r["kind"].startswith("theft_")}
    mapping = {r["entity_id"]: r["detail"] for r in truth if r["kind"] == "data_mapping_error"}
    bad_areas = {cust_area.get(c) for c in thieves} - {None}
    for d in mapping.values():
        bad_areas |= {d.get("true_area_id"), d.get("recorded_area_id")} - {None}

    tech = {r["area_id"]: r for r in res.technical_window.to_pylist()}
    win = {r["entity_id"]: r for r in res.balance.window.to_pylist() if r["level"] == "area"}

    def area_score(a: str) -> float:
        t = tech.get(a)
        if t and t["non_technical_rate_pct"] is not None:
            return abs(t["non_technical_rate_pct"])
        r = win[a]
        return abs(r["loss_rate_pct"] or 0.0)

    ranked = sorted(win, key=lambda a: -area_score(a))
    out: dict = {
        "customers": ds.rows("customers"),
        "areas": len(win),
        "bad_areas": len(bad_areas),
        "thieves": len(thieves),
        "mapping_errors": len(mapping),
        "run_seconds": round(seconds, 1),
    }
    for k in ks:
        top = set(ranked[:k])
        out[f"area_recall@{k}"] = round(len(top & bad_areas) / max(len(bad_areas), 1), 3)
        out[f"area_precision@{k}"] = round(len(top & bad_areas) / max(min(k, len(ranked)), 1), 3)
    kb = len(bad_areas)
    topb = set(ranked[:kb])
    out["area_recall@|bad|"] = round(len(topb & bad_areas) / max(kb, 1), 3)

    rank = {(s["customer_id"]): s for s in res.suspects.to_pylist()}
    flagged = {s["area_id"] for s in res.suspects.to_pylist()}
    n_top = settings.behind.top_customers
    in_flagged = [c for c in thieves if cust_area.get(c) in flagged]
    out["thieves_in_flagged_areas"] = len(in_flagged)
    out["thief_rank1_share"] = round(
        sum(1 for c in thieves if c in rank and rank[c]["rank_in_area"] == 1) / max(len(thieves), 1), 3
    )
    out[f"thief_top{n_top}_share"] = round(
        sum(1 for c in thieves if c in rank and rank[c]["rank_in_area"] <= n_top) / max(len(thieves), 1), 3
    )
    out[f"thief_top{n_top}_share_flagged"] = round(
        sum(1 for c in in_flagged if c in rank and rank[c]["rank_in_area"] <= n_top) / max(len(in_flagged), 1), 3
    )
    sus = [f for f in res.findings.to_pylist() if f["rule_id"] == "loss_customer_suspect"]
    out["suspect_findings"] = len(sus)
    out["suspect_precision"] = round(sum(1 for f in sus if f["entity_id"] in thieves) / max(len(sus), 1), 3)

    found = {m["customer_id"]: m for m in res.mapping.to_pylist()}
    right = [c for c, d in mapping.items() if c in found and found[c]["likely_area"] == d.get("true_area_id")]
    out["mapping_recall"] = round(len(right) / max(len(mapping), 1), 3)
    out["mapping_precision"] = round(sum(1 for c in found if c in mapping) / max(len(found), 1), 3)
    out["mapping_findings"] = len(found)

    recorded_on = defaultdict(set)
    for c, d in mapping.items():
        recorded_on[d.get("recorded_area_id")].add(c)
    neg = [a for a, r in win.items() if r["band"] == "negative" and a in recorded_on]
    neg_f = defaultdict(list)
    for f in res.findings.to_pylist():
        if f["rule_id"] == "loss_area_negative":
            neg_f[f["entity_id"]].append(json.loads(f["evidence"]).get("explained_by_mapping", False))
    out["negative_areas_with_mapping_error"] = len(neg)
    out["negative_explained_share"] = round(sum(1 for a in neg if neg_f.get(a) and all(neg_f[a])) / max(len(neg), 1), 3)
    out["negative_areas_total"] = sum(1 for r in win.values() if r["band"] == "negative")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--k", type=int, nargs="*", default=[10, 20, 50])
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    for key, val in measure(a.dataset, a.truth, a.k, a.threads).items():
        print(f"{key}: {val}")


if __name__ == "__main__":
    main()
