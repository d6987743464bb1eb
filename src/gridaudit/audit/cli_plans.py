"""``gridaudit audit plan show`` and ``gridaudit audit hit-rates``: what a plan holds, and what past tasks found."""

from __future__ import annotations

import json
from typing import Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, plan_app, run
from gridaudit.console import console, example
from gridaudit.i18n import msg

LEVELS = ("rule", "family", "inspector")


def print_quotas(quotas: list[dict], now: bool = False) -> None:
    """A table of quotas: asked, available and filled (and, for ``now``, filled by tasks not cancelled)."""
    if not quotas:
        return
    from rich.table import Table

    t = Table(title=msg("配额完成情况", "quotas"), show_edge=False)
    t.add_column(msg("配额", "quota"), no_wrap=True)
    for zh, en in [("要求", "asked"), ("可选", "available"), ("已纳入", "filled")] + ([("现有", "now")] if now else []):
        t.add_column(msg(zh, en), justify="right")
    t.add_column(msg("达成", "met"))
    for q in quotas:
        met = q["filled"] >= (q["available"] if q["asked"] == "all" else q["asked"])
        row = [q["spec"], str(q["asked"]), str(q["available"]), str(q["filled"])] + ([str(q["now"])] if now else [])
        t.add_row(*row, msg("是", "yes") if met else msg("[yellow]部分[/]", "[yellow]partly[/]"))
    console.print(t)


@plan_app.command("show", epilog=example("gridaudit audit plan show 1", "gridaudit audit plan show 1 --json"))
def plan_show(
    plan_id: int = typer.Argument(..., help="Plan id / 计划编号"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """A plan you see (unit scope, as in the web app): month, kind, scope, quotas asked and filled, tasks by
    state and by family."""
    from rich.table import Table

    from gridaudit.audit.access import reader
    from gridaudit.audit.plan_view import visible_plan_summary

    summary = run(store, lambda s, _st: visible_plan_summary(s, reader(s, user), plan_id), user=user, read=True)
    if as_json:
        console.print_json(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    sc = summary.scope
    console.print(
        msg(
            f"[bold]计划 {summary.plan_id}[/] {summary.title}（{summary.month}，{summary.kind}），"
            f"{summary.created_by} 制定于 {summary.created_at[:19]}；任务 {summary.tasks} 个",
            f"[bold]plan {summary.plan_id}[/] {summary.title} ({summary.month}, {summary.kind}), "
            f"by {summary.created_by} at {summary.created_at[:19]}; {summary.tasks} tasks",
        ),
        highlight=False,
    )
    scope = {k: v for k, v in sc.items() if k != "quotas" and v not in (None, [], "")}
    console.print(msg("范围: ", "scope: ") + ", ".join(f"{k}={v}" for k, v in scope.items()), highlight=False)
    print_quotas(summary.quotas, now=True)
    for title, counts in (
        (msg("按状态", "by state"), summary.by_state),
        (msg("按类别", "by family"), summary.by_family),
    ):
        t = Table(title=title, show_edge=False)
        t.add_column("")
        t.add_column(msg("任务", "tasks"), justify="right")
        for k, n in counts.items():
            t.add_row(k, str(n))
        console.print(t)


@audit_app.command(
    "hit-rates",
    epilog=example("gridaudit audit hit-rates", "gridaudit audit hit-rates --level family --json"),
)
def hit_rates_cmd(
    level: str = typer.Option(None, "--level", help="Only rule, family or inspector"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Hit rates (查实率) learned from closed tasks, with their counts and the prior (docs/audit.md, "Priority")."""
    from rich.table import Table

    from gridaudit.audit.hitrates import hit_rates
    from gridaudit.console import die
    from gridaudit.i18n import both

    if level is not None and level not in LEVELS:
        die(both(f"--level 应为 {', '.join(LEVELS)}", f"--level must be one of {', '.join(LEVELS)}, not {level!r}"))
    rates = run(store, lambda s, _st: hit_rates(s), user=user, read=True)
    rows: list[dict[str, Any]] = [
        dict(level="all", key="", hits=rates.overall.hits, n=rates.overall.n, rate=rates.overall.rate)
    ]
    for lv, table in (("rule", rates.rules), ("family", rates.families), ("inspector", rates.inspectors)):
        rows += [dict(level=lv, key=k, hits=r.hits, n=r.n, rate=r.rate) for k, r in sorted(table.items())]
    if level:
        rows = [r for r in rows if r["level"] in (level, "all")]
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    t = Table(title=msg("查实率（含先验）", "hit rates (prior included)"), show_edge=False)
    for zh, en in (
        ("层级", "level"),
        ("对象", "key"),
        ("查实", "confirmed"),
        ("已关闭", "closed n"),
        ("查实率", "rate"),
    ):
        t.add_column(msg(zh, en))
    for r in rows:
        t.add_row(r["level"], r["key"], str(r["hits"]), str(r["n"]), f"{r['rate']:.3f}")
    console.print(t)
    if rates.overall.n == 0:
        console.print(
            msg(
                f"尚无已关闭任务：所有规则按先验 {rates.settings.prior_mean} 计",
                f"no closed tasks yet: every rule is at the prior {rates.settings.prior_mean}",
            )
        )
