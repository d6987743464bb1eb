"""``gridaudit audit …``: the audit loop from the command line (one transaction per command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.audit import cli_evidence, cli_people, cli_plans, cli_reports, cli_tasks
from gridaudit.audit.cli_common import StoreOpt, UserOpt, audit_app, plan_app, run, split_list, users_app
from gridaudit.cli_options import list_option, month_option, repeat_option
from gridaudit.console import console, die, err_console, example
from gridaudit.i18n import both, msg

# The command modules register their commands on the shared groups when imported.
COMMAND_MODULES = (cli_evidence, cli_people, cli_plans, cli_reports, cli_tasks)

# ---------------------------------------------------------------- init


@audit_app.command(
    "init",
    epilog=example(
        "gridaudit audit init --store cases.db",
        "gridaudit audit init --store postgresql://audit@db.example/cases",
    ),
)
def init(store: str = StoreOpt) -> None:
    """Create a new, empty case store (the only command that creates one; a mistyped --store elsewhere is an error)."""
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.store import open_store

    try:
        st = open_store(store, create=True)
    except AuditError as exc:
        die(exc.text())
    with st.transaction() as s:
        from sqlalchemy import func, select

        from gridaudit.audit.models import Event

        events = s.execute(select(func.count()).select_from(Event)).scalar_one()
    st.dispose()
    console.print(
        msg(
            f"案件库已就绪：{st.url}（{events} 个日志事件）；下一步: gridaudit audit users add admin --role admin",
            f"case store ready: {st.url} ({events} trail events); next: gridaudit audit users add admin --role admin",
        ),
        highlight=False,
    )


# ---------------------------------------------------------------- users


@users_app.command(
    "add",
    epilog=example(
        "gridaudit audit users add admin --role admin --name 管理员",
        "gridaudit audit users add li --role auditor --name 李稽查 --user admin",
        "gridaudit audit users add zhou --role responsible --name 周所长 --unit U01 --staff-id S0101 --manager wang "
        "--user admin",
    ),
)
def users_add(
    user_id: str = typer.Argument(..., help="New user's id / 用户编号"),
    role: str = typer.Option(
        ..., "--role", help="auditor, audit_lead, inspector, manager, responsible, admin, viewer (read-only)"
    ),
    name: str = typer.Option(None, "--name", help="Display name / 姓名"),
    unit: str = typer.Option(None, "--unit", help="Unit id / 所属单位"),
    staff_id: str = typer.Option(None, "--staff-id", help="The person's staff_id in the dataset / 员工编号"),
    manager: str = typer.Option(None, "--manager", help="Who overdue items escalate to / 上级主管"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Add a user (admin only; the first user of an empty store must be an admin)."""
    from gridaudit.audit.units import has_units, unchecked_warning
    from gridaudit.audit.users import add_user

    u, known = run(
        store, lambda s, _st: (add_user(s, user, user_id, name or user_id, role, unit, staff_id, manager), has_units(s))
    )
    console.print(msg(f"已添加用户 {u.user_id}（{u.role}）", f"added user {u.user_id} ({u.role})"))
    if unit and not known:
        err_console.print(f"[yellow]{msg(*unchecked_warning(unit))}[/]", highlight=False)


@users_app.command("list", epilog=example("gridaudit audit users list"))
def users_list(store: str = StoreOpt, user: str = UserOpt) -> None:
    """List users and roles."""
    from rich.table import Table

    from gridaudit.audit.users import list_users

    rows = run(
        store,
        lambda s, _st: [
            (
                u.user_id,
                u.name,
                u.role,
                u.unit_id or "",
                u.staff_id or "",
                u.manager_id or "",
                msg("在用", "active") if u.active else msg("已停用", "deactivated"),
            )
            for u in list_users(s)
        ],
        user=user,
        read=True,
    )
    t = Table("user", "name 姓名", "role 角色", "unit 单位", "staff_id", "manager 主管", "status 状态")
    for r in rows:
        t.add_row(*r)
    console.print(t)


# ---------------------------------------------------------------- plans


@plan_app.command(
    "create",
    epilog=example(
        "gridaudit audit plan create --month 2025-07 --dataset ds --top 200 --user li",
        "gridaudit audit plan create --month 2025-07 --dataset ds --run rules-20250701T101530Z-3fa9c2d1 "
        "--family theft --unit U01 --top 200 --kind special --user li",
        "gridaudit audit plan create --month 2025-07 --dataset ds --top 200 "
        "--quota family=reading:30 --quota rule=loss_area_high,unit=U0101:all --kind comprehensive --user li",
        "gridaudit audit plan create --month 2025-07 --dataset ds --findings extra1.parquet --findings extra2.parquet "
        "--user li",
    ),
)
def plan_create(
    month: str = month_option("--month", "Plan month YYYY-MM / 计划月份", default=...),
    dataset: Annotated[
        Path | None,
        typer.Option("--dataset", help="Dataset: its findings store (latest run per analyzer) and entity units"),
    ] = None,
    run_ids: list[str] | None = list_option("--run", "Read these store runs instead of the latest (repeat or a,b)"),
    findings_files: list[Path] | None = repeat_option(
        "--findings", "Extra findings Parquet file(s), repeatable; all are read"
    ),
    top: int = typer.Option(None, "--top", help="Quantitative target: the N highest-priority findings"),
    family: list[str] | None = list_option("--family", "Only these families (repeat or a,b)"),
    unit: list[str] | None = list_option("--unit", "Only these units (evidence or --dataset; repeat or a,b)"),
    rule: list[str] | None = list_option("--rule", "Only these rule ids (repeat or a,b)"),
    entity_type: str = typer.Option(None, "--entity-type", help="Only this entity type, e.g. customer"),
    quota: list[str] | None = repeat_option(
        "--quota",
        "Target filled first, KEY=VALUE[,KEY=VALUE]:COUNT|all with KEY family, rule or unit, "
        "e.g. family=reading:30 (repeat) / 配额",
    ),
    max_rule_share: float = typer.Option(
        None, "--max-rule-share", help="Diversity rule: at most this share of --top per rule (default 0.2)"
    ),
    kind: str = typer.Option("special", "--kind", help="comprehensive (综合稽查) or special (专项稽查)"),
    title: str = typer.Option(None, "--title", help="Plan title / 计划名称"),
    store: str = StoreOpt,
    user: str = UserOpt,
) -> None:
    """Create a monthly audit plan and its tasks from the dataset's findings store (de-duplicated against open
    tasks). Reads the latest run of each analyzer, or the runs named by --run; --findings adds files.

    Priority is expected yuan recovered, weighed by severity; quotas are filled first, then the rest of
    --top by priority with at most --max-rule-share of it per rule (docs/audit.md, "Priority")."""
    from dataclasses import replace

    import pyarrow as pa

    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.plans import create_plan, entity_units, file_source, require_tasks
    from gridaudit.audit.priority import DEFAULT_PRIORITY
    from gridaudit.audit.quotas import parse_quota
    from gridaudit.findings import FindingsStoreError, read_findings, select_runs
    from gridaudit.findings.store import read_runs

    try:
        quotas = [parse_quota(q) for q in quota or []]
    except AuditError as exc:
        die(exc.text())
    if max_rule_share is not None and not 0 < max_rule_share <= 1:
        die(both("--max-rule-share 应在 (0, 1] 之间", f"--max-rule-share must be in (0, 1], not {max_rule_share}"))
    settings = DEFAULT_PRIORITY if max_rule_share is None else replace(DEFAULT_PRIORITY, max_rule_share=max_rule_share)
    if dataset is None and not findings_files:
        die(both("请用 --dataset 指定数据集（读取其问题库）", "give --dataset (its findings store is read)"))
    tables, source, overlap = [], {}, bool(findings_files)
    if dataset is not None:
        try:
            runs = select_runs(dataset, split_list(run_ids))
        except FindingsStoreError as exc:
            die(str(exc))
        if not runs and not findings_files:
            die(
                both(
                    f"{dataset} 的问题库中没有运行记录；先运行 gridaudit rules run / loss / risk score",
                    f"the findings store of {dataset} holds no runs; run gridaudit rules run / loss / risk score first",
                )
            )
        tables.append(read_runs(runs))
        overlap = overlap or len(runs) > len({r.analyzer for r in runs})  # two runs of one analyzer
        source["runs"] = [r.source() for r in runs]
    elif run_ids:
        die(both("--run 需要 --dataset", "--run needs --dataset"))
    for f in findings_files or []:
        if not f.is_file():
            die(both(f"找不到问题清单文件 {f}", f"findings file not found: {f}"))
        try:
            tables.append(read_findings(f))
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a usage error
            die(both(f"无法读取问题清单 {f}: {exc}", f"cannot read findings {f}: {exc}"))
    if findings_files:
        source["files"] = [file_source(f) for f in findings_files]
    table = pa.concat_tables(tables)
    if overlap:
        table = _unique_findings(table)
    units = split_list(unit)
    unit_map = entity_units(dataset) if dataset else None

    def go(s: Any, _st: Any) -> Any:
        out = create_plan(
            s,
            user,
            month,
            table,
            kind=kind,
            top=top,
            families=split_list(family),
            units=units,
            rules=split_list(rule),
            entity_type=entity_type,
            quotas=quotas,
            title=title,
            source=source,
            unit_map=unit_map,
            settings=settings,
        )
        require_tasks(out)  # raised inside the transaction: the empty plan is rolled back
        return out.plan.plan_id, len(out.tasks), out.read, out.skipped, out.quotas, out.over_top

    plan_id, n, read, skipped, fills, over_top = run(store, go)
    console.print(
        msg(
            f"计划 {plan_id}（{month}）：读入 {read} 条问题，生成 {n} 个任务",
            f"plan {plan_id} ({month}): read {read} findings, created {n} tasks",
        )
    )
    for r in source.get("runs", []):
        console.print(f"  {msg('运行', 'run')} {r['run_id']} ({r['analyzer']}, {r['dataset_version']})")
    if skipped:
        console.print(msg("未纳入: ", "left out: ") + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    cli_plans.print_quotas([f.as_dict() for f in fills])
    if over_top:
        console.print(
            msg(
                f"[yellow]配额需要的任务比 --top {top} 多 {over_top} 个；配额优先，计划共 {n} 个任务[/]",
                f"[yellow]the quotas need {over_top} tasks more than --top {top}; quotas come first, "
                f"the plan holds {n} tasks[/]",
            )
        )


def _unique_findings(table: Any) -> Any:
    """One row per finding_id (the first source wins: store runs before --findings files)."""
    import numpy as np
    import pyarrow as pa

    ids = table.column("finding_id").to_numpy(zero_copy_only=False)
    _, first = np.unique(ids, return_index=True)
    if len(first) == table.num_rows:
        return table
    return table.take(pa.array(np.sort(first), pa.int64()))


@plan_app.command("list", epilog=example("gridaudit audit plan list"))
def plan_list(store: str = StoreOpt, user: str = UserOpt) -> None:
    """List the plans you see (unit scope, as in the web app) with their task counts."""
    from rich.table import Table

    from gridaudit.audit.access import reader
    from gridaudit.audit.plan_view import list_plans

    def go(s: Any, _st: Any) -> list:
        plans = sorted(list_plans(s, reader(s, user)), key=lambda pn: pn[0].plan_id)
        return [(str(p.plan_id), p.month, p.kind, p.title, str(n)) for p, n in plans]

    t = Table("plan", "month 月份", "kind 类型", "title 名称", "tasks 任务数")
    for r in run(store, go, user=user, read=True):
        t.add_row(*r)
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``gridaudit audit …`` to the CLI."""
    app.add_typer(audit_app, name="audit")
