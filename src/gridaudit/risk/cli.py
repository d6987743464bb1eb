"""``gridaudit risk``: train, score and evaluate the theft-risk scorer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from gridaudit.cli_options import (
    date_option,
    engine_option,
    engine_settings,
    list_option,
    memory_limit_option,
    out_file_option,
    pg_option,
    spark_conf_option,
    spark_data_option,
    spark_master_option,
    split_list,
    threads_option,
)
from gridaudit.console import console, die, example
from gridaudit.i18n import Text, both, msg

risk_app = typer.Typer(
    help="Theft-risk scoring: learn from inspections, rank customers, explain (窃电风险评分).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _check_dataset(path: Path) -> None:
    from gridaudit.dataset import is_dataset

    if not is_dataset(path):
        die(
            both(
                f"{path} 不是 gridaudit 数据集（先运行 gridaudit ingest）",
                f"{path} is not a gridaudit dataset (run gridaudit ingest first)",
            )
        )


@risk_app.command(
    "train",
    epilog=example(
        "gridaudit risk train --dataset ds --model risk.model",
        "gridaudit risk train --dataset ds --model risk.model --until 2024-06-30",
        "gridaudit risk train --dataset ds --model risk.model --augment 2",
    ),
)
def train_cmd(
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset folder / 数据集目录")],
    model: Annotated[Path, typer.Option("--model", help="Model file to write (LightGBM text + FILE.json) / 模型文件")],
    until: date | None = date_option("--until", "Use only inspections on or before this date (YYYY-MM-DD)"),
    findings: Annotated[
        Path | None, typer.Option("--findings", help="Rule findings (findings.parquet) used as features")
    ] = None,
    augment: Annotated[
        int | None,
        typer.Option(
            "--augment",
            min=0,
            help="Attacked copies (h1–h4, sustained drop) of each household inspected normal, added as theft "
            "rows; data after each inspection is never used (default: the settings' augment_copies) / 训练增强",
        ),
    ] = None,
    engine: str = engine_option(),
    pg: str | None = pg_option(),
    spark_master: str = spark_master_option(),
    spark_data: str | None = spark_data_option(),
    spark_conf: list[str] | None = spark_conf_option(),
    memory_limit: str = memory_limit_option(),
    threads: int | None = threads_option(),
) -> None:
    """Train on the dataset's inspections (theft/violation = 1, normal = 0); features of each inspection are
    taken as of the day before it. Too few labels → an unsupervised scorer is written instead.
    --engine postgres (with --pg URL) or spark (--spark-master URL) computes the features there (docs/engines.md)."""
    from gridaudit.engines import EngineError
    from gridaudit.risk.features import FeatureError
    from gridaudit.risk.model import ModelFileError
    from gridaudit.risk.pipeline import train
    from gridaudit.risk.settings import RiskSettings

    engine_conf = engine_settings(engine, pg, spark_master, memory_limit, threads, spark_data, spark_conf)
    _check_dataset(dataset)
    if findings is not None and not findings.is_file():
        die(both(f"找不到规则结果文件 {findings}", f"findings file {findings} not found"))
    try:
        with console.status(msg("计算特征并训练…", "computing features and training…")):
            settings = RiskSettings() if augment is None else RiskSettings(augment_copies=augment)
            res = train(dataset, model, until=until, settings=settings, findings=findings, engine=engine_conf)
    except (FeatureError, ModelFileError, EngineError) as exc:
        die(str(exc))
    labels = res.meta["labels"]
    console.print(
        msg(f"模型类型 {res.model_kind}；标签 {labels['rows']} 条（窃电/违约 {labels['positives']}）→ {model}",
            f"model kind {res.model_kind}; {labels['rows']} labels ({labels['positives']} theft/violation) → {model}")
    )  # fmt: skip
    console.print(label_breakdown(labels), highlight=False)
    if labels.get("augmented_rows"):
        n = labels["augmented_rows"]
        console.print(
            msg(f"训练增强：另加 {n} 条模拟窃电样本（正常检查户的攻击副本）",
                f"augmentation: {n} synthetic theft rows (attacked copies of normal-inspected households)")
        )  # fmt: skip
    if res.model_kind == "lightgbm":
        m = res.meta["metrics"]
        console.print(
            msg(f"交叉验证（折外）AUC {m['oof_roc_auc']:.3f}，AP@100 {m['oof_ap_at_100']:.3f}",
                f"out-of-fold AUC {m['oof_roc_auc']:.3f}, AP@100 {m['oof_ap_at_100']:.3f}")
        )  # fmt: skip
        bb = res.meta["settings"]["backbill_months"]
        if "inspection_oof_roc_auc" in m:
            console.print(
                msg(f"按检查标签的折外估计（每户一个快照，检查后 0–{bb} 个月）："
                    f"AUC {m['inspection_oof_roc_auc']:.3f}，AP@100 {m['inspection_oof_ap_at_100']:.3f}",
                    f"out-of-fold estimate on the inspected customers (one snapshot per customer, 0–{bb} months "
                    f"after its inspection): AUC {m['inspection_oof_roc_auc']:.3f}, "
                    f"AP@100 {m['inspection_oof_ap_at_100']:.3f}")
            )  # fmt: skip
        if "scoring_oof_roc_auc" in m:
            tm = m.get("scoring_oof_roc_auc_by_timing", {})
            zh = {"ongoing": "评分日仍在窃电", "ended": "1–12 个月前已停止", "intermittent": "间歇窃电"}
            parts_zh = "，".join(f"{zh.get(k, k)} {v:.3f}" for k, v in tm.items())
            parts_en = ", ".join(f"{k} {v:.3f}" for k, v in tm.items())
            console.print(
                msg(f"评分时口径的折外估计（评分日快照，正常检查户的模拟窃电位于追补期 {bb} 个月内）："
                    f"AUC {m['scoring_oof_roc_auc']:.3f}（{parts_zh}），AP@100 {m['scoring_oof_ap_at_100']:.3f}；"
                    "不含检查未见过的窃电方式（见 docs/risk.md）",
                    f"out-of-fold estimate under the scoring-time protocol (snapshots as of the scoring date, "
                    f"simulated thefts within the {bb}-month back-billing horizon on normal-inspected households): "
                    f"AUC {m['scoring_oof_roc_auc']:.3f} ({parts_en}), AP@100 {m['scoring_oof_ap_at_100']:.3f}; "
                    "theft mechanisms unlike the simulated ones are not covered (docs/risk.md)")
            )  # fmt: skip
    else:
        console.print(res.meta["reason"])


@risk_app.command(
    "score",
    epilog=example(
        "gridaudit risk score --dataset ds --model risk.model --top 100",
        "gridaudit risk score --dataset ds --out scores.parquet   # unsupervised scorer, scores kept",
    ),
)
def score_cmd(
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset folder / 数据集目录")],
    out: Path | None = out_file_option(
        "Also write the scores to this Parquet file (one row per customer) and a findings copy beside it"
    ),
    model: Annotated[
        Path | None, typer.Option("--model", help="Model from `risk train`; without it, the unsupervised scorer")
    ] = None,
    findings: Annotated[
        Path | None, typer.Option("--findings", help="Rule findings (findings.parquet) used as features")
    ] = None,
    top: Annotated[
        int, typer.Option("--top", help="The top N become theft findings in the dataset's findings store")
    ] = 100,
    until: date | None = date_option("--until", "Score as of this date YYYY-MM-DD (default: last day of daily_usage)"),
    engine: str = engine_option(),
    pg: str | None = pg_option(),
    spark_master: str = spark_master_option(),
    spark_data: str | None = spark_data_option(),
    spark_conf: list[str] | None = spark_conf_option(),
    memory_limit: str = memory_limit_option(),
    threads: int | None = threads_option(),
) -> None:
    """Score every customer (higher = riskier), rank them, explain each score; the top N become findings,
    appended to the dataset's findings store (with --out, also <out stem>_findings.parquet).
    --engine postgres (with --pg URL) or spark (--spark-master URL) computes the features there (docs/engines.md)."""
    import pyarrow as pa

    from gridaudit.dataset import write_parquet
    from gridaudit.engines import EngineError
    from gridaudit.findings import FindingsStoreError
    from gridaudit.findings.store import copy_run, now_utc
    from gridaudit.risk.features import FeatureError
    from gridaudit.risk.model import ModelFileError
    from gridaudit.risk.pipeline import findings_path_for, score
    from gridaudit.risk.record import append_scores, risk_provenance
    from gridaudit.risk.settings import RiskSettings

    engine_conf = engine_settings(engine, pg, spark_master, memory_limit, threads, spark_data, spark_conf)
    _check_dataset(dataset)
    if findings is not None and not findings.is_file():
        die(both(f"找不到规则结果文件 {findings}", f"findings file {findings} not found"))
    if top < 0:
        die(both("--top 不能为负数", "--top must not be negative"))
    started = now_utc()
    as_of = until
    try:
        with console.status(msg("计算特征并评分…", "computing features and scoring…")):
            scores = score(dataset, model, until=as_of, findings=findings, engine=engine_conf)
    except (FeatureError, ModelFileError, EngineError) as exc:
        die(str(exc))
    kind = scores["model_kind"].iloc[0] if len(scores) else "-"
    prov = risk_provenance(
        model,
        RiskSettings(),
        top=top,
        started_at=started,
        model_kind=kind,
        until=as_of,
        findings_file=findings,
        engine=engine_conf.kind,
    )
    try:
        run = append_scores(dataset, scores, top, prov)
    except (FindingsStoreError, OSError) as exc:
        die(both(f"无法写入问题库：{exc}", f"cannot write the findings store: {exc}"))
    n = min(top, len(scores))
    console.print(
        msg(f"已评分 {len(scores)} 户（{kind}）；前 {n} 户写入问题库运行 {run.run_id}",
            f"scored {len(scores)} customers ({kind}); top {n} as findings → store run {run.run_id}")
    )  # fmt: skip
    if out is not None:
        write_parquet(pa.Table.from_pandas(scores, preserve_index=False), out)
        fpath = copy_run(run, findings_path_for(out))
        console.print(msg(f"评分 → {out}；问题副本 → {fpath}", f"scores → {out}; findings copy → {fpath}"))
    show_top(scores, min(top, 10) if top else 10)


def label_breakdown(labels: dict) -> str:
    """Why N inspections gave M labels, from the model meta's ``labels`` (:func:`pipeline.inspection_breakdown`)."""
    read = labels.get("inspections_read")
    if read is None:  # a model written before the breakdown existed
        return ""
    unused = labels.get("outcome_not_a_label", {})
    zh = [f"读入检查记录 {read} 条"]
    en = [f"inspections read {read}"]
    for outcome, n in sorted(unused.items()):
        zh.append(f"结果为 {outcome} 不作标签 {n}")
        en.append(f"outcome {outcome} is not a label {n}")
    if labels.get("after_until"):
        zh.append(f"晚于 --until {labels['after_until']}")
        en.append(f"after --until {labels['after_until']}")
    if labels.get("skipped_without_usage"):
        n = labels["skipped_without_usage"]
        zh.append(f"检查前无用电数据（用户不在 daily_usage 中或数据尚未开始）{n}")
        en.append(f"no usage data before the inspection (customer not in daily_usage, or data starts later) {n}")
    pos = labels["positives"]
    zh.append(f"→ 标签 {labels['rows']} 条（窃电/违约 {pos}，正常 {labels['rows'] - pos}）")
    en.append(f"→ {labels['rows']} labels ({pos} theft/violation, {labels['rows'] - pos} normal)")
    twice = labels.get("customers_inspected_twice")
    if twice:
        zh.append(f"其中 {twice} 户检查过多次，每次检查各为一条标签")
        en.append(f"{twice} customers were inspected more than once: each inspection is a label")
    return msg("；".join(zh), "; ".join(en))


def show_top(scores, n: int) -> None:  # noqa: ANN001 - a pandas frame
    """Print the n riskiest customers with their explanations (in the language of the run)."""
    from rich.table import Table

    t = Table(title=msg(f"风险最高的用户（前 {n}）", f"Top suspects (top {n})"), title_justify="left")
    for col in (msg("排名", "rank"), msg("用户", "customer"), msg("评分", "score"), msg("原因", "why")):
        t.add_column(col)
    for r in scores.head(n).itertuples(index=False):
        t.add_row(str(r.rank), str(r.customer_id), f"{r.score:.3f}", msg(r.explanation_zh, r.explanation_en))
    console.print(t)


# the metrics of ``risk evaluate`` as a person reads them; ``{k}`` is the cut-off of a ``*_at_K`` key
METRIC_NAMES: dict[str, Text] = {
    "n": Text("有标签且有评分的用户", "customers with a label and a score"),
    "positives": Text("窃电/违约（标签 1）", "thieves (label 1)"),
    "roc_auc": Text("ROC 曲线下面积", "ROC AUC"),
    "ap_at_": Text("前 {k} 名平均精度", "average precision in the top {k}"),
    "map_at_": Text("前 {k} 名均值平均精度", "mean average precision in the top {k}"),
    "precision_at_": Text("前 {k} 名命中率", "precision in the top {k}"),
    "yuan_at_": Text("前 {k} 名涉及金额（元）", "¥ at stake in the top {k}"),
    "yuan_total": Text("全部窃电/违约涉及金额（元）", "¥ at stake, all thieves"),
    "unmatched_labels": Text("没有评分的标签", "labels without a score"),
}


def metric_name(key: str) -> str:
    """The metric ``key`` in the current language, with the key itself (as in --json) in brackets."""
    for prefix, text in METRIC_NAMES.items():
        if key == prefix or (prefix.endswith("_") and key.startswith(prefix) and key[len(prefix) :].isdigit()):
            k = key[len(prefix) :]
            return f"{msg(text).format(k=k)} ({key})"
    return key


@risk_app.command(
    "evaluate",
    epilog=example("gridaudit risk evaluate --scores scores.parquet --labels labels.csv"),
)
def evaluate_cmd(
    scores: Annotated[Path, typer.Option("--scores", "-s", help="Scores from `risk score`")],
    labels: Annotated[
        Path, typer.Option("--labels", "-l", help="CSV or Parquet: customer_id,label[,yuan] (label 1 = thief)")
    ],
    k: list[str] = list_option(
        "--k", "Cut-offs for precision@k and ¥ at stake (repeat or a,b)", default=["50,100,200"]
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON")] = False,
) -> None:
    """ROC AUC, theft AP@100/AP@200, MAP@N (Zheng et al.), precision@k and ¥ at stake in the top k."""
    from gridaudit.risk.evaluate import EvaluateError, evaluate_files

    try:
        ks = tuple(int(v) for v in split_list(k))
    except ValueError:
        given = ",".join(k)
        die(both(f"--k 应为逗号分隔的整数，而不是 {given!r}", f"--k must be comma-separated integers, not {given!r}"))
    try:
        result = evaluate_files(scores, labels, ks)
    except EvaluateError as exc:
        die(str(exc))
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    t = Table(title=msg("评估结果", "Evaluation"), title_justify="left")
    t.add_column(msg("指标", "metric"))
    t.add_column(msg("数值", "value"), justify="right")
    for key, value in result.items():
        t.add_row(metric_name(key), f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit risk`` to the CLI."""
    app.add_typer(risk_app, name="risk")
