"""Issue 17: whole-history features, training snapshots after each inspection, the scoring-time estimate."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.dataset import commit_version, open_dataset, stage_version
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.explain import add_args, reason_text
from gridaudit.risk.features import HISTORY_FEATURES, Snapshot, compute_features
from gridaudit.risk.model import inspection_estimate, oof_folds
from gridaudit.risk.pipeline import labelled_inspections, month_days, snapshot_rows, train
from gridaudit.risk.settings import RiskSettings

from .risk_helpers import START, make_dataset


def test_snapshots_follow_each_inspection_up_to_the_horizon_and_the_data():
    labels = pd.DataFrame(
        {"customer_id": ["A", "B"], "inspected_on": [date(2023, 3, 1), date(2023, 12, 1)], "label": [1, 0]}
    )
    settings = RiskSettings(train_snapshot_months=(0, 1, 6, 12, 18), backbill_months=12)
    rows, snaps = snapshot_rows(labels, settings, last_day=date(2024, 3, 31))
    got = [(s.customer_id, s.as_of, m) for s, m in zip(snaps, rows["offset_months"], strict=True)]
    a0 = date(2023, 2, 28)
    b0 = date(2023, 11, 30)
    assert got == [
        ("A", a0, 0),
        ("A", a0 + timedelta(days=month_days(1)), 1),
        ("A", a0 + timedelta(days=month_days(6)), 6),
        ("A", a0 + timedelta(days=month_days(12)), 12),  # 18 is beyond the back-billing horizon
        ("B", b0, 0),
        ("B", b0 + timedelta(days=month_days(1)), 1),  # 6 months after B is after the last day of data
    ]
    assert rows["label"].tolist() == [1, 1, 1, 1, 0, 0] and rows["inspection_row"].tolist() == [0, 0, 0, 0, 1, 1]


def test_a_snapshot_after_an_inspection_reads_no_day_after_its_own_date(tmp_path):
    """Every training snapshot's features are those of a dataset in which every day after its as-of date (every
    customer's) was rewritten: no feature reads a day after its snapshot, wherever the snapshot stands."""
    root = tmp_path / "ds"
    info = make_dataset(root, n=60, days=420, seed=5)
    ds = open_dataset(root)
    settings = RiskSettings()
    eng = DuckDBEngine(ds)
    labels = labelled_inspections(eng, None, settings)
    eng.close()
    rows, snaps = snapshot_rows(labels.head(6), settings, START + timedelta(days=419))
    assert rows["offset_months"].max() > 0
    together = compute_features(ds, snaps, settings)
    du = ds.read("daily_usage").to_pandas()
    for k in sorted({0, len(snaps) // 2, len(snaps) - 1}):
        cut = du.copy()
        cut.loc[pd.to_datetime(cut["day"]) > pd.Timestamp(snaps[k].as_of), "kwh"] = 0.0
        staged = stage_version(tmp_path / f"cut{k}")
        for t in ("customers", "meters"):
            staged.write_table(t, ds.read(t))
        staged.write_table(
            "daily_usage", pa.Table.from_pandas(cut, schema=ds.read("daily_usage").schema, preserve_index=False)
        )
        alone = compute_features(open_dataset(commit_version(staged, {}).root), [snaps[k]], settings)
        cols = [
            c for c in together.columns if c not in ("snap_id",) and not c.startswith(("loss", "ev_", "rule", "iv_"))
        ]
        pd.testing.assert_frame_equal(
            together.iloc[[k]][cols].reset_index(drop=True), alone[cols].reset_index(drop=True), rtol=1e-9
        )
    assert info["inspections"]


def test_no_customer_is_predicted_by_a_model_that_saw_any_of_its_snapshots():
    rng = np.random.default_rng(0)
    customers = np.repeat([f"C{i}" for i in range(60)], rng.integers(1, 8, 60))
    y = np.array([int(c[1:]) % 4 == 0 for c in customers], dtype=int)
    aug = rng.random(len(y)) < 0.2  # augmented copies carry their source's group
    y[aug] = 1
    folds = oof_folds(y, customers, aug, RiskSettings())
    real = np.flatnonzero(~aug)
    predicted = np.concatenate([va for _, va in folds])
    assert sorted(predicted.tolist()) == list(range(len(real)))  # every real snapshot once
    for train_rows, va in folds:
        assert not set(customers[train_rows]) & set(customers[real[va]])


def test_the_inspection_estimate_takes_one_snapshot_per_customer():
    # customer X: a thief whose early snapshots rank high and whose late one ranks below every honest customer
    groups = np.array(["X", "X", "X", "H1", "H2", "H3"])
    y = np.array([1, 1, 1, 0, 0, 0])
    oof = np.array([0.9, 0.9, 0.1, 0.5, 0.4, 0.3])
    offsets = np.array([0, 1, 12, 0, 0, 0])
    est = inspection_estimate(y, oof, groups, offsets, seed=1, draws=200)
    # pooled over rows it would be 6/9; per customer it is 1 with chance 2/3 and 0 with chance 1/3
    assert abs(est["inspection_oof_roc_auc"] - 2 / 3) < 0.1
    assert est["oof_roc_auc_by_offset_months"] == {"0": 1.0}  # offsets 1 and 12 hold no honest customer


def test_train_reports_the_scoring_time_estimate(risk_ds, tmp_path):
    root, _ = risk_ds
    res = train(root, tmp_path / "m")
    m, labels = res.meta["metrics"], res.meta["labels"]
    assert 0.5 < m["scoring_oof_roc_auc"] <= 1.0 and 0.0 <= m["scoring_oof_ap_at_100"] <= 1.0
    assert labels["snapshots"] > labels["rows"] and m["labels"] == labels["snapshots"]
    assert "0" in m["oof_roc_auc_by_offset_months"]


def test_an_ended_theft_shows_its_age_and_recovery(tmp_path):
    """A household at 40 % of its use for 20 weeks that recovered 30 weeks ago: its largest 13-week dip is found
    where it was, with the recovery after it; honest peers show none of it."""
    n, days = 40, 560
    rng = np.random.default_rng(2)
    ids = [f"C{i:03d}" for i in range(n)]
    t = np.arange(days)
    rows = {"meter_id": [], "day": [], "kwh": []}
    for c in ids:
        x = rng.lognormal(2.0, 0.3) * rng.lognormal(0, 0.15, days)
        if c == "C000":
            x[days - 7 * 50 : days - 7 * 30] *= 0.4
        rows["meter_id"] += [f"M{c}"] * days
        rows["day"] += [START + timedelta(days=int(d)) for d in t]
        rows["kwh"] += list(x)
    from .risk_helpers import typed

    staged = stage_version(tmp_path / "ds")
    staged.write_table("customers", typed("customers", {"customer_id": ids, "category": ["residential"] * n}))
    staged.write_table(
        "meters", typed("meters", {"meter_id": [f"M{c}" for c in ids], "role": ["customer"] * n, "customer_id": ids})
    )
    staged.write_table("daily_usage", typed("daily_usage", rows))
    ds = open_dataset(commit_version(staged, {}).root)
    as_of = START + timedelta(days=days - 1)
    f = compute_features(ds, [Snapshot(c, as_of) for c in ids], RiskSettings()).set_index("customer_id")
    thief = f.loc["C000"]
    assert 29 <= thief["drop13_age"] <= 38 and thief["drop13_pre"] > 0.7 and thief["drop13_rec"] > 0.7
    assert thief["cpu_t"] > f.drop(index="C000")["cpu_t"].max()
    assert thief["anom_share13"] > 0.8 and thief["anom_share"] > f.drop(index="C000")["anom_share"].max()
    assert set(HISTORY_FEATURES) <= set(f.columns)
    reasons = add_args([{"feature": "drop13_pre", "value": thief["drop13_pre"], "contribution": 1.0}], thief.to_dict())
    en, zh = reason_text(reasons, "en"), reason_text(reasons, "zh")
    pct = round((1 - math.exp(-thief["drop13_pre"])) * 100)
    ago = int(thief["drop13_age"])
    assert en.startswith(f"its lowest 13-week stretch, {ago} weeks ago, was {pct}% below the weeks before it, and use")
    assert zh.startswith(f"用电最低的 13 周（{ago} 周前）比此前低 {pct}%，此后用电已回升")
