"""``gridaudit audit tasks …`` and ``gridaudit audit escalate``: moving tasks through the workflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, parse_day, run, tasks_app
from gridaudit.cli_options import date_option, month_option, repeat_option
from gridaudit.console import console, example
from gridaudit.i18n import msg
from gridaudit.workdays import deadline_text

TaskArg = typer.Argument(..., help="Task id / 任务编号")
TodayOpt = date_option("--today", "Date to act as of (YYYY-MM-DD; default today) / 业务日期")


def _done(task: Any, zh: str, en: str) -> None:
    from gridaudit.audit.workflow import state_label

    console.print(
        msg(
            f"任务 {task.task_id}: {zh}，当前状态 {state_label(task.state)}",
            f"task {task.task_id}: {en}, now {state_label(task.state)}",
        )
    )


@tasks_app.command(
    "list",
    epilog=example(
        "gridaudit audit tasks list --plan 1 --user li",
        "gridaudit audit tasks list --overdue --today 2025-08-20 --user li",
        "gridaudit audit tasks list --month 2025-08 --unit U01 --escalated --user li",
    ),
)
def tasks_list(
    plan: int = typer.Option(None, "--plan", help="Only this plan"),
    state: str = typer.Option(None, "--state", help="Only this state (new, assigned, checked, rectifying, …)"),
    assignee: str = typer.Option(None, "--assignee", help="Only tasks assigned to this user"),
    month: str | None = month_option("--month", "Only plans of this month YYYY-MM"),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue rectifications (read-only: see escalate)"),
    unit: str = typer.Option(None, "--unit", help="Only tasks of this unit and the units under it"),
    escalated: bool = typer.Option(False, "--escalated", help="Only tasks escalated at least once"),
    today: date | None = TodayOpt,
    limit: int = typer.Option(50, "--limit", help="Show at most N rows"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """List the tasks you see (unit scope) by priority; ``--overdue`` lists overdue rectifications.

    Listing never changes anything: ``gridaudit audit escalate`` escalates."""
    from rich.table import Table

    from gridaudit.audit import access, actions
    from gridaudit.audit.workflow import state_label

    day = parse_day(today, "--today")

    def go(s: Any, _st: Any) -> list:
        me = access.reader(s, user)
        if overdue:
            from gridaudit.audit.trail import now_utc

            d = day or now_utc().date()
            keep = None
            if unit or escalated:  # the same filters as the web's list (actions.list_tasks)
                kept = actions.list_tasks(s, user=me, unit=unit, overdue_on=d, escalated=escalated)
                keep = {t.task_id for t in kept}
            return [
                (
                    str(t.task_id),
                    f"{t.rule_id}\n{t.entity_type}:{t.entity_id}",
                    state_label(t.state),
                    r.responsible_id,
                    deadline_text(r.ordered_on, r.deadline),
                    str(n),
                )
                for t, r, n in actions.overdue(s, d, me)
                if keep is None or t.task_id in keep
            ]
        return [
            (
                str(t.task_id),
                f"{t.rule_id}\n{t.entity_type}:{t.entity_id}",
                state_label(t.state),
                t.assignee_id or t.assignee_unit or "",
                f"{t.priority:.3f}",
                f"{t.yuan_at_stake or 0:,.0f}",
            )
            for t in actions.list_tasks(s, plan, state, assignee, month, user=me, unit=unit, escalated=escalated)
        ]

    rows = run(store, go, user=user, read=True)
    # the rule and entity ids share one column, one line each, never cut: the other columns wrap around them
    ids = "rule 规则\nentity 对象"
    if overdue:
        t = Table("task", ids, "state 状态", "rectifier 整改人", "deadline 期限", "overdue 超期工作日")
        t.columns[4].min_width, t.columns[4].overflow = 10, "fold"  # a provisional mark wraps, never cut to "…"
    else:
        t = Table("task", ids, "state 状态", "assignee 承办", "priority 优先级", "¥ at stake")
    for i, col in enumerate(t.columns):
        col.no_wrap = i in (0, 1)
        if i > 1:
            col.overflow = "fold"
    for r in rows[:limit]:
        t.add_row(*r)
    console.print(t)
    console.print(msg(f"共 {len(rows)} 条", f"{len(rows)} rows"))


@tasks_app.command("show", epilog=example("gridaudit audit tasks show 12"))
def tasks_show(task_id: int = TaskArg, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Show a task and its history (who, when, what)."""
    from gridaudit.audit import access, actions, trail
    from gridaudit.audit.workflow import state_label

    def go(s: Any, _st: Any) -> tuple:
        t, me = actions.get_task(s, task_id), access.reader(s, user)
        if me is not None:
            access.can(s, me, "show", t)
        return t, [(e.at, e.actor, e.action, e.payload) for e in trail.history(s, "task", task_id)], _rect_line(s, t)

    t, events, rect = run(store, go, user=user, read=True)
    console.print(
        f"task {t.task_id}  {t.rule_id} ({t.family}, {t.severity})  {t.entity_type}:{t.entity_id}  "
        f"period {t.period}  {state_label(t.state)}  priority {t.priority:.3f}  "
        f"¥{t.yuan_at_stake or 0:,.2f}  responsible staff {t.responsible_staff_id}"
    )
    if rect:
        console.print(rect, highlight=False)
    for at, actor, action, payload in events:
        console.print(f"  {at}  {actor:<12} {action:<12} {payload}", highlight=False, soft_wrap=True)


def _rect_line(session: Any, task: Any) -> str | None:
    """The task's rectification order in one line (deadline marked when provisional), or None."""
    from gridaudit.audit.actions import rectification_of

    r = rectification_of(session, task)
    if r is None:
        return None
    due = deadline_text(r.ordered_on, r.deadline)
    return msg(
        f"整改：责任人 {r.responsible_id}，{r.ordered_on} 下达，{r.workdays} 个工作日，期限 {due}，状态 {r.status}",
        f"rectification: {r.responsible_id}, ordered {r.ordered_on}, {r.workdays} working days, due {due}, {r.status}",
    )


@tasks_app.command(
    "assign",
    epilog=example(
        "gridaudit audit tasks assign 12 --to zhang --user li", "gridaudit audit tasks assign 12 --unit U01 --user li"
    ),
)
def tasks_assign(
    task_id: int = TaskArg,
    to: str = typer.Option(None, "--to", help="Inspector or responsible person / 承办人"),
    unit: str = typer.Option(None, "--unit", help="Responsible unit / 责任单位"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Assign a task to an inspector or a responsible unit/person (派发)."""
    from gridaudit.audit import actions
    from gridaudit.audit.units import has_units, unchecked_warning
    from gridaudit.console import err_console

    t, known = run(store, lambda s, _st: (actions.assign(s, user, task_id, to, unit), has_units(s)))
    _done(t, f"已派发给 {to or unit}", f"assigned to {to or unit}")
    if unit and not known:
        err_console.print(f"[yellow]{msg(*unchecked_warning(unit))}[/]", highlight=False)


@tasks_app.command(
    "result",
    epilog=example(
        "gridaudit audit tasks result 12 --outcome theft --kind field --recovered-kwh 5400 --recovered-yuan 3024 "
        "--violation-type seal_broken --attach photo.jpg --user zhang"
    ),
)
def tasks_result(
    task_id: int = TaskArg,
    outcome: str = typer.Option(..., "--outcome", help="theft / violation / irregular / normal"),
    kind: str = typer.Option("field", "--kind", help="desk (案头) or field (现场)"),
    recovered_kwh: float = typer.Option(None, "--recovered-kwh", help="Back-billed energy kWh, if known / 追补电量"),
    recovered_yuan: float = typer.Option(None, "--recovered-yuan", help="Back-billing ¥, if known / 追补电费"),
    violation_type: str = typer.Option(None, "--violation-type", help="tariff_misuse, capacity_overuse, …"),
    note: str = typer.Option(None, "--note", help="Notes / 说明"),
    inspected_on: date | None = date_option("--on", "Inspection date YYYY-MM-DD (default today)"),
    attach: list[Path] | None = repeat_option("--attach", "Attachment files (stored by sha256; repeat)"),
    attachments: str = typer.Option(None, "--attachments", help="Attachment folder (default beside the store)"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Record a desk or field result with attachments (录入核查结果)."""
    from gridaudit.audit import actions

    day = parse_day(inspected_on, "--on")
    r = run(
        store,
        lambda s, st: actions.record_result(
            s,
            user,
            task_id,
            outcome,
            kind,
            recovered_kwh,
            recovered_yuan,
            violation_type,
            note,
            day,
            list(attach or []),
            st.attachments,
        ),
        attachments,
    )
    console.print(
        msg(
            f"任务 {task_id}: 已录入结果 {r.outcome}（结果 {r.result_id}）",
            f"task {task_id}: result {r.outcome} recorded (result {r.result_id})",
        )
    )


@tasks_app.command(
    "void-result",
    epilog=example("gridaudit audit tasks void-result 31 --reason '录错任务，应为任务 32' --user lead"),
)
def tasks_void_result(
    result_id: int = typer.Argument(..., help="Result id / 结果编号"),
    reason: str = typer.Option(..., "--reason", help="Why it is void / 作废理由"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Void a result (by someone other than its recorder); it stays visible and no longer counts (作废核查结果)."""
    from gridaudit.audit.corrections import void_result

    v = run(store, lambda s, _st: void_result(s, user, result_id, reason))
    console.print(msg(f"结果 {result_id} 已作废（任务 {v.task_id}）", f"result {result_id} voided (task {v.task_id})"))


@tasks_app.command(
    "correct-result",
    epilog=example(
        "gridaudit audit tasks correct-result 31 --recovered-kwh 4800 --recovered-yuan 2688 "
        "--reason '现场复核电量有误' --user lead"
    ),
)
def tasks_correct_result(
    result_id: int = typer.Argument(..., help="Result id / 结果编号"),
    reason: str = typer.Option(..., "--reason", help="Why it is corrected / 更正理由"),
    outcome: str = typer.Option(None, "--outcome", help="Corrected outcome (default: unchanged)"),
    kind: str = typer.Option(None, "--kind", help="desk or field (default: unchanged)"),
    recovered_kwh: float = typer.Option(None, "--recovered-kwh", help="Corrected kWh (default: unchanged)"),
    recovered_yuan: float = typer.Option(None, "--recovered-yuan", help="Corrected ¥ (default: unchanged)"),
    violation_type: str = typer.Option(None, "--violation-type", help="Corrected violation type"),
    inspected_on: date | None = date_option("--on", "Corrected inspection date YYYY-MM-DD"),
    note: str = typer.Option(None, "--note", help="Notes / 说明"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Correct a result: a new result replaces it, the original is voided and stays visible (更正核查结果)."""
    from gridaudit.audit.corrections import correct_result

    day = parse_day(inspected_on, "--on")
    r = run(
        store,
        lambda s, _st: correct_result(
            s,
            user,
            result_id,
            reason,
            outcome=outcome,
            check_kind=kind,
            recovered_kwh=recovered_kwh,
            recovered_yuan=recovered_yuan,
            violation_type=violation_type,
            inspected_on=day,
            note=note,
        ),
    )
    console.print(
        msg(
            f"任务 {r.task_id}: 结果 {result_id} 已更正为结果 {r.result_id}（{r.outcome}）",
            f"task {r.task_id}: result {result_id} corrected by result {r.result_id} ({r.outcome})",
        )
    )


@tasks_app.command(
    "rectify",
    epilog=example(
        "gridaudit audit tasks rectify 12 --responsible zhou --days 10 --requirement '补抄并更正电量' --user li"
    ),
)
def tasks_rectify(
    task_id: int = TaskArg,
    responsible: str = typer.Option(..., "--responsible", help="Rectifier (user with role responsible)"),
    days: int = typer.Option(10, "--days", help="Deadline in working days (official calendar, 调休)"),
    requirement: str = typer.Option(None, "--requirement", help="What must be fixed / 整改要求"),
    today: date | None = TodayOpt,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Order rectification with a deadline in working days (下达整改)."""
    from gridaudit.audit import actions

    r = run(
        store,
        lambda s, _st: actions.rectify(s, user, task_id, responsible, days, requirement, parse_day(today, "--today")),
    )
    due = deadline_text(r.ordered_on, r.deadline)
    console.print(
        msg(
            f"任务 {task_id}: 已下达整改，责任人 {r.responsible_id}，期限 {due}",
            f"task {task_id}: rectification ordered from {r.responsible_id}, due {due}",
        )
    )


@tasks_app.command("reply", epilog=example("gridaudit audit tasks reply 12 --text '已补抄更正' --user zhou"))
def tasks_reply(
    task_id: int = TaskArg,
    text: str = typer.Option(..., "--text", help="Reply / 整改回复"),
    today: date | None = TodayOpt,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """The rectifier replies (整改回复)."""
    from gridaudit.audit import actions

    r = run(store, lambda s, _st: actions.reply(s, user, task_id, text, parse_day(today, "--today")))
    console.print(msg(f"任务 {task_id}: 已回复（第 {r.rounds} 次）", f"task {task_id}: replied (round {r.rounds})"))


@tasks_app.command(
    "verify",
    epilog=example(
        "gridaudit audit tasks verify 12 --reject --reason '回复与现场不符' --user li",
        "gridaudit audit tasks verify 12 --accept --dataset ds --period 2025-09 --user li",
    ),
)
def tasks_verify(
    task_id: int = TaskArg,
    accept: bool = typer.Option(None, "--accept/--reject", help="Accept or reject the reply / 通过或驳回"),
    reason: str = typer.Option(None, "--reason", help="Why (required to reject) / 理由"),
    dataset: Annotated[Path | None, typer.Option("--dataset", help="Dataset for the automatic data re-check")] = None,
    period: str | None = month_option("--period", "Later period YYYY-MM to re-check the rule on"),
    today: date | None = TodayOpt,
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Verify a rectification reply: accept, or reject with a reason; re-checks the data when given."""
    from gridaudit.audit import actions
    from gridaudit.audit.recheck import recheck_finding, require_later_period
    from gridaudit.console import die
    from gridaudit.i18n import both

    if accept is None:
        die(both("请指定 --accept 或 --reject", "say --accept or --reject"))
    if (dataset is None) != (period is None):
        die(both("数据复查需要同时给出 --dataset 和 --period", "the data re-check needs both --dataset and --period"))

    def check(task: Any) -> Any:
        assert dataset is not None and period is not None  # both given, or check is not used (above)
        require_later_period(task, period)  # refused (exit 2), never recorded as "unavailable"
        return recheck_finding(task, dataset, period)

    v = run(
        store,
        lambda s, _st: actions.verify(
            s, user, task_id, accept, reason, check if dataset else None, parse_day(today, "--today")
        ),
    )
    verdict = msg("通过", "accepted") if accept else msg("驳回", "rejected")
    why = f" ({v.recheck_detail})" if v.recheck_detail else ""
    if dataset is None:
        why = msg("（未给出 --dataset/--period，未复查数据）", " (no --dataset/--period given: data not re-checked)")
    console.print(
        msg(
            f"任务 {task_id}: 复核{verdict}；数据复查: {v.recheck_status}{why}",
            f"task {task_id}: {verdict}; data re-check: {v.recheck_status}{why}",
        ),
        highlight=False,
    )


@tasks_app.command("close", epilog=example("gridaudit audit tasks close 12 --user li"))
def tasks_close(
    task_id: int = TaskArg,
    note: str = typer.Option(None, "--note", help="Closing note / 说明"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Close a checked or verified task (auditor; never the responsible staff or rectifier)."""
    from gridaudit.audit import actions

    t = run(store, lambda s, _st: actions.close(s, user, task_id, note))
    _done(t, "已关闭", "closed")


@tasks_app.command("cancel", epilog=example("gridaudit audit tasks cancel 12 --reason '重复' --user lead"))
def tasks_cancel(
    task_id: int = TaskArg,
    reason: str = typer.Option(..., "--reason", help="Why / 理由"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Cancel a task not yet checked (audit lead)."""
    from gridaudit.audit import actions

    t = run(store, lambda s, _st: actions.cancel(s, user, task_id, reason))
    _done(t, "已撤销", "cancelled")


@audit_app.command("escalate", epilog=example("gridaudit audit escalate --today 2025-08-20 --user li"))
def escalate(today: date | None = TodayOpt, store: str = StoreOpt, user: str = UserOpt) -> None:
    """Escalate overdue rectifications to the rectifier's manager (records escalation events)."""
    from gridaudit.audit import actions

    done = run(
        store,
        lambda s, _st: [
            (e.task_id, e.manager_id, e.workdays_overdue)
            for e in actions.escalate(s, user, parse_day(today, "--today"))
        ],
    )
    for task_id, manager, days in done:
        console.print(
            msg(
                f"任务 {task_id}: 超期 {days} 个工作日，已升级至 {manager}",
                f"task {task_id}: {days} working days overdue, escalated to {manager}",
            )
        )
    console.print(msg(f"升级 {len(done)} 项", f"escalated {len(done)}"))
