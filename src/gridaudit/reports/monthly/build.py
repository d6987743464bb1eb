"""Build the monthly report model once: read the inputs, compute every section, then the summary."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports.monthly.assess_section import assess_section
from gridaudit.reports.monthly.audit_section import (
    as_of,
    confirmed_section,
    hitrate_section,
    month_work,
    open_entities,
    plan_section,
    previous_months,
)
from gridaudit.reports.monthly.findings_section import findings_section, risk_proposals
from gridaudit.reports.monthly.inputs import ReportInputs, read_inputs
from gridaudit.reports.monthly.loss_section import loss_section
from gridaudit.reports.monthly.model import Figure, MonthlyReport, Section, Table, col

SUMMARY_FIGURES = (
    "loss_rate",
    "areas_high",
    "findings",
    "findings_yuan",
    "tasks",
    "tasks_closed",
    "thefts",
    "violations",
    "recovered",
    "on_time_rate",
    "overdue",
    "hit_rate",
)


def _pct(kind: str, v: float) -> str:
    if kind == "pct":
        return f"{v:+.2f} 个百分点"
    if kind == "rate":
        return f"{v * 100:+.1f} 个百分点"
    return f"{v:+,.2f}" if kind in ("yuan", "kwh") else f"{v:+,.0f}"


def _pct_en(kind: str, v: float) -> str:
    if kind == "pct":
        return f"{v:+.2f} points"
    if kind == "rate":
        return f"{v * 100:+.1f} points"
    return f"{v:+,.2f}" if kind in ("yuan", "kwh") else f"{v:+,.0f}"


def _changes(figs: list[Figure]) -> list[Text]:
    out = []
    for f in figs:
        ch = f.change_prev
        if ch is None or ch == 0:
            continue
        j = f.judged(ch)
        zh = {"worse": "（变差）", "better": "（改善）"}.get(j or "", "")
        en = {"worse": " (worse)", "better": " (better)"}.get(j or "", "")
        out.append(
            Text(f"{f.label.zh}较上月{_pct(f.kind, ch)}{zh}", f"{f.label.en}: {_pct_en(f.kind, ch)} on last month{en}")
        )
    return out


def _decisions(rep: MonthlyReport) -> list[Text]:
    out = []
    overdue = rep.table("overdue").rows
    if overdue:
        esc = sum(1 for r in overdue if r[-1] is not None)
        out.append(
            Text(
                f"{len(overdue)} 项整改超期（其中 {esc} 项已升级），需督办",
                f"{len(overdue)} rectifications overdue ({esc} escalated): follow up",
            )
        )
    unbooked = [r for r in rep.table("confirmed").rows if isinstance(r[10], Text)]
    if unbooked:
        out.append(
            Text(
                f"{len(unbooked)} 起查实案件尚未登记违约使用电费",
                f"{len(unbooked)} confirmed case(s) without a penalty booked",
            )
        )
    ext = rep.figure("areas_extreme").value if any(s.key == "loss" and s.figures for s in rep.sections) else None
    if ext:
        out.append(Text(f"{ext} 个超高损台区，建议安排专项稽查", f"{ext} extreme-loss areas: consider a special audit"))
    neg = (
        rep.table("loss_negative").rows if any(t.key == "loss_negative" for s in rep.sections for t in s.tables) else []
    )
    if neg:
        out.append(
            Text(
                f"{len(neg)} 个负损台区需核对户变关系与计量",
                f"{len(neg)} negative-loss areas: check customer–area mapping and metering",
            )
        )
    prop = rep.table("risk_proposed").rows
    if prop:
        out.append(
            Text(
                f"建议将 {len(prop)} 户窃电高风险用户列入下月计划（见第 7 节）",
                f"put {len(prop)} high theft-risk customers in next month's plan (section 7)",
            )
        )
    return out or [Text("本月无待决事项", "nothing needs a decision this month")]


def _summary(rep: MonthlyReport) -> Section:
    figs = [f for s in rep.sections for f in s.figures if f.key in SUMMARY_FIGURES]
    figs.sort(key=lambda f: SUMMARY_FIGURES.index(f.key))
    sec = Section("summary", 1, Text("概要", "Summary"), figures=figs)
    changes = _changes(figs)
    decisions = _decisions(rep)
    sec.tables.append(
        Table(
            "changes",
            Text("主要变化", "What changed"),
            [col("text", "变化", "change")],
            [[t] for t in changes] or [[Text("与上月相比无变化或无上月数据", "no change or no data for last month")]],
        )
    )
    sec.tables.append(
        Table(
            "decisions", Text("待决事项", "Needs a decision"), [col("text", "事项", "item")], [[t] for t in decisions]
        )
    )
    return sec


def build_from(session: Any, inp: ReportInputs, company: str = "") -> MonthlyReport:
    """The report model from read inputs and an open case-store session."""
    prev_m, year_m = previous_months(inp.month)
    cur, prev, year = (month_work(session, inp, m) for m in (inp.month, prev_m, year_m))
    sections = [
        loss_section(inp),
        findings_section(inp),
        plan_section(session, inp, cur, prev, year),
        confirmed_section(session, inp, cur, prev, year),
        assess_section(session, inp, as_of(inp.month)),
        hitrate_section(session, inp, risk_proposals(inp, open_entities(session))),
    ]
    sources = [Text(f"数据集 {inp.root}", f"dataset {inp.root}")]
    sources += [
        Text(f"问题库运行 {r.analyzer}: {r.run_id}", f"findings run {r.analyzer}: {r.run_id}") for r in inp.runs
    ]
    rep = MonthlyReport(
        month=inp.month,
        data_month=inp.data_month,
        unit_id=inp.unit_id,
        unit_name=inp.name("unit", inp.unit_id) if inp.unit_id else None,
        company=company or _company(inp),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        sources=sources,
        sections=sections,
    )
    rep.sections.insert(0, _summary(rep))
    return rep


def _company(inp: ReportInputs) -> str:
    roots = [u for u, p in inp.parents.items() if p is None]
    return inp.name("unit", roots[0]) if len(roots) == 1 else ""


def build_report(
    dataset_dir: str | Path,
    session: Any,
    month: str,
    unit_id: str | None = None,
    loss_dir: str | Path | None = None,
    user: Any = None,
) -> MonthlyReport:
    """The monthly report of ``month`` from the dataset (names, findings store), the loss outputs and the case
    store ``session`` (read only)."""
    inp = read_inputs(dataset_dir, month, unit_id, loss_dir, user)
    return build_from(session, inp)
