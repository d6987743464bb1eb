"""Section 6: the indicator assessment (考核) of units and staff — rankings (排名), points, the change against
last month and the key indicators — taken from :func:`gridaudit.indicators.assess.assess_month`, the one
assessment the CLI (``audit assess``) and the web dashboard show; nothing is computed again here."""

from __future__ import annotations

from datetime import date
from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports.monthly.inputs import ReportInputs
from gridaudit.reports.monthly.model import Column, Figure, Section, Table, col

# the key indicators shown beside the rankings (those the method scores at a level get a column there)
KEY_INDICATORS = (
    "reading_error_rate",
    "rectification_on_time_rate",
    "inspection_hit_rate",
    "area_loss_qualified_rate",
    "recovered_yuan",
)
UNIT_KIND = {"pct": "pct", "per_mille": "score", "count": "int", "yuan": "yuan", "kwh": "kwh"}
UNIT_SUFFIX = {"pct": "(%)", "per_mille": "(‰)", "count": "", "yuan": "(元)", "kwh": "(kWh)"}
UNIT_SUFFIX_EN = {"pct": " (%)", "per_mille": " (‰)", "count": "", "yuan": " (¥)", "kwh": " (kWh)"}


def report_assessment(session: Any, inp: ReportInputs, as_of: date) -> Any:
    """The assessment the report shows: ``assess_month`` of the data month, in the report's unit scope and the
    user's (None when the data has no month to assess)."""
    from gridaudit.audit.access import visible_units
    from gridaudit.indicators.assess import assess_month, restrict
    from gridaudit.indicators.catalog import IndicatorError
    from gridaudit.indicators.method import MethodError
    from gridaudit.reports.monthly.inputs import ReportError

    if inp.data_month is None:
        return None
    try:
        a = assess_month(inp.root, inp.data_month, session=session, as_of=as_of)
    except (IndicatorError, MethodError) as exc:
        raise ReportError(f"无法计算 {inp.data_month} 的指标考核: {exc}",
                          f"cannot assess {inp.data_month} by the indicators: {exc}") from exc  # fmt: skip
    seen = visible_units(session, inp.user)
    if inp.units is not None:
        seen = inp.units if seen is None else seen & inp.units
    return restrict(a, seen)


def _columns(level_name: Text, keys: list[Any]) -> list[Column]:
    cols = [
        col("rank", "名次", "rank", "int"),
        Column("who", level_name),
        col("score", "得分(百分制)", "score (of 100)", "pct"),
        col("points", "得分", "points", "pct"),
        col("possible", "满分", "possible", "pct"),
        col("prev_rank", "上月名次", "last month's rank", "int"),
        col("prev_score", "上月得分", "last month's score", "pct"),
        col("change", "较上月", "vs last month", "pct"),
    ]
    for ind in keys:
        cols.append(
            Column(
                ind.id,
                Text(f"{ind.title.zh}{UNIT_SUFFIX[ind.unit]}", f"{ind.title.en}{UNIT_SUFFIX_EN[ind.unit]}"),
                UNIT_KIND[ind.unit],
            )
        )
    return cols


def assess_section(session: Any, inp: ReportInputs, as_of: date) -> Section:
    """Section 6: one ranking table per level (units: supply station, county, company; people: area manager,
    staff) with points, last month's rank and score, and the key indicators' values."""
    from gridaudit.indicators.catalog import LEVEL_TEXT, LEVELS, load_catalog

    sec = Section("assess", 6, Text("单位与人员考核", "Assessment of units and staff"))
    a = report_assessment(session, inp, as_of)
    if a is None:
        sec.notes.append(Text("数据中没有可考核的月份", "the data has no month to assess"))
        sec.figures = [Figure("on_time_rate", Text("按期整改率(%)", "on-time rectification rate (%)"), "pct", None)]
        return sec
    catalog = {i.id: i for i in load_catalog()}
    values = {(s.indicator, s.level, s.entity_id): s for s in a.scored}
    for level in reversed(LEVELS):  # company, county, station, then area managers and staff
        standings = a.level(level)
        if not standings:
            continue
        keys = [catalog[k] for k in KEY_INDICATORS if k in catalog and any(
            s.indicator == k and s.level == level for s in a.scored)]  # fmt: skip
        etype = "staff" if level in ("staff", "area_manager") else "unit"
        rows = []
        for s in standings:
            row: list[Any] = [
                s.rank,
                inp.named(etype, s.entity_id),
                s.score,
                s.points,
                s.possible,
                s.prev_rank,
                s.prev_score,
                s.change,
            ]
            for ind in keys:
                v = values.get((ind.id, level, s.entity_id))
                row.append(None if v is None else v.value)
            rows.append(row)
        title = LEVEL_TEXT[level]
        sec.tables.append(
            Table(
                f"assess_{level}",
                Text(f"{title.zh}考核排名", f"Ranking of {title.en}s"),
                _columns(Text(title.zh, title.en), keys),
                rows,
            )
        )
    sec.figures = [_on_time(a, inp)]
    sec.notes.append(
        Text(
            f"{a.month} 指标考核：{a.utility}，{a.method_title.zh}（{a.method_effective} 起施行）；"
            f"明细见 gridaudit audit assess --month {a.month} --explain 对象",
            f"{a.month} indicator assessment: {a.utility}, {a.method_title.en} (in force from {a.method_effective}); "
            f"details: gridaudit audit assess --month {a.month} --explain ENTITY",
        )
    )
    sec.notes.extend(a.notes)
    return sec


def _on_time(a: Any, inp: ReportInputs) -> Figure:
    """The on-time rectification rate of the report's scope (its unit, else the company) and last month's."""
    top = inp.unit_id
    if top is None:
        roots = [u for u, p in inp.parents.items() if p is None]
        top = roots[0] if len(roots) == 1 else None
    cur = next(
        (s for s in a.scored if s.indicator == "rectification_on_time_rate" and s.entity_id == top
         and s.level not in ("staff", "area_manager")), None)  # fmt: skip
    return Figure(
        "on_time_rate",
        Text("按期整改率(%)", "on-time rectification rate (%)"),
        "pct",
        None if cur is None else cur.value,
    )
