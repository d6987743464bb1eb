"""``gridaudit serve``: the web app on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit.cli_common import StoreOpt
from gridaudit.cli_options import engine_option, engine_settings, memory_limit_option, pg_option, threads_option
from gridaudit.console import console, die, example
from gridaudit.i18n import get_lang, msg
from gridaudit.sqlconsole import DEFAULT_CONSOLE


def serve_command(
    dataset: Annotated[
        Path | None, typer.Option("--dataset", "-d", help="Dataset folder the pages read / 数据集目录")
    ] = None,
    store: str = StoreOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on / 监听地址"),
    port: int = typer.Option(8000, "--port", help="Port / 端口"),
    idle_minutes: int = typer.Option(30, "--idle-minutes", help="Idle sessions end after this many minutes"),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Session cookie over HTTPS only (behind a TLS reverse proxy) / 仅 HTTPS"
    ),
    rewards: Annotated[
        Path | None, typer.Option("--rewards", help="Tip reward setting file (docs/tips.md) / 举报奖励标准文件")
    ] = None,
    sql_timeout: Annotated[
        float,
        typer.Option(
            "--sql-timeout", help="SQL console: seconds a query may run before it is stopped / SQL 控制台查询时限（秒）"
        ),
    ] = DEFAULT_CONSOLE.time_limit_seconds,
    sql_rows: Annotated[
        int, typer.Option("--sql-rows", help="SQL console: most rows a query returns / SQL 控制台最多返回行数")
    ] = DEFAULT_CONSOLE.row_cap,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            help="uvicorn worker processes (sessions live in the store, so any worker serves any user) / 工作进程数",
        ),
    ] = 1,
    engine: str = engine_option(),
    pg: str | None = pg_option(),
    memory_limit: str | None = memory_limit_option(None),
    threads: int | None = threads_option(),
) -> None:
    """Run the web app (稽查 Web 应用): tasks, plans and the audit loop in the browser, and the REST API.

    The pages read the dataset on DuckDB (default) or, with --engine postgres --pg URL, on PostgreSQL: each
    dataset version is loaded into a schema of its own when the server starts or the version changes
    (docs/web.md). The SQL console always runs on DuckDB, locked down."""
    from dataclasses import replace

    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.store import DEFAULT_STORE
    from gridaudit.dataset import CURRENT, is_dataset
    from gridaudit.web.app import WebSettings, create_app

    if dataset is not None and not is_dataset(dataset):
        die(
            msg(
                f"{dataset} 不是数据集（缺少 {CURRENT}，请先运行 gridaudit ingest）",
                f"{dataset} is not a dataset (no {CURRENT}; run gridaudit ingest first)",
            )
        )
    if rewards is not None and not rewards.is_file():
        die(msg(f"--rewards 文件不存在：{rewards}", f"--rewards file not found: {rewards}"))
    if not 0 < port < 65536:
        die(msg(f"端口 {port} 无效", f"invalid port {port}"))
    if not 0 < sql_timeout <= 3600:
        die(msg(f"--sql-timeout 应在 0–3600 秒之间：{sql_timeout}", f"--sql-timeout must be 0–3600 s: {sql_timeout}"))
    if not 0 < sql_rows <= 1_000_000:
        die(msg(f"--sql-rows 应在 1–1000000 之间：{sql_rows}", f"--sql-rows must be 1–1,000,000: {sql_rows}"))
    if not 1 <= workers <= 64:
        die(msg(f"--workers 应在 1–64 之间：{workers}", f"--workers must be 1–64: {workers}"))
    engine_conf = _engine_conf(engine, pg, memory_limit, threads, workers)
    try:
        settings = WebSettings(
            store=store or DEFAULT_STORE,
            dataset=dataset,
            idle_minutes=idle_minutes,
            secure_cookies=secure_cookies,
            lang=get_lang(),
            rewards=rewards,
            console=replace(DEFAULT_CONSOLE, time_limit_seconds=sql_timeout, row_cap=sql_rows),
            engine=engine_conf,
        )
        app = create_app(settings)
    except AuditError as exc:
        die(exc.text())
    except ValueError as exc:
        die(str(exc))
    if engine_conf.kind != "duckdb" and app.state.engines is not None:
        _warm(app, engine_conf.kind)
    import uvicorn

    console.print(msg(f"稽查 Web 应用：http://{host}:{port}/", f"web app: http://{host}:{port}/"), highlight=False)
    if workers == 1:
        uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1")
        return
    # each worker process builds its own app from the settings (checked above by building this one)
    import os

    from gridaudit.web.app import shutdown
    from gridaudit.web.settings import settings_to_json
    from gridaudit.web.workers import SETTINGS_ENV

    shutdown(app)
    app.state.store.dispose()
    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    uvicorn.run(
        "gridaudit.web.workers:app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )


def _engine_conf(engine: str, pg: str | None, memory_limit: str | None, threads: int | None, workers: int) -> Any:
    """The pages' :class:`~gridaudit.engines.EngineSettings` (exit 2 for what the web cannot serve from)."""
    if engine == "spark":
        die(
            msg(
                "Web 应用不支持 --engine spark（Spark 的临时视图由所有请求共享）：请用 duckdb 或 postgres",
                "the web app does not serve from --engine spark (Spark's temp views are shared by every request, "
                "so concurrent pages would overwrite each other's stages): use duckdb or postgres",
            )
        )
    if engine == "postgres" and workers > 1:
        die(
            msg(
                "--engine postgres 只支持 --workers 1（每个工作进程都会把数据集载入同一 schema）",
                "--engine postgres serves with --workers 1 only (each worker would load the dataset into the same "
                "schema)",
            )
        )
    return engine_settings(engine, pg, memory_limit=memory_limit, threads=threads)


def _warm(app: Any, kind: str) -> None:
    """Open the current version's engine before serving: an unreachable server or a failed load exits 2."""
    from gridaudit.web.app import shutdown

    try:
        app.state.engines.warm()
    except Exception as exc:  # noqa: BLE001 - a server or loading failure is reported, not a traceback
        shutdown(app)
        app.state.store.dispose()
        die(msg(f"无法启动引擎 {kind}：{exc}", f"cannot start engine {kind}: {exc}"))


def register(app: typer.Typer) -> None:
    """Add ``gridaudit serve`` to the root command."""
    app.command(
        "serve",
        epilog=example(
            "gridaudit serve --dataset gridaudit-demo/dataset --store gridaudit-demo/audit",
            "gridaudit serve --dataset ds --store postgresql://audit@db.example/cases --host 0.0.0.0 --port 8000 "
            "--secure-cookies",
            "gridaudit serve --dataset ds --store cases.db --sql-timeout 30 --sql-rows 50000",
            "gridaudit serve --dataset ds --store postgresql://audit@db.example/cases --workers 4",
            "gridaudit serve --dataset ds --store cases.db --engine postgres --pg postgresql://gridaudit@db.example/audit",
        ),
    )(serve_command)
