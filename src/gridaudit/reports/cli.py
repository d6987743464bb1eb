"""``gridaudit report monthly``: the month's audit report as HTML, PDF and XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt
from gridaudit.cli_options import month_option, out_dir_option, split_list
from gridaudit.console import console, die, example
from gridaudit.i18n import LANGS, both, get_lang, msg

FORMATS = ("html", "pdf", "xlsx")

report_app = typer.Typer(help="Reports people read: the monthly audit report (月度稽查报告).", no_args_is_help=True)


def report_files(out_dir: Path, month: str, unit: str | None, lang: str, formats: list[str]) -> dict[str, Path]:
    """The file each format is written to: ``monthly-report-YYYY-MM[-UNIT][-en].EXT`` in ``out_dir``."""
    stem = f"monthly-report-{month}" + (f"-{unit}" if unit else "") + ("-en" if lang == "en" else "")
    return {f: out_dir / f"{stem}.{f}" for f in formats}


def write_report(rep: Any, out_dir: Path, lang: str, formats: list[str]) -> dict[str, Path]:
    """Render ``rep`` in every format into ``out_dir``; returns format → file written."""
    from gridaudit.dataset import replacing
    from gridaudit.reports.monthly.fmt import text
    from gridaudit.reports.monthly.html import render_html
    from gridaudit.reports.monthly.xlsx import render_xlsx
    from gridaudit.reports.pdf import html_to_pdf

    files = report_files(out_dir, rep.month, rep.unit_id, lang, formats)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "html" in files or "pdf" in files:
        page = render_html(rep, lang)
        if "html" in files:
            with replacing(files["html"]) as tmp:
                tmp.write_text(page, "utf-8")
        if "pdf" in files:
            footer = f"{rep.company} {text(rep.title, lang)}".strip()
            html_to_pdf(page, files["pdf"], lang=lang, footer=footer, title=footer)
    if "xlsx" in files:
        render_xlsx(rep, files["xlsx"], lang)
    return files


@report_app.command(
    "monthly",
    epilog=example(
        "gridaudit report monthly --month 2025-02 --dataset demo/dataset --store demo/audit --out-dir reports",
        "gridaudit report monthly --month 2025-02 --dataset ds --store cases.db --loss out/loss --unit U0101 "
        "--lang en --format pdf,xlsx --out-dir reports",
    ),
)
def monthly(
    month: str = month_option("--month", "Report month YYYY-MM (the month's plans and tasks) / 报告月份", ...),
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset folder (names, findings store) / 数据集"),
    store: str | None = StoreOpt,
    out: Path = out_dir_option("Folder the report files are written to / 输出目录", default=Path(".")),
    unit: str | None = typer.Option(None, "--unit", help="One unit and the units under it / 单位（含下级）"),
    lang: str | None = typer.Option(None, "--lang", help="Report language zh or en (default: --lang of gridaudit)"),
    formats: str = typer.Option("html,pdf,xlsx", "--format", "-f", help="Formats: html,pdf,xlsx / 格式"),
    loss: str | None = typer.Option(
        None,
        "--loss",
        help="Line-loss outputs (gridaudit loss --out-dir); default: the newest stored gridaudit loss run "
        "covering the months, else DATASET/../loss, else computed / 线损输出",
    ),
    user: str | None = UserOpt,
) -> None:
    """Write the month's audit report (summary, line loss, findings, plan and tasks, confirmed cases,
    assessment, hit rates and next month's proposals) as one HTML file, a PDF and a workbook."""
    from gridaudit.audit.cli_common import run
    from gridaudit.reports.fonts import FontNotFound
    from gridaudit.reports.monthly.build import build_from
    from gridaudit.reports.monthly.inputs import read_inputs
    from gridaudit.reports.pdf import PdfError

    lang = lang or get_lang()
    if lang not in LANGS:
        die(both(f"--lang 应为 zh 或 en，而不是 {lang!r}", f"--lang must be zh or en, not {lang!r}"))
    wanted = split_list(formats)
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        die(
            both(
                f"--format 可选 {','.join(FORMATS)}，而不是 {formats!r}",
                f"--format takes {','.join(FORMATS)}, not {formats!r}",
            )
        )

    def build(session: Any, _st: Any) -> Any:
        from gridaudit.audit.access import reader

        who = reader(session, user)
        return build_from(session, read_inputs(Path(dataset), month, unit, loss, who))

    rep = run(store, build, user=user, read=True)
    try:
        files = write_report(rep, out, lang, list(dict.fromkeys(wanted)))
    except (FontNotFound, PdfError) as exc:
        die(str(exc))
    for fmt, path in files.items():
        console.print(f"{fmt}: {path}", highlight=False)
    console.print(
        msg(f"{month} 月度稽查报告已生成（数据月份 {rep.data_month or '—'}）",
            f"monthly audit report {month} written (data month {rep.data_month or '—'})"),
        highlight=False,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``gridaudit report …`` to the root command."""
    app.add_typer(report_app, name="report")
