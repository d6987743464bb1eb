"""The report step of ``gridaudit demo``: the monthly report of the demo's last month (the month of its
plan) in ``out_dir/report/`` as HTML, PDF and XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gridaudit.console import console
from gridaudit.i18n import get_lang, msg


def run_demo(dataset: Any, out_dir: str | Path) -> None:
    """Write the report of the latest plan month of ``out_dir/audit`` into ``out_dir/report``."""
    from sqlalchemy import select

    from gridaudit.audit.models import Plan
    from gridaudit.audit.store import open_store
    from gridaudit.dataset import Dataset
    from gridaudit.reports.cli import write_report
    from gridaudit.reports.fonts import FontNotFound
    from gridaudit.reports.monthly.build import build_report

    out_dir = Path(out_dir)
    root = dataset.root if isinstance(dataset, Dataset) else Path(str(dataset))
    if not (out_dir / "audit" / "cases.db").is_file():
        console.print(msg("  月度报告：没有案件库，跳过", "  monthly report: no case store, skipped"))
        return
    store = open_store(out_dir / "audit")
    try:
        with store.transaction() as s:
            month = s.execute(select(Plan.month).order_by(Plan.month.desc())).scalars().first()
            if month is None:
                console.print(msg("  月度报告：没有稽查计划，跳过", "  monthly report: no plan, skipped"))
                return
            rep = build_report(root, s, month)  # line loss: the loss step's stored run
    finally:
        store.dispose()
    formats = ["html", "pdf", "xlsx"]
    try:
        files = write_report(rep, out_dir / "report", get_lang(), formats)
    except FontNotFound as exc:  # no CJK font: the HTML and the workbook still help
        console.print(f"  [yellow]{exc}[/]", highlight=False)
        files = write_report(rep, out_dir / "report", get_lang(), ["html", "xlsx"])
    console.print(
        msg(f"  {month} 月度稽查报告 → {', '.join(str(p) for p in files.values())}",
            f"  {month} monthly audit report → {', '.join(str(p) for p in files.values())}"),
        highlight=False,
    )  # fmt: skip
