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
from gridaudit.dataset import replacing
from gridaudit.workdays import provisional_between

SHEETS = ("plan", "tasks", "results", "rectifications", "assessment", "penalties")
# the sheets' names people read (zh, en), in SHEETS order
SHEET_TITLES = {
    "plan": ("稽查计划", "plan"),
    "tasks": ("稽查任务", "tasks"),
    "results": ("核查结果", "results"),
    "rectifications": ("整改", "rectifications"),
    "assessment": ("考核", "assessment"),
    "penalties": ("违约用电处理", "penalties"),
}
IN_FORCE = ("有效", "in force")
HEADERS_EN = {
    "计划编号": "plan", "月份": "month", "类型": "kind", "名称": "title", "范围": "scope", "任务数": "tasks",
    "来源": "source", "制定人": "made by", "制定时间": "made at", "任务编号": "task", "问题编号": "finding",
    "规则": "rule", "类别": "family", "严重程度": "severity", "对象类型": "entity type", "对象编号": "entity",
    "单位": "unit", "期间": "period", "评分": "score", "涉及电量(kWh)": "kWh at stake",
    "涉及金额(元)": "¥ at stake", "责任人": "responsible staff", "优先级": "priority", "状态": "state",
    "承办人": "assignee", "承办单位": "assigned unit", "结果编号": "result", "核查方式": "check",
    "结论": "outcome", "违约类型": "violation type", "追补电量(kWh)": "back-billed kWh",
    "追补电费(元)": "back-billing ¥", "核查日期": "inspected on", "说明": "note", "录入人": "recorded by",
    "录入时间": "recorded at", "更正自结果": "corrects result", "作废理由": "void reason", "作废人": "voided by",
    "整改编号": "rectification", "整改责任人": "responsible", "下达人": "ordered by", "下达日期": "ordered on",
    "期限(工作日)": "workdays", "整改期限": "deadline", "整改要求": "requirement", "回复": "reply",
    "回复日期": "replied on", "回复次数": "replies", "是否按期": "on time", "最近复核": "last verification",
    "复核理由": "verification reason", "数据复查": "data recheck", "升级日期": "escalated on",
    "期限暂定": "deadline provisional", "层级": "level", "对象": "who", "确认问题数": "confirmed",
    "抄表数": "reads", "差错抄表数": "wrong reads", "每千抄差错率": "wrong reads per 1,000",
    "应考核整改数": "rectifications due", "按期整改数": "on time", "按期整改率": "on-time rate",
    "重复问题数": "repeat findings", "违约使用电费(元)": "penalty ¥", "回收合计(元)": "recovered ¥",
    "升级次数": "escalations", "编号": "id", "适用标准": "schedule", "违约日期": "violation date",
    "补交电费(元)": "back-billing ¥", "合计(元)": "total ¥", "计算公式": "formula", "登记人": "booked by",
    "更正自登记": "corrects booking", "重复登记理由": "duplicate reason",
}  # fmt: skip
# the kind (number/date format) of a column, by its Chinese header
_KIND_BY_HEADER = {
    "涉及电量(kWh)": "kwh", "追补电量(kWh)": "kwh", "涉及金额(元)": "yuan", "追补电费(元)": "yuan",
    "违约使用电费(元)": "yuan", "回收合计(元)": "yuan", "补交电费(元)": "yuan", "合计(元)": "yuan",
    "核查日期": "date", "下达日期": "date", "整改期限": "date", "回复日期": "date", "升级日期": "date",
    "违约日期": "date", "评分": "score", "优先级": "score", "每千抄差错率": "score", "按期整改率": "rate",
    "任务数": "int", "回复次数": "int", "期限(工作日)": "int", "确认问题数": "int", "抄表数": "int",
    "差错抄表数": "int", "应考核整改数": "int", "按期整改数": "int", "重复问题数": "int", "升级次数": "int",
}  # fmt: skip
# sheets with a totals row: the money of the rows in force (voided results and penalties left out)
_TOTALS = {"tasks": None, "results": "状态", "penalties": "状态"}


def _decision(code: str | None, lang: str) -> str | None:
    if code is None:
        return None
    zh, en = {"accept": ("通过", "accepted"), "reject": ("驳回", "rejected")}.get(code, (code, code))
    return zh if lang == "zh" else en


def _month_tasks(session: Any, month: str, user: Any = None) -> list[Task]:
    from sqlalchemy import select

    from gridaudit.audit.access import visible_task_filter

    q = (
        select(Task)
        .join(Plan, Plan.plan_id == Task.plan_id)
        .where(Plan.month == month, visible_task_filter(session, user))
    )
    return list(session.execute(q.order_by(Task.plan_id, Task.priority.desc(), Task.task_id)).scalars())


def workbook_rows(
    session: Any, month: str, rows: list[AssessRow], user: Any = None, lang: str = "zh", staff_names: dict | None = None
) -> dict[str, list[list[Any]]]:
    """Every sheet of the month's workbook as header + rows (with ``user``: the tasks that user sees).

    Headers are Chinese (``HEADERS_EN`` translates them); values carry labels in ``lang`` instead of codes
    (rule titles, family, severity, state, outcome, violation type) and people's and units' names beside
    their ids (users and units from the store, staff from ``staff_names``, e.g. the dataset's)."""
    from sqlalchemy import select

    from gridaudit.audit.models import Unit
    from gridaudit.reports import labels

    def lab(t: Any) -> str:
        return str(t.zh if lang == "zh" else t.en)

    users = dict(session.execute(select(User.user_id, User.name)).all())
    units = dict(session.execute(select(Unit.unit_id, Unit.name)).all())
    staff = staff_names or {}

    def who(uid: str | None) -> str | None:
        return None if uid is None else (f"{users[uid]}（{uid}）" if users.get(uid) else uid)

    def unit(uid: str | None) -> str | None:
        return None if uid is None else (f"{units[uid]}（{uid}）" if units.get(uid) else uid)

    def person(sid: str | None) -> str | None:
        return None if sid is None else (f"{staff[sid]}（{sid}）" if staff.get(sid) else sid)

    tasks = _month_tasks(session, month, user)
    ids = [t.task_id for t in tasks]
    plans = list(session.execute(select(Plan).where(Plan.month == month).order_by(Plan.plan_id)).scalars())
    counts = {p.plan_id: sum(1 for t in tasks if t.plan_id == p.plan_id) for p in plans}
    out: dict[str, list[list[Any]]] = {}
    out["plan"] = [["计划编号", "月份", "类型", "名称", "范围", "任务数", "来源", "制定人", "制定时间"]] + [
        [
            p.plan_id,
            p.month,
            lab(labels.kind(p.kind)),
            p.title,
            p.scope,
            counts[p.plan_id],
            json.loads(p.source).get("findings", ""),
            who(p.created_by),
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
            lab(labels.rule(t.rule_id)),
            lab(labels.family(t.family)),
            lab(labels.severity(t.severity)),
            lab(labels.entity(t.entity_type)),
            t.entity_id,
            unit(t.unit_id),
            t.period,
            t.score,
            t.kwh_at_stake,
            t.yuan_at_stake,
            person(t.responsible_staff_id),
            t.priority,
            lab(labels.state(t.state)),
            who(t.assignee_id),
            unit(t.assignee_unit),
        ]
        for t in tasks
    ]
    results = session.execute(select(Result).where(Result.task_id.in_(ids)).order_by(Result.result_id)).scalars()
    voids = {(v.target, v.target_id): v for v in session.execute(select(Void).where(Void.task_id.in_(ids))).scalars()}

    def standing(target: str, row_id: int) -> list[Any]:
        v = voids.get((target, row_id))
        if v is None:
            return [IN_FORCE[0] if lang == "zh" else IN_FORCE[1], None, None]
        return ["作废" if lang == "zh" else "void", v.reason, who(v.voided_by)]

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
            lab(labels.CHECK_KIND[r.check_kind]) if r.check_kind in labels.CHECK_KIND else r.check_kind,
            lab(labels.outcome(r.outcome)),
            lab(labels.violation(r.violation_type)) if r.violation_type else None,
            r.recovered_kwh,
            r.recovered_yuan,
            r.inspected_on,
            r.note,
            who(r.recorded_by),
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
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
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
            who(r.responsible_id),
            who(r.ordered_by),
            r.ordered_on,
            r.workdays,
            r.deadline,
            r.requirement,
            r.reply,
            r.replied_on,
            r.rounds,
            lab(labels.rect_status(r.status)),
            None if r.on_time is None else (yes if r.on_time else no),
            _decision(getattr(last_verdict.get(r.rect_id), "decision", None), lang),
            getattr(last_verdict.get(r.rect_id), "reason", None),
            getattr(last_verdict.get(r.rect_id), "recheck_status", None),
            r.escalated_on,
            yes if provisional_between(r.ordered_on, r.deadline) else None,
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
            *[f"问题:{lab(labels.family(f))}" for f in families],
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
            ({"staff": "人员", "unit": "单位"} if lang == "zh" else {"staff": "staff", "unit": "unit"})[r.level],
            person(r.key) if r.level == "staff" else unit(r.key),
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
            lab(labels.violation(p.kind)),
            p.schedule,
            p.violation_date,
            p.backbill_kwh,
            p.backbill_yuan,
            p.penalty_yuan,
            round(p.backbill_yuan + p.penalty_yuan, 2),
            p.formula,
            who(p.booked_by),
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


def _totals(name: str, header: list[str], rows: list[list[Any]], lang: str) -> list[Any] | None:
    if name not in _TOTALS or not rows:
        return None
    status = _TOTALS[name]
    keep = rows if status is None else [r for r in rows if r[header.index(status)] in IN_FORCE]
    out: list[Any] = ["合计（有效）" if status and lang == "zh" else "合计" if lang == "zh" else "total"]
    for i, h in enumerate(header[1:], start=1):
        if _KIND_BY_HEADER.get(h) in ("kwh", "yuan"):
            out.append(round(sum(r[i] for r in keep if isinstance(r[i], int | float)), 2))
        else:
            out.append(None)
    return out


def export_xlsx(
    session: Any,
    month: str,
    path: str | Path,
    dataset_dir: str | Path | None = None,
    as_of: date | None = None,
    user: Any = None,
    lang: str | None = None,
) -> dict[str, int]:
    """Write the month's workbook (sheets: plans, tasks, results, rectifications, assessment, penalties).

    Chinese sheet names and headers (English with ``lang="en"``), labels instead of codes, names beside ids
    (staff names from ``dataset_dir``), number and date formats, autofilter, frozen header, totals of the money
    in force, column widths fitting CJK text (:mod:`gridaudit.reports.xlsx`, shared with the monthly report).
    Written to a temporary file and renamed, so a failed export never leaves half a workbook.
    Returns the data rows per sheet.
    """
    from gridaudit.i18n import get_lang
    from gridaudit.reports.xlsx import Formats, add_table, freeze_below, sheet_name, write_workbook

    lang = lang or get_lang()
    staff = _staff_names(dataset_dir) if dataset_dir is not None else {}
    sheets = workbook_rows(session, month, assess(session, month, dataset_dir, as_of, user=user), user, lang, staff)
    taken: set[str] = set()
    with write_workbook(path) as book:
        fmts = Formats(book)
        for name in SHEETS:
            header, *rows = sheets[name]
            ws = book.add_worksheet(sheet_name(SHEET_TITLES[name][0 if lang == "zh" else 1], taken))
            kinds = [_KIND_BY_HEADER.get(h, "text") for h in header]
            heads = header if lang == "zh" else [HEADERS_EN.get(h, h) for h in header]
            body = [[_cell(v) for v in r] for r in rows]
            add_table(ws, fmts, 0, heads, kinds, body, _totals(name, header, rows, lang))
            freeze_below(ws, 0)
    return {name: len(sheets[name]) - 1 for name in SHEETS}


def _staff_names(dataset_dir: str | Path) -> dict[str, str]:
    """staff_id → name from the dataset's ``staff`` table (empty without one)."""
    from gridaudit.dataset import open_dataset
    from gridaudit.engines import open_engine

    ds = open_dataset(dataset_dir)
    if not ds.has("staff"):
        return {}
    eng = open_engine(ds)
    try:
        if "name" not in eng.query("select * from staff limit 0").column_names:
            return {}
        t = eng.query("select cast(staff_id as varchar) k, cast(name as varchar) n from staff where name is not null")
        return dict(zip(t.column("k").to_pylist(), t.column("n").to_pylist(), strict=True))
    finally:
        eng.close()


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
