"""``gridaudit audit evidence TASK --out FILE.pdf|FILE.html``: the evidence pack of one task (证据包)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, run
from gridaudit.cli_options import out_file_option
from gridaudit.console import console, die, example, use_lang
from gridaudit.i18n import both, get_lang, msg


@audit_app.command(
    "evidence",
    epilog=example(
        "gridaudit audit evidence 12 --out task-12.pdf --dataset ds --user li",
        "gridaudit audit evidence 12 --out task-12.html --dataset ds --lang en --user li",
    ),
)
def evidence_command(
    task_id: int = typer.Argument(..., help="Task id / 任务编号"),
    out: Path = out_file_option("The pack to write: .pdf or .html / 输出文件（.pdf 或 .html）", default=...),
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset: readings, bills, daily use, loss and risk runs / 数据集")
    ] = None,
    lang: str = typer.Option(None, "--lang", help="zh or en / 证据包语言"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """The evidence pack of one task: finding, rule and its parameters, the data, timeline, penalty (证据包)."""
    from gridaudit.audit import trail
    from gridaudit.charts import CjkFontError
    from gridaudit.dataset import is_dataset
    from gridaudit.reports.evidence import build_evidence
    from gridaudit.reports.evidence_render import FORMATS, render, write_file
    from gridaudit.reports.fonts import FontNotFound
    from gridaudit.reports.pdf import PdfError

    if lang:
        use_lang(lang)
    if out.suffix.lower() not in FORMATS:
        die(both(f"--out 须为 .pdf 或 .html 文件：{out}", f"--out must name a .pdf or .html file, not {out}"))
    if dataset is not None and not is_dataset(dataset):
        die(both(f"{dataset} 不是 gridaudit 数据集", f"{dataset} is not a gridaudit dataset"))

    def go(s: object, _st: object) -> bytes:
        pack = build_evidence(s, task_id, user, dataset)
        try:
            data = render(pack, out.suffix, get_lang())
        except (PdfError, FontNotFound, CjkFontError) as exc:  # zh / en messages; nothing logged or written
            die(str(exc))
        if user:  # who produced which pack, in the task's trail
            trail.append(s, user, "evidence", "task", task_id, {"out": out.name, "dataset": str(dataset or "")})
        return data

    write_file(run(store, go, user=user, read=True), out)
    console.print(msg(f"已写出任务 {task_id} 的证据包 {out}", f"wrote the evidence pack of task {task_id} to {out}"))
