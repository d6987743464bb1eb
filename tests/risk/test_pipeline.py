import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from gridaudit.dataset import open_dataset
from gridaudit.findings import FINDINGS_SCHEMA
from gridaudit.risk.features import FEATURES, Snapshot, compute_features
from gridaudit.risk.metrics import roc_auc
from gridaudit.risk.model import load_model, sidecar_path
from gridaudit.risk.pipeline import findings_from_scores, score, train
from gridaudit.risk.settings import RiskSettings


def test_train_score_round_trip(risk_ds, tmp_path):
    root, info = risk_ds
    model = tmp_path / "risk.model"
    res = train(root, model)
    assert res.model_kind == "lightgbm"
    meta = json.loads(sidecar_path(model).read_text("utf-8"))
    assert meta["features"] == list(FEATURES)
    assert meta["labels"]["positives"] > 10 and meta["training_window"]["features_as_of"]
    assert {"lightgbm", "duckdb", "scikit-learn"} <= set(meta["libraries"])
    assert meta["calibrator"]["kind"] in ("isotonic", "platt")
    assert model.read_text("utf-8").startswith("tree")  # LightGBM's own text format, not a pickle
    loaded = load_model(model)
    scores = score(root, model)
    assert len(scores) == len(info["ids"]) and scores["customer_id"].is_unique
    assert list(scores["rank"]) == list(range(1, len(scores) + 1))
    assert (scores["model_kind"] == "lightgbm").all()
    assert scores["score"].between(0, 1).all()
    # the reloaded model gives the same raw scores as the pipeline did
    ds = open_dataset(root)
    as_of = scores["as_of"].iloc[0]
    feats = compute_features(ds, [Snapshot(c, as_of) for c in scores["customer_id"]], RiskSettings())
    assert np.allclose(loaded.raw(feats), scores["raw_score"].to_numpy())
    # thieves rank above honest customers on this easy data
    y = scores["customer_id"].isin(info["thieves"]).to_numpy()
    assert roc_auc(y, scores["score"].to_numpy()) > 0.9
    # every top suspect carries an explanation in both languages
    top = scores.head(20)
    assert (
        top["explanation_zh"].str.len().gt(0).all() and top["explanation_en"].str.contains(r"\d+% (?:less|below)").any()
    )
    assert not top["explanation_en"].str.contains("significance of").any()  # sentences, not feature names
    reasons = json.loads(top["reasons"].iloc[0])
    assert reasons and reasons[0]["feature"] in FEATURES and reasons[0]["contribution"] > 0 and "args" in reasons[0]


def test_findings_shape(risk_ds, tmp_path):
    root, _ = risk_ds
    scores = score(root)
    table = findings_from_scores(scores, 15, RiskSettings())
    assert table.schema == FINDINGS_SCHEMA and table.num_rows == 15
    rows = table.to_pylist()
    assert {r["family"] for r in rows} == {"theft"} and {r["entity_type"] for r in rows} == {"customer"}
    assert [r["entity_id"] for r in rows] == list(scores["customer_id"].head(15))
    ev = json.loads(rows[0]["evidence"])
    assert ev["model_kind"] == "unsupervised" and ev["rank"] == 1 and ev["explanation_en"]


def test_sparse_dataset_trains_and_scores(sparse_ds, tmp_path):
    root, info = sparse_ds
    ds = open_dataset(root)
    assert set(ds.tables()) == {"customers", "meters", "daily_usage"}
    model = tmp_path / "m"
    res = train(root, model)
    assert res.model_kind == "unsupervised" and "labels" in res.meta
    scores = score(root, model)
    assert len(scores) == 60 and (scores["model_kind"] == "unsupervised").all()
    assert scores["explanation_en"].str.len().gt(0).all()
    # the unsupervised scorer still finds the step drops
    y = scores["customer_id"].isin(info["thieves"]).to_numpy()
    assert roc_auc(y, scores["score"].to_numpy()) > 0.8


def test_sparse_dataset_with_inspections_trains_lightgbm(tmp_path):
    from .risk_helpers import make_dataset

    root = tmp_path / "ds"
    make_dataset(root, n=120, days=300, seed=5, inspected_share=0.6)
    settings = RiskSettings(min_positive_labels=5, min_labels=20, cv_folds=3)
    res = train(root, tmp_path / "m", settings=settings)
    assert res.model_kind == "lightgbm"
    assert len(score(root, tmp_path / "m")) == 120


def test_labels_after_until_are_not_used(risk_ds, tmp_path):
    root, info = risk_ds
    dates = sorted(r[2] for r in info["inspections"])
    until = dates[len(dates) * 2 // 3]
    res = train(root, tmp_path / "m1", until=until)
    assert res.meta["labels"]["rows"] == sum(1 for r in info["inspections"] if r[2] <= until)
    assert res.meta["training_window"]["last_inspection"] <= until.isoformat()
    # same training when the later inspections do not exist at all
    from gridaudit.dataset import commit_version, stage_version

    from .risk_helpers import typed

    staged = stage_version(root.parent / "cut")
    src = open_dataset(root)
    for t in ("customers", "meters", "daily_usage"):
        staged.write_table(t, src.read(t))
    kept = [r for r in info["inspections"] if r[2] <= until]
    staged.write_table(
        "inspections",
        typed("inspections", {"inspection_id": [r[0] for r in kept], "customer_id": [r[1] for r in kept],
                              "inspected_on": [r[2] for r in kept], "outcome": [r[3] for r in kept]}),
    )  # fmt: skip
    commit_version(staged, {})
    train(root.parent / "cut", tmp_path / "m2")
    assert (tmp_path / "m1").read_text("utf-8") == (tmp_path / "m2").read_text("utf-8")


def test_features_do_not_see_data_after_as_of(risk_ds, tmp_path):
    root, info = risk_ds
    ds = open_dataset(root)
    as_of = date(2023, 9, 30)
    snaps = [Snapshot(c, as_of) for c in info["ids"][:30]]
    before = compute_features(ds, snaps, RiskSettings())
    # rewrite every day after as_of: the features must not move
    from gridaudit.dataset import commit_version, stage_version

    du = ds.read("daily_usage").to_pandas()
    du.loc[pd.to_datetime(du["day"]) > pd.Timestamp(as_of), "kwh"] = 0.0
    staged = stage_version(tmp_path / "ds2")
    for t in ("customers", "meters"):
        staged.write_table(t, ds.read(t))
    import pyarrow as pa

    staged.write_table(
        "daily_usage", pa.Table.from_pandas(du, schema=ds.read("daily_usage").schema, preserve_index=False)
    )
    after = compute_features(open_dataset(commit_version(staged, {}).root), snaps, RiskSettings())
    own = [f for f in FEATURES if not f.startswith(("loss", "ev_", "rule", "iv_"))]
    pd.testing.assert_frame_equal(before[own], after[own], rtol=1e-9, atol=1e-12)
    assert before["n_days"].max() <= (as_of - date(2023, 1, 2)).days + 1


def test_extras_give_event_and_price_features(tmp_path):
    from .risk_helpers import make_dataset

    root = tmp_path / "ds"
    info = make_dataset(root, n=80, days=300, seed=9, inspected_share=0.0, extras=True)
    scores = score(root, None, until=date(2023, 1, 2) + timedelta(days=299))
    assert scores["yuan_at_stake"].notna().all()
    feats = compute_features(open_dataset(root), [Snapshot(c, date(2023, 10, 27)) for c in info["ids"]], RiskSettings())
    assert feats["ev_count"].notna().all() and feats["ev_count"].sum() == 10
    assert feats["loss_corr"].isna().all()  # no area_total meters → no loss correlation, no crash
    out = tmp_path / "f.parquet"
    pq.write_table(findings_from_scores(scores, 5, RiskSettings()), out)
    assert pq.read_table(out).num_rows == 5


def test_train_and_score_in_one_pass_matches_separate_calls(risk_ds, tmp_path):
    from gridaudit.risk.pipeline import train_and_score

    root, _ = risk_ds
    res, together = train_and_score(root, tmp_path / "a.model")
    train(root, tmp_path / "b.model")
    apart = score(root, tmp_path / "b.model")
    assert res.model_kind == "lightgbm" and len(together) == len(apart)
    # one pass normalizes the peer index with data up to the scoring date, so the models differ slightly
    both_ = (
        together.set_index("customer_id")["raw_score"].rank().corr(apart.set_index("customer_id")["raw_score"].rank())
    )
    assert both_ > 0.95


def test_rule_findings_become_features_up_to_the_as_of_month(risk_ds, tmp_path):
    from gridaudit.findings import findings_table, write_findings

    root, info = risk_ds
    c0, c1 = info["ids"][:2]
    rows = [
        {"rule_id": "r1", "family": "billing", "severity": "high", "entity_type": "customer", "entity_id": c0,
         "period": "2023-03"},
        {"rule_id": "r2", "family": "reading", "severity": "low", "entity_type": "meter", "entity_id": f"M{c0}",
         "period": "2023-04"},
        {"rule_id": "r3", "family": "billing", "severity": "high", "entity_type": "customer", "entity_id": c0,
         "period": "2023-12"},  # after the as-of month: not seen
        {"rule_id": "t", "family": "theft", "severity": "high", "entity_type": "customer", "entity_id": c1,
         "period": "2023-03"},  # theft findings never feed the theft scorer
    ]  # fmt: skip
    path = tmp_path / "findings.parquet"
    write_findings(findings_table(rows), path)
    feats = compute_features(
        open_dataset(root), [Snapshot(c0, date(2023, 6, 30)), Snapshot(c1, date(2023, 6, 30))], RiskSettings(), path
    )
    assert feats["rule_hits"].tolist() == [2.0, 0.0]
    assert feats["rule_hits_high"].tolist() == [1.0, 0.0]
    assert feats["rule_families"].tolist() == [2.0, 0.0]


def test_only_the_top_explain_top_customers_get_model_contributions(risk_ds, tmp_path):
    import json

    from gridaudit.risk.pipeline import SIGNALS_ONLY

    root, _ = risk_ds
    model = tmp_path / "m.model"
    train(root, model)
    full = score(root, model)
    few = score(root, model, settings=RiskSettings(explain_top=5))
    pd.testing.assert_series_equal(full["customer_id"], few["customer_id"])  # same ranking
    np.testing.assert_allclose(full["score"], few["score"])
    assert few["explanation_en"].head(5).tolist() == full["explanation_en"].head(5).tolist()
    rest = few.iloc[5:]
    # every customer below the explained top still gets an explanation, from its risk signals, marked as such
    assert rest["explanation_en"].str.startswith(SIGNALS_ONLY[1]).all()
    assert rest["explanation_zh"].str.startswith(SIGNALS_ONLY[0]).all()
    signal_reasons = [r for cell in rest["reasons"] for r in json.loads(cell)]
    assert signal_reasons and all(r["source"] == "signals" and r["contribution"] > 0 for r in signal_reasons)
    assert not full["explanation_en"].str.startswith(SIGNALS_ONLY[1]).any()


def test_features_in_customer_batches_equal_one_pass(tmp_path):
    """Working the weekly series a few customers at a time (bounded memory) changes no feature value."""
    from .risk_helpers import make_dataset

    root = tmp_path / "ds"
    info = make_dataset(root, n=60, days=300, seed=4, inspected_share=0.0, extras=True)
    ds = open_dataset(root)
    # two snapshots per customer (as training makes), interleaved, so a batch holds several as-of dates
    snaps = [Snapshot(c, d) for c in info["ids"] for d in (date(2023, 8, 1), date(2023, 10, 27))]
    whole = compute_features(ds, snaps, RiskSettings())
    batched = compute_features(ds, snaps, RiskSettings(feature_batch=7))
    assert len(whole) == len(batched) == len(snaps)
    assert list(batched["customer_id"]) == [s.customer_id for s in snaps]
    assert list(batched["as_of"]) == [s.as_of for s in snaps]
    for col in FEATURES:
        a, b = whole[col].to_numpy(), batched[col].to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=1e-12), col
    assert whole["ev_count"].sum() > 0  # the event stages were exercised across batches


def test_raw_scores_in_chunks_equal_one_matrix(risk_ds, tmp_path):
    """Predicting a few rows at a time (bounded memory at 1 M customers) gives the same raw scores bit for bit."""
    root, info = risk_ds
    model = tmp_path / "m.model"
    train(root, model)
    loaded = load_model(model)
    feats = compute_features(open_dataset(root), [Snapshot(c, date(2023, 10, 27)) for c in info["ids"]], RiskSettings())
    assert np.array_equal(loaded.raw(feats, chunk=7), loaded.raw(feats))
