"""``gridaudit serve``: the web app on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridaudit.audit.cli_common import StoreOpt
from gridaudit.console import console, die, example
from gridaudit.i18n import get_lang, msg


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
) -> None:
    """Run the web app (稽查 Web 应用): tasks, plans and the audit loop in the browser, and the REST API."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.store import DEFAULT_STORE
    from gridaudit.web.app import WebSettings, create_app

    if dataset is not None and not (dataset / "manifest.json").is_file():
        die(msg(f"{dataset} 不是数据集（缺少 manifest.json）", f"{dataset} is not a dataset (no manifest.json)"))
    if rewards is not None and not rewards.is_file():
        die(msg(f"--rewards 文件不存在：{rewards}", f"--rewards file not found: {rewards}"))
    if not 0 < port < 65536:
        die(msg(f"端口 {port} 无效", f"invalid port {port}"))
    try:
        settings = WebSettings(
            store=store or DEFAULT_STORE,
            dataset=dataset,
            idle_minutes=idle_minutes,
            secure_cookies=secure_cookies,
            lang=get_lang(),
            rewards=rewards,
        )
        app = create_app(settings)
    except AuditError as exc:
        die(exc.text())
    except ValueError as exc:
        die(str(exc))
    import uvicorn

    console.print(msg(f"稽查 Web 应用：http://{host}:{port}/", f"web app: http://{host}:{port}/"), highlight=False)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, forwarded_allow_ips="127.0.0.1")


def register(app: typer.Typer) -> None:
    """Add ``gridaudit serve`` to the root command."""
    app.command(
        "serve",
        epilog=example(
            "gridaudit serve --dataset gridaudit-demo/dataset --store gridaudit-demo/audit",
            "gridaudit serve --dataset ds --store postgresql://audit@db.example/cases --host 0.0.0.0 --port 8000 "
            "--secure-cookies",
        ),
    )(serve_command)
