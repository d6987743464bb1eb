"""``gridaudit demo``: synthetic utility → ingest → every analyzer that exists → a short summary.

Parts plug in through ``gridaudit.<part>.demo.run_demo(dataset, out_dir)`` (rules, lineloss, risk,
audit, in that order); a part that is not built yet is skipped and said so.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import time
from pathlib import Path

import typer

from gridaudit.cli_options import out_dir_option
from gridaudit.console import console, die, example, progress_bar
from gridaudit.i18n import both, msg

DEMO_PARTS = ("rules", "lineloss", "risk", "audit")
SOURCE_DIR = "source"
DATASET_DIR = "dataset"
DEFAULT_OUT = Path("gridaudit-demo")
MARKER = ".gridaudit-demo"


def _part_demo(part: str):  # noqa: ANN202 - a module or None
    name = f"gridaudit.{part}.demo"
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        found = False
    return importlib.import_module(name) if found else None


def run(
    customers: int = 20000, months: int = 12, out: Path = Path("gridaudit-demo"), seed: int = 42, start: str = "2024-01"
) -> dict[str, float]:
    """Run the whole demo into ``out``; returns seconds per step. Raises on a failing step."""
    from rich.table import Table

    from gridaudit.ingest import ingest
    from gridaudit.synth.config import SynthConfig
    from gridaudit.synth.generate import generate, source_files

    out = Path(out)
    src, ds = out / SOURCE_DIR, out / DATASET_DIR
    # a previous demo run in this folder is replaced; a folder the demo did not write is left alone
    if (out / MARKER).is_file():
        shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()):
        raise ValueError(
            both(
                f"{out} 已存在且不是演示目录，请换一个 --out-dir",
                f"{out} exists and is not a demo folder; choose another --out-dir",
            )
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by gridaudit demo; removed and rewritten by the next demo run\n", "utf-8")
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    cfg = SynthConfig(customers=customers, months=months, start=start, seed=seed, fmt="parquet")
    with progress_bar() as bar:
        task = bar.add_task(msg("1/3 生成模拟数据", "1/3 generating synthetic data"), total=None)
        synth = generate(cfg, src, lambda d, n: bar.update(task, completed=d, total=n))
    times["synth"] = time.perf_counter() - t0
    console.print(
        msg(
            f"[bold]模拟数据[/] {customers:,} 户 × {months} 月 → {src}（{times['synth']:.1f} 秒）",
            f"[bold]synthetic data[/] {customers:,} customers × {months} months → {src} ({times['synth']:.1f} s)",
        )
    )
    t1 = time.perf_counter()
    files = source_files(src)
    with progress_bar() as bar:
        task = bar.add_task(msg("2/3 导入并校验", "2/3 ingesting and validating"), total=len(files))

        def step(event: str, info: dict) -> None:
            if event == "read":
                bar.update(task, advance=1, description=msg("2/3 导入并校验 ", "2/3 ingesting ") + str(info["source"]))

        result = ingest(files, ds, on_event=step)
    times["ingest"] = time.perf_counter() - t1
    if result.exit_code == 2 or result.dataset is None:
        raise RuntimeError("; ".join(result.errors) or "ingest wrote nothing")
    t = Table(
        title=msg(f"数据集 {ds}（{times['ingest']:.1f} 秒）", f"dataset {ds} ({times['ingest']:.1f} s)"),
        show_edge=False,
    )
    t.add_column(msg("表", "table"))
    t.add_column(msg("行数", "rows"), justify="right")
    t.add_column(msg("拒收", "rejected"), justify="right")
    for name in sorted(result.rows):
        t.add_row(name, f"{result.rows[name]:,}", f"{result.rejected.get(name, 0):,}")
    console.print(t)
    console.print(
        msg(
            f"注入异常 {sum(synth.truth.values()):,} 条（{len(synth.truth)} 类），见 {src / 'truth.csv'}",
            f"{sum(synth.truth.values()):,} injected irregularities ({len(synth.truth)} kinds) in {src / 'truth.csv'}",
        )
    )
    console.print(msg("3/3 分析", "3/3 analyzers"))
    for part in DEMO_PARTS:
        mod = _part_demo(part)
        if mod is None:
            console.print(msg(f"  {part}: 尚未提供，跳过", f"  {part}: not available, skipped"))
            continue
        tp = time.perf_counter()
        console.rule(part)
        mod.run_demo(result.dataset, out)
        times[part] = time.perf_counter() - tp
    times["total"] = time.perf_counter() - t0
    steps = " · ".join(f"{k} {v:.1f}s" for k, v in times.items() if k != "total")
    console.print(
        msg(
            f"完成，用时 {times['total']:.1f} 秒（{steps}）；输出在 {out}",
            f"done in {times['total']:.1f} s ({steps}); outputs in {out}",
        )
    )
    if (out / "audit" / "cases.db").is_file():
        print_serve_hint(out)
    return times


def serve_args(out: Path) -> list[str]:
    """The ``gridaudit serve`` arguments that open the demo's utility in the web app."""
    return ["--dataset", str(out / DATASET_DIR), "--store", str(out / "audit")]


def print_serve_hint(out: Path) -> None:
    """Print the command that opens the demo in the web app, with a demo login per role."""
    from gridaudit.audit.demo import DEMO_LOGINS, demo_password
    from gridaudit.audit.workflow import ROLES

    console.print(msg("在浏览器中打开（稽查 Web 应用）：", "open it in the browser (web app):"))
    console.print("  gridaudit serve " + " ".join(serve_args(out)), highlight=False, soft_wrap=True)
    console.print("  → http://127.0.0.1:8000/", highlight=False)
    for uid, role in DEMO_LOGINS:
        label = msg(ROLES[role][0], ROLES[role][1])
        console.print(f"  {label:<12} {uid} / {demo_password(uid)}", highlight=False)


def demo_command(
    customers: int = typer.Option(20000, "--customers", "-n", help="Number of customers / 用户数"),
    months: int = typer.Option(12, "--months", "-m", help="Billing months / 月数"),
    out: Path = out_dir_option("Output folder / 输出目录", default=DEFAULT_OUT),
    seed: int = typer.Option(42, "--seed", help="Random seed / 随机种子"),
    serve: bool = typer.Option(False, "--serve", help="Then start the web app on it / 然后启动 Web 应用"),
) -> None:
    """Run the whole job on a synthetic county utility (一键演示：模拟数据 → 导入 → 稽查分析).

    Writes the synthetic exports to OUT/source, the dataset to OUT/dataset and each analyzer's outputs to OUT.
    """
    try:
        run(customers=customers, months=months, out=out, seed=seed)
    except ValueError as exc:
        die(str(exc))
    if serve:
        from gridaudit.web.cli import serve_command

        serve_command(
            dataset=out / DATASET_DIR,
            store=str(out / "audit"),
            host="127.0.0.1",
            port=8000,
            idle_minutes=30,
            secure_cookies=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``gridaudit demo`` to the root command."""
    app.command(
        "demo",
        epilog=example(
            "gridaudit demo", "gridaudit demo --serve", "gridaudit demo --customers 5000 --months 6 --out-dir /tmp/demo"
        ),
    )(demo_command)
