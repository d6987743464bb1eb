"""Score calibration fitted on out-of-fold predictions, stored as plain JSON (no pickles)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit_calibrator(raw: np.ndarray, labels: np.ndarray, isotonic: bool) -> dict[str, Any]:
    """Fit isotonic regression (enough positives) or Platt scaling; return its JSON form."""
    raw = np.asarray(raw, dtype="float64")
    y = np.asarray(labels, dtype="float64")
    if isotonic:
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return {"kind": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(raw).reshape(-1, 1), y)
    return {"kind": "platt", "a": float(lr.coef_[0][0]), "b": float(lr.intercept_[0])}


def apply_calibrator(cal: dict[str, Any], raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for raw model outputs."""
    raw = np.asarray(raw, dtype="float64")
    if cal["kind"] == "isotonic":
        return np.interp(raw, np.asarray(cal["x"]), np.asarray(cal["y"]))
    if cal["kind"] == "platt":
        return 1.0 / (1.0 + np.exp(-(cal["a"] * _logit(raw) + cal["b"])))
    if cal["kind"] == "identity":
        return raw
    raise ValueError(f"unknown calibrator kind {cal['kind']!r}")
