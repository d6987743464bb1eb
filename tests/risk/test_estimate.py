"""Issue 17: the out-of-fold estimate under the scoring-time protocol (thefts simulated at the scoring date)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.estimate import EST_SEP, TIMINGS, build_estimate, estimate_metrics, theft_window
from gridaudit.risk.model import sidecar_path
from gridaudit.risk.pipeline import labelled_inspections, score, train
from gridaudit.risk.settings import RiskSettings

EPOCH = date(1970, 1, 1)


def _days(d: date) -> int:
    return (d - EPOCH).days


def test_theft_windows_lie_where_their_timing_says():
    settings = RiskSettings(backbill_months=12)
    rng = np.random.default_rng(3)
    d0, d1 = _days(date(2022, 1, 1)), _days(date(2024, 6, 30))
    as_of = d1
    for _ in range(300):
        for tm in TIMINGS:
            start, end = theft_window(rng, tm, d0, d1, as_of, settings)
            assert start >= d0 + 30 and end - start >= 29 and end - start <= 365
            if tm == "ongoing":
                assert end == d1
            elif tm == "ended":
                assert as_of - 365 <= end <= as_of - 30
            else:
                assert as_of - 365 <= end <= as_of


def test_a_household_whose_data_ended_early_still_gets_a_whole_span():
    rng = np.random.default_rng(0)
    d0, d1 = _days(date(2023, 1, 1)), _days(date(2023, 6, 1))
    as_of = _days(date(2024, 6, 30))  # its data stopped a year before the scoring date
    start, end = theft_window(rng, "ended", d0, d1, as_of, RiskSettings())
    assert end == d1 and start >= d0 + 30 and end - start >= 29


def test_copies_come_from_honest_households_only_and_end_at_the_scoring_date(risk_ds):
    root, info = risk_ds
    ds = open_dataset(root)
    settings = RiskSettings(estimate_copies=2)
    eng = DuckDBEngine(ds)
    try:
        labels = labelled_inspections(eng, None, settings)
        as_of = date(2024, 1, 31)
        est = build_estimate(eng, labels, as_of, settings, seed=5)
    finally:
        eng.close()
    assert est is not None
    honest = set(labels[labels["label"] == 0]["customer_id"]) - set(labels[labels["label"] == 1]["customer_id"])
    clean = [s for s, y in zip(est.snapshots, est.labels, strict=True) if y == 0]
    copies = [s for s, y in zip(est.snapshots, est.labels, strict=True) if y == 1]
    assert {s.customer_id for s in clean} == honest  # one clean snapshot per honest inspected customer
    assert {s.source for s in copies} <= honest and len(copies) == 2 * len(honest)  # thieves are never copied
    assert all(s.as_of == as_of for s in est.snapshots)
    assert all(s.customer_id.startswith(f"{s.source}{EST_SEP}") for s in copies)
    assert set(est.timing) - {""} == set(TIMINGS)
    daily = est.augmentation.daily.to_pandas()
    assert pd.to_datetime(daily["day"]).max() <= pd.Timestamp(as_of)  # nothing after the scoring date
    # a copy differs from its source inside its window only, and is lower there
    du = ds.read("daily_usage").to_pandas()
    c, (w0, w1) = copies[0], est.augmentation.windows[0]
    mine = daily[daily["meter_id"] == f"M{c.source}{EST_SEP}0"].set_index("day")["kwh"]
    src = du[du["meter_id"] == f"M{c.source}"].set_index("day")["kwh"].reindex(mine.index)
    changed = mine.index[~np.isclose(mine.to_numpy(), src.to_numpy())]
    assert len(changed) > 0 and min(changed) >= w0 and max(changed) <= w1
    assert mine.loc[changed].sum() < src.loc[changed].sum()  # h4 (γ·honest mean) may lift a low day


def test_the_estimate_metrics_rank_copies_against_clean_rows_per_timing():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    pred = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.25, np.nan])
    timing = np.array(["", "", "", "", "ongoing", "ended", "intermittent", "ongoing"])
    m = estimate_metrics(y, pred, timing, positive_share=0.5, seed=0)
    assert m["scoring_estimate_rows"] == {"clean": 4, "attacked": 3}  # the unpredicted row is left out
    assert abs(m["scoring_oof_roc_auc"] - (4 + 4 + 2) / 12) < 1e-9
    assert m["scoring_oof_roc_auc_by_timing"] == {"ongoing": 1.0, "ended": 1.0, "intermittent": 0.5}


def test_train_reports_the_estimate_without_moving_the_model(risk_ds, tmp_path):
    """The estimate's snapshots and copies join the feature query but change no training row: the model scores
    like the one trained without them (features equal to the last bits: DuckDB's parallel sums may reorder)."""
    root, _ = risk_ds
    settings = RiskSettings()
    with_est = train(root, tmp_path / "a", settings=settings)
    without = train(root, tmp_path / "b", settings=replace(settings, estimate_copies=0))
    sa, sb = score(root, tmp_path / "a"), score(root, tmp_path / "b")
    assert sa["customer_id"].tolist() == sb["customer_id"].tolist()
    assert np.allclose(sa["raw_score"], sb["raw_score"], rtol=0, atol=1e-9)
    m = with_est.meta["metrics"]
    assert 0.5 < m["scoring_oof_roc_auc"] <= 1.0 and 0.0 <= m["scoring_oof_ap_at_100"] <= 1.0
    assert set(m["scoring_oof_roc_auc_by_timing"]) == set(TIMINGS)
    assert m["scoring_estimate_rows"]["attacked"] > 0 and "inspection_oof_roc_auc" in m
    assert "scoring_oof_roc_auc" not in without.meta["metrics"] and "inspection_oof_roc_auc" in without.meta["metrics"]
    assert sidecar_path(tmp_path / "a").is_file()


def test_with_until_the_estimate_stands_at_until(risk_ds, tmp_path):
    root, _ = risk_ds
    until = date(2023, 12, 31)
    ds = open_dataset(root)
    eng = DuckDBEngine(ds)
    try:
        labels = labelled_inspections(eng, until, RiskSettings())
        est = build_estimate(eng, labels, until, RiskSettings(), seed=1)
    finally:
        eng.close()
    assert est is not None and {s.as_of for s in est.snapshots} == {until}
    assert max(w[1] for w in est.augmentation.windows) <= until
    assert min(w[0] for w in est.augmentation.windows) > until - timedelta(days=2 * 366)
