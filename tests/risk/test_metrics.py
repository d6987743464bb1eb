import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from gridaudit.risk.metrics import ap_at_n, evaluate, map_at_n, precision_at_k, roc_auc, yuan_at_k


def test_auc_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + 0.3 * y, 1)  # many ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_auc_hand_case():
    # positives at scores 0.9 and 0.4, negatives 0.8, 0.3: pairs (0.9>0.8, 0.9>0.3, 0.4<0.8, 0.4>0.3) → 3/4
    assert roc_auc(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.4, 0.3])) == 0.75
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_ap_at_n_hand_case():
    # ranked labels 1 0 1 1 0: thieves at ranks 1, 3, 4 → (1/1 + 2/3 + 3/4) / 3
    y = np.array([1, 0, 1, 1, 0])
    s = np.array([5, 4, 3, 2, 1], dtype=float)
    assert ap_at_n(y, s, 5) == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)
    # top 2 holds one thief at rank 1 → AP@2 = 1
    assert ap_at_n(y, s, 2) == 1.0
    # normal class, ranked ascending: labels 0 1 1 0 1 → normals at ranks 1 and 4 → (1 + 2/4) / 2
    assert ap_at_n(y, s, 5, positive=0) == pytest.approx((1 + 0.5) / 2)
    assert ap_at_n(np.zeros(3), np.arange(3.0), 3) == 0.0


def test_map_at_n_is_mean_of_both_classes():
    y = np.array([1, 0, 1, 1, 0])
    s = np.array([5, 4, 3, 2, 1], dtype=float)
    assert map_at_n(y, s, 5) == pytest.approx(((1 + 2 / 3 + 3 / 4) / 3 + 0.75) / 2)


def test_ap_full_list_matches_sklearn_average_precision():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = rng.random(300) + 0.5 * y
    assert ap_at_n(y, s, 300) == pytest.approx(average_precision_score(y, s))


def test_precision_and_yuan_at_k():
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.8, 0.7, 0.1])
    yuan = np.array([100.0, 50.0, 30.0, 999.0])
    assert precision_at_k(y, s, 2) == 0.5
    assert yuan_at_k(y, s, yuan, 3) == 130.0
    out = evaluate(y, s, yuan, ks=(2,))
    assert out["precision_at_2"] == 0.5 and out["yuan_total"] == 130.0 and out["positives"] == 2
