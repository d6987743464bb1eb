"""The column-wise signal explanations (issue 17, 1 M customers) equal the per-row path byte for byte."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridaudit.risk.explain_signals import KNOWN, signal_explanations, signal_explanations_rows
from gridaudit.risk.features import FEATURES
from gridaudit.risk.unsupervised import unsupervised_scores


def _fixture(n: int, seed: int) -> pd.DataFrame:
    """Features with NaNs, ties, integers, values on rounding steps (x.5, 9-digit edges) and both signs."""
    rng = np.random.default_rng(seed)
    cols = {}
    for name in FEATURES:
        v = rng.normal(0, 3, n)
        v[rng.random(n) < 0.15] = np.nan
        steps = rng.random(n) < 0.1  # exactly on a rounding step of the text (t to 0.1, pct to 1)
        v[steps] = np.round(rng.normal(0, 3, steps.sum()), 1) + 0.05
        ties = rng.random(n) < 0.1
        v[ties] = 1.0
        cols[name] = v
    for name in ("ev_low", "rule_hits_high"):
        cols[name] = np.where(rng.random(n) < 0.5, rng.integers(0, 4, n), np.nan).astype("float64")
        cols[name][rng.random(n) < 0.05] = 2.5  # a half: round half to even
    cols["drop4_prior"] = np.abs(cols["drop4_prior"]) / 3
    for name in ("low_week_share", "zero_share_recent"):
        cols[name] = rng.random(n)
    cols["status_code"] = rng.integers(0, 3, n).astype("float64")
    df = pd.DataFrame(cols)
    df.insert(0, "customer_id", [f"C{i:06d}" for i in range(n)])
    return df


def _compare(feats: pd.DataFrame, k: int, top: int) -> None:
    rest = np.arange(top, len(feats))
    _, contrib, used = unsupervised_scores(feats)
    fast = signal_explanations(feats, rest, contrib[rest], used, k)
    slow = signal_explanations_rows(feats, rest, contrib[rest], used, k)
    for a, b in zip(fast, slow, strict=True):
        assert len(a) == len(b) == len(rest)
        bad = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        assert not bad, (a[bad[0]], b[bad[0]])


def test_column_path_equals_row_path():
    feats = _fixture(4000, seed=1)
    for k in (1, 3, 5):
        _compare(feats, k, top=100)


def test_partners_missing_and_unknown_signal_fall_back():
    feats = _fixture(1500, seed=2)
    feats["scan_d26"] = np.nan  # scan_t26's partner missing: label-and-value sentence
    feats = feats.drop(columns=["cp_ratio"])  # cp_t's partner column absent
    feats.loc[::7, "loss_corr"] = np.inf  # a value the columns do not cover: the per-row path
    _compare(feats, 5, top=0)
    _, _, used = unsupervised_scores(feats)
    assert set(used) <= KNOWN  # every signal of the scorer has its column path


def test_nothing_positive_says_so():
    feats = _fixture(50, seed=3)
    rest = np.arange(50)
    used = ["scan_t13"]
    contrib = np.zeros((50, 1))
    zh, en, js = signal_explanations(feats, rest, contrib, used, 3)
    assert set(js) == {"[]"}
    assert all(e.endswith("no prominent risk factor") for e in en)
    assert (zh == signal_explanations_rows(feats, rest, contrib, used, 3)[0]).all()
