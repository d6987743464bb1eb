"""The line-loss step of ``gridaudit demo``: balance all data, write ``out_dir/loss/``, show the worst areas."""

from __future__ import annotations

from pathlib import Path

from gridaudit.console import console
from gridaudit.dataset import Dataset
from gridaudit.findings.store import now_utc, read_run
from gridaudit.i18n import msg
from gridaudit.lineloss.run import append_to_store, run_loss, write_outputs
from gridaudit.lineloss.settings import LossSettings
from gridaudit.lineloss.summary import print_summary


def run_demo(dataset: Dataset | str | Path, out_dir: str | Path) -> None:
    """Run line loss over all the data, append its findings to the dataset's findings store, write its tables
    (and a copy of the findings) into ``out_dir/loss/``, print a summary."""
    started = now_utc()
    settings = LossSettings()
    result = run_loss(dataset, settings=settings)
    run = append_to_store(result, settings, started)
    result.findings = read_run(run)  # the copy in out_dir: priced, with the store's run id
    write_outputs(result, Path(out_dir) / "loss")
    print_summary(result, console, level="area", top=10)
    console.print(
        msg(
            f"线损问题 {run.rows:,} 条 → 问题库运行 {run.run_id}",
            f"{run.rows:,} loss findings → store run {run.run_id}",
        )
    )
