"""Sections 4–7 from the case store: the month's plans and tasks, overdue rectifications and escalations;
confirmed thefts and violations with their money; hit rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.monthly.inputs import ReportInputs
from gridaudit.reports.monthly.model import Figure, Section, Table, col, day_range, month_shift, totals_row

TOTAL = Text("合计", "total")
CONFIRMED = ("theft", "violation")


@dataclass
class MonthWork:
    """The tasks of one month's plans in scope, their results and money in force."""

    month: str
    tasks: list[Any]
    results: dict[int, Any]
    money: dict[int, Any]
    penalties: dict[int, list[Any]]
    planned: bool = True  # the month has a plan (else its figures are unknown, not zero)

    def known(self, value: Any) -> Any:
        """``value``, or None when the month has no plan to count from."""
        return value if self.planned else None

    def count(self, states: tuple[str, ...] | None = None) -> int | None:
        """Tasks (in ``states``); None without a plan."""
        return self.known(sum(1 for t in self.tasks if states is None or t.state in states))

    def confirmed(self, outcomes: tuple[str, ...] = CONFIRMED) -> list[Any]:
        """Tasks whose result in force has one of ``outcomes``."""
        return [t for t in self.tasks if t.task_id in self.results and self.results[t.task_id].outcome in outcomes]

    def recovered(self, tasks: list[Any] | None = None) -> float | None:
        """Back-billing plus penalty charge of ``tasks`` (default: all), each yuan once; None without a plan."""
        ts = self.tasks if tasks is None else tasks
        return self.known(
            round(sum(self.money[t.task_id].backbill_yuan + self.money[t.task_id].penalty_yuan for t in ts), 2)
        )


def month_work(session: Any, inp: ReportInputs, month: str) -> MonthWork:
    """Read the tasks of ``month``'s plans that the report covers (unit scope, the user's scope)."""
    from sqlalchemy import select

    from gridaudit.audit.assess import money_by_task, month_tasks
    from gridaudit.audit.corrections import effective_penalties, effective_results
    from gridaudit.audit.models import Plan

    tasks = [t for t in month_tasks(session, month, inp.user) if inp.in_scope(t.unit_id)]
    ids = [t.task_id for t in tasks]
    results = effective_results(session, ids)
    planned = session.execute(select(Plan.plan_id).where(Plan.month == month).limit(1)).first() is not None
    return MonthWork(
        month, tasks, results, money_by_task(session, tasks, results), effective_penalties(session, ids), planned
    )


def as_of(month: str) -> date:
    """The day the report's overdue and on-time figures are counted at: the month's end, or today."""
    return min(day_range(month)[1], date.today())


def _users(session: Any) -> dict[str, str]:
    from sqlalchemy import select

    from gridaudit.audit.models import User

    return dict(session.execute(select(User.user_id, User.name)).all())


def _entity(inp: ReportInputs, t: Any) -> Text:
    e = labels.entity(t.entity_type)
    n = inp.named(t.entity_type, t.entity_id)
    return Text(f"{e.zh} {n}", f"{e.en} {n}")


def plan_section(session: Any, inp: ReportInputs, cur: MonthWork, prev: MonthWork, year: MonthWork) -> Section:
    """Section 4: the month's plans against their targets, tasks by state, overdue and escalations."""
    from sqlalchemy import select

    from gridaudit.audit import actions
    from gridaudit.audit.models import Escalation, Plan, Task
    from gridaudit.audit.plan_view import plan_summary
    from gridaudit.audit.workflow import OPEN_STATES, STATES

    sec = Section("plan", 4, Text("月度计划与任务", "The month's plan and tasks"))
    users = _users(session)
    day = as_of(inp.month)
    overdue = [(t, r, n) for t, r, n in actions.overdue(session, day, inp.user) if inp.in_scope(t.unit_id)]

    def esc_in(month: str) -> list[tuple[Any, Any]]:
        first, last = day_range(month)
        q = (
            select(Escalation, Task)
            .join(Task, Task.task_id == Escalation.task_id)
            .where(Escalation.escalated_on >= first, Escalation.escalated_on <= last)
            .order_by(Escalation.escalated_on, Escalation.escalation_id)
        )
        return [(e, t) for e, t in session.execute(q) if inp.in_scope(t.unit_id)]

    esc = esc_in(inp.month)

    done = ("closed",)
    sec.figures = [
        Figure("tasks", Text("计划任务数", "tasks planned"), "int", cur.count(), prev.count(), year.count()),
        Figure("tasks_closed", Text("已办结", "closed"), "int", cur.count(done), prev.count(done), year.count(done)),
        Figure(
            "tasks_open",
            Text("在办", "still open"),
            "int",
            cur.count(OPEN_STATES),
            prev.count(OPEN_STATES),
            year.count(OPEN_STATES),
        ),
        Figure("overdue", Text("超期未整改", "rectifications overdue"), "int", len(overdue)),
        Figure(
            "escalations",
            Text("本月升级", "escalations this month"),
            "int",
            len(esc),
            prev.known(len(esc_in(prev.month))),
            year.known(len(esc_in(year.month))),
        ),
    ]
    plans = list(session.execute(select(Plan).where(Plan.month == inp.month).order_by(Plan.plan_id)).scalars())
    pcols = [
        col("plan", "计划", "plan"),
        col("kind", "类型", "kind"),
        col("target", "目标（类别/规则/单位: 要求 → 可选 → 已列）", "targets (scope: asked → available → in plan)"),
        col("tasks", "任务数", "tasks", "int"),
        col("closed", "已办结", "closed", "int"),
        col("by", "制定人", "made by"),
    ]
    prow = []
    for p in plans:
        s = plan_summary(session, p.plan_id)
        targets = "；".join(f"{q['spec']}: {q.get('asked')} → {q.get('available')} → {q.get('now')}" for q in s.quotas)
        top = s.scope.get("top")
        prow.append(
            [
                p.title,
                labels.kind(p.kind),
                targets or (f"top {top}" if top else "—"),
                s.tasks,
                s.by_state.get("closed", 0),
                users.get(p.created_by, p.created_by),
            ]
        )
    sec.tables.append(Table("plans", Text(f"{inp.month} 稽查计划", f"Audit plans of {inp.month}"), pcols, prow))
    scols = [
        col("state", "任务状态", "task state"),
        col("n", "本月", "this month", "int"),
        col("prev", "上月", "last month", "int"),
        col("year", "去年同期", "same month last year", "int"),
    ]
    srows = [[labels.state(s), cur.count((s,)), prev.count((s,)), year.count((s,))] for s in STATES]
    sec.tables.append(
        Table("tasks_by_state", Text("任务状态", "Tasks by state"), scols, srows, totals_row(scols, srows, TOTAL))
    )
    ocols = [
        col("task", "任务", "task", "int"),
        col("finding", "问题", "finding"),
        col("entity", "对象", "entity"),
        col("unit", "单位", "unit"),
        col("who", "整改责任人", "responsible"),
        col("deadline", "整改期限", "deadline", "date"),
        col("late", "超期(工作日)", "workdays late", "int"),
        col("escalated", "升级日期", "escalated on", "date"),
    ]
    orows = [
        [
            t.task_id,
            labels.rule(t.rule_id),
            _entity(inp, t),
            inp.name("unit", t.unit_id),
            users.get(r.responsible_id, r.responsible_id),
            r.deadline,
            n,
            r.escalated_on,
        ]
        for t, r, n in overdue
    ]
    sec.tables.append(
        Table("overdue", Text(f"超期未整改（截至 {day}）", f"Overdue rectifications (as of {day})"), ocols, orows)
    )
    ecols = [
        col("task", "任务", "task", "int"),
        col("finding", "问题", "finding"),
        col("unit", "单位", "unit"),
        col("to", "升级至", "escalated to"),
        col("on", "升级日期", "on", "date"),
        col("late", "超期(工作日)", "workdays late", "int"),
    ]
    erows = [
        [
            t.task_id,
            labels.rule(t.rule_id),
            inp.name("unit", t.unit_id),
            users.get(e.manager_id or "", e.manager_id or "—"),
            e.escalated_on,
            e.workdays_overdue,
        ]
        for e, t in esc
    ]
    sec.tables.append(Table("escalations", Text("本月升级", "Escalations this month"), ecols, erows))
    if not plans:
        sec.notes.append(Text(f"案件库中没有 {inp.month} 的稽查计划", f"the case store has no plan for {inp.month}"))
    return sec


def _approved_rewards(session: Any, w: MonthWork) -> list[Any]:
    """The approved tip rewards (举报奖励, ``tips.rewards_for_month``) of ``w``'s tasks (the report's scope)."""
    from gridaudit.tips import rewards_for_month

    ids = {t.task_id for t in w.tasks}
    return [r for r in rewards_for_month(session, w.month) if r.status == "approve" and r.task_id in ids]


def _rewards_yuan(session: Any, w: MonthWork) -> float | None:
    return w.known(round(sum(r.amount_yuan for r in _approved_rewards(session, w)), 2))


def rewards_table(session: Any, inp: ReportInputs, cur: MonthWork) -> Table:
    """The month's approved tip rewards: task, tip, channel, customer, basis, amount and who approved it —
    never the reporter (kept apart, audit lead only: docs/tips.md)."""
    from gridaudit.tips.subjects import CHANNELS

    users = _users(session)
    units = {t.task_id: t.unit_id for t in cur.tasks}
    cols = [
        col("reward", "奖励编号", "reward", "int"),
        col("task", "任务", "task", "int"),
        col("tip", "举报编号", "tip", "int"),
        col("channel", "举报渠道", "channel"),
        col("customer", "用户", "customer"),
        col("unit", "单位", "unit"),
        col("basis", "追补电费(元)", "back-billing ¥", "yuan"),
        col("amount", "奖励金额(元)", "reward ¥", "yuan"),
        col("formula", "计算", "calculation"),
        col("proposed", "提出人", "proposed by"),
        col("approved", "批准人", "approved by"),
    ]
    rows = [
        [
            r.reward_id,
            r.task_id,
            r.tip_id,
            Text(*CHANNELS.get(r.channel, (r.channel, r.channel))),
            inp.named("customer", r.customer_id),
            inp.name("unit", units.get(r.task_id)),
            r.basis_yuan,
            r.amount_yuan,
            r.formula,
            users.get(r.proposed_by, r.proposed_by),
            users.get(r.decided_by or "", r.decided_by or "—"),
        ]
        for r in _approved_rewards(session, cur)
    ]
    return Table(
        "tip_rewards",
        Text("举报奖励（已批准）", "Tip rewards (approved)"),
        cols,
        rows,
        totals_row(cols, rows, TOTAL, ("yuan",)) if rows else None,
        Text(
            "举报人信息另行保存，仅稽查组长可见，不出现在本报告中",
            "the reporter's identity is kept apart for the audit lead only and is not in this report",
        ),  # fmt: skip
    )


def confirmed_section(session: Any, inp: ReportInputs, cur: MonthWork, prev: MonthWork, year: MonthWork) -> Section:
    """Section 5: confirmed thefts and violations, recovered yuan and penalties under the schedule in force;
    the approved tip rewards of the month."""
    sec = Section("confirmed", 5, Text("查实窃电与违约用电", "Confirmed thefts and violations"))

    def n(w: MonthWork, o: str) -> int | None:
        return w.known(len(w.confirmed((o,))))

    sec.figures = [
        Figure(
            "thefts", Text("查实窃电", "thefts confirmed"), "int", n(cur, "theft"), n(prev, "theft"), n(year, "theft")
        ),
        Figure(
            "violations",
            Text("查实违约用电", "violations confirmed"),
            "int",
            n(cur, "violation"),
            n(prev, "violation"),
            n(year, "violation"),
        ),
        Figure(
            "recovered",
            Text("追补及违约使用电费(元)", "recovered ¥ (back-billing + penalty)"),
            "yuan",
            cur.recovered(cur.confirmed()),
            prev.recovered(prev.confirmed()),
            year.recovered(year.confirmed()),
        ),
        Figure(
            "recovered_all",
            Text("全部任务回收(元)", "recovered ¥, all tasks"),
            "yuan",
            cur.recovered(),
            prev.recovered(),
            year.recovered(),
        ),
        Figure(
            "tip_rewards",
            Text("举报奖励(元)", "tip rewards ¥"),
            "yuan",
            _rewards_yuan(session, cur),
            _rewards_yuan(session, prev),
            _rewards_yuan(session, year),
        ),
    ]
    cols = [
        col("task", "任务", "task", "int"),
        col("customer", "用户", "customer"),
        col("unit", "单位", "unit"),
        col("outcome", "结论", "outcome"),
        col("type", "违约类型", "violation type"),
        col("on", "核查日期", "inspected on", "date"),
        col("kwh", "追补电量(kWh)", "back-billed kWh", "kwh"),
        col("backbill", "追补电费(元)", "back-billing ¥", "yuan"),
        col("penalty", "违约使用电费(元)", "penalty ¥", "yuan"),
        col("total", "合计(元)", "total ¥", "yuan"),
        col("schedule", "适用标准", "schedule in force"),
        col("formula", "计算", "calculation"),
    ]
    rows = []
    for t in sorted(cur.confirmed(), key=lambda t: t.task_id):
        r, m, pens = cur.results[t.task_id], cur.money[t.task_id], cur.penalties.get(t.task_id, [])
        rows.append(
            [
                t.task_id,
                inp.named(t.entity_type, t.entity_id),
                inp.name("unit", t.unit_id),
                labels.outcome(r.outcome),
                labels.violation(r.violation_type),
                r.inspected_on,
                m.backbill_kwh,
                m.backbill_yuan,
                m.penalty_yuan,
                round(m.backbill_yuan + m.penalty_yuan, 2),
                "；".join(sorted({p.schedule for p in pens})) or Text("未登记违约金", "no penalty booked"),
                "；".join(p.formula for p in pens) or "—",
            ]
        )
    sec.tables.append(
        Table("confirmed", Text("查实清单", "Confirmed cases"), cols, rows, totals_row(cols, rows, TOTAL))
    )
    sec.tables.append(rewards_table(session, inp, cur))
    return sec


def hitrate_section(session: Any, inp: ReportInputs, proposals: Table) -> Section:
    """Section 7: hit rate per rule and per inspector; the theft-risk customers proposed for next month."""
    from gridaudit.audit.hitrates import hit_rates

    sec = Section("hitrates", 7, Text("查实率与下月建议", "Hit rates and next month's proposals"))
    hr = hit_rates(session)
    users = _users(session)
    cols = [
        col("rule", "规则", "rule"),
        col("family", "类别", "family"),
        col("n", "已办结", "closed", "int"),
        col("hits", "查实", "confirmed", "int"),
        col("rate", "查实率（估计）", "hit rate (estimate)", "rate"),
    ]
    rows = [
        [labels.rule(k), labels.family(hr.rule_family.get(k)), v.n, v.hits, v.rate]
        for k, v in sorted(hr.rules.items(), key=lambda kv: (-kv[1].n, kv[0]))
    ]
    sec.tables.append(
        Table(
            "hit_rules",
            Text("各规则查实率", "Hit rate per rule"),
            cols,
            rows,
            [TOTAL, None, hr.overall.n, hr.overall.hits, hr.overall.rate],
        )
    )
    icols = [
        col("who", "检查人员", "inspector"),
        col("n", "已办结", "closed", "int"),
        col("hits", "查实", "confirmed", "int"),
        col("rate", "查实率（估计）", "hit rate (estimate)", "rate"),
    ]
    irows = [[users.get(k, k), v.n, v.hits, v.rate] for k, v in sorted(hr.inspectors.items())]
    sec.tables.append(Table("hit_inspectors", Text("各检查人员查实率", "Hit rate per inspector"), icols, irows))
    sec.tables.append(proposals)
    sec.figures = [
        Figure("hit_rate", Text("总体查实率", "overall hit rate"), "rate", hr.overall.rate if hr.overall.n else None)
    ]
    sec.notes.append(
        Text(
            "查实率为含先验的后验估计（docs/audit.md），括号外为已办结任务数",
            "hit rates are posterior estimates with a prior (docs/audit.md), from closed tasks",
        )
    )
    return sec


def open_entities(session: Any) -> set[str]:
    """Entities with a task still open (not proposed again)."""
    from sqlalchemy import select

    from gridaudit.audit.models import Task
    from gridaudit.audit.workflow import OPEN_STATES

    return set(session.execute(select(Task.entity_id).where(Task.state.in_(OPEN_STATES))).scalars())


def previous_months(month: str) -> tuple[str, str]:
    """The month before and the same month last year."""
    return month_shift(month, -1), month_shift(month, -12)
