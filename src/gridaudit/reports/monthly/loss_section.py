"""Section 2: line loss along the four axes (分区, 分压, 分线, 分台区), from ``gridaudit loss`` outputs."""

from __future__ import annotations

from typing import Any

from gridaudit.i18n import Text
from gridaudit.reports import labels
from gridaudit.reports.monthly.inputs import ReportInputs
from gridaudit.reports.monthly.model import Chart, Figure, Section, Series, Table, col, month_shift

BANDS = ("negative", "normal", "watch", "high", "extreme", "not_computable")
LEVELS = ("unit", "voltage", "feeder", "area")
TOP = 10


def _rows(inp: ReportInputs, level: str, period: str | None) -> list[dict[str, Any]]:
    bm = inp.loss.get("balance_monthly")
    if bm is None or period is None:
        return []
    rows = [r for r in bm.to_pylist() if r["level"] == level and r["period"] == period]
    return [r for r in rows if inp.in_scope(r["unit_id"])]


def _roots(inp: ReportInputs, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unit rows that are not inside another unit row (each kWh once)."""
    ids = {r["entity_id"] for r in rows}
    if inp.unit_id is not None:
        return [r for r in rows if r["entity_id"] == inp.unit_id]
    return [r for r in rows if inp.parents.get(r["entity_id"]) not in ids]


def _total_rate(inp: ReportInputs, period: str | None) -> tuple[float | None, float | None]:
    roots = _roots(inp, _rows(inp, "unit", period))
    supply = sum(r["supply_kwh"] or 0 for r in roots)
    loss = sum(r["loss_kwh"] or 0 for r in roots)
    if not roots or supply <= 0:
        return None, None
    return round(loss / supply * 100, 4), round(loss, 2)


def _count(inp: ReportInputs, level: str, period: str | None, bands: tuple[str, ...]) -> int | None:
    rows = _rows(inp, level, period)
    return sum(1 for r in rows if r["band"] in bands) if rows else None


def _rate_by_entity(inp: ReportInputs, level: str, period: str | None) -> dict[str, float | None]:
    return {r["entity_id"]: r["loss_rate_pct"] for r in _rows(inp, level, period)}


def _entity_name(inp: ReportInputs, level: str, r: dict[str, Any]) -> str:
    if level == "unit":
        return inp.named("unit", r["entity_id"])
    if level == "voltage":
        return f"{inp.name('unit', r['unit_id'])} {r['voltage_kv']:g} kV"
    return inp.named(level, r["entity_id"])


def _worst(inp: ReportInputs, level: str, d: str, prev: str, year: str) -> Table:
    rows = [r for r in _rows(inp, level, d) if r["band"] not in ("negative", "not_computable")]
    rows.sort(key=lambda r: -(r["loss_rate_pct"] or 0))
    pr, yr = _rate_by_entity(inp, level, prev), _rate_by_entity(inp, level, year)
    what = labels.level(level)
    cols = [
        col("name", what.zh, what.en),
        col("unit", "单位", "unit"),
        col("supply", "供电量(kWh)", "supply (kWh)", "kwh"),
        col("loss", "损失电量(kWh)", "loss (kWh)", "kwh"),
        col("rate", "线损率(%)", "loss rate (%)", "pct"),
        col("band", "线损分级", "band"),
        col("prev", "上月线损率(%)", "last month (%)", "pct"),
        col("year", "去年同期(%)", "same month last year (%)", "pct"),
    ]
    body = [
        [
            _entity_name(inp, level, r),
            inp.name("unit", r["unit_id"]),
            r["supply_kwh"],
            r["loss_kwh"],
            r["loss_rate_pct"],
            labels.band(r["band"]),
            pr.get(r["entity_id"]),
            yr.get(r["entity_id"]),
        ]
        for r in rows[:TOP]
    ]
    return Table(
        f"loss_worst_{level}",
        Text(f"线损率最高的{what.zh}（前 {TOP}）", f"Worst {what.en}s by loss rate (top {TOP})"),
        cols,
        body,
    )


def _bands_table(inp: ReportInputs, d: str, prev: str, year: str) -> Table:
    cols = [col("level", "层级", "level")] + [col(b, labels.band(b).zh, labels.band(b).en, "int") for b in BANDS]
    cols += [
        col("hi_prev", "高损及以上·上月", "high+ last month", "int"),
        col("hi_year", "高损及以上·去年同期", "high+ same month last year", "int"),
    ]
    body = []
    for level in LEVELS:
        rows = _rows(inp, level, d)
        counts = [sum(1 for r in rows if r["band"] == b) for b in BANDS]
        hi = ("high", "extreme")
        body.append([labels.level(level), *counts, _count(inp, level, prev, hi), _count(inp, level, year, hi)])
    return Table("loss_bands", Text(f"{d} 线损分级统计", f"Loss bands, {d}"), cols, body)


def _negative(inp: ReportInputs, d: str) -> Table:
    mapping = inp.loss.get("mapping")
    explain: dict[str, list[str]] = {}
    for m in mapping.to_pylist() if mapping is not None else []:
        line = (
            f"{inp.named('customer', m['customer_id'])}: {inp.name('area', m['recorded_area'])} → "
            f"{inp.name('area', m['likely_area'])} (β={m['beta']:.2f})"
        )
        for a in (m["recorded_area"], m["likely_area"]):
            explain.setdefault(a, []).append(line)
    rows = [r for r in _rows(inp, "area", d) if r["band"] == "negative"]
    rows.sort(key=lambda r: r["loss_rate_pct"] or 0)
    cols = [
        col("area", "台区", "area"),
        col("feeder", "线路", "feeder"),
        col("rate", "线损率(%)", "loss rate (%)", "pct"),
        col("loss", "损失电量(kWh)", "loss (kWh)", "kwh"),
        col("why", "户变关系疑点（用户: 档案台区 → 实际台区）", "likely mapping errors (customer: recorded → likely)"),
    ]
    none = Text("未发现户变关系错误，请核查计量", "no mapping error found: check the metering")
    body = [
        [
            inp.named("area", r["entity_id"]),
            inp.name("feeder", r["feeder_id"]),
            r["loss_rate_pct"],
            r["loss_kwh"],
            "；".join(explain[r["entity_id"]]) if r["entity_id"] in explain else none,
        ]
        for r in rows
    ]
    return Table("loss_negative", Text("负损台区及其解释", "Negative-loss areas and their explanation"), cols, body)


def _trend(inp: ReportInputs, d: str) -> list[Chart]:
    months = [month_shift(d, -i) for i in range(12, -1, -1)]
    rates = [_total_rate(inp, m)[0] for m in months]
    hi = [_count(inp, "area", m, ("high", "extreme")) for m in months]
    neg = [_count(inp, "area", m, ("negative",)) for m in months]
    return [
        Chart(
            "loss_rate_trend",
            Text("综合线损率走势（近 13 个月）", "Overall loss rate, last 13 months"),
            "line",
            Text("月份", "month"),
            Text("线损率(%)", "loss rate (%)"),
            list(months),
            [Series(Text("线损率", "loss rate"), rates)],
            "pct",
        ),
        Chart(
            "loss_bands_trend",
            Text("高损与负损台区数（近 13 个月）", "High-loss and negative areas, last 13 months"),
            "bar",
            Text("月份", "month"),
            Text("台区数", "areas"),
            list(months),
            [
                Series(Text("高损及以上", "high or extreme"), [None if v is None else float(v) for v in hi]),
                Series(Text("负损", "negative"), [None if v is None else float(v) for v in neg]),
            ],
        ),
    ]


def loss_section(inp: ReportInputs) -> Section:
    """Section 2 of the report (empty with a note when there are no loss outputs for the data month)."""
    sec = Section("loss", 2, Text("线损四分", "Line loss (four axes)"))
    d = inp.data_month
    if "balance_monthly" not in inp.loss or d is None:
        sec.notes.append(
            Text(
                "没有线损输出：请先运行 gridaudit loss --dataset DIR --out-dir DIR，再以 --loss DIR 生成报告",
                "no line-loss outputs: run gridaudit loss --dataset DIR --out-dir DIR, then give --loss DIR",
            )
        )
        return sec
    prev, year = month_shift(d, -1), month_shift(d, -12)
    rate, loss = _total_rate(inp, d)
    rate_p, loss_p = _total_rate(inp, prev)
    rate_y, loss_y = _total_rate(inp, year)
    hi = ("high", "extreme")
    sec.figures = [
        Figure("loss_rate", Text("综合线损率(%)", "overall loss rate (%)"), "pct", rate, rate_p, rate_y),
        Figure("loss_kwh", Text("损失电量(kWh)", "energy lost (kWh)"), "kwh", loss, loss_p, loss_y),
        Figure(
            "areas_high",
            Text("高损及以上台区", "high or extreme areas"),
            "int",
            _count(inp, "area", d, hi),
            _count(inp, "area", prev, hi),
            _count(inp, "area", year, hi),
        ),
        Figure(
            "areas_extreme",
            Text("超高损台区", "extreme areas"),
            "int",
            _count(inp, "area", d, ("extreme",)),
            _count(inp, "area", prev, ("extreme",)),
            _count(inp, "area", year, ("extreme",)),
        ),
        Figure(
            "areas_negative",
            Text("负损台区", "negative-loss areas"),
            "int",
            _count(inp, "area", d, ("negative",)),
            _count(inp, "area", prev, ("negative",)),
            _count(inp, "area", year, ("negative",)),
        ),
    ]
    sec.tables = [_bands_table(inp, d, prev, year)]
    sec.tables += [_worst(inp, level, d, prev, year) for level in ("unit", "voltage", "feeder", "area")]
    sec.tables.append(_negative(inp, d))
    sec.charts = _trend(inp, d)
    if inp.loss_source is not None:
        sec.notes.append(inp.loss_source)
    return sec
