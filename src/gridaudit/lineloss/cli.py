"""``gridaudit loss``: four-axis line-loss balance, billing-cycle gap, customers behind the loss, trends."""

from __future__ import annotations

from datetime import date

import typer

from gridaudit.cli_options import (
    date_option,
    engine_option,
    engine_settings,
    memory_limit_option,
    month_option,
    open_engine_or_exit,
    out_dir_option,
    pg_option,
    spark_conf_option,
    spark_data_option,
    spark_master_option,
    threads_option,
)
from gridaudit.console import console, die, example
from gridaudit.i18n import both, msg

LEVELS_HELP = "area | feeder | voltage | unit"


def loss(
    dataset: str = typer.Option(..., "--dataset", "-d", help="Dataset folder (gridaudit ingest) / 数据集目录"),
    out: str | None = out_dir_option("Also write every output table as Parquet into this folder / 输出目录"),
    date_from: date | None = date_option("--from", "First day YYYY-MM-DD (default: first day of data)"),
    date_to: date | None = date_option("--to", "Last day YYYY-MM-DD (default: last day of data)"),
    period: str | None = month_option("--period", "One month YYYY-MM (instead of --from/--to)"),
    level: str = typer.Option("area", "--level", help=f"Level shown on screen: {LEVELS_HELP} / 显示层级"),
    settings_file: str = typer.Option(None, "--settings", help="Bands and parameters, YAML or TOML / 设置文件"),
    top: int = typer.Option(10, "--top", help="How many worst entities to show / 显示最差前 N 个"),
    engine: str = engine_option(),
    pg: str | None = pg_option(),
    spark_master: str = spark_master_option(),
    spark_data: str | None = spark_data_option(),
    spark_conf: list[str] | None = spark_conf_option(),
    memory_limit: str = memory_limit_option(),
    threads: int | None = threads_option(),
) -> None:
    """Line loss by area, feeder, voltage level and unit (线损四分), per day and month, with the customers behind it.

    The run is appended to the dataset's findings store (DATASET/findings/, see `gridaudit findings runs`):
    its findings (family loss) and its tables balance_daily/monthly/window, billing_cycle,
    technical_monthly/window, suspects, mapping and trends, which the web app and the monthly report read
    instead of computing line loss again; --out-dir also writes those tables and the findings into a folder.
    --engine postgres (with --pg URL: the dataset is loaded into a schema) or spark (local, or --spark-master
    URL) runs the same SQL there (docs/engines.md).
    """
    from gridaudit.dataset import DatasetError
    from gridaudit.findings import FindingsStoreError
    from gridaudit.findings.store import now_utc, read_run
    from gridaudit.lineloss.inputs import LossInputError
    from gridaudit.lineloss.run import append_to_store, run_loss, write_outputs
    from gridaudit.lineloss.settings import LEVELS, SettingsError, load_settings
    from gridaudit.lineloss.summary import print_summary

    if level not in LEVELS:
        die(both(f"--level 应为 {LEVELS_HELP}: {level!r}", f"--level must be {LEVELS_HELP}: {level!r}"))
    engine_conf = engine_settings(engine, pg, spark_master, memory_limit, threads, spark_data, spark_conf)
    started = now_utc()
    eng = None
    try:
        settings = load_settings(settings_file)
        eng = open_engine_or_exit(dataset, engine_conf)
        with console.status(msg("计算线损…", "Balancing line loss…")):
            result = run_loss(dataset, start=date_from, end=date_to, period=period, settings=settings, engine=eng)
        run = append_to_store(result, settings, started, settings_file)
        result.findings = read_run(run)  # the --out-dir copy: priced, with the store's run id
    except (SettingsError, LossInputError, DatasetError, FindingsStoreError) as exc:
        die(str(exc))
    finally:
        if eng is not None:
            eng.close()
    written = write_outputs(result, out) if out else []
    print_summary(result, console, level=level, top=top)
    console.print(
        msg(
            f"{result.findings.num_rows} 条问题写入问题库运行 {run.run_id}",
            f"{result.findings.num_rows} findings written to store run {run.run_id}",
        )
    )
    if out:
        console.print(msg(f"已写出 {len(written)} 个文件到 {out}", f"Wrote {len(written)} files to {out}"))


def register(app: typer.Typer) -> None:
    """Add ``gridaudit loss`` to the CLI."""
    app.command(
        "loss",
        epilog=example(
            "gridaudit loss --dataset ds --period 2025-06",
            "gridaudit loss --dataset ds --period 2025-06 --out-dir out/loss",
            "gridaudit loss --dataset ds --period 2025-06 --engine postgres --pg postgresql://postgres@127.0.0.1/test",
            "gridaudit loss --dataset ds --from 2025-01-01 --to 2025-12-31 --level feeder --settings loss.yaml "
            "--out-dir out/loss",
        ),
    )(loss)
