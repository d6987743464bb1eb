"""The supervised theft-risk model: LightGBM on inspection outcomes, calibrated on out-of-fold predictions.

A model file is LightGBM's own text format (``FILE``) plus a JSON sidecar (``FILE.json``) holding the
feature list, training window, out-of-fold metrics, calibrator, settings and library versions. Loading
reads text and JSON only — nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gridaudit.dataset import write_text
from gridaudit.i18n import both
from gridaudit.risk.calibrate import apply_calibrator, fit_calibrator
from gridaudit.risk.estimate import EstimateSet, estimate_metrics
from gridaudit.risk.metrics import ap_at_n, roc_auc
from gridaudit.risk.settings import RiskSettings

FORMAT = "gridaudit-risk-model/1"


class ModelFileError(Exception):
    """A model file that is missing, damaged or of another format."""


@dataclass
class TrainedModel:
    """A LightGBM booster with its calibrator and metadata."""

    booster: Any
    features: list[str]
    calibrator: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    def raw(self, x: pd.DataFrame, threads: int = 1, chunk: int = 100_000) -> np.ndarray:
        """Uncalibrated probabilities, predicted ``chunk`` rows at a time (each row's prediction is its own; the
        float matrix LightGBM reads is one chunk's, not 1 M customers × every feature at once)."""
        if len(x) <= chunk:
            return self.booster.predict(x[self.features].to_numpy(dtype="float64"), num_threads=threads)
        parts = [
            self.booster.predict(x.iloc[i : i + chunk][self.features].to_numpy(dtype="float64"), num_threads=threads)
            for i in range(0, len(x), chunk)
        ]
        return np.concatenate(parts)

    def contributions(self, x: pd.DataFrame, threads: int = 1) -> np.ndarray:
        """Per-feature contributions in log-odds (last column is the bias), LightGBM ``pred_contrib``."""
        return self.booster.predict(x[self.features].to_numpy(dtype="float64"), pred_contrib=True, num_threads=threads)

    def predict(self, x: pd.DataFrame, threads: int = 1) -> np.ndarray:
        """Calibrated probabilities of theft or violation."""
        return self.calibrated(self.raw(x, threads))

    def calibrated(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from :meth:`raw` output (predicting once serves both)."""
        return apply_calibrator(self.calibrator, raw)


def _folds(y: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    n_folds = max(2, min(n_folds, int(y.sum()), int((1 - y).sum())))
    skf = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(skf.split(np.zeros(len(y)), y, groups))


def oof_folds(
    y: np.ndarray, groups: np.ndarray, augmented: np.ndarray, settings: RiskSettings
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The out-of-fold splits: (rows that train the fold's model, positions among the real rows it predicts).

    Folds are drawn over the real rows, grouped by ``groups`` (a customer): every snapshot of a customer, and
    every augmented copy of it, is on one side only, so no customer is ever predicted by a model that saw it."""
    real = np.flatnonzero(~augmented)
    out = []
    for _tr, va in _folds(y[real], groups[real], settings.cv_folds, int(settings.lgbm_params.get("seed", 7))):
        held = set(groups[real[va]])
        out.append((np.flatnonzero(~np.isin(groups, list(held))), va))
    return out


def inspection_estimate(
    y: np.ndarray, oof: np.ndarray, groups: np.ndarray, offsets: np.ndarray, seed: int, draws: int = 20
) -> dict[str, Any]:
    """The label-based out-of-fold estimate (issue 17's first version): the inspected customers themselves.

    Draw one snapshot per customer (of its offsets 0..``backbill_months`` after the inspection, at random),
    rank those out-of-fold predictions, take AUC and theft AP@100; average over ``draws`` draws. Also the AUC
    of each offset alone (thefts at that offset against honest customers at that offset). It has the
    inspected thefts' kinds, lengths and ages (the offsets), not the scored population's: the scoring-time
    estimate is :func:`gridaudit.risk.estimate.estimate_metrics`."""
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(pd.Series(groups).astype(str))
    aucs, aps = [], []
    if len(y) and len(uniq):
        for _ in range(draws):
            key = rng.random(len(y))
            order = np.lexsort((key, codes))
            first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]]
            aucs.append(roc_auc(y[first], oof[first]))
            aps.append(ap_at_n(y[first], oof[first], 100))
    by_offset = {}
    for m in sorted(set(offsets.tolist())):
        sel = offsets == m
        if y[sel].min(initial=1) == 0 and y[sel].max(initial=0) == 1:
            by_offset[str(m)] = round(roc_auc(y[sel], oof[sel]), 4)
    return {
        "inspection_oof_roc_auc": float(np.nanmean(aucs)) if aucs else float("nan"),
        "inspection_oof_ap_at_100": float(np.nanmean(aps)) if aps else float("nan"),
        "oof_roc_auc_by_offset_months": by_offset,
    }


def _fit(
    x: np.ndarray, y: np.ndarray, features: list[str], settings: RiskSettings, weight: np.ndarray | None = None
) -> Any:
    import lightgbm as lgb

    data = lgb.Dataset(x, label=y, weight=weight, feature_name=features, free_raw_data=True)
    return lgb.train(dict(settings.lgbm_params), data, num_boost_round=settings.num_rounds)


def train_model(
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    features: list[str],
    settings: RiskSettings,
    augmented: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
    estimate: EstimateSet | None = None,
) -> TrainedModel:
    """Train on labelled snapshots: out-of-fold predictions (grouped by customer) fit the calibrator and give
    the training metrics; the final booster is trained on all rows.

    ``augmented`` marks synthetic rows (:mod:`gridaudit.risk.augment`): they train every fold (weighted by
    ``augment_weight``) but are never predicted out of fold, so the calibrator and the metrics see real
    inspections only. ``groups`` must give a copy its source customer's group.

    ``offsets`` (months after the inspection of each row's snapshot, :func:`gridaudit.risk.pipeline.snapshot_rows`)
    give the label-based estimate (:func:`inspection_estimate`) and the out-of-fold AUC per offset.

    ``estimate`` (:mod:`gridaudit.risk.estimate`): clean and attacked snapshots as of the scoring date, each
    predicted by the fold model that did not see its customer — the scoring-time estimate."""
    xa = x[features].to_numpy(dtype="float64")
    y = np.asarray(y, dtype="int64")
    aug = np.zeros(len(y), dtype=bool) if augmented is None else np.asarray(augmented, dtype=bool)
    off_all = np.zeros(len(y), dtype="int64") if offsets is None else np.asarray(offsets, dtype="int64")
    now_w = float(settings.now_snapshot_weight)
    weight: np.ndarray | None = np.where(aug, float(settings.augment_weight), np.where(off_all == 0, now_w, 1.0))
    if weight is not None and np.all(weight == 1.0):
        weight = None
    real = np.flatnonzero(~aug)
    groups = np.asarray(groups)
    oof = np.zeros(len(real))
    est_x = None if estimate is None else estimate.x[features].to_numpy(dtype="float64")
    est_pred = np.full(0 if estimate is None else len(estimate.y), np.nan)
    for train_rows, va in oof_folds(y, groups, aug, settings):
        w = None if weight is None else weight[train_rows]
        fold_model = _fit(xa[train_rows], y[train_rows], features, settings, w)
        oof[va] = fold_model.predict(xa[real[va]])
        if estimate is not None and est_x is not None:
            sel = np.isin(estimate.groups, groups[real[va]])
            if sel.any():
                est_pred[sel] = fold_model.predict(est_x[sel])
    yr = y[real]
    off = np.zeros(len(real), dtype="int64") if offsets is None else np.asarray(offsets, dtype="int64")[real]
    isotonic = int(yr.sum()) >= settings.isotonic_min_positives
    cal = fit_calibrator(oof, yr, isotonic=isotonic)
    booster = _fit(xa, y, features, settings, weight)
    metrics = {
        "oof_roc_auc": roc_auc(yr, oof),
        "oof_ap_at_100": ap_at_n(yr, oof, 100),
        "labels": int(len(yr)),
        "positives": int(yr.sum()),
        "augmented_rows": int(aug.sum()),
        **inspection_estimate(yr, oof, groups[real], off, int(settings.lgbm_params.get("seed", 7))),
    }
    if estimate is not None:
        share = float(yr[off == 0].mean()) if (off == 0).any() else float(yr.mean())
        metrics.update(estimate_metrics(estimate.y, est_pred, estimate.timing, share, int(settings.estimate_seed)))
    return TrainedModel(booster=booster, features=list(features), calibrator=cal, meta={"metrics": metrics})


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model (recorded in the model file)."""
    from importlib.metadata import version

    import lightgbm
    import sklearn

    from gridaudit import __version__

    return {
        "gridaudit": __version__,
        "lightgbm": lightgbm.__version__,
        "scikit-learn": sklearn.__version__,
        "duckdb": version("duckdb"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def sidecar_path(path: str | Path) -> Path:
    """The JSON sidecar beside a model file."""
    p = Path(path)
    return p.with_name(p.name + ".json")


def save_model(model: TrainedModel, path: str | Path) -> None:
    """Write the LightGBM text model and its JSON sidecar (sidecar last; it names the model's hash)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = model.booster.model_to_string()
    meta = {
        "format": FORMAT,
        "model_kind": "lightgbm",
        "features": model.features,
        "calibrator": model.calibrator,
        "model_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        **{k: v for k, v in model.meta.items() if k not in ("format", "features", "calibrator")},
    }
    write_text(path, text)
    write_text(sidecar_path(path), json.dumps(meta, ensure_ascii=False, indent=2, default=str))


def load_model(path: str | Path) -> TrainedModel:
    """Load a model written by :func:`save_model` (text and JSON only; the hash must match)."""
    import lightgbm as lgb

    path = Path(path)
    side = sidecar_path(path)
    if not path.is_file() or not side.is_file():
        raise ModelFileError(
            both(f"找不到模型文件 {path} 或其说明文件 {side}", f"model file {path} or its sidecar {side} not found")
        )
    try:
        meta = json.loads(side.read_text("utf-8"))
    except json.JSONDecodeError as exc:
        raise ModelFileError(both(f"{side} 不是有效的 JSON：{exc}", f"{side} is not valid JSON: {exc}")) from exc
    if meta.get("format") != FORMAT:
        raise ModelFileError(both(f"{side} 不是 gridaudit 风险模型", f"{side} is not a gridaudit risk model"))
    text = path.read_text("utf-8")
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != meta.get("model_sha256"):
        raise ModelFileError(
            both(f"{path} 与说明文件不匹配（哈希不同）", f"{path} does not match its sidecar (hash differs)")
        )
    booster = lgb.Booster(model_str=text)
    return TrainedModel(booster=booster, features=list(meta["features"]), calibrator=meta["calibrator"], meta=meta)
