"""Section 3 (findings by family, unit and severity, with money at stake) and the theft-risk customers
proposed for next month's plan (part of section 7), from the findings store's latest runs."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.monthly.inputs import ReportInputs
from gridaudit.reports.monthly.model import Chart, Column, Figure, Section, Series, Table, col, month_shift, totals_row

TOP = 10
RISK_TOP = 20
TOTAL = Text("合计", "total")


def month_findings(inp: ReportInputs, month: str | None) -> list[dict[str, Any]]:
    """The findings whose (last) period month is ``month``, in the report's unit scope."""
    from gridaudit.audit.plans import last_month

    if month is None:
        return []
    t = inp.findings
    cols = [
        "finding_id",
        "rule_id",
        "family",
        "severity",
        "entity_type",
        "entity_id",
        "period",
        "score",
        "kwh_at_stake",
        "yuan_at_stake",
        "unit_id",
        "responsible_staff_id",
    ]
    rows = t.select(cols).to_pylist()
    return [r for r in rows if last_month(r["period"]) == month and inp.in_scope(r["unit_id"])]


def _yuan(rows: list[dict[str, Any]]) -> float:
    return round(sum(r["yuan_at_stake"] or 0 for r in rows), 2)


def _group(rows: list[dict[str, Any]], key: str) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def _by(key: str, label: Text, rows: list[dict], prev: list[dict], year: list[dict], name: Any, order: list) -> Table:
    g, gp, gy = _group(rows, key), _group(prev, key), _group(year, key)
    keys = [k for k in order if k in g or k in gp or k in gy] + sorted(
        (k for k in set(g) | set(gp) | set(gy) if k not in order), key=lambda k: str(k)
    )
    cols: list[Column] = [
        Column(key, label),
        col("n", "问题数", "findings", "int"),
        col("yuan", "涉及金额(元)", "¥ at stake", "yuan"),
        col("n_prev", "上月问题数", "last month", "int"),
        col("n_year", "去年同期问题数", "same month last year", "int"),
    ]
    body = [[name(k), len(g.get(k, [])), _yuan(g.get(k, [])), len(gp.get(k, [])), len(gy.get(k, []))] for k in keys]
    return Table(
        f"findings_by_{key}",
        Text(f"按{label.zh}统计", f"Findings by {label.en}"),
        cols,
        body,
        totals_row(cols, body, TOTAL),
    )


def _top(inp: ReportInputs, rows: list[dict[str, Any]]) -> Table:
    ranked = sorted(rows, key=lambda r: -(r["yuan_at_stake"] or 0))[:TOP]
    cols = [
        col("rule", "问题", "finding"),
        col("family", "类别", "family"),
        col("severity", "严重程度", "severity"),
        col("entity", "对象", "entity"),
        col("unit", "单位", "unit"),
        col("staff", "责任人", "responsible"),
        col("kwh", "涉及电量(kWh)", "kWh at stake", "kwh"),
        col("yuan", "涉及金额(元)", "¥ at stake", "yuan"),
    ]
    body = [
        [
            labels.rule(r["rule_id"]),
            labels.family(r["family"]),
            labels.severity(r["severity"]),
            Text(
                f"{labels.entity(r['entity_type']).zh} {inp.named(r['entity_type'], r['entity_id'])}",
                f"{labels.entity(r['entity_type']).en} {inp.named(r['entity_type'], r['entity_id'])}",
            ),
            inp.name("unit", r["unit_id"]),
            inp.name("staff", r["responsible_staff_id"]),
            r["kwh_at_stake"],
            r["yuan_at_stake"],
        ]
        for r in ranked
    ]
    return Table(
        "findings_top", Text(f"涉及金额最大的问题（前 {TOP}）", f"Largest findings by ¥ (top {TOP})"), cols, body
    )


def findings_section(inp: ReportInputs) -> Section:
    """Section 3 of the report."""
    from gridaudit.findings import FAMILIES, SEVERITIES

    sec = Section("findings", 3, Text("问题发现", "Findings"))
    d = inp.data_month
    rows = month_findings(inp, d)
    prev = month_findings(inp, month_shift(d, -1) if d else None)
    year = month_findings(inp, month_shift(d, -12) if d else None)
    have_prev, have_year = d is not None, d is not None
    sec.figures = [
        Figure(
            "findings",
            Text("问题数", "findings"),
            "int",
            len(rows),
            len(prev) if have_prev else None,
            len(year) if have_year else None,
        ),
        Figure("findings_yuan", Text("涉及金额(元)", "¥ at stake"), "yuan", _yuan(rows), _yuan(prev), _yuan(year)),
        Figure(
            "findings_high",
            Text("高及严重问题", "high or critical findings"),
            "int",
            sum(1 for r in rows if r["severity"] in ("high", "critical")),
            sum(1 for r in prev if r["severity"] in ("high", "critical")),
            sum(1 for r in year if r["severity"] in ("high", "critical")),
        ),
    ]
    sec.tables = [
        _by("family", Text("类别", "family"), rows, prev, year, labels.family, list(FAMILIES)),
        _by("unit_id", Text("单位", "unit"), rows, prev, year, lambda u: inp.named("unit", u), sorted(inp.parents)),
        _by("severity", Text("严重程度", "severity"), rows, prev, year, labels.severity, list(reversed(SEVERITIES))),
        _top(inp, rows),
    ]
    fam = sec.tables[0]
    sec.charts = [
        Chart(
            "findings_by_family",
            Text("按类别的问题数", "Findings by family"),
            "bar",
            Text("类别", "family"),
            Text("问题数", "findings"),
            [r[0] for r in fam.rows],
            [
                Series(Text("本月", "this month"), [float(r[1]) for r in fam.rows]),
                Series(Text("上月", "last month"), [float(r[3]) for r in fam.rows]),
            ],
        )
    ]
    if d is None:
        sec.notes.append(Text("问题库中没有本月或更早的问题", "the findings store has no findings up to this month"))
    elif d != inp.month:
        sec.notes.append(
            Text(
                f"数据月份为 {d}（问题库中 {inp.month} 尚无数据）",
                f"data month {d} (the findings store has no data for {inp.month} yet)",
            )
        )
    return sec


def risk_proposals(inp: ReportInputs, open_entities: set[str]) -> Table:
    """The top theft-risk customers (latest ``risk`` run) with no open task, proposed for next month's plan."""
    from gridaudit.risk.pipeline import RULE_ID

    t = inp.findings
    rows = [
        r
        for r in t.select(["rule_id", "entity_id", "score", "yuan_at_stake", "unit_id", "evidence"]).to_pylist()
        if r["rule_id"] == RULE_ID and inp.in_scope(r["unit_id"]) and r["entity_id"] not in open_entities
    ]
    rows.sort(key=lambda r: -(r["score"] or 0))
    cols = [
        col("rank", "序号", "#", "int"),
        col("customer", "用户", "customer"),
        col("unit", "单位", "unit"),
        col("score", "风险评分", "risk score", "score"),
        col("yuan", "涉及金额(元)", "¥ at stake", "yuan"),
        col("why", "主要依据", "main reasons"),
    ]
    body = []
    for i, r in enumerate(rows[:RISK_TOP], start=1):
        try:
            ev = json.loads(r["evidence"] or "{}")
        except json.JSONDecodeError:
            ev = {}
        why = Text(str(ev.get("explanation_zh", "")), str(ev.get("explanation_en", "")))
        body.append(
            [
                i,
                inp.named("customer", r["entity_id"]),
                inp.name("unit", r["unit_id"]),
                r["score"],
                r["yuan_at_stake"],
                why,
            ]
        )
    next_month = month_shift(inp.month, 1)
    return Table(
        "risk_proposed",
        Text(
            f"建议列入 {next_month} 稽查计划的窃电高风险用户（前 {RISK_TOP}，无在办任务）",
            f"Theft-risk customers proposed for the {next_month} plan (top {RISK_TOP}, no open task)",
        ),
        cols,
        body,
    )
