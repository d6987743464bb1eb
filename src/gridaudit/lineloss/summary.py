"""A readable on-screen summary of a line-loss run: band counts and the worst entities of one level."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from gridaudit.charts.labels import BAND_LABEL, LEVEL_LABEL
from gridaudit.i18n import Text, msg
from gridaudit.lineloss.run import LossResult

BAND_STYLE = {"negative": "magenta", "high": "red", "extreme": "bold red", "watch": "yellow", "not_computable": "dim"}


def band_text(band: str) -> str:
    """Band name in the current language, styled."""
    text = msg(BAND_LABEL.get(band, Text(band, band)))
    style = BAND_STYLE.get(band, "")
    return f"[{style}]{text}[/]" if style else text


def print_summary(result: LossResult, console: Console, level: str = "area", top: int = 10) -> None:
    """Print band counts per level and the ``top`` worst entities of ``level`` for the window."""
    w = result.balance.window.to_pylist()
    console.print(
        msg(
            f"[bold]线损 {result.window.label}[/]（同期，日冻结电量）",
            f"[bold]Line loss {result.window.label}[/] (synchronous, daily AMI)",
        )
    )
    counts = Table(title=msg("各层级线损率分档", "Bands per level"), title_justify="left")
    counts.add_column(msg("层级", "level"))
    for band in BAND_LABEL:
        counts.add_column(band_text(band), justify="right")
    for lv in LEVEL_LABEL:
        c = Counter(r["band"] for r in w if r["level"] == lv)
        counts.add_row(msg(LEVEL_LABEL[lv]), *(str(c.get(b, 0)) for b in BAND_LABEL))
    console.print(counts)

    rows = [r for r in w if r["level"] == level and r["loss_rate_pct"] is not None]
    lvl = msg(LEVEL_LABEL[level])
    # the worst are the highest computable loss rates; negative losses (a metering or mapping fault, not a loss)
    # are listed on their own, most negative first
    worst = sorted(
        (r for r in rows if r["band"] not in ("negative", "not_computable")),
        key=lambda r: (-r["loss_rate_pct"], r["entity_id"]),
    )
    negative = sorted((r for r in rows if r["band"] == "negative"), key=lambda r: (r["loss_rate_pct"], r["entity_id"]))
    shown = False
    for title, picked in (
        (msg(f"最差{lvl}（前 {top}）", f"Worst {lvl}s (top {top})"), worst[:top]),
        (msg(f"负损{lvl}（前 {top}）", f"Negative-loss {lvl}s (top {top})"), negative[:top]),
    ):
        if picked:
            console.print(_entity_table(title, picked, level, lvl))
            shown = True
    if not shown:
        console.print(msg(f"没有可计算线损率的{lvl}。", f"No {level} with a computable loss rate."))

    f = Counter(result.findings.column("rule_id").to_pylist())
    if f:
        console.print(msg("线损发现：", "Loss findings: ") + ", ".join(f"{k} {v}" for k, v in sorted(f.items())))
    for note in result.notes:
        console.print(f"[dim]{note}[/]")


def _entity_table(title: str, rows: list[dict], level: str, lvl: str) -> Table:
    """One table of entities of ``level``: supply, sales, loss, rate and coverage over the computable days; band."""
    t = Table(title=title, title_justify="left")
    for col in (
        msg(lvl, level),
        msg("单位", "unit"),
        msg("供电量 kWh", "supply kWh"),
        msg("售电量 kWh", "sales kWh"),
        msg("损失 kWh", "loss kWh"),
        msg("线损率 %", "loss %"),
        msg("覆盖率", "coverage"),
        msg("可算日", "days used"),
        msg("分档", "band"),
    ):
        t.add_column(col, justify="right" if "kWh" in col or "%" in col else "left")
    for r in rows:
        t.add_row(
            r["entity_id"],
            r["unit_id"] or "",
            f"{r.get('supply_kwh_used', r['supply_kwh']):,.0f}",
            f"{r.get('sales_kwh_used', r['sales_kwh']):,.0f}",
            f"{r.get('loss_kwh_used', r['loss_kwh']):,.0f}",
            f"{r['loss_rate_pct']:.2f}",
            f"{r.get('coverage_used') or r['coverage']:.1%}",
            f"{r['days_used']}/{r['days']}" if "days_used" in r else "",
            band_text(r["band"]),
        )
    return t
