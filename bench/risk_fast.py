"""Issue 17 at 1 M: the risk score's parts measured one at a time, and features compared before/after a change.

* ``features`` computes the scoring features of a dataset (one snapshot per customer as of its last day, as
  ``gridaudit risk score``), writes them (and the prices) to ``--out`` and prints CPU s, wall s, peak RSS and the
  feature SQL's stage timings (the ``risk.features`` DEBUG log);
* ``explain`` runs ``score_from_features`` on such a file with a model, once with the per-row explanations of
  the customers below ``explain_top`` (the path before this change, ``signal_explanations_rows``) and once with
  the column path, checks the two score frames are equal cell for cell and prints both timings;
* ``compare A B`` checks two feature files hold the same rows and every feature within ``--atol``.

    PYTHONPATH=src:bench nice -n 5 python bench/risk_fast.py features --data /work/data/synth-100k/dataset \
        --out /tmp/f100k.parquet
    PYTHONPATH=src:bench python bench/risk_fast.py explain --features /tmp/f100k.parquet --model M
    PYTHONPATH=src:bench python bench/risk_fast.py compare /tmp/before.parquet /tmp/after.parquet
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _usage() -> tuple[float, float]:
    """CPU seconds of this process (all threads) and its peak RSS in MB."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def features(args: argparse.Namespace) -> dict[str, Any]:
    """Scoring features of ``--data`` to ``--out`` (parquet; prices beside it as JSON)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine
    from gridaudit.risk.features import compute_features, data_end, scoring_snapshots
    from gridaudit.risk.pipeline import _prices, engine_settings_for
    from gridaudit.risk.settings import RiskSettings

    stages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stages.append(record.getMessage())

    log = logging.getLogger("gridaudit.risk.features")
    log.setLevel(logging.DEBUG)
    log.addHandler(Keep())
    settings = RiskSettings()
    if args.memory_limit is not None:  # e.g. 1.2GB at 300 k: about the pressure 4 GB puts on 1 M customers
        settings = replace(settings, memory_limit=args.memory_limit)
    if args.batch is not None:
        settings = replace(settings, feature_batch=args.batch)
    ds = open_dataset(args.data)
    load, t0, (c0, _) = os.getloadavg()[0], time.perf_counter(), _usage()
    eng = open_engine(ds, engine_settings_for(settings))
    try:
        as_of = data_end(eng)
        feats = compute_features(ds, scoring_snapshots(eng, as_of), settings, engine=eng)
        prices = _prices(eng, as_of)
    finally:
        eng.close()
    wall, (c1, peak) = time.perf_counter() - t0, _usage()
    feats.to_parquet(args.out)
    Path(str(args.out) + ".prices.json").write_text(json.dumps({"as_of": str(as_of), "prices": prices}))
    return {"phase": "features", "rows": len(feats), "wall_s": round(wall, 1), "cpu_s": round(c1 - c0, 1),
            "peak_rss_mb": round(peak), "load_start": round(load, 1), "load_end": round(os.getloadavg()[0], 1),
            "stages": stages}  # fmt: skip


def explain(args: argparse.Namespace) -> dict[str, Any]:
    """``score_from_features`` with the per-row and the column explanations: timings and equality."""
    from datetime import date

    import gridaudit.risk.explain_signals as es
    from gridaudit.risk.pipeline import load_scorer, score_from_features
    from gridaudit.risk.settings import RiskSettings

    feats = pd.read_parquet(args.features)
    side = json.loads(Path(str(args.features) + ".prices.json").read_text())
    as_of, prices = date.fromisoformat(side["as_of"]), side["prices"]
    model = load_scorer(args.model)
    assert model is not None
    settings = RiskSettings.from_dict(model.meta.get("settings", {}), "model")
    if args.explain_top is not None:
        settings = replace(settings, explain_top=args.explain_top)
    out: dict[str, Any] = {"phase": "explain", "rows": len(feats), "load_start": round(os.getloadavg()[0], 1)}
    frames = {}
    fast = es.signal_explanations
    for name in args.order.split(","):
        es.signal_explanations = fast if name == "columns" else es.signal_explanations_rows  # type: ignore[assignment]
        t0, (c0, _) = time.perf_counter(), _usage()
        frames[name] = score_from_features(feats, model, settings, as_of, prices)
        out[f"{name}_wall_s"] = round(time.perf_counter() - t0, 2)
        out[f"{name}_cpu_s"] = round(_usage()[0] - c0, 2)
    es.signal_explanations = fast
    a, b = frames["rows"], frames["columns"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    out["identical"] = True
    out["rows_with_duplicate_sentence"] = int(
        sum(r.count('"feature"') > e.count("; ") + 1 for r, e in zip(b["reasons"], b["explanation_en"], strict=True))
    )
    out["peak_rss_mb"] = round(_usage()[1])
    return out


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Two feature files: same rows in the same order, every feature within ``--atol`` (NaN where NaN)."""
    from gridaudit.risk.features import FEATURES

    a, b = pd.read_parquet(args.a), pd.read_parquet(args.b)
    assert list(a["customer_id"]) == list(b["customer_id"]), "rows differ"
    worst: dict[str, float] = {}
    bad = []
    for col in FEATURES:
        x, y = a[col].to_numpy(dtype="float64"), b[col].to_numpy(dtype="float64")
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            bad.append(f"{col}: NaN in different rows ({int((np.isnan(x) != np.isnan(y)).sum())})")
            continue
        d = np.abs(x - y)[~np.isnan(x)]
        worst[col] = float(d.max()) if len(d) else 0.0
        if len(d) and d.max() > args.atol:
            bad.append(f"{col}: {int((d > args.atol).sum())} rows differ by up to {d.max():.3g}")
    top = sorted(worst.items(), key=lambda kv: -kv[1])[:5]
    return {"phase": "compare", "rows": len(a), "ok": not bad, "bad": bad, "largest": top}


def main() -> None:
    """Command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("features")
    f.add_argument("--data", type=Path, required=True)
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--memory-limit", default=None, help="DuckDB memory_limit (default: RiskSettings)")
    f.add_argument("--batch", type=int, default=None, help="feature_batch (default: RiskSettings)")
    e = sub.add_parser("explain")
    e.add_argument("--features", type=Path, required=True)
    e.add_argument("--model", type=Path, required=True)
    e.add_argument("--order", default="rows,columns", help="which path runs first")
    e.add_argument("--explain-top", type=int, default=None, help="instead of the model's settings' explain_top")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--atol", type=float, default=1e-9)
    args = ap.parse_args()
    rec = {"features": features, "explain": explain, "compare": compare}[args.cmd](args)
    print(json.dumps(rec, default=str))
    if rec.get("ok") is False:
        sys.exit(1)


if __name__ == "__main__":
    main()
