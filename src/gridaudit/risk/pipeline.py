"""Train and score from a dataset folder: what ``gridaudit risk train`` / ``score`` and the demo call."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from gridaudit.dataset import Dataset, open_dataset, write_text
from gridaudit.engines import Engine, EngineSettings, open_engine
from gridaudit.i18n import both
from gridaudit.risk.augment import Augmentation, build_augmentation
from gridaudit.risk.estimate import EstimateRows, EstimateSet, build_estimate, merge_augmentations
from gridaudit.risk.explain_signals import SIGNALS_ONLY as SIGNALS_ONLY  # the marker, where it was defined before
from gridaudit.risk.features import FEATURES, compute_features, data_end, scoring_snapshots
from gridaudit.risk.model import (
    FORMAT,
    ModelFileError,
    TrainedModel,
    library_versions,
    load_model,
    save_model,
    sidecar_path,
    train_model,
)
from gridaudit.risk.settings import RiskSettings
from gridaudit.risk.snapshot import Snapshot
from gridaudit.settings_file import SettingsError

RULE_ID = "theft_risk"


class RiskError(Exception):
    """Training or scoring cannot go on (the message says why, in both languages)."""


@dataclass
class TrainResult:
    """What training produced."""

    model_kind: str
    meta: dict[str, Any]


def engine_settings_for(settings: RiskSettings, engine: EngineSettings | None = None) -> EngineSettings:
    """``engine`` when given (with the risk settings' ``threads`` if it names none), else DuckDB with the risk
    settings' ``threads`` and ``memory_limit``."""
    if engine is None:
        return EngineSettings(threads=settings.threads, memory_limit=settings.memory_limit)
    return engine if engine.threads is not None else replace(engine, threads=settings.threads)


def labelled_inspections(engine: Engine, until: date | None, settings: RiskSettings) -> pd.DataFrame:
    """Inspections usable as labels: outcome theft/violation (1) or normal (0), inspected on or before ``until``."""
    if "inspections" not in engine.tables():
        return pd.DataFrame(columns=["customer_id", "inspected_on", "label"])
    df = engine.query("SELECT customer_id, inspected_on, outcome FROM inspections").to_pandas()
    df = df[df["outcome"].isin(settings.positive_outcomes + settings.negative_outcomes)].copy()
    df["inspected_on"] = pd.to_datetime(df["inspected_on"]).dt.date
    if until is not None:
        df = df[df["inspected_on"] <= until]
    df["label"] = df["outcome"].isin(settings.positive_outcomes).astype(int)
    return df.sort_values(["inspected_on", "customer_id"]).reset_index(drop=True)


def inspection_breakdown(engine: Engine, until: date | None, settings: RiskSettings) -> dict[str, Any]:
    """How the dataset's inspections became labels: rows read, left out by outcome (``irregular`` is neither a
    theft nor a normal result) and by ``until``, customers inspected more than once (each inspection is a label)."""
    if "inspections" not in engine.tables():
        return {"inspections_read": 0, "outcome_not_a_label": {}, "after_until": 0, "customers_inspected_twice": 0}
    used = list(settings.positive_outcomes + settings.negative_outcomes)
    df = engine.query("SELECT customer_id, inspected_on, outcome FROM inspections").to_pandas()
    unused = df[~df["outcome"].isin(used)]
    kept = df[df["outcome"].isin(used)]
    days = pd.to_datetime(kept["inspected_on"]).dt.date
    late = int((days > until).sum()) if until is not None else 0
    if until is not None:
        kept = kept[(days <= until).to_numpy()]
    return {
        "inspections_read": int(len(df)),
        "outcome_not_a_label": {str(k): int(v) for k, v in unused["outcome"].fillna("(blank)").value_counts().items()},
        "after_until": late,
        "customers_inspected_twice": int((kept["customer_id"].value_counts() > 1).sum()),
    }


def _write_unsupervised(path: Path, meta: dict[str, Any]) -> None:
    note = "gridaudit unsupervised theft-risk scorer: no trained model (too few inspection labels); see sidecar\n"
    write_text(path, note)
    write_text(sidecar_path(path), json.dumps(meta, ensure_ascii=False, indent=2, default=str))


def train(
    dataset_dir: str | Path,
    model_path: str | Path,
    until: date | None = None,
    settings: RiskSettings | None = None,
    findings: str | Path | None = None,
    engine: EngineSettings | None = None,
) -> TrainResult:
    """Train on the dataset's inspections up to ``until``; features of each inspection as of the day before it.

    Too few labels → an unsupervised scorer is written instead (``model_kind = unsupervised``). ``engine``
    says where the features are computed (DuckDB with the risk settings' threads and memory by default).
    """
    settings = settings or RiskSettings()
    ds = open_dataset(dataset_dir)
    eng = open_engine(ds, engine_settings_for(settings, engine))
    try:
        end = data_end(eng)
        labels = labelled_inspections(eng, until, settings)
        breakdown = inspection_breakdown(eng, until, settings)
        aug = build_augmentation(eng, labels, settings.augment_copies, settings.augment_seed)
        last = min(end, until) if until else end
        rows, snaps = snapshot_rows(labels, settings, last)
        est = build_estimate(eng, labels, last, settings, settings.estimate_seed)
        extra = est.snapshots if est is not None else []
        both_aug = merge_augmentations(aug, est.augmentation) if est is not None else aug
        feats = compute_features(
            ds, snaps + aug.snapshots + extra, settings, findings=findings, engine=eng, augmentation=both_aug
        )
    finally:
        eng.close()
    n = len(snaps) + len(aug)
    est_set = estimate_set(est, feats.iloc[n:]) if est is not None else None
    return fit_from_features(
        ds, model_path, until, settings, with_augmented(rows, aug), feats.iloc[:n], end, breakdown, est_set
    )


def estimate_set(est: EstimateRows, feats: pd.DataFrame) -> EstimateSet | None:
    """The estimate's feature rows with their labels, fold groups and timings (rows without usable weeks left
    out); None when nothing is left."""
    feats = feats.reset_index(drop=True)
    usable = feats["n_weeks"].fillna(0).to_numpy() > 0
    if not usable.any():
        return None
    return EstimateSet(
        x=feats.loc[usable, list(FEATURES)].reset_index(drop=True),
        y=est.labels[usable],
        groups=np.asarray(est.groups, dtype=object)[usable].astype(str),
        timing=np.asarray(est.timing, dtype=object)[usable].astype(str),
    )


def with_augmented(labels: pd.DataFrame, aug: Augmentation) -> pd.DataFrame:
    """Labels followed by one positive row per augmented copy (``augmented`` True, ``group`` its source)."""
    real = labels.assign(augmented=False, group=labels["customer_id"].astype(str))
    if "offset_months" not in real:
        real = real.assign(offset_months=0, inspection_row=np.arange(len(real)))
    if not len(aug):
        return real
    extra = pd.DataFrame(
        {
            "customer_id": [s.customer_id for s in aug.snapshots],
            "inspected_on": [s.as_of + timedelta(days=1) for s in aug.snapshots],
            "outcome": "augmented",
            "label": 1,
            "augmented": True,
            "group": aug.sources,
            "offset_months": 0,
            "inspection_row": -1,
        }
    )
    return pd.concat([real, extra], ignore_index=True)


def training_snapshots(labels: pd.DataFrame) -> list[Snapshot]:
    """One snapshot per labelled inspection, as of the day before it."""
    return [
        Snapshot(str(c), d - timedelta(days=1))
        for c, d in zip(labels["customer_id"], labels["inspected_on"], strict=True)
    ]


def month_days(months: int) -> int:
    """Days in ``months`` average months (30.4375 days each), rounded."""
    return int(round(months * 30.4375))


def snapshot_rows(labels: pd.DataFrame, settings: RiskSettings, last_day: date) -> tuple[pd.DataFrame, list[Snapshot]]:
    """Training snapshots that match scoring (issue 17): per labelled inspection, one snapshot as of the day before
    it and one at each of ``train_snapshot_months`` after that day, up to ``backbill_months`` and ``last_day``.

    A theft found at an inspection is still a theft to recover at a snapshot up to the back-billing horizon after
    it, when its use has recovered (the theft stopped at the inspection): the model learns to rank a theft that
    ended months ago, as scoring meets it. An honest household stays a negative at every offset, so the offset
    itself tells nothing. Returns the labels repeated once per snapshot (column ``offset_months``, and
    ``inspection_row``: the row of ``labels`` it comes from) and the snapshots, in the same order."""
    offsets = sorted({int(m) for m in settings.train_snapshot_months if 0 <= int(m) <= settings.backbill_months} | {0})
    rows, snaps = [], []
    for i, (c, d) in enumerate(zip(labels["customer_id"], labels["inspected_on"], strict=True)):
        base = d - timedelta(days=1)
        for m in offsets:
            as_of = base + timedelta(days=month_days(m))
            if m and as_of > last_day:
                break
            rows.append((i, m))
            snaps.append(Snapshot(str(c), as_of))
    idx = [r[0] for r in rows]
    out = labels.iloc[idx].reset_index(drop=True)
    out["inspection_row"] = idx
    out["offset_months"] = [r[1] for r in rows]
    return out, snaps


def fit_from_features(
    ds: Dataset,
    model_path: str | Path,
    until: date | None,
    settings: RiskSettings,
    labels: pd.DataFrame,
    feats: pd.DataFrame,
    end: date,
    breakdown: dict[str, Any] | None = None,
    estimate: EstimateSet | None = None,
) -> TrainResult:
    """Fit (or fall back to unsupervised) from training features; write the model file.

    ``breakdown`` (:func:`inspection_breakdown`) is kept in the meta's ``labels``, beside the rows left out for
    lack of usage data before the inspection. ``estimate`` (:func:`estimate_set`) gives the scoring-time
    estimate (:mod:`gridaudit.risk.estimate`)."""
    feats = feats.reset_index(drop=True)
    if "augmented" not in labels:
        labels = labels.assign(augmented=False, group=labels["customer_id"].astype(str))
    if "offset_months" not in labels:
        labels = labels.assign(offset_months=0, inspection_row=np.arange(len(labels)))
    usable = feats["n_weeks"].fillna(0).to_numpy() > 0
    is_aug = labels["augmented"].to_numpy(dtype=bool)
    y_all = labels["label"].to_numpy()[usable]
    aug_used = is_aug[usable]
    offsets_all = labels["offset_months"].to_numpy(dtype="int64")[usable]
    groups_all = labels["group"].astype(str).to_numpy()
    snap_rows = int((usable & ~is_aug).sum())
    # one label per inspection (its snapshot before the inspection), for the counts and the fallback rule
    first = labels[(labels["offset_months"] == 0).to_numpy() & ~is_aug]
    y = first["label"].to_numpy()[usable[first.index.to_numpy()]]
    labels = labels[~is_aug]
    base_meta: dict[str, Any] = {
        "format": FORMAT,
        "features": list(FEATURES),
        "settings": settings.to_dict(),
        "dataset": {"root": str(Path(ds.root).resolve()), "version": ds.version},
        "training_window": {
            "until": until.isoformat() if until else None,
            "data_end": end.isoformat(),
            "first_inspection": labels["inspected_on"].min().isoformat() if len(labels) else None,
            "last_inspection": labels["inspected_on"].max().isoformat() if len(labels) else None,
            "features_as_of": "day before each inspection, and at train_snapshot_months after it",
        },
        "labels": {
            "rows": int(len(y)),
            "positives": int(y.sum()),
            "snapshots": snap_rows,
            "skipped_without_usage": int((~usable[first.index.to_numpy()]).sum()),
            **(breakdown or {}),
            "augmented_rows": int(aug_used.sum()),
            "augment": {
                "copies": settings.augment_copies,
                "weight": settings.augment_weight,
                "seed": settings.augment_seed,
                "source": "households inspected normal; attacked copy cut at the day before the inspection",
            },
        },
        "libraries": library_versions(),
    }
    if int(y.sum()) < settings.min_positive_labels or len(y) < settings.min_labels or y.sum() == len(y):
        reason = both(
            f"标签不足（{len(y)} 条，其中窃电/违约 {int(y.sum())} 条），使用无监督评分",
            f"too few labels ({len(y)}, {int(y.sum())} theft/violation): unsupervised scorer",
        )
        meta = {**base_meta, "model_kind": "unsupervised", "reason": reason}
        _write_unsupervised(Path(model_path), meta)
        return TrainResult("unsupervised", meta)
    x = feats.loc[usable, list(FEATURES)].reset_index(drop=True)
    groups = groups_all[usable]
    model = train_model(
        x, y_all, groups, list(FEATURES), settings, augmented=aug_used, offsets=offsets_all, estimate=estimate
    )
    model.meta = {**base_meta, **model.meta}
    save_model(model, model_path)
    return TrainResult("lightgbm", {**model.meta, "model_kind": "lightgbm"})


def load_scorer(model_path: str | Path | None) -> TrainedModel | None:
    """The trained model at ``model_path``; None for the unsupervised scorer (no path, or an unsupervised file)."""
    if model_path is None:
        return None
    side = sidecar_path(model_path)
    if side.is_file():
        try:
            if json.loads(side.read_text("utf-8")).get("model_kind") == "unsupervised":
                return None
        except json.JSONDecodeError:
            pass
    return load_model(model_path)


def _prices(eng: Engine, as_of: date) -> dict[str, float]:
    """Price per customer (its tariff in force at ``as_of``) when customers and tariffs exist."""
    if not {"tariffs", "customers"} <= eng.tables():
        return {}
    got = eng.query(
        "SELECT c.customer_id, t.price_yuan_kwh, t.valid_from FROM customers c JOIN tariffs t "
        "ON t.tariff_code = c.tariff_code AND t.valid_from <= $as_of ORDER BY t.valid_from",
        {"as_of": as_of},
    )
    return {str(r["customer_id"]): float(r["price_yuan_kwh"]) for r in got.to_pylist()}


def score(
    dataset_dir: str | Path,
    model_path: str | Path | None = None,
    until: date | None = None,
    settings: RiskSettings | None = None,
    findings: str | Path | None = None,
    engine: EngineSettings | None = None,
) -> pd.DataFrame:
    """Score every customer as of ``until`` (default: last day of data); one row per customer, rank 1 = riskiest.

    ``engine`` says where the features are computed (DuckDB with the risk settings' limits by default)."""
    model = load_scorer(model_path)
    if model is not None:
        try:
            settings = settings or RiskSettings.from_dict(model.meta.get("settings", {}), f"{model_path}: settings")
        except SettingsError as exc:  # a model file from another gridaudit version
            raise ModelFileError(
                both(
                    f"模型文件的设置无法使用，请重新训练: {exc}",
                    f"the model file's settings cannot be used, retrain: {exc}",
                )
            ) from exc
    settings = settings or RiskSettings()
    ds = open_dataset(dataset_dir)
    eng = open_engine(ds, engine_settings_for(settings, engine))
    try:
        as_of = until or data_end(eng)
        snaps = scoring_snapshots(eng, as_of)
        feats = compute_features(ds, snaps, settings, findings=findings, engine=eng)
        prices = _prices(eng, as_of)
    finally:
        eng.close()
    return score_from_features(feats, model, settings, as_of, prices)


def score_from_features(
    feats: pd.DataFrame, model: TrainedModel | None, settings: RiskSettings, as_of: date, prices: dict[str, float]
) -> pd.DataFrame:
    """Scores, ranks and explanations from scoring features (one row per customer)."""
    from gridaudit.risk.explain_signals import signal_explanations
    from gridaudit.risk.unsupervised import unsupervised_scores

    feats = feats.reset_index(drop=True)
    names = list(FEATURES) if model is None else model.features
    if model is None:
        kind = "unsupervised"
        s, contrib, used = unsupervised_scores(feats, settings.inactive_weight)
        raw = s
        names_used = used
    else:
        kind = "lightgbm"
        raw = model.raw(feats, settings.threads)
        s = model.calibrated(raw)
        names_used = names
    # explanations for the riskiest explain_top customers (feature contributions cost ~2 ms a row); only their
    # rows of values and contributions are kept (a 1 M × 85 matrix of each would be 0.7 GB)
    order = np.lexsort((feats["customer_id"].astype(str).to_numpy(), -np.asarray(raw), -np.asarray(s)))
    top = order[: max(int(settings.explain_top), 0)]
    top_rows = feats.iloc[top]
    values_top = top_rows[names_used].to_numpy(dtype="float64") if names_used else np.zeros((len(top), 0))
    k = settings.top_contributions
    rest = np.setdiff1d(np.arange(len(feats)), top) if model is not None else np.zeros(0, dtype=np.int64)
    rest_text: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        # the model's contributions (TreeSHAP, in LightGBM's threads and without the GIL) are computed while this
        # thread writes every other customer's risk signals, column by column (pandas and Python): the two overlap
        pending = None
        if model is not None and len(top):
            pending = pool.submit(model.contributions, top_rows, settings.threads)
        del top_rows
        if len(rest):
            _, signal_contrib, used = unsupervised_scores(feats, settings.inactive_weight)
            if used:
                rest_text = signal_explanations(feats, rest, signal_contrib[rest], used, k)
            del signal_contrib
        if model is None:
            contrib_top = contrib[top]
        elif pending is None:
            contrib_top = np.zeros((len(top), len(names)))
        else:
            contrib_top = pending.result()[:, :-1]
    zh, en, js = _explain_top(feats, top, names_used, contrib_top, values_top, k)
    if rest_text is not None:
        zh[rest], en[rest], js[rest] = rest_text
    out = pd.DataFrame(
        {
            "customer_id": feats["customer_id"].astype(str),
            "score": np.round(s, 6),
            "raw_score": raw,
            "model_kind": kind,
            "as_of": as_of,
            "explanation_zh": zh,
            "explanation_en": en,
            "reasons": js,
        }
    )
    depth = np.clip(feats["scan_d13"].fillna(0).to_numpy(), 0, None)
    baseline = feats["med_kwh"].fillna(0).to_numpy()
    out["kwh_at_stake"] = np.round(baseline * (1 - np.exp(-depth)) * settings.stake_days, 1)
    out["yuan_at_stake"] = [
        round(kwh * prices[c], 2) if c in prices else None
        for c, kwh in zip(out["customer_id"], out["kwh_at_stake"], strict=True)
    ]
    out = out.sort_values(["score", "raw_score", "customer_id"], ascending=[False, False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    cols = ["customer_id", "score", "rank", "model_kind", "raw_score", "as_of", "kwh_at_stake",
            "yuan_at_stake", "explanation_zh", "explanation_en", "reasons"]  # fmt: skip
    return out[cols]


def _explain_top(
    feats: pd.DataFrame, top: np.ndarray, names: list[str], contrib: np.ndarray, values: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zh and en explanations and JSON reasons of every row: the rows ``top`` from their model (or
    unsupervised) contributions and feature values (``contrib`` and ``values``: one row per row of ``top``),
    one row at a time; every other row "no prominent risk factor" (``[]``)."""
    from gridaudit.risk.explain import PARTNER, add_args, reason_text, top_reasons
    from gridaudit.risk.explain_signals import NO_REASON

    n = len(feats)
    zh = np.full(n, NO_REASON[0], dtype=object)
    en = np.full(n, NO_REASON[1], dtype=object)
    js = np.full(n, "[]", dtype=object)
    quoted = sorted({c for c in (*PARTNER, *PARTNER.values()) if c in feats.columns})
    partner_values = {c: feats[c].to_numpy(dtype="float64") for c in quoted}
    for j, i in enumerate(top.tolist()):
        r = top_reasons(names, list(contrib[j]), list(values[j]), k)
        if r:  # the numbers each sentence quotes (a dip's depth beside its significance), language-neutral
            add_args(r, {c: float(v[i]) for c, v in partner_values.items()})
        zh[i], en[i] = reason_text(r, "zh"), reason_text(r, "en")
        js[i] = json.dumps(r, ensure_ascii=False, default=float)
    return zh, en, js


def train_and_score(
    dataset_dir: str | Path,
    model_path: str | Path,
    settings: RiskSettings | None = None,
    findings: str | Path | None = None,
    engine: EngineSettings | None = None,
) -> tuple[TrainResult, pd.DataFrame]:
    """Train on all inspections and score every customer as of the last day, reading daily data once
    (the training and scoring snapshots go through one feature query; ``engine`` as for :func:`train`)."""
    settings = settings or RiskSettings()
    ds = open_dataset(dataset_dir)
    eng = open_engine(ds, engine_settings_for(settings, engine))
    try:
        end = data_end(eng)
        labels = labelled_inspections(eng, None, settings)
        breakdown = inspection_breakdown(eng, None, settings)
        aug = build_augmentation(eng, labels, settings.augment_copies, settings.augment_seed)
        rows, snaps = snapshot_rows(labels, settings, end)
        train_snaps = snaps + aug.snapshots
        feats = compute_features(
            ds, train_snaps + scoring_snapshots(eng, end), settings, findings=findings, engine=eng, augmentation=aug
        )
        prices = _prices(eng, end)
    finally:
        eng.close()
    n = len(train_snaps)
    res = fit_from_features(ds, model_path, None, settings, with_augmented(rows, aug), feats.iloc[:n], end, breakdown)
    model = load_scorer(model_path)
    return res, score_from_features(feats.iloc[n:], model, settings, end, prices)


def findings_from_scores(scores: pd.DataFrame, top: int, settings: RiskSettings, run_id: str | None = None) -> pa.Table:
    """The top ``top`` customers as findings of family ``theft`` (DESIGN §5)."""
    from gridaudit.findings import findings_table
    from gridaudit.risk.settings import severity_for

    rows = []
    for r in scores.head(top).itertuples(index=False):
        period = pd.Timestamp(r.as_of).strftime("%Y-%m")
        rows.append(
            {
                "rule_id": RULE_ID,
                "family": "theft",
                "severity": severity_for(float(r.score), settings),
                "entity_type": "customer",
                "entity_id": str(r.customer_id),
                "period": period,
                "score": float(r.score),
                "kwh_at_stake": float(r.kwh_at_stake),
                "yuan_at_stake": None if pd.isna(r.yuan_at_stake) else float(r.yuan_at_stake),
                "responsible_staff_id": None,
                "evidence": {
                    "model_kind": r.model_kind,
                    "rank": int(r.rank),
                    "score": float(r.score),
                    "as_of": str(r.as_of),
                    "explanation_zh": r.explanation_zh,
                    "explanation_en": r.explanation_en,
                    "reasons": json.loads(r.reasons),
                },
                "run_id": run_id,
            }
        )
    return findings_table(rows)


def findings_path_for(out: str | Path) -> Path:
    """Where the theft findings go beside a scores file: ``<stem>_findings.parquet``."""
    p = Path(out)
    return p.with_name(f"{p.stem}_findings.parquet")
