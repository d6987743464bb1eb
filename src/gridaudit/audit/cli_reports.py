"""``gridaudit audit verify-log | assess | export | export-inspections | penalty``."""

from __future__ import annotations

import typer

from gridaudit.audit.cli import StoreOpt, audit_app, run
from gridaudit.console import EXIT_REJECTED, console, err_console, example
from gridaudit.i18n import msg


@audit_app.command("verify-log", epilog=example("gridaudit audit verify-log --store cases.db"))
def verify_log(store: str = StoreOpt) -> None:
    """Re-check the audit trail's hash chain; exit 1 naming every edited, reordered or deleted event."""
    from gridaudit.audit.trail import verify_log as check

    n, problems = run(store, lambda s, _st: check(s))
    if not problems:
        console.print(msg(f"稽查日志完好：{n} 个事件，哈希链一致", f"audit trail intact: {n} events, hash chain holds"))
        return
    for p in problems:
        where = f"event_id {p.event_id} seq {p.seq}" if p.event_id is not None else f"head seq {p.seq}"
        err_console.print(f"[bold red]{where}[/]: {msg(p.problem_zh, p.problem_en)}", highlight=False)
    err_console.print(
        msg(
            f"稽查日志被篡改：发现 {len(problems)} 处问题（共 {n} 个事件）",
            f"audit trail TAMPERED: {len(problems)} problems in {n} events",
        )
    )
    raise typer.Exit(EXIT_REJECTED)
