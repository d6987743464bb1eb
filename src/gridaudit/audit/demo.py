"""The audit step of ``gridaudit demo``: a case store in ``out_dir/audit``, next month's plan from the
dataset's findings store (the latest run of each analyzer), a few tasks taken through the whole loop by demo
users, the assessment."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.console import console
from gridaudit.i18n import msg

DEMO_TOP = 200
INTERNAL_FAMILIES = ("reading", "billing", "tariff", "collection", "metering", "process")  # staff findings


def _findings(root: Path) -> tuple[pa.Table, list[Any]]:
    """The latest run of each analyzer in the dataset's findings store, and those runs."""
    from gridaudit.findings import latest_runs
    from gridaudit.findings.store import read_runs

    runs = latest_runs(root)
    return read_runs(runs), runs


def _act(store: Any, fn: Any) -> Any:
    from gridaudit.audit.errors import AuditError

    try:
        with store.transaction() as s:
            return fn(s)
    except AuditError as exc:
        console.print(f"  [yellow]{exc.text()}[/]", highlight=False)
        return None


def _users(store: Any, staff_id: str | None) -> None:
    from gridaudit.audit.users import add_user

    people = [
        ("admin", "管理员", "admin", None, None),
        ("mgr", "王主任", "manager", None, None),
        ("lead", "赵组长", "audit_lead", None, None),
        ("li", "李稽查", "auditor", None, None),
        ("zhang", "张检查", "inspector", None, None),
        ("zhou", "周所长", "responsible", staff_id, "mgr"),
    ]
    from gridaudit.audit.credentials import set_password

    for uid, name, role, staff, manager in people:
        _act(
            store,
            lambda s, u=uid, n=name, r=role, st=staff, m=manager: add_user(
                s, None if u == "admin" else "admin", u, n, r, None, st, m
            ),
        )
        _act(store, lambda s, u=uid: set_password(s, "admin", u, demo_password(u)))


def demo_password(user_id: str) -> str:
    """The demo user's web password (printed by ``gridaudit demo``; a demo store only)."""
    return f"{user_id}-demo-pw"


# the demo users shown with their logins, one per role
DEMO_LOGINS = (
    ("lead", "audit_lead"),
    ("li", "auditor"),
    ("zhang", "inspector"),
    ("zhou", "responsible"),
    ("mgr", "manager"),
    ("admin", "admin"),
)


def _sync_units(session: Any, root: Path) -> Any:
    """The dataset's unit tree into the store, so unit scope works for the demo's users."""
    from gridaudit.audit.units import read_dataset_units, sync_units
    from gridaudit.audit.users import get_user

    return sync_units(session, get_user(session, "admin"), read_dataset_units(root), str(root))


def _loop(store: Any, tasks: list[Any], root: Path, month: str, last_period: str) -> None:
    from gridaudit.audit import actions
    from gridaudit.audit.errors import AuditError
    from gridaudit.audit.penalties import calculate
    from gridaudit.audit.penalties.book import book_penalty
    from gridaudit.audit.plans import last_month, next_month
    from gridaudit.audit.recheck import recheck_finding
    from gridaudit.workdays import add_workdays

    start = add_workdays(date.fromisoformat(f"{month}-01"), 1)
    external = next(
        (t for t in tasks if t.family in ("theft", "loss", "contract") and t.entity_type == "customer"), None
    )
    staffed = [t for t in tasks if t.responsible_staff_id and t is not external]
    internal = next((t for t in staffed if t.family in INTERNAL_FAMILIES), staffed[0] if staffed else None)
    quiet = next((t for t in tasks if t is not external and t is not internal), None)
    if external is not None:
        tid = external.task_id
        _act(store, lambda s: actions.assign(s, "lead", tid, "zhang"))
        _act(
            store,
            lambda s: actions.record_result(
                s,
                "zhang",
                tid,
                "theft",
                "field",
                external.kwh_at_stake or 0,
                external.yuan_at_stake or 0,
                "seal_broken",
                inspected_on=start,
            ),
        )
        when = date.fromisoformat(f"{last_month(external.period) or month}-01")
        try:
            pen = calculate("theft", when, capacity_kw=8, tariff_yuan_kwh=0.56)
            _act(store, lambda s: book_penalty(s, "zhang", tid, pen, when))
            console.print(f"  {msg(pen.formula_zh, pen.formula_en)}", highlight=False)
        except AuditError as exc:  # shown: the 2024 schedule must be entered by the utility
            console.print(f"  [yellow]{exc.text()}[/]", highlight=False)
        _act(store, lambda s: actions.close(s, "li", tid, "追补并处违约使用电费"))
    if internal is not None:
        tid = internal.task_id
        _act(store, lambda s: actions.assign(s, "li", tid, "zhang"))
        _act(store, lambda s: actions.record_result(s, "zhang", tid, "irregular", "desk", inspected_on=start))
        _act(store, lambda s: actions.rectify(s, "li", tid, "zhou", 10, "核实并更正", today=start))
        _act(store, lambda s: actions.reply(s, "zhou", tid, "已核实", today=add_workdays(start, 3)))
        _act(store, lambda s: actions.verify(s, "li", tid, False, "回复未附更正依据"))
        _act(store, lambda s: actions.reply(s, "zhou", tid, "已更正并附工单", today=add_workdays(start, 6)))
        found_in = last_month(internal.period)
        later = next_month(found_in) if found_in else None
        check = (lambda t: recheck_finding(t, root, later)) if later and later <= last_period else None
        v = _act(store, lambda s: actions.verify(s, "li", tid, True, recheck=check))
        if v is None and check is not None:  # the data still shows it: reject, as an auditor would
            _act(store, lambda s: actions.verify(s, "li", tid, False, "数据复查仍有问题", recheck=check))
        else:
            _act(store, lambda s: actions.close(s, "lead", tid))
    if quiet is not None:
        tid = quiet.task_id
        _act(store, lambda s: actions.assign(s, "li", tid, "zhang"))
        _act(store, lambda s: actions.record_result(s, "zhang", tid, "normal", "desk", inspected_on=start))
        _act(store, lambda s: actions.close(s, "li", tid))


def run_demo(dataset: Any, out_dir: str | Path, top: int = DEMO_TOP) -> None:
    """Create ``out_dir/audit`` (case store), plan next month from the dataset's findings store, run a few tasks
    through the loop, export the workbook and inspections, print plan size and assessment summary."""
    from rich.table import Table

    from gridaudit.audit.assess import assess
    from gridaudit.audit.export import export_xlsx, inspection_rows, write_inspections_csv
    from gridaudit.audit.plans import create_plan, entity_units, last_month, next_month
    from gridaudit.audit.store import open_store
    from gridaudit.audit.trail import verify_log

    out_dir = Path(out_dir)
    from gridaudit.dataset import Dataset

    root = dataset.root if isinstance(dataset, Dataset) else Path(dataset)
    findings, runs = _findings(root)
    used = [f"{r.analyzer} {r.run_id}" for r in runs]
    if findings.num_rows == 0:
        console.print(msg("  稽查闭环：没有问题清单，跳过", "  audit loop: no findings to plan from, skipped"))
        return
    folder = out_dir / "audit"
    if (folder / "cases.db").is_file():
        shutil.rmtree(folder)  # the demo's own store from an earlier run
    store = open_store(folder, create=True)
    try:
        months = sorted(m for p in findings.column("period").to_pylist() if (m := last_month(p)))
        last_period = months[-1] if months else date.today().strftime("%Y-%m")
        month = next_month(last_period)
        staff = next((s for s in findings.column("responsible_staff_id").to_pylist() if s), None)
        _users(store, staff)
        _act(store, lambda s: _sync_units(s, root))
        units = entity_units(root)
        outcome = _act(
            store,
            lambda s: create_plan(
                s,
                "lead",
                month,
                findings,
                kind="comprehensive",
                top=top,
                unit_map=units,
                source={"runs": [r.source() for r in runs]},
            ),
        )
        tasks = outcome.tasks if outcome else []
        console.print(
            msg(
                f"  {month} 月度稽查计划：{findings.num_rows:,} 条问题（{', '.join(used)}）→ {len(tasks)} 个任务",
                f"  {month} audit plan: {findings.num_rows:,} findings ({', '.join(used)}) → {len(tasks)} tasks",
            )
        )
        _loop(store, tasks, root, month, last_period)
        with store.transaction() as s:
            rows = assess(s, month, root)
            n, problems = verify_log(s)
            export_xlsx(s, month, folder / f"audit-{month}.xlsx", root)
            write_inspections_csv(inspection_rows(s, month), folder / "inspections.csv")
        t = Table(title=msg("考核摘要（按单位）", "assessment summary (by unit)"), show_edge=False)
        for col in (
            msg("单位", "unit"),
            msg("任务", "tasks"),
            msg("确认", "confirmed"),
            msg("追补¥", "¥ back-billing"),
            msg("违约金¥", "¥ penalty"),
        ):
            t.add_column(col)
        for r in sorted((r for r in rows if r.level == "unit"), key=lambda r: -r.tasks)[:8]:
            t.add_row(
                r.key,
                str(r.tasks),
                str(r.confirmed),
                f"{r.backbill_yuan:,.0f}",
                f"{r.penalty_yuan:,.0f}",
            )
        console.print(t)
        state = msg("完好", "intact") if not problems else msg("被篡改", "TAMPERED")
        console.print(
            msg(
                f"  稽查日志 {n} 个事件，哈希链{state}；工作簿与检查记录在 {folder}",
                f"  audit trail: {n} events, hash chain {state}; workbook and inspections in {folder}",
            )
        )
    finally:
        store.dispose()
