"""The risk step of ``gridaudit demo``: train if the dataset has enough inspections, else score unsupervised."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa

from gridaudit.console import console
from gridaudit.i18n import msg


def run_demo(dataset: object, out_dir: str | Path, top: int = 100) -> None:
    """Score ``dataset`` (a folder or an opened Dataset) into ``out_dir``: risk_scores.parquet, risk_findings.parquet.

    Uses ``out_dir/findings.parquet`` (the rules' findings) as features when it exists.
    """
    from gridaudit.findings import write_findings
    from gridaudit.risk.cli import show_top
    from gridaudit.risk.pipeline import findings_from_scores, train_and_score, write_parquet_atomic
    from gridaudit.risk.settings import RiskSettings

    t0 = time.perf_counter()
    from gridaudit.dataset import Dataset

    root = dataset.root if isinstance(dataset, Dataset) else Path(str(dataset))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rules = out / "findings.parquet"
    findings = rules if rules.is_file() else None
    model = out / "risk.model"
    res, scores = train_and_score(root, model, findings=findings)
    write_parquet_atomic(pa.Table.from_pandas(scores, preserve_index=False), out / "risk_scores.parquet")
    tmp = out / ".risk_findings.parquet.tmp"
    write_findings(findings_from_scores(scores, top, RiskSettings()), tmp)
    tmp.replace(out / "risk_findings.parquet")
    labels = res.meta["labels"]
    console.print(
        msg(f"[bold]窃电风险[/]：{len(scores)} 户已评分（{res.model_kind}，标签 {labels['rows']} 条，"
            f"窃电/违约 {labels['positives']}），用时 {time.perf_counter() - t0:.1f} 秒",
            f"[bold]Theft risk[/]: scored {len(scores)} customers ({res.model_kind}, {labels['rows']} labels, "
            f"{labels['positives']} theft/violation) in {time.perf_counter() - t0:.1f} s")
    )  # fmt: skip
    if res.model_kind == "lightgbm":
        m = res.meta["metrics"]
        console.print(msg(f"折外 AUC {m['oof_roc_auc']:.3f}", f"out-of-fold AUC {m['oof_roc_auc']:.3f}"))
    show_top(scores, 10)
