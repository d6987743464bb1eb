"""The unsupervised scorer, used when a dataset has too few inspection outcomes to learn from.

Each signal is ranked within the scored population (percentile, direction fixed below); the score is the
weighted mean of the percentiles of the signals this dataset has (a missing signal counts as neutral, 0.5).
It ranks; it is not a probability, and the output says so (``model_kind = unsupervised``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# feature, direction (+1: higher is riskier), weight
SIGNALS: tuple[tuple[str, int, float], ...] = (
    ("scan_t13", 1, 1.0),
    ("scan_t26", 1, 1.0),
    ("cp_t", 1, 1.0),
    ("scan_d13", 1, 1.0),
    ("drop4_prior", -1, 0.5),
    ("low_week_share", 1, 0.5),
    ("scan_c4", 1, 0.5),
    ("zero_share_recent", 1, 0.5),
    ("ev_low", 1, 1.0),
    ("loss_corr", -1, 1.0),
    ("rule_hits_high", 1, 1.0),
)


def unsupervised_scores(x: pd.DataFrame, inactive_weight: float = 0.5) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Scores in [0, 1] and per-signal contributions (weighted percentile above neutral) for each row.

    A suspended or closed account's drop in use is explained by its status: its score is multiplied by
    ``inactive_weight``."""
    used, cols, weights = [], [], []
    for name, direction, weight in SIGNALS:
        if name not in x.columns or x[name].notna().sum() == 0:
            continue
        v = x[name].astype("float64") * direction
        pct = v.rank(pct=True, method="average").fillna(0.5).to_numpy()
        if x[name].nunique(dropna=True) <= 1:
            pct = np.full(len(x), 0.5)
        used.append(name)
        cols.append(pct)
        weights.append(weight)
    if not used:
        return np.full(len(x), 0.5), np.zeros((len(x), 0)), []
    p = np.column_stack(cols)
    w = np.asarray(weights)
    factor = np.ones(len(x))
    if "status_code" in x.columns:
        factor = np.where(x["status_code"].fillna(0).to_numpy() > 0, inactive_weight, 1.0)
    score = p @ w / w.sum() * factor
    contrib = (p - 0.5) * w / w.sum() * factor[:, None]
    return score, contrib, used
