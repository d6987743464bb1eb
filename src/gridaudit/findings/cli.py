"""``gridaudit findings``: list, show and summarise the findings in a dataset's store; list its runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from gridaudit.cli_options import list_option, period_option, split_list
from gridaudit.console import console, die, example
from gridaudit.i18n import both, msg

findings_app = typer.Typer(
    help="The findings store of a dataset: every analyzer run, with provenance (问题库).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

FORMATS = ("table", "csv", "json")
TABLE_COLUMNS = ("finding_id", "rule_id", "severity", "entity", "period", "yuan_at_stake", "unit_id", "audit_status")
LIST_COLUMNS = ("finding_id", "rule_id", "family", "severity", "entity_type", "entity_id", "period", "score",
                "kwh_at_stake", "yuan_at_stake", "responsible_staff_id", "unit_id", "audit_status",
                "run_id")  # fmt: skip

DatasetOpt = Annotated[Path, typer.Option("--dataset", "-d", help="Dataset folder / 数据集目录")]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="GRIDAUDIT_STORE", help="Case store, for audit status and tasks / 案件库"),
]
RunOpt = Annotated[list[str] | None, list_option("--run", "Only these runs (repeat or a,b) / 指定运行", ...)]
AllRunsOpt = Annotated[bool, typer.Option("--all-runs", help="Every run, not only the latest per analyzer")]
AnalyzerOpt = Annotated[
    list[str] | None, list_option("--analyzer", "Only these analyzers: rules, loss, risk (repeat or a,b)", ...)
]
FormatOpt = Annotated[str, typer.Option("--format", help="table | csv | json / 输出格式")]


def register(app: typer.Typer) -> None:
    """Add ``gridaudit findings`` to the root app."""
    app.add_typer(findings_app, name="findings")


_split = split_list  # a list filter's values (repeat or a,b)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        die(both(f"--format 应为 {' | '.join(FORMATS)}：{fmt!r}", f"--format must be {' | '.join(FORMATS)}: {fmt!r}"))
    return fmt


def _runs(dataset: Path, run: list[str] | None, all_runs: bool, analyzer: list[str] | None) -> list[Any]:
    from gridaudit.findings.store import FindingsStoreError, select_runs

    if run and all_runs:
        die(both("--run 与 --all-runs 不能同用", "--run and --all-runs cannot be combined"))
    try:
        return select_runs(dataset, _split(run), _split(analyzer) or None, all_runs)
    except FindingsStoreError as exc:
        die(str(exc))


def _load(
    dataset: Path, runs: list[Any], store: str | None, need_units: bool = True
) -> tuple[Any, dict[str, list[Any]] | None]:
    """The findings of ``runs`` with unit_id, analyzer and (given --store) audit_status; and the tasks."""
    from gridaudit.findings.query import with_analyzer, with_status, with_units
    from gridaudit.findings.store import read_runs

    table = read_runs(runs)
    table = with_analyzer(table, {r.run_id: r.analyzer for r in runs})
    unit_map = None
    if need_units and table.num_rows:
        from gridaudit.audit.plans import entity_units

        unit_map = entity_units(dataset, table)
    table = with_units(table, unit_map)
    tasks = None
    if store:
        tasks = _tasks(store)
        table = with_status(table, tasks)
    return table, tasks


def _tasks(store: str, finding_ids: list[str] | None = None) -> dict[str, list[Any]]:
    from gridaudit.audit.errors import AuditError
    from gridaudit.findings.status import read_tasks

    try:
        return read_tasks(store, finding_ids)
    except AuditError as exc:  # StoreMissing among them: a mistyped --store creates nothing
        die(exc.text())


def _filter(
    entity_type: list[str] | None,
    entity: list[str] | None,
    staff: list[str] | None,
    unit: list[str] | None,
    family: list[str] | None,
    rule: list[str] | None,
    severity: list[str] | None,
    period: str | None,
    status: list[str] | None,
    store: str | None,
) -> Any:
    from gridaudit.findings.query import FindingFilter, QueryError, bad_values, period_range

    flt = FindingFilter(
        entity_types=_split(entity_type),
        entity_ids=_split(entity),
        staff=_split(staff),
        units=_split(unit),
        families=_split(family),
        rules=_split(rule),
        severities=_split(severity),
        period=period,
        statuses=[s.replace("-", "_") for s in _split(status)],
    )
    options = {"entity_types": "--entity-type", "families": "--family", "severities": "--severity",
               "statuses": "--status"}  # fmt: skip
    for field_name, bad, known in bad_values(flt):
        name = options[field_name]
        die(
            both(
                f"{name} 的取值无效：{', '.join(bad)}（可用：{', '.join(known)}）",
                f"bad {name} value: {', '.join(bad)} (known: {', '.join(known)})",
            )
        )
    if flt.statuses and not store:
        die(both("--status 需要 --store（案件库）", "--status needs --store (the case store)"))
    if period:
        try:
            period_range(period)
        except QueryError as exc:
            die(str(exc))
    return flt


def _emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, title: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
        return
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, justify="right" if c in ("score", "kwh_at_stake", "yuan_at_stake", "findings") else "left")
    for r in rows:
        t.add_row(*[_cell(r.get(c)) for c in columns])
    console.print(t)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


L = "(repeat or a,b)"
EntityTypeOpt = Annotated[list[str] | None, list_option("--entity-type", f"customer, meter, area, ... {L}", ...)]
EntityOpt = Annotated[list[str] | None, list_option("--entity", f"Entity id(s) {L} / 对象编号", ...)]
StaffOpt = Annotated[list[str] | None, list_option("--staff", f"Responsible staff id(s) {L} / 责任人", ...)]
UnitOpt = Annotated[list[str] | None, list_option("--unit", f"Unit id(s) (evidence or dataset) {L} / 单位", ...)]
FamilyOpt = Annotated[list[str] | None, list_option("--family", f"Rule families {L} / 规则族", ...)]
RuleOpt = Annotated[list[str] | None, list_option("--rule", f"Rule ids {L} / 规则", ...)]
SeverityOpt = Annotated[list[str] | None, list_option("--severity", f"low, medium, high, critical {L}", ...)]
PeriodOpt = Annotated[str | None, period_option("--period", "YYYY-MM or YYYY-MM..YYYY-MM / 期间", ...)]
StatusOpt = Annotated[
    list[str] | None, list_option("--status", f"new, under_audit, closed (needs --store) {L} / 稽查状态", ...)
]


@findings_app.command(
    "list",
    epilog=example(
        "gridaudit findings list --dataset ds",
        "gridaudit findings list --dataset ds --family billing --severity high,critical --period 2024-06",
        "gridaudit findings list --dataset ds --store cases.db --status new --unit U0101 --format csv",
    ),
)
def list_cmd(
    dataset: DatasetOpt,
    entity_type: EntityTypeOpt = None,
    entity: EntityOpt = None,
    staff: StaffOpt = None,
    unit: UnitOpt = None,
    family: FamilyOpt = None,
    rule: RuleOpt = None,
    severity: SeverityOpt = None,
    period: PeriodOpt = None,
    status: StatusOpt = None,
    run: RunOpt = None,
    all_runs: AllRunsOpt = False,
    analyzer: AnalyzerOpt = None,
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="At most N rows (0 = all) / 最多行数")] = 50,
    fmt: FormatOpt = "table",
) -> None:
    """List findings (largest ¥ at stake first), by default from the latest run of each analyzer (问题清单)."""
    from gridaudit.findings.query import filter_findings, sort_findings

    fmt = _format(fmt)
    flt = _filter(entity_type, entity, staff, unit, family, rule, severity, period, status, store)
    runs = _runs(dataset, run, all_runs, analyzer)
    table, _ = _load(dataset, runs, store)
    table = sort_findings(filter_findings(table, flt))
    total = table.num_rows
    if limit:
        table = table.slice(0, limit)
    columns = [c for c in LIST_COLUMNS if c in table.column_names]
    rows = table.select(columns).to_pylist()
    if fmt == "table":  # the screen is narrow: the entity in one column, the rest in csv/json or `show`
        for r in rows:
            r["entity"] = f"{r['entity_type']}:{r['entity_id']}"
        columns = [c for c in TABLE_COLUMNS if c == "entity" or c in table.column_names]
    title = msg(
        f"问题 {total:,} 条（显示 {len(rows):,}），运行：{', '.join(r.run_id for r in runs) or '无'}",
        f"{total:,} findings (showing {len(rows):,}); runs: {', '.join(r.run_id for r in runs) or 'none'}",
    )
    _emit(rows, columns, fmt, title)


@findings_app.command(
    "summary",
    epilog=example(
        "gridaudit findings summary --dataset ds",
        "gridaudit findings summary --dataset ds --by family,severity --format json",
        "gridaudit findings summary --dataset ds --store cases.db --by unit_id,audit_status",
    ),
)
def summary_cmd(
    dataset: DatasetOpt,
    by: Annotated[
        list[str] | None,
        list_option("--by", "Group by: family, rule_id, severity, unit_id, analyzer, ... (repeat or a,b)", ...),
    ] = None,
    entity_type: EntityTypeOpt = None,
    entity: EntityOpt = None,
    staff: StaffOpt = None,
    unit: UnitOpt = None,
    family: FamilyOpt = None,
    rule: RuleOpt = None,
    severity: SeverityOpt = None,
    period: PeriodOpt = None,
    status: StatusOpt = None,
    run: RunOpt = None,
    all_runs: AllRunsOpt = False,
    analyzer: AnalyzerOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Findings, ¥ and kWh at stake per group (default: per analyzer and family) (问题汇总)."""
    from gridaudit.findings.query import QueryError, filter_findings, summarize

    fmt = _format(fmt)
    keys = _split(by) or ["analyzer", "family"]
    flt = _filter(entity_type, entity, staff, unit, family, rule, severity, period, status, store)
    if "audit_status" in keys and not store:
        die(both("按 audit_status 汇总需要 --store", "--by audit_status needs --store (the case store)"))
    runs = _runs(dataset, run, all_runs, analyzer)
    table, _ = _load(dataset, runs, store)
    try:
        rows = summarize(filter_findings(table, flt), keys)
    except QueryError as exc:
        die(str(exc))
    columns = [*keys, "findings", "yuan_at_stake", "kwh_at_stake", "money_unknown"]
    _emit(rows, columns, fmt, msg(f"问题汇总（{len(runs)} 次运行）", f"findings summary ({len(runs)} runs)"))


@findings_app.command(
    "show",
    epilog=example(
        "gridaudit findings show 3f9a0c1b2d4e5f607182 --dataset ds",
        "gridaudit findings show 3f9a0c1b2d4e5f607182 --dataset ds --store cases.db --format json",
    ),
)
def show_cmd(
    finding: Annotated[str, typer.Argument(help="Finding id / 问题编号")],
    dataset: DatasetOpt,
    store: StoreOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """One finding with its evidence, the run it came from and the tasks made from it (查看问题)."""
    import pyarrow.compute as pc

    from gridaudit.findings.store import read_run

    fmt = _format(fmt)
    runs = _runs(dataset, None, True, None)
    found: list[tuple[Any, dict[str, Any]]] = []
    for r in runs:
        t = read_run(r)
        hit = t.filter(pc.equal(t.column("finding_id"), finding))
        found += [(r, row) for row in hit.to_pylist()]
    if not found:
        die(both(f"问题库中没有问题 {finding}（{dataset}）", f"unknown finding {finding} in the store of {dataset}"))
    run, row = found[-1]  # the newest run that holds it
    tasks = _tasks(store, [finding]).get(finding, []) if store else None
    from gridaudit.findings.query import audit_status

    try:
        evidence = json.loads(row["evidence"]) if row.get("evidence") else {}
    except json.JSONDecodeError:
        evidence = {"evidence": row["evidence"]}
    out = {
        **{k: v for k, v in row.items() if k != "evidence"},
        "analyzer": run.analyzer,
        "dataset_version": run.dataset_version,
        "evidence": evidence,
        "in_runs": [r.run_id for r, _ in found],
    }
    if tasks is not None:
        out["audit_status"] = audit_status([t.state for t in tasks])
        out["tasks"] = [
            {"task_id": t.task_id, "plan_id": t.plan_id, "state": t.state, "assignee": t.assignee_id} for t in tasks
        ]
    if fmt == "json":
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    if fmt == "csv":
        flat = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in out.items()}
        _emit([flat], list(flat), "csv", "")
        return
    _print_finding(out)


def _print_finding(out: dict[str, Any]) -> None:
    from rich.table import Table

    from gridaudit.findings.pricing import money_unknown_text

    console.print(f"[bold]{out['finding_id']}[/] {out['rule_id']} ({out['family']}, {out['severity']})")
    head = Table(show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    labels = (
        ("entity_type", "对象类型", "entity type"), ("entity_id", "对象", "entity"), ("period", "期间", "period"),
        ("score", "评分", "score"), ("kwh_at_stake", "涉及电量 kWh", "kWh at stake"),
        ("yuan_at_stake", "涉及金额 ¥", "¥ at stake"), ("responsible_staff_id", "责任人", "responsible staff"),
        ("audit_status", "稽查状态", "audit status"), ("run_id", "运行", "run"), ("analyzer", "分析器", "analyzer"),
        ("dataset_version", "数据版本", "dataset version"),
    )  # fmt: skip
    for key, zh, en in labels:
        if key in out:
            head.add_row(msg(zh, en), _cell(out[key]))
    console.print(head)
    console.print(f"[bold]{msg('证据', 'evidence')}[/]")
    ev = Table(show_header=False, box=None)
    ev.add_column(style="cyan")
    ev.add_column()
    for key, value in sorted(out["evidence"].items()):
        if key == "money_unknown":
            zh, en = money_unknown_text(str(value))
            text = f"{value} — {msg(zh, en)}"
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, ensure_ascii=False, indent=2)
        else:
            text = _cell(value)
        ev.add_row(f"  {key}", text)
    console.print(ev)
    if len(out["in_runs"]) > 1:
        console.print(msg(f"出现在运行：{', '.join(out['in_runs'])}", f"found in runs: {', '.join(out['in_runs'])}"))
    if "tasks" in out:
        if not out["tasks"]:
            console.print(msg("尚未立案稽查", "no task made from it yet"))
            return
        t = Table(title=msg("稽查任务", "audit tasks"), title_justify="left")
        for c in ("task", "plan", msg("状态", "state"), msg("承办人", "assignee")):
            t.add_column(c)
        for task in out["tasks"]:
            t.add_row(str(task["task_id"]), str(task["plan_id"]), task["state"], task["assignee"] or "")
        console.print(t)


@findings_app.command(
    "runs",
    epilog=example("gridaudit findings runs --dataset ds", "gridaudit findings runs --dataset ds --format json"),
)
def runs_cmd(dataset: DatasetOpt, analyzer: AnalyzerOpt = None, fmt: FormatOpt = "table") -> None:
    """Every run in the dataset's findings store with its provenance, oldest first (运行记录)."""
    from gridaudit.findings.store import FindingsStoreError, incomplete_runs, list_runs

    fmt = _format(fmt)
    try:
        runs = list_runs(dataset, _split(analyzer) or None)
        stale = incomplete_runs(dataset)
    except FindingsStoreError as exc:
        die(str(exc))
    if fmt == "json":
        typer.echo(json.dumps([r.record for r in runs], ensure_ascii=False, indent=2, default=str))
        return
    rows = []
    for r in runs:
        c = r.record.get("counts", {})
        st = c.get("rule_status", {})
        rows.append(
            {
                "run_id": r.run_id,
                "analyzer": r.analyzer,
                "dataset_version": r.dataset_version,
                "engine": r.engine,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "rows": r.rows,
                "rules_ok": st.get("ok", 0),
                "rules_skipped": st.get("skipped", 0),
                "rules_error": st.get("error", 0),
                "money_unknown": sum(c.get("money", {}).get("money_unknown", {}).values()),
                "files": len(r.record.get("rule_files", {})),
            }
        )
    columns = list(rows[0]) if rows else ["run_id"]
    if fmt == "table":
        columns = ["run_id", "dataset_version", "ended_at", "rows", "rules_error", "money_unknown"]
    _emit(rows, columns, fmt, msg(f"运行 {len(rows)} 次", f"{len(rows)} runs"))
    if stale and fmt == "table":
        console.print(
            msg(
                f"另有 {len(stale)} 个中断的写入（不读取，一天后清理）",
                f"{len(stale)} interrupted writes (never read, removed after a day)",
            )
        )
