"""The risk step of ``gridaudit demo``: train if the dataset has enough inspections, else score unsupervised."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa

from gridaudit.console import console
from gridaudit.i18n import msg


def run_demo(dataset: object, out_dir: str | Path, top: int = 100) -> None:
    """Score ``dataset`` (a folder or an opened Dataset): the top ``top`` go to the dataset's findings store,
    ``out_dir`` gets risk_scores.parquet and a copy of the findings (risk_findings.parquet).

    Uses the latest rules run in the findings store as features when there is one.
    """
    from gridaudit.dataset import write_parquet
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import copy_run, now_utc
    from gridaudit.risk.cli import show_top
    from gridaudit.risk.pipeline import train_and_score
    from gridaudit.risk.record import append_scores, risk_provenance
    from gridaudit.risk.settings import RiskSettings

    t0 = time.perf_counter()
    from gridaudit.dataset import Dataset

    root = dataset.root if isinstance(dataset, Dataset) else Path(str(dataset))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rules = latest_runs(root, ["rules"])
    findings = rules[0].findings_path if rules else None
    model = out / "risk.model"
    started = now_utc()
    res, scores = train_and_score(root, model, findings=findings)
    write_parquet(pa.Table.from_pandas(scores, preserve_index=False), out / "risk_scores.parquet")
    prov = risk_provenance(
        model, RiskSettings(), top=top, started_at=started, model_kind=res.model_kind, findings_file=findings
    )
    run = append_scores(root, scores, top, prov)
    copy_run(run, out / "risk_findings.parquet")
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
