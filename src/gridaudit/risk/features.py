"""Theft-risk features per customer, computed in SQL (``features.sql``) over whatever tables a dataset has.

A *snapshot* is a customer as of a date: scoring uses one snapshot per customer as of ``--until`` (or the last
day of data); training uses one snapshot per inspection as of the day before it, so no feature sees data
from the inspection day on (see docs/risk.md, "Leakage"). Series features use whole weeks that end on or
before the as-of date. Missing tables give NULL features (LightGBM treats them as missing), never an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from gridaudit.dataset import Dataset
from gridaudit.engines import Engine, EngineSettings, open_engine
from gridaudit.engines.stages import StagedQuery, parse_query, split_stages
from gridaudit.i18n import both
from gridaudit.risk.settings import RiskSettings
from gridaudit.risk.snapshot import Snapshot

if TYPE_CHECKING:
    from gridaudit.risk.augment import Augmentation

log = logging.getLogger(__name__)

PEAK_TIE = 1e-9
"""Relative tolerance of the peak-week choice (drop*_age/pre/rec, cp_age, cpu_age): weeks within it of the peak
count as tied, and ties go to the latest week, so two runs pick the same week (parallel sums differ in last bits)."""
WEEK_EPOCH = date(2000, 1, 3)  # a Monday: weeks run Monday–Sunday

HISTORY_FEATURES: tuple[str, ...] = (
    "drop4_age", "drop4_pre", "drop4_rec", "drop13_age", "drop13_pre", "drop13_rec",
    "drop26_age", "drop26_pre", "drop26_rec", "cp_age", "cpu_t", "cpu_age",
    "anom_share", "anom_share13", "lowday_share", "lowday_share13", "lowday_recent13",
)  # fmt: skip
"""Issue 17: where in the whole look-back the largest dips and steps are, and how often use is anomalous."""

FEATURES: tuple[str, ...] = (
    "n_weeks", "n_days", "mean_kwh", "med_kwh", "dip4_raw", "recent4_raw",
    "base_dip4", "base_dip13", "base_recent4", "dip4_base",
    "dip4", "dip13", "drop4_prior", "recent4", "recent13", "cp_ratio", "cp_t",
    "scan_t4", "scan_t13", "scan_t26", "scan_t52", "scan_d4", "scan_d13", "scan_d26", "scan_d52",
    "scan_c4", "scan_c13", "noise_week", "sus_t4", "sus_t8", "sus_t13", "sus_d4", "sus_d8", "sus_d13",
    "low_week_share", "cv_week", "cv_day", "cvw_med", "cvw_recent", "trend_year",
    "zero_share", "near_zero_share", "zero_share_recent", "weekend_ratio", "winter_summer_ratio",
    "coverage", "gap_weeks", "missing_recent", "short_week_share", "cap_use_max", "cap_use_mean",
    *HISTORY_FEATURES,
    "ev_count", "ev_recent", "ev_low", "ev_low_share", "ev_types", "loss_corr",
    "rule_hits", "rule_hits_high", "rule_families",
    "iv_night_share", "iv_peak_ratio", "iv_zero_share", "iv_night_shift",
    "cat_code", "status_code",
)  # fmt: skip
"""Model inputs, in the order the model sees them."""

STATUSES = ("active", "suspended", "closed")
CATEGORIES = ("residential", "commercial", "industrial", "large_industrial", "agricultural", "other")


BATCH_STAGES = (
    "grid", "sw0", "fit", "beta", "sx", "meda", "aggb", "wn", "med", "wx", "pkv", "pk", "blk", "blf", "aggw", "agg",
)  # fmt: skip
"""The per-snapshot weekly stages of features.sql, run one batch of customers at a time."""


WEEK_AGGS = """SUM(d.kwh) AS s, SUM(d.kwh * d.kwh) AS ss, CAST(COUNT(*) AS INT) AS n,
           CAST(SUM(CASE WHEN d.kwh <= 0 THEN 1 ELSE 0 END) AS INT) AS zeros,
           CAST(SUM(CASE WHEN d.kwh < {near_zero_kwh} THEN 1 ELSE 0 END) AS INT) AS near_zeros,
           SUM(CASE WHEN (DATEDIFF('day', DATE '2000-01-03', d.day) % 7 + 7) % 7 >= 5 THEN d.kwh ELSE 0 END) AS s_we,
           CAST(SUM(CASE WHEN (DATEDIFF('day', DATE '2000-01-03', d.day) % 7 + 7) % 7 >= 5 THEN 1 ELSE 0 END)
                AS INT) AS n_we,
           MAX(d.kwh) AS kmax, MIN(d.kwh) AS kmin"""
"""A week's statistics of daily rows ``d`` (meter-week and one-meter customer-week stages of features.sql).

Weekend days are found by their distance from the Monday 2000-01-03 (5 = Saturday, 6 = Sunday), not with
``EXTRACT(dow …)``: sqlglot writes a parsed ``dow`` back as ``DAYOFWEEK``, which PostgreSQL refuses, and Spark
counts ``dow`` from 1."""


class FeatureError(Exception):
    """A dataset that cannot give features at all (no daily_usage or no customer meters)."""


def day_index(d: date) -> int:
    """Days since the week epoch (the integer the SQL compares)."""
    return (d - WEEK_EPOCH).days


def last_full_week(as_of: date) -> int:
    """Index of the last Monday–Sunday week that ends on or before ``as_of``."""
    return (day_index(as_of) + 1) // 7 - 1


def snapshots_table(snaps: list[Snapshot]) -> pa.Table:
    """The ``snapshots`` relation the feature SQL reads (snap_id is the row position).

    The columns derived from the as-of date are worked out once per distinct date (scoring has one date for a
    million customers), not once per snapshot."""
    dates = [s.as_of for s in snaps]
    per_date = {d: (day_index(d), last_full_week(d), d.strftime("%Y-%m")) for d in set(dates)}
    derived = [per_date[d] for d in dates]
    return pa.table(
        {
            "snap_id": pa.array(range(len(snaps)), pa.int64()),
            "customer_id": pa.array([s.customer_id for s in snaps], pa.string()),
            "src_customer_id": pa.array([s.source or s.customer_id for s in snaps], pa.string()),
            "as_of": pa.array(dates, pa.date32()),
            "as_of_di": pa.array([x[0] for x in derived], pa.int64()),
            "last_w": pa.array([x[1] for x in derived], pa.int32()),
            "as_of_period": pa.array([x[2] for x in derived], pa.string()),
        }
    )


def _columns(engine: Engine, table: str) -> set[str]:
    if table not in engine.tables():
        return set()
    return set(engine.columns(table))


def _optional_blocks(
    engine: Engine, has_findings: bool, settings: RiskSettings, augmented: bool = False
) -> dict[str, str]:
    """SQL pieces for the tables this dataset has; NULL features for the ones it lacks.

    With ``augmented`` the registered ``aug_daily``, ``aug_meters`` and ``aug_customers`` relations (training
    augmentation, :mod:`gridaudit.risk.augment`) join the data; they are kept out of the peer index and the
    area sales.
    """
    tables = engine.tables()
    real_cw = "c.customer_id NOT IN (SELECT customer_id FROM aug_customers)" if augmented else "TRUE"
    cte: list[str] = []
    joins: list[str] = []
    final: list[str] = []
    out: dict[str, str] = {}
    wexpr = "CAST(FLOOR(DATEDIFF('day', DATE '2000-01-03', CAST({c} AS DATE)) / 7.0) AS INT)"
    if "meter_events" in tables:
        w = wexpr.format(c="e.ts")
        cte.append(
            f"evw AS (SELECT cm.ck, {w} AS w, COUNT(*) AS n_ev FROM meter_events e "
            f"JOIN cm ON cm.meter_id = e.meter_id GROUP BY cm.ck, {w}),\n"
            "evt AS (SELECT s.snap_id, COUNT(DISTINCT e.event_type) AS ev_types FROM snapshots s "
            "JOIN cm ON cm.customer_id = s.src_customer_id JOIN meter_events e ON e.meter_id = cm.meter_id "
            "WHERE CAST(e.ts AS DATE) <= s.as_of GROUP BY s.snap_id),"
        )
        joins.append("LEFT JOIN evw ON evw.ck = s.src_ck AND evw.w = s.w")
        final.append("LEFT JOIN evt ON evt.snap_id = s.snap_id")
        out["ev_week"] = "COALESCE(evw.n_ev, 0)"
        out["ev_types"] = "COALESCE(evt.ev_types, 0)"
    else:
        out["ev_week"] = "CAST(NULL AS DOUBLE)"
        out["ev_types"] = "CAST(NULL AS DOUBLE)"
    meter_cols = _columns(engine, "meters")
    cust_cols = _columns(engine, "customers")
    area_supply = False
    if "area_id" in meter_cols and "area_id" in cust_cols:
        got = engine.query("SELECT COUNT(*) AS n FROM meters WHERE role = 'area_total' AND area_id IS NOT NULL")
        area_supply = bool(got.column("n").to_pylist()[0])
    if area_supply:
        cte.append(
            "supw AS (SELECT ca.ak, mw.w, SUM(mw.s) AS sup FROM mw JOIN meters m ON m.meter_id = mw.meter_id "
            "JOIN (SELECT DISTINCT area_id, ak FROM cust WHERE ak > 0) ca ON ca.area_id = m.area_id "
            "WHERE m.role = 'area_total' GROUP BY ca.ak, mw.w),\n"
            "salw AS (SELECT c.ak, cw.w, SUM(cw.s) AS sal FROM cw JOIN cust c ON c.ck = cw.ck "
            f"WHERE c.ak > 0 AND {real_cw} GROUP BY c.ak, cw.w),\n"
            "lossw AS (SELECT supw.ak, supw.w, "
            "(supw.sup - COALESCE(salw.sal, 0)) / NULLIF(supw.sup, 0) AS loss_rate "
            "FROM supw LEFT JOIN salw ON salw.ak = supw.ak AND salw.w = supw.w),"
        )
        joins.append("LEFT JOIN lossw ON lossw.ak = s.ak AND lossw.w = s.w")
        out["loss_week"] = "lossw.loss_rate"
    else:
        out["loss_week"] = "CAST(NULL AS DOUBLE)"
    if has_findings:
        cte.append(
            "rfc AS (SELECT f.entity_id AS customer_id, f.period, f.family, f.severity FROM rule_findings f "
            "WHERE f.entity_type = 'customer' AND f.family <> 'theft' "
            "UNION ALL SELECT cm.customer_id, f.period, f.family, f.severity FROM rule_findings f "
            "JOIN cm ON cm.meter_id = f.entity_id WHERE f.entity_type = 'meter' AND f.family <> 'theft'),\n"
            "rf AS (SELECT s.snap_id, COUNT(*) AS rule_hits, "
            "SUM(CASE WHEN rfc.severity IN ('high', 'critical') THEN 1 ELSE 0 END) AS rule_hits_high, "
            "COUNT(DISTINCT rfc.family) AS rule_families FROM snapshots s "
            "JOIN rfc ON rfc.customer_id = s.src_customer_id AND (rfc.period IS NULL OR rfc.period <= s.as_of_period) "
            "GROUP BY s.snap_id),"
        )
        final.append("LEFT JOIN rf ON rf.snap_id = s.snap_id")
        out["rule_cols"] = (
            "COALESCE(rf.rule_hits, 0) AS rule_hits, COALESCE(rf.rule_hits_high, 0) AS rule_hits_high, "
            "COALESCE(rf.rule_families, 0) AS rule_families"
        )
    else:
        out["rule_cols"] = (
            "CAST(NULL AS DOUBLE) AS rule_hits, CAST(NULL AS DOUBLE) AS rule_hits_high, "
            "CAST(NULL AS DOUBLE) AS rule_families"
        )
    if "interval_usage" in tables:
        di = "DATEDIFF('day', DATE '2000-01-03', CAST(i.ts AS DATE))"
        recent = f"{di} > s.as_of_di - 28"
        night = "EXTRACT(hour FROM i.ts) < 6"
        cte.append(
            "ivs AS (SELECT s.snap_id, "
            f"SUM(CASE WHEN {night} THEN i.kwh ELSE 0 END) / NULLIF(SUM(i.kwh), 0) AS iv_night_share, "
            "MAX(i.kwh) / NULLIF(AVG(i.kwh), 0) AS iv_peak_ratio, "
            "AVG(CASE WHEN i.kwh <= 0 THEN CAST(1 AS DOUBLE) ELSE CAST(0 AS DOUBLE) END) AS iv_zero_share, "
            f"SUM(CASE WHEN {recent} AND {night} THEN i.kwh ELSE 0 END) "
            f"/ NULLIF(SUM(CASE WHEN {recent} THEN i.kwh ELSE 0 END), 0) "
            f"- SUM(CASE WHEN {night} THEN i.kwh ELSE 0 END) / NULLIF(SUM(i.kwh), 0) AS iv_night_shift "
            "FROM snapshots s JOIN cm ON cm.customer_id = s.src_customer_id "
            "JOIN interval_usage i ON i.meter_id = cm.meter_id "
            f"WHERE {di} <= s.as_of_di AND {di} > s.as_of_di - {7 * settings.history_weeks} GROUP BY s.snap_id),"
        )
        final.append("LEFT JOIN ivs ON ivs.snap_id = s.snap_id")
        out["interval_cols"] = "ivs.iv_night_share, ivs.iv_peak_ratio, ivs.iv_zero_share, ivs.iv_night_shift"
    else:
        out["interval_cols"] = ", ".join(
            f"CAST(NULL AS DOUBLE) AS {c}"
            for c in ("iv_night_share", "iv_peak_ratio", "iv_zero_share", "iv_night_shift")
        )
    if "customers" in tables:
        keep = [c for c in ("category", "area_id", "contract_kva", "status") if c in cust_cols]
        if augmented:
            plain = ", ".join(["customer_id", *keep])
            copied = ", ".join(["a.customer_id", *(f"c.{c}" for c in keep)])
            out["customers"] = (
                f"(SELECT {plain} FROM customers UNION ALL SELECT {copied} FROM aug_customers a "
                "JOIN customers c ON c.customer_id = a.src_customer_id) AS cust_src"
            )
        else:
            out["customers"] = "customers"
        out["category"] = "COALESCE(category, 'other')" if "category" in cust_cols else "'other'"
        out["area"] = "COALESCE(area_id, '')" if "area_id" in cust_cols else "''"
        out["contract_kva"] = "contract_kva" if "contract_kva" in cust_cols else "CAST(NULL AS DOUBLE)"
        out["status"] = "COALESCE(status, 'active')" if "status" in cust_cols else "'active'"
    else:
        out["customers"] = "(SELECT DISTINCT customer_id FROM cm0) AS cust_from_meters"
        out["category"] = "'other'"
        out["area"] = "''"
        out["contract_kva"] = "CAST(NULL AS DOUBLE)"
        out["status"] = "'active'"
    out["real_cw"] = real_cw
    out["area_meters"] = (
        "UNION SELECT meter_id FROM meters WHERE role = 'area_total' AND area_id IS NOT NULL" if area_supply else ""
    )
    out["week_aggs"] = WEEK_AGGS.format(near_zero_kwh=repr(float(settings.near_zero_kwh)))
    out["daily_usage"] = (
        "(SELECT meter_id, day, kwh FROM daily_usage UNION ALL SELECT meter_id, day, kwh FROM aug_daily)"
        if augmented
        else "daily_usage"
    )
    out["aug_meters"] = "UNION ALL SELECT meter_id, customer_id, src_meter_id FROM aug_meters" if augmented else ""
    out["optional_ctes"] = "\n".join(cte)
    out["optional_joins"] = "\n    ".join(joins)
    out["final_joins"] = "\n".join(final)
    return out


def feature_sql_for(
    engine: Engine,
    settings: RiskSettings,
    max_day: date,
    min_day: date,
    has_findings: bool = False,
    augmented: bool = False,
) -> Callable[[tuple[int, int] | None], str]:
    """The feature query as a function of the batch: the dataset's tables are inspected and the template read
    once, and each batch only fills in its customer-key filter (see :func:`feature_sql`)."""
    template = resources.files("gridaudit.risk").joinpath("features.sql").read_text("utf-8")
    values: dict[str, object] = {
        "near_zero_kwh": repr(float(settings.near_zero_kwh)),
        "min_days_week": int(settings.min_days_week),
        "min_peers": int(settings.min_peers),
        "history_weeks": int(settings.history_weeks),
        "min_segment_weeks": int(settings.min_segment_weeks),
        "low_week_frac": repr(float(settings.low_week_frac)),
        "anomaly_noise_k": repr(float(settings.anomaly_noise_k)),
        "low_day_frac": repr(float(settings.low_day_frac)),
        "recent_weeks": int(settings.recent_weeks),
        "beta_min": repr(float(settings.season_beta_min)),
        "beta_max": repr(float(settings.season_beta_max)),
        "max_day": max_day.isoformat(),
        "min_day": min_day.isoformat(),
        "peak_tie": repr(PEAK_TIE),
    }
    values.update(_optional_blocks(engine, has_findings, settings, augmented))

    def for_batch(batch: tuple[int, int] | None) -> str:
        if batch is None:
            return template.format(**values, batch_snaps="TRUE", batch_cw="TRUE")
        lo, hi = int(batch[0]), int(batch[1])
        return template.format(
            **values, batch_snaps=f"s.ck >= {lo} AND s.ck < {hi}", batch_cw=f"ck >= {lo} AND ck < {hi}"
        )

    return for_batch


def feature_sql(
    engine: Engine,
    settings: RiskSettings,
    max_day: date,
    min_day: date,
    has_findings: bool = False,
    augmented: bool = False,
    batch: tuple[int, int] | None = None,
) -> str:
    """The feature query for this dataset's tables (DuckDB dialect; reads the ``snapshots`` relation).

    ``batch`` = (lo, hi) limits the per-snapshot weekly stages (:data:`BATCH_STAGES`) and the result to the
    snapshots whose customer key ``ck`` is in [lo, hi); the shared stages (peer indices, loss) are unchanged."""
    return feature_sql_for(engine, settings, max_day, min_day, has_findings, augmented)(batch)


def split_ctes(sql: str) -> tuple[list[tuple[str, str]], str]:
    """Split the feature query into its CTEs (name, body) and the final SELECT, by sqlglot's tree
    (:func:`gridaudit.engines.stages.split_stages`: every CTE a stage, named as in features.sql)."""
    staged = split_stages(sql, every=True, where="features.sql: ")
    return [(st.name, st.sql) for st in staged.stages], staged.final


def stage_reads(staged: StagedQuery) -> dict[str, set[str]]:
    """For each stage of ``staged`` (and ``""`` for the final SELECT), the stages it reads (from the tree)."""
    names = set(staged.names)
    parts = [(st.name, st.sql) for st in staged.stages] + [("", staged.final)]
    return {
        name: {t.name for t in parse_query(text).find_all(exp.Table) if not t.db and t.name in names}
        for name, text in parts
    }


def _last_readers(order: list[str], reads: dict[str, set[str]]) -> dict[str, int]:
    """For each stage, the position in ``order`` (the stages, then ``""``) of the last part that reads it."""
    return {
        name: max((i for i, part in enumerate(order) if name in reads.get(part, set())), default=-1)
        for name in order
        if name
    }


BATCH_SENTINELS = (900_000_000_000_000_001, 900_000_000_000_000_002)
"""Stand-ins for a batch's [lo, hi) in the query that is split once; each batch puts its own in the tree."""
ALL_KEYS = (0, 2**62)
"""The batch of every snapshot (customer keys start at 1)."""


def _with_bounds(tree: exp.Expr, lo: int, hi: int) -> str:
    """``tree`` (a batch stage or the final SELECT) with the sentinel bounds replaced by ``lo`` and ``hi``."""
    values = {str(BATCH_SENTINELS[0]): str(int(lo)), str(BATCH_SENTINELS[1]): str(int(hi))}

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Literal) and not node.is_string and node.this in values:
            return exp.Literal.number(values[node.this])
        return node

    return tree.copy().transform(swap).sql("duckdb")


def run_staged(
    engine: Engine,
    sql_for: Callable[[tuple[int, int] | None], str],
    bounds: Callable[[], list[tuple[int, int]]] | None = None,
) -> pa.Table:
    """Run the feature query one CTE at a time into stages the engine materialises (DuckDB re-plans a long CTE
    chain poorly: each stage materialised is an order of magnitude faster), then the final SELECT.

    The query is split once with sqlglot's tree (:func:`gridaudit.engines.stages.split_stages`, every CTE a
    stage) and each stage goes through ``Engine.materialise`` / ``drop_materialised``. The shared stages run
    once. The per-snapshot weekly stages (:data:`BATCH_STAGES`) and the final SELECT run once per customer-key
    range that ``bounds()`` gives (it is called after the shared stages; each range is put into their trees);
    without ``bounds``, once for every snapshot. Peak memory is then set by one batch, not by every customer's
    weekly series. Each stage is dropped once no later stage reads it."""
    staged = split_stages(sql_for(BATCH_SENTINELS), every=True, where="features.sql: ")
    names = staged.names
    last = _last_readers([*names, ""], stage_reads(staged))
    batch_trees = {st.name: parse_query(st.sql) for st in staged.stages if st.name in BATCH_STAGES}
    final_tree = parse_query(staged.final)
    made: set[str] = set()

    def create(name: str, text: str) -> None:
        started = time.perf_counter()
        engine.materialise(name, text)
        made.add(name)
        log.debug("feature stage %s: %.2f s", name, time.perf_counter() - started)
        pos = names.index(name)
        for done in names:  # drop what no later stage (of any batch) reads
            if last[done] == pos and (done in BATCH_STAGES or name not in BATCH_STAGES):
                drop(done)

    def drop(name: str) -> None:
        if name in made:
            engine.drop_materialised(name)
            made.discard(name)

    parts = []
    try:
        for st in staged.stages:
            if st.name not in BATCH_STAGES:
                create(st.name, st.sql)
        for lo, hi in bounds() if bounds is not None else [ALL_KEYS]:
            for name in names:
                if name in batch_trees:
                    create(name, _with_bounds(batch_trees[name], lo, hi))
            parts.append(engine.query(_with_bounds(final_tree, lo, hi)))
            for name in BATCH_STAGES:
                drop(name)
    finally:  # every stage (the shared ones: GBs at 1 M customers) is freed before the batches are joined
        for name in names:
            drop(name)
    if len(parts) == 1:
        return parts[0]
    # a column all NULL in one batch comes back typed null from a server engine: promote it
    whole = pa.concat_tables(parts, promote_options="default")
    del parts
    keys = whole.column("snap_id")
    if len(keys) > 1 and pc.all(pc.less_equal(keys[:-1], keys[1:])).as_py():
        return whole  # batches by customer key are already in snapshot order when scoring: no sorted copy
    return whole.sort_by("snap_id")


def batch_bounds(engine: Engine, batch_rows: int) -> list[tuple[int, int]]:
    """Customer-key ranges [lo, hi) of about ``batch_rows`` snapshots each (reads the ``snaps`` stage)."""
    keys = [int(k) for k in engine.query("SELECT ck FROM snaps ORDER BY ck").column("ck").to_pylist()]
    if not keys:
        return [(0, 1)]  # one empty batch: the result keeps its columns
    cuts = sorted({keys[i] for i in range(0, len(keys), max(batch_rows, 1))} | {keys[-1] + 1})
    return list(zip(cuts[:-1], cuts[1:], strict=True))


def as_date(value: Any) -> date:
    """A DATE column's value as a ``date`` (an engine may return a timestamp for it)."""
    return value.date() if isinstance(value, datetime) else value


def data_end(engine: Engine) -> date:
    """The last day of daily_usage (the default as-of date for scoring)."""
    if "daily_usage" not in engine.tables():
        raise FeatureError(both("数据集缺少日冻结电量表 daily_usage", "the dataset has no daily_usage table"))
    got = engine.query("SELECT MAX(day) AS last_day FROM daily_usage").column("last_day").to_pylist()[0]
    if got is None:
        raise FeatureError(both("daily_usage 表为空", "daily_usage is empty"))
    return as_date(got)


def compute_features(
    dataset: Dataset,
    snaps: list[Snapshot],
    settings: RiskSettings,
    findings: str | Path | None = None,
    engine: Engine | None = None,
    augmentation: Augmentation | None = None,
) -> pd.DataFrame:
    """Feature rows for ``snaps`` (same order), one column per name in :data:`FEATURES` plus identifiers.

    With ``augmentation`` its attacked copies join the data (their snapshots must be among ``snaps``)."""
    own = engine is None
    eng = engine or open_engine(dataset, EngineSettings(threads=settings.threads, memory_limit=settings.memory_limit))
    registered: list[str] = []

    def register(name: str, table: pa.Table) -> None:
        eng.register_table(name, table)
        registered.append(name)

    try:
        for needed in ("daily_usage", "meters"):
            if needed not in eng.tables():
                raise FeatureError(
                    both(f"数据集 {dataset.root} 缺少 {needed} 表，无法计算窃电风险特征",
                         f"dataset {dataset.root} has no {needed} table; theft-risk features need it")
                )  # fmt: skip
        if not snaps:
            return pd.DataFrame(columns=["snap_id", "customer_id", "as_of", "category", "status", *FEATURES])
        register("snapshots", snapshots_table(snaps))
        augmented = False
        if augmentation is not None and len(augmentation) > 0:
            augmented = True
            register("aug_daily", augmentation.daily)
            register("aug_meters", augmentation.meters)
            register("aug_customers", augmentation.customers)
        if findings is not None:
            from gridaudit.findings import read_findings

            register("rule_findings", read_findings(findings))
        max_day = max(s.as_of for s in snaps)
        min_day = min(s.as_of for s in snaps) - timedelta(days=7 * settings.history_weeks + 7)
        sql_for = feature_sql_for(eng, settings, max_day, min_day, findings is not None, augmented)
        table = run_staged(eng, sql_for, lambda: batch_bounds(eng, settings.feature_batch))
        # Arrow's buffers are freed column by column as they convert (no second whole copy at 1 M customers)
        df = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
    finally:
        if own:
            eng.close()
        else:  # an engine passed in stays open: leave it as it came
            for name in reversed(registered):
                eng.drop_materialised(name)
    df["cat_code"] = df["category"].map({c: i for i, c in enumerate(CATEGORIES)}).fillna(len(CATEGORIES) - 1)
    df["status_code"] = df["status"].map({c: i for i, c in enumerate(STATUSES)}).fillna(0)
    for col in FEATURES:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    return df


def scoring_snapshots(engine: Engine, as_of: date) -> list[Snapshot]:
    """One snapshot per customer (from customers, else from customer meters) as of ``as_of``."""
    if "customers" in engine.tables():
        got = engine.query("SELECT customer_id FROM customers ORDER BY customer_id")
    else:
        got = engine.query(
            "SELECT DISTINCT customer_id FROM meters WHERE role = 'customer' AND customer_id IS NOT NULL "
            "ORDER BY customer_id"
        )
    ids = got.column("customer_id").to_pylist()
    return [Snapshot(str(c), as_of) for c in ids]
