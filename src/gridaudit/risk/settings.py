"""Settings of the theft-risk scorer: every threshold a utility may change lives here, none in the code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gridaudit.settings_file import settings_from_mapping


@dataclass(frozen=True)
class RiskSettings:
    """Parameters of features, model, calibration and findings (defaults documented in docs/risk.md)."""

    history_weeks: int = 104
    """Weeks of history before the as-of date used for a customer's features."""
    min_days_week: int = 4
    """A week with fewer days of data is left out of the weekly series."""
    min_peers: int = 8
    """An area × category peer group smaller than this falls back to the category-wide index."""
    near_zero_kwh: float = 0.5
    """A day below this many kWh counts as near-zero."""
    low_week_frac: float = 0.6
    """A week whose peer-adjusted use is below this fraction of the customer's median is a low week."""
    anomaly_noise_k: float = 2.0
    """A week whose log use (against its peers and its own seasonality) is below the customer's median by this
    many week-to-week noise units is an anomalous week (``anom_share``, ``anom_share13``)."""
    low_day_frac: float = 0.5
    """A week whose lowest day, against its mean day, is below this share of the customer's usual ratio has a
    low day (intermittent low days: ``lowday_share``, ``lowday_share13``, ``lowday_recent13``)."""
    backbill_months: int = 12
    """The back-billing horizon: a theft that ended up to this many months before a snapshot still counts."""
    train_snapshot_months: tuple[int, ...] = (0, 1, 2, 3, 4, 6, 9, 12)
    """Training snapshots per inspection: months after the day before it (0 = that day); offsets beyond
    ``backbill_months``, after the last day of data or after ``--until`` are left out."""
    now_snapshot_weight: float = 1.0
    """Training weight of each inspection's snapshot as of the day before it, against 1 for each later snapshot
    (the theft in the act against the theft that ended)."""
    min_segment_weeks: int = 4
    """Shortest segment on either side of a change point."""
    season_beta_min: float = 0.0
    """Lower clamp of a customer's elasticity to its peers' seasonal index."""
    season_beta_max: float = 3.0
    """Upper clamp of that elasticity."""
    recent_weeks: int = 13
    """The 'recent' window for zero share and missing data."""
    min_positive_labels: int = 10
    """Fewer theft/violation inspections than this → the unsupervised scorer is used."""
    min_labels: int = 40
    """Fewer inspections in total than this → the unsupervised scorer is used."""
    positive_outcomes: tuple[str, ...] = ("theft", "violation")
    """Inspection outcomes that count as label 1 (``normal`` is 0; others are not used)."""
    negative_outcomes: tuple[str, ...] = ("normal",)
    """Inspection outcomes that count as label 0."""
    inactive_weight: float = 0.5
    """The unsupervised score of a suspended or closed account is multiplied by this (its drop is explained)."""
    cv_folds: int = 5
    """Folds for out-of-fold predictions (calibration and training metrics)."""
    isotonic_min_positives: int = 50
    """Calibrate with isotonic regression from this many positives on, with Platt scaling below."""
    lgbm_params: dict[str, Any] = field(
        default_factory=lambda: {
            "objective": "binary",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 10,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "verbose": -1,
            "num_threads": 1,
            "force_row_wise": True,
            "seed": 7,
            "deterministic": True,
        }
    )
    """LightGBM parameters (kept modest; not tuned to any one data set)."""
    augment_copies: int = 0
    """Training augmentation: attacked copies (h1–h4, sustained drop) of each household inspected normal,
    added as positive rows (0 = off; see gridaudit.risk.augment and docs/risk.md)."""
    augment_weight: float = 1.0
    """Sample weight of an augmented row (real inspection rows weigh 1)."""
    augment_seed: int = 0
    """Random seed of the augmentation (attack kinds, spans, depths)."""
    estimate_copies: int = 1
    """The scoring-time estimate (gridaudit.risk.estimate): attacked copies, as of the scoring date, of each
    household inspected normal (0 = off: only the label-based estimate is reported)."""
    estimate_seed: int = 17
    """Random seed of the scoring-time estimate's simulated thefts."""
    num_rounds: int = 300
    """Upper bound on boosting rounds; the out-of-fold early-stopping average is used."""
    explain_top: int = 20000
    """Customers (riskiest first) whose score is explained by feature contributions; the rest say so."""
    top_contributions: int = 3
    """Feature contributions quoted in each explanation."""
    severity_bands: tuple[tuple[float, str], ...] = ((0.8, "critical"), (0.5, "high"), (0.2, "medium"), (0.0, "low"))
    """Score → severity of a theft finding (first band whose lower bound the score reaches)."""
    stake_days: int = 91
    """Days over which the estimated shortfall of a suspect is counted as kWh at stake."""
    threads: int = 2
    """DuckDB threads for the feature query."""
    feature_batch: int = 200_000
    """Snapshots whose weekly series are worked on at once (bounds the feature query's memory, not its result)."""
    memory_limit: str = "4GB"
    """DuckDB memory limit for the feature query (spills to disk beyond it)."""

    def to_dict(self) -> dict[str, Any]:
        """Settings as plain JSON-able data (stored in the model file)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "risk settings") -> RiskSettings:
        """Settings from :meth:`to_dict` output (e.g. stored in a model file): lists become tuples again; an
        unknown key is a :class:`~gridaudit.settings_file.SettingsError` (the shared settings loader)."""
        return settings_from_mapping(cls, data, where)


def severity_for(score: float, settings: RiskSettings) -> str:
    """The severity band of a calibrated score."""
    for lower, name in settings.severity_bands:
        if score >= lower:
            return name
    return settings.severity_bands[-1][1]
