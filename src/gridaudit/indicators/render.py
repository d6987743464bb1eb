"""Show an assessment: league tables (排名) per level, an entity's explanation, plain data for JSON."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.table import Table

from gridaudit.console import console
from gridaudit.i18n import msg
from gridaudit.indicators.assess import Assessment
from gridaudit.indicators.catalog import LEVEL_TEXT, LEVELS, UNIT_TEXT, load_catalog


def _num(v: float | None, nd: int = 2) -> str:
    return "-" if v is None else f"{v:,.{nd}f}"


def _change(s: Any, compared: bool) -> str:
    if not compared:
        return "-"
    if s.change is None:
        return msg("新", "new") if s.prev_score is None and s.score is not None else "-"
    arrow = "↑" if s.change > 0 else "↓" if s.change < 0 else "→"
    moved = "" if s.prev_rank is None or s.rank is None else f" ({s.prev_rank}→{s.rank})"
    return f"{arrow}{abs(s.change):.2f}{moved}"


def print_rankings(a: Assessment, levels: list[str] | None = None, top: int = 20) -> None:
    """One league table per level: rank, entity, score, points of the possible, change against last month."""
    console.print(
        msg(
            f"[bold]{a.month} 指标考核[/]：{a.utility}；{a.method_title.zh}（{a.method_effective} 起施行）",
            f"[bold]{a.month} indicator assessment[/]: {a.utility}; {a.method_title.en} (in force from "
            f"{a.method_effective})",
        ),
        highlight=False,
    )
    for level in levels or list(LEVELS):
        rows = a.level(level)
        if not rows:
            continue
        t = Table(title=msg(f"{LEVEL_TEXT[level].zh}排名", f"{LEVEL_TEXT[level].en} ranking"), show_edge=False)
        for col in (msg("名次", "rank"), msg("对象", "who"), msg("得分", "score"), msg("得分/满分", "points"),
                    msg("较上月", "vs last month")):  # fmt: skip
            t.add_column(col, no_wrap=True)
        for s in rows[:top]:
            t.add_row(
                "-" if s.rank is None else str(s.rank),
                f"{s.entity_id} {s.name}" if s.name != s.entity_id else s.entity_id,
                _num(s.score),
                f"{s.points:.1f}/{s.possible:g}",
                _change(s, a.compared),
            )
        if len(rows) > top:
            t.caption = msg(f"另有 {len(rows) - top} 个未列出（--top）", f"{len(rows) - top} more not shown (--top)")
        console.print(t)
    for n in a.notes:
        console.print(f"[yellow]{msg(n)}[/]", highlight=False)


def print_explain(a: Assessment, entity: str) -> None:
    """Each indicator of ``entity``: value (num/den), target, weight, points and the rule, then the rows behind."""
    catalog = {i.id: i for i in load_catalog()}
    mine = a.of(entity)
    if not mine:
        console.print(msg(f"{a.month} 的考核中没有对象 {entity}", f"no entity {entity} in the {a.month} assessment"))
        return
    for level in LEVELS:
        rows = [s for s in mine if s.level == level]
        if not rows:
            continue
        st = next((s for s in a.standings if s.level == level and s.entity_id == entity), None)
        head = (
            ""
            if st is None
            else msg(
                f"：得分 {_num(st.score)}（{st.points:g}/{st.possible:g}），名次 {st.rank or '-'}",
                f": score {_num(st.score)} ({st.points:g}/{st.possible:g}), rank {st.rank or '-'}",
            )
        )
        t = Table(title=f"{entity} · {msg(LEVEL_TEXT[level])}{head}", show_edge=False)
        for col in (msg("指标", "indicator"), msg("值", "value"), msg("分子/分母", "num/den"), msg("目标", "target"),
                    msg("权重", "weight"), msg("得分", "points"), msg("计分", "how")):  # fmt: skip
            t.add_column(col, overflow="fold")
        for s in rows:
            ind = catalog.get(s.indicator)
            unit = msg(UNIT_TEXT[ind.unit]) if ind else ""
            value = f"{_num(s.value)} {unit}" if s.value is not None else msg(s.reason) if s.reason else "-"
            t.add_row(
                f"{msg(ind.title) if ind else s.indicator}\n[dim]{s.indicator}[/]",
                value,
                f"{s.num:g}/{s.den:g} ({s.items})",
                _num(s.target, 2) if s.target is not None else "-",
                "-" if s.weight is None else f"{s.weight:g}",
                "-" if s.points is None else f"{s.points:g}",
                s.rule,
            )
        console.print(t)
    for ind_id, items in sorted(a.rows.items()):
        if not items:
            continue
        t = Table(
            title=msg(f"{ind_id} 的明细（前 {len(items)} 行）", f"rows behind {ind_id} (first {len(items)})"),
            show_edge=False,
        )
        for col in ("item_id", "unit_id", "person_id", "num", "den"):
            t.add_column(col, overflow="fold")
        for r in items:
            t.add_row(*(str(r.get(c)) for c in ("item_id", "unit_id", "person_id", "num", "den")))
        console.print(t)


def assessment_data(a: Assessment) -> dict:
    """The assessment as plain data (``--json``, the web app)."""
    return {
        "month": a.month,
        "utility": a.utility,
        "method_effective": a.method_effective,
        "method_sha256": a.method_sha256,
        "catalog_sha256": a.catalog_sha256,
        "dataset_version": a.dataset_version,
        "standings": [{**asdict(s), "change": s.change} for s in a.standings],
        "values": [{**asdict(s), "reason": None if s.reason is None else msg(s.reason)} for s in a.scored],
        "notes": [msg(n) for n in a.notes],
        "explained": a.explained,
        "rows": a.rows,
    }
