"""Training augmentation: attacked copies of normal-inspected households, never past the inspection date."""

import json
from datetime import timedelta

import numpy as np
import pandas as pd

from gridaudit.dataset import open_dataset
from gridaudit.engines.duckdb import DuckDBEngine
from gridaudit.risk.augment import AUG_SEP, build_augmentation
from gridaudit.risk.features import FEATURES, compute_features
from gridaudit.risk.model import sidecar_path
from gridaudit.risk.pipeline import labelled_inspections, score, train, training_snapshots
from gridaudit.risk.settings import RiskSettings


def _augment(root, copies=2, seed=0):
    ds = open_dataset(root)
    eng = DuckDBEngine(ds)
    try:
        labels = labelled_inspections(eng, None, RiskSettings())
        aug = build_augmentation(eng, labels, copies, seed)
        daily = eng.con.sql("SELECT meter_id, day, kwh FROM daily_usage").to_df()
    finally:
        eng.close()
    return ds, labels, aug, daily


def test_copies_come_from_normal_inspections_and_stop_before_the_inspection(risk_ds):
    root, info = risk_ds
    _, labels, aug, daily = _augment(root)
    normal = {r[1]: r[2] for r in info["inspections"] if r[3] == "normal"}
    assert len(aug) > 0 and set(aug.sources) <= set(normal)
    # two copies of (nearly) every normal-inspected household, none of a thief or an uninspected one
    assert len(aug) >= 2 * len(normal) * 0.9
    got = aug.daily.to_pandas()
    got["src_meter"] = got["meter_id"].str.split(AUG_SEP).str[0]
    got["src"] = got["src_meter"].str[1:]
    assert set(got["src"]) <= set(normal)
    last = got.groupby("src")["day"].max()
    assert all(last[c] < normal[c] for c in last.index)  # no copy holds data from the inspection day on
    for snap, src in zip(aug.snapshots, aug.sources, strict=True):
        assert snap.as_of == normal[src] - timedelta(days=1) and snap.source == src
        assert snap.customer_id.startswith(src + AUG_SEP)
    # outside its attack window a copy is its source's data; inside it is lower
    daily["day"] = pd.to_datetime(daily["day"]).dt.date
    src_kwh = daily.set_index(["meter_id", "day"])["kwh"]
    for i in range(0, len(aug), 17):
        cid, (start, end) = aug.snapshots[i].customer_id, aug.windows[i]
        mid = "M" + cid
        rows = got[got["meter_id"] == mid]
        orig = src_kwh.loc[[(rows["src_meter"].iloc[0], d) for d in rows["day"]]].to_numpy()
        inside = ((rows["day"] >= start) & (rows["day"] <= end)).to_numpy()
        assert (end - start).days + 1 >= 30 and inside.any()
        np.testing.assert_allclose(rows["kwh"].to_numpy()[~inside], orig[~inside])
        assert rows["kwh"].to_numpy()[inside].sum() < orig[inside].sum()


def test_copies_do_not_move_the_real_rows(risk_ds):
    root, _ = risk_ds
    ds, labels, aug, _ = _augment(root, copies=1)
    snaps = training_snapshots(labels)
    plain = compute_features(ds, snaps, RiskSettings())
    mixed = compute_features(ds, snaps + aug.snapshots, RiskSettings(), augmentation=aug)
    pd.testing.assert_frame_equal(plain[list(FEATURES)], mixed[list(FEATURES)].iloc[: len(snaps)], rtol=1e-9)
    # the copies have features of their own, as of the day before the source's inspection
    copies = mixed.iloc[len(snaps) :]
    assert copies["n_weeks"].gt(0).all()
    assert list(copies["as_of"]) == [s.as_of for s in aug.snapshots]


def test_no_augmentation_when_off_or_without_normal_inspections(risk_ds):
    root, _ = risk_ds
    _, labels, aug, _ = _augment(root, copies=0)
    assert len(aug) == 0
    ds = open_dataset(root)
    eng = DuckDBEngine(ds)
    try:
        assert len(build_augmentation(eng, labels[labels["label"] == 1], 3, 0)) == 0
    finally:
        eng.close()


def test_train_with_augmentation_records_it_and_scores_real_customers_only(risk_ds, tmp_path):
    root, info = risk_ds
    model = tmp_path / "aug.model"
    res = train(root, model, settings=RiskSettings(augment_copies=2))
    meta = json.loads(sidecar_path(model).read_text("utf-8"))
    assert res.model_kind == "lightgbm"
    n_real = len(info["inspections"])
    # OOF metrics on real rows only: every snapshot of a real inspection, no augmented copy
    assert meta["labels"]["rows"] == n_real and meta["metrics"]["labels"] == meta["labels"]["snapshots"]
    assert meta["labels"]["augmented_rows"] > n_real // 2 and meta["settings"]["augment_copies"] == 2
    scores = score(root, model)
    assert len(scores) == len(info["ids"]) and not scores["customer_id"].str.contains(AUG_SEP).any()
