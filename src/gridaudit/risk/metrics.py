"""Detection metrics for a ranked list of customers (DOMAIN §6).

* ROC AUC (ties count half).
* AP@N for one class: rank by that class's score, ``AP@N = (1/r) Σ_{i=1..r} P@k_i`` where ``r`` is the number of
  that class's members in the top N and ``k_i`` is the rank of the i-th of them (0 when r = 0).
* MAP@N as Zheng et al. (2018) define it: the mean of AP@N for the theft class (ranked by score, descending)
  and the normal class (ranked by score, ascending). It flatters, because normal customers are easy to find.
* precision@k, and ¥ at stake among the true thieves in the top k.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _order(scores: np.ndarray, descending: bool = True) -> np.ndarray:
    """A stable ranking (ties keep input order, so results are deterministic)."""
    s = -scores if descending else scores
    return np.argsort(s, kind="stable")


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney with average ranks for ties); NaN with one class only."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype="float64")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype="float64")
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ap_at_n(labels: np.ndarray, scores: np.ndarray, n: int, positive: int = 1) -> float:
    """AP@N of class ``positive``: ranked by score descending for 1, ascending for 0 (Zheng et al.)."""
    y = np.asarray(labels)
    order = _order(np.asarray(scores, dtype="float64"), descending=positive == 1)
    hits = (y[order][:n] == positive).astype("float64")
    r = hits.sum()
    if r == 0:
        return 0.0
    ranks = np.flatnonzero(hits) + 1.0
    return float(np.mean(np.cumsum(hits)[hits.astype(bool)] / ranks))


def map_at_n(labels: np.ndarray, scores: np.ndarray, n: int) -> float:
    """MAP@N as Zheng et al. define it: mean of theft AP@N and normal AP@N."""
    return (ap_at_n(labels, scores, n, 1) + ap_at_n(labels, scores, n, 0)) / 2.0


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of true thieves among the k highest scores."""
    y = np.asarray(labels)
    top = y[_order(np.asarray(scores, dtype="float64"))][:k]
    return float(top.mean()) if len(top) else float("nan")


def yuan_at_k(labels: np.ndarray, scores: np.ndarray, yuan: np.ndarray, k: int) -> float:
    """¥ at stake among the true thieves in the top k (what inspecting them would recover)."""
    order = _order(np.asarray(scores, dtype="float64"))[:k]
    y = np.asarray(labels)[order]
    v = np.nan_to_num(np.asarray(yuan, dtype="float64")[order])
    return float(v[y == 1].sum())


def evaluate(
    labels: np.ndarray, scores: np.ndarray, yuan: np.ndarray | None = None, ks: tuple[int, ...] = (50, 100, 200)
) -> dict[str, Any]:
    """All metrics of a ranking as one dict (what ``gridaudit risk evaluate`` prints)."""
    y = np.asarray(labels).astype(int)
    s = np.asarray(scores, dtype="float64")
    out: dict[str, Any] = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": roc_auc(y, s),
        "ap_at_100": ap_at_n(y, s, 100),
        "ap_at_200": ap_at_n(y, s, 200),
        "map_at_100": map_at_n(y, s, 100),
        "map_at_200": map_at_n(y, s, 200),
    }
    for k in ks:
        out[f"precision_at_{k}"] = precision_at_k(y, s, k)
        if yuan is not None:
            out[f"yuan_at_{k}"] = yuan_at_k(y, s, yuan, k)
    if yuan is not None:
        out["yuan_total"] = float(np.nan_to_num(np.asarray(yuan, dtype="float64"))[y == 1].sum())
    return out
