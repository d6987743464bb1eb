"""``gridaudit synth``: write a synthetic utility's exports and its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridaudit.cli_options import month_option, out_dir_option, repeat_option
from gridaudit.console import console, die, example, progress_bar
from gridaudit.i18n import msg

if TYPE_CHECKING:
    from gridaudit.synth.generate import SynthResult


def synth_command(
    out: Path = out_dir_option("Output folder / 输出目录", default=...),
    customers: int = typer.Option(20000, "--customers", "-n", help="Number of customers / 用户数"),
    months: int = typer.Option(12, "--months", "-m", help="Billing months / 月数"),
    start: str = month_option("--start", "First billing month YYYY-MM / 起始月份", default="2024-01"),
    seed: int = typer.Option(42, "--seed", help="Random seed (same seed → identical files) / 随机种子"),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv / 输出格式"),
    rates_file: Annotated[
        Path | None, typer.Option("--rates", help="YAML file of kind: rate / 异常注入比率文件")
    ] = None,
    rate: list[str] | None = repeat_option("--rate", "kind=value, repeatable / 单项比率"),
    chunk: int = typer.Option(20000, "--chunk-customers", help="Customers per generation chunk (memory bound)"),
) -> None:
    """Generate a synthetic power supply company with labelled irregularities (生成带标注异常的模拟供电企业数据).

    Writes every import-contract table (ready for `gridaudit ingest`) and truth.csv: one row per
    injected irregularity (kind, entity_type, entity_id, start, end, detail).
    """
    from gridaudit.synth.config import SynthConfig, load_rates
    from gridaudit.synth.generate import generate

    try:
        rates = load_rates(rates_file, rate)
        cfg = SynthConfig(
            customers=customers, months=months, start=start, seed=seed, fmt=fmt, chunk_customers=chunk, rates=rates
        )
        cfg.validate()
    except (ValueError, OSError) as exc:
        die(str(exc))
    with progress_bar() as bar:
        task = bar.add_task(msg("生成中（按馈线分块）", "generating (chunks of feeders)"), total=None)
        result = generate(cfg, out, lambda done, total: bar.update(task, completed=done, total=total))
    print_result(result)


def print_result(result: SynthResult) -> None:
    """Rows per table and truth rows per kind."""
    from rich.table import Table

    t = Table(title=msg("模拟数据", "synthetic data") + f" → {result.out}", show_edge=False)
    t.add_column(msg("表", "table"))
    t.add_column(msg("行数", "rows"), justify="right")
    for name, n in result.rows.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    k = Table(title=msg("注入异常（truth.csv）", "injected irregularities (truth.csv)"), show_edge=False)
    k.add_column(msg("类型", "kind"))
    k.add_column(msg("数量", "rows"), justify="right")
    for name, n in result.truth.items():
        k.add_row(name, f"{n:,}")
    console.print(k)
    console.print(msg(f"用时 {result.seconds:.1f} 秒", f"took {result.seconds:.1f} s"))


def register(app: typer.Typer) -> None:
    """Add ``gridaudit synth`` to the root command."""
    app.command(
        "synth",
        epilog=example(
            "gridaudit synth --customers 20000 --months 12 --start 2024-01 --seed 7 --out-dir synth/",
            "gridaudit synth -n 2000 -m 3 --out-dir small/ --format csv --rate theft_bypass=0.02",
        ),
    )(synth_command)
