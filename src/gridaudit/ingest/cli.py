"""``gridaudit ingest`` and ``gridaudit dataset info``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from gridaudit.console import console, die, err_console, example, use_lang
from gridaudit.i18n import both, msg


def ingest_command(
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="Dataset folder (created if missing) / 数据集目录")],
    sources: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders: CSV (UTF-8/GBK), XLSX, Parquet / 文件或文件夹")
    ] = None,
    strict: bool = typer.Option(False, "--strict", help="Write nothing if any row fails / 有任何错误则不写入"),
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="YAML mapping of your names onto the contract / 映射文件")
    ] = None,
    from_sql: str = typer.Option(None, "--from-sql", help="postgresql://… replica to read contract tables from"),
    lang: str = typer.Option(None, "--lang", help="zh or en / 提示语言"),
    memory_limit: str = typer.Option("2GB", "--memory-limit", help="DuckDB memory limit while ingesting"),
    period_tolerance: int = typer.Option(
        1,
        "--period-tolerance",
        min=0,
        help="Months a read date may lie outside its period's month (0 = same month) / 抄表日期可偏离账期的月数",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines"),
) -> None:
    """Validate utility exports and add them to a versioned dataset (导入并校验数据).

    Exit status: 0 clean (warnings keep their rows); 1 some rows were rejected (see failure_cases); 2 unusable
    input, nothing written.
    """
    from gridaudit.ingest.pipeline import IngestSettings, ingest
    from gridaudit.ingest.report import print_summary

    if lang:
        use_lang(lang)
    if not sources and not from_sql:
        die(msg("请给出至少一个来源文件/文件夹, 或 --from-sql", "give at least one source file/folder, or --from-sql"))
    try:
        result = ingest(
            list(sources or []),
            dataset,
            strict=strict,
            mapping=mapping,
            from_sql=from_sql,
            show_progress=not quiet,
            settings=IngestSettings(memory_limit=memory_limit, period_tolerance_months=period_tolerance),
        )
    except Exception as exc:  # noqa: BLE001 - an unforeseen failure: say so plainly; the dataset is untouched
        die(
            both(
                f"导入意外失败, 数据集未改动: {type(exc).__name__}: {exc}",
                f"ingest failed unexpectedly; the dataset was not touched: {type(exc).__name__}: {exc}",
            )
        )
    if result.errors:
        for e in result.errors:
            err_console.print(f"[bold red]error[/]: {e}", highlight=False)
        err_console.print(
            msg(
                "数据集未改动 (无法使用的输入不会写入任何内容)",
                "the dataset was not touched (unusable input writes nothing)",
            )
        )
        raise typer.Exit(2)
    print_summary(result)
    if strict and result.exit_code == 1:
        console.print(
            msg("--strict: 有校验失败, 未写入新版本", "--strict: rows failed, no version written"), style="red"
        )
    raise typer.Exit(result.exit_code)


def info_command(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder / 数据集目录")],
    lang: str = typer.Option(None, "--lang", help="zh or en / 提示语言"),
) -> None:
    """Show a dataset's tables, row counts, periods covered and versions (数据集概况)."""
    from gridaudit.dataset import DatasetError
    from gridaudit.ingest.info import dataset_info

    if lang:
        use_lang(lang)
    try:
        info = dataset_info(dataset)
    except DatasetError as exc:
        die(str(exc))
    t = RichTable(
        title=msg(f"{dataset} 当前版本 {info['version']}", f"{dataset} at version {info['version']}"),
        title_justify="left",
    )
    for col in (
        msg("表", "table"),
        msg("行数", "rows"),
        msg("期间列", "period column"),
        msg("起", "from"),
        msg("止", "to"),
    ):
        t.add_column(col)
    for r in info["tables"]:
        t.add_row(r["table"], f"{r['rows']:,}", r["column"] or "", r["from"] or "", r["to"] or "")
    console.print(t)
    v = RichTable(title=msg("版本", "Versions"), title_justify="left")
    for col in (
        msg("版本", "version"),
        msg("时间", "created"),
        msg("来源数", "sources"),
        msg("拒绝行", "rejected"),
        "",
    ):
        v.add_column(col)
    for r in info["versions"]:
        v.add_row(
            r["version"], r["created_at"] or "", str(r["sources"]), f"{r['rejected']:,}", "◀" if r["current"] else ""
        )
    console.print(v)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit ingest`` and ``gridaudit dataset info`` to the CLI."""
    app.command(
        "ingest",
        epilog=example(
            "gridaudit ingest exports/ --dataset ds",
            "gridaudit ingest 抄表示数.csv 用户档案.xlsx --dataset ds --strict",
            "gridaudit ingest --from-sql postgresql://audit@replica/marketing --mapping mapping.yaml --dataset ds",
        ),
    )(ingest_command)
    ds_app = typer.Typer(
        help="Dataset folders: inspect versions and contents / 数据集",
        no_args_is_help=True,
        epilog=example("gridaudit dataset info ds"),
    )
    ds_app.command("info", epilog=example("gridaudit dataset info ds"))(info_command)
    app.add_typer(ds_app, name="dataset")
