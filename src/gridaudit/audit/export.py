"""Exports: the month's audit workbook (XLSX, Chinese headers) and inspection outcomes as ``inspections``
rows of the import contract (labels for the risk scorer)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from gridaudit.audit.assess import AssessRow, assess
from gridaudit.audit.models import Penalty, Plan, Rectification, Result, Task, User, Verification, Void
from gridaudit.audit.workflow import STATES
from gridaudit.dataset import replacing
from gridaudit.workdays import provisional_between

SHEETS = ("plan", "tasks", "results", "rectifications", "assessment", "penalties")


def _month_tasks(session: Any, month: str, user: Any = None) -> list[Task]:
    from sqlalchemy import select

    from gridaudit.audit.access import visible_task_filter

    q = (
        select(Task)
        .join(Plan, Plan.plan_id == Task.plan_id)
        .where(Plan.month == month, visible_task_filter(session, user))
    )
    return list(session.execute(q.order_by(Task.plan_id, Task.priority.desc(), Task.task_id)).scalars())


def workbook_rows(session: Any, month: str, rows: list[AssessRow], user: Any = None) -> dict[str, list[list[Any]]]:
    """Every sheet of the month's workbook as header + rows (with ``user``: the tasks that user sees)."""
    from sqlalchemy import select

    tasks = _month_tasks(session, month, user)
    ids = [t.task_id for t in tasks]
    plans = list(session.execute(select(Plan).where(Plan.month == month).order_by(Plan.plan_id)).scalars())
    counts = {p.plan_id: sum(1 for t in tasks if t.plan_id == p.plan_id) for p in plans}
    out: dict[str, list[list[Any]]] = {}
    out["plan"] = [["计划编号", "月份", "类型", "名称", "范围", "任务数", "来源", "制定人", "制定时间"]] + [
        [
            p.plan_id,
            p.month,
            {"comprehensive": "综合稽查", "special": "专项稽查"}.get(p.kind, p.kind),
            p.title,
            p.scope,
            counts[p.plan_id],
            json.loads(p.source).get("findings", ""),
            p.created_by,
            p.created_at.isoformat(timespec="seconds"),
        ]
        for p in plans
    ]
    out["tasks"] = [
        [
            "任务编号",
            "计划编号",
            "问题编号",
            "规则",
            "类别",
            "严重程度",
            "对象类型",
            "对象编号",
            "单位",
            "期间",
            "评分",
            "涉及电量(kWh)",
            "涉及金额(元)",
            "责任人",
            "优先级",
            "状态",
            "承办人",
            "承办单位",
        ]
    ] + [
        [
            t.task_id,
            t.plan_id,
            t.finding_id,
            t.rule_id,
            t.family,
            t.severity,
            t.entity_type,
            t.entity_id,
            t.unit_id,
            t.period,
            t.score,
            t.kwh_at_stake,
            t.yuan_at_stake,
            t.responsible_staff_id,
            t.priority,
            STATES[t.state][0],
            t.assignee_id,
            t.assignee_unit,
        ]
        for t in tasks
    ]
    results = session.execute(select(Result).where(Result.task_id.in_(ids)).order_by(Result.result_id)).scalars()
    voids = {(v.target, v.target_id): v for v in session.execute(select(Void).where(Void.task_id.in_(ids))).scalars()}

    def standing(target: str, row_id: int) -> list[Any]:
        v = voids.get((target, row_id))
        return ["有效", None, None] if v is None else ["作废", v.reason, v.voided_by]

    out["results"] = [
        [
            "结果编号",
            "任务编号",
            "核查方式",
            "结论",
            "违约类型",
            "追补电量(kWh)",
            "追补电费(元)",
            "核查日期",
            "说明",
            "录入人",
            "录入时间",
            "更正自结果",
            "状态",
            "作废理由",
            "作废人",
        ]
    ] + [
        [
            r.result_id,
            r.task_id,
            {"desk": "案头", "field": "现场"}[r.check_kind],
            r.outcome,
            r.violation_type,
            r.recovered_kwh,
            r.recovered_yuan,
            r.inspected_on,
            r.note,
            r.recorded_by,
            r.recorded_at.isoformat(timespec="seconds"),
            r.corrects_id,
            *standing("result", r.result_id),
        ]
        for r in results
    ]
    rects = list(
        session.execute(
            select(Rectification).where(Rectification.task_id.in_(ids)).order_by(Rectification.rect_id)
        ).scalars()
    )
    last_verdict = {}
    for v in session.execute(
        select(Verification)
        .where(Verification.rect_id.in_([r.rect_id for r in rects]))
        .order_by(Verification.verification_id)
    ).scalars():
        last_verdict[v.rect_id] = v
    out["rectifications"] = [
        [
            "整改编号",
            "任务编号",
            "整改责任人",
            "下达人",
            "下达日期",
            "期限(工作日)",
            "整改期限",
            "整改要求",
            "回复",
            "回复日期",
            "回复次数",
            "状态",
            "是否按期",
            "最近复核",
            "复核理由",
            "数据复查",
            "升级日期",
            "期限暂定",
        ]
    ] + [
        [
            r.rect_id,
            r.task_id,
            r.responsible_id,
            r.ordered_by,
            r.ordered_on,
            r.workdays,
            r.deadline,
            r.requirement,
            r.reply,
            r.replied_on,
            r.rounds,
            r.status,
            None if r.on_time is None else ("是" if r.on_time else "否"),
            getattr(last_verdict.get(r.rect_id), "decision", None),
            getattr(last_verdict.get(r.rect_id), "reason", None),
            getattr(last_verdict.get(r.rect_id), "recheck_status", None),
            r.escalated_on,
            "是" if provisional_between(r.ordered_on, r.deadline) else None,
        ]
        for r in rects
    ]
    families = sorted({f for r in rows for f in r.by_family})
    out["assessment"] = [
        [
            "层级",
            "对象",
            "任务数",
            "确认问题数",
            *[f"问题:{f}" for f in families],
            "抄表数",
            "差错抄表数",
            "每千抄差错率",
            "应考核整改数",
            "按期整改数",
            "按期整改率",
            "重复问题数",
            "追补电量(kWh)",
            "追补电费(元)",
            "违约使用电费(元)",
            "回收合计(元)",
            "升级次数",
        ]
    ] + [
        [
            {"staff": "人员", "unit": "单位"}[r.level],
            r.key,
            r.tasks,
            r.confirmed,
            *[r.by_family.get(f, 0) for f in families],
            r.reads,
            r.wrong_reads,
            r.error_rate,
            r.rect_counted,
            r.rect_on_time,
            r.on_time_rate,
            r.repeats,
            r.backbill_kwh,
            r.backbill_yuan,
            r.penalty_yuan,
            r.recovered_yuan,
            r.escalations,
        ]
        for r in rows
    ]
    pens = session.execute(select(Penalty).where(Penalty.task_id.in_(ids)).order_by(Penalty.penalty_id)).scalars()
    out["penalties"] = [
        [
            "编号",
            "任务编号",
            "违约类型",
            "适用标准",
            "违约日期",
            "追补电量(kWh)",
            "补交电费(元)",
            "违约使用电费(元)",
            "合计(元)",
            "计算公式",
            "登记人",
            "更正自登记",
            "重复登记理由",
            "状态",
            "作废理由",
            "作废人",
        ]
    ] + [
        [
            p.penalty_id,
            p.task_id,
            p.kind,
            p.schedule,
            p.violation_date,
            p.backbill_kwh,
            p.backbill_yuan,
            p.penalty_yuan,
            round(p.backbill_yuan + p.penalty_yuan, 2),
            p.formula,
            p.booked_by,
            p.corrects_id,
            p.duplicate_reason,
            *standing("penalty", p.penalty_id),
        ]
        for p in pens
    ]
    return out


def _cell(value: Any) -> Any:
    """A value Excel can hold: lists/dicts as JSON text, aware datetimes as ISO text."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False)
    if getattr(value, "tzinfo", None) is not None:
        return value.isoformat(timespec="seconds")
    return value


def export_xlsx(
    session: Any,
    month: str,
    path: str | Path,
    dataset_dir: str | Path | None = None,
    as_of: date | None = None,
    user: Any = None,
) -> dict[str, int]:
    """Write the month's workbook (sheets plan, tasks, results, rectifications, assessment, penalties).

    Written to a temporary file and renamed, so a failed export never leaves half a workbook.
    Returns the data rows per sheet.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    sheets = workbook_rows(session, month, assess(session, month, dataset_dir, as_of, user=user), user)
    wb = Workbook()
    wb.remove(wb.active)
    for name in SHEETS:
        ws = wb.create_sheet(name)
        for row in sheets[name]:
            ws.append([_cell(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    with replacing(path) as tmp:
        wb.save(tmp)
    return {name: len(sheets[name]) - 1 for name in SHEETS}


def inspection_rows(session: Any, month: str | None = None, user: Any = None) -> pa.Table:
    """The result in force of every task on a customer as an ``inspections`` row (import-contract schema).

    Voided results are left out (a correction's new result stands in for the original); kWh and penalty
    are the task's money counted once (``assess.task_money``). With ``user``: the tasks that user sees."""
    from sqlalchemy import select

    from gridaudit.audit.access import visible_task_filter
    from gridaudit.audit.assess import money_by_task
    from gridaudit.audit.corrections import effective_results
    from gridaudit.contract import load_contract

    q = select(Task).where(Task.entity_type == "customer", visible_task_filter(session, user)).order_by(Task.task_id)
    if month:
        q = q.join(Plan, Plan.plan_id == Task.plan_id).where(Plan.month == month)
    tasks = list(session.execute(q).scalars())
    results = effective_results(session, [t.task_id for t in tasks])
    tasks = [t for t in tasks if t.task_id in results]
    money = money_by_task(session, tasks, results)
    staff = dict(session.execute(select(User.user_id, User.staff_id)).all())
    rows = []
    for t in sorted(tasks, key=lambda t: results[t.task_id].result_id):
        r, m = results[t.task_id], money[t.task_id]
        rows.append(
            {
                "inspection_id": f"GA-T{t.task_id}-R{r.result_id}",
                "customer_id": t.entity_id,
                "inspected_on": r.inspected_on,
                "outcome": r.outcome,
                "inspector_id": staff.get(r.recorded_by) or r.recorded_by,
                "violation_type": r.violation_type,
                "recovered_kwh": m.backbill_kwh if m.source != "none" else r.recovered_kwh,
                "penalty_yuan": m.penalty_yuan,
            }
        )
    schema = load_contract().table("inspections").arrow_schema()
    return pa.Table.from_pylist(rows, schema=schema)


def write_inspections_csv(table: pa.Table, path: str | Path) -> None:
    """Write inspection rows as UTF-8 CSV with the contract's column names (atomically)."""
    import pyarrow.csv as pcsv

    with replacing(path) as tmp:
        pcsv.write_csv(table, tmp)
