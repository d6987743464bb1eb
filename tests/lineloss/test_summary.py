"""The on-screen summary of a line-loss run: the worst list and the negative-loss list."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
from rich.console import Console

from gridaudit.i18n import get_lang, set_lang
from gridaudit.lineloss.summary import print_summary


def _row(area: str, rate: float | None, band: str) -> dict:
    return dict(
        level="area",
        entity_id=area,
        unit_id="U1",
        supply_kwh=1000.0,
        sales_kwh=1000.0 * (1 - (rate or 0) / 100),
        loss_kwh=10.0 * (rate or 0),
        loss_rate_pct=rate,
        coverage=1.0,
        band=band,
    )


def test_worst_list_is_the_highest_rates_and_negatives_have_their_own():
    rows = [_row(f"A{i:02d}", 1.0 + i, "normal" if i < 6 else "high") for i in range(12)]
    rows += [_row("N1", -3.5, "negative"), _row("N2", -12.0, "negative"), _row("X1", None, "not_computable")]
    result = SimpleNamespace(
        window=SimpleNamespace(label="2024-03"),
        balance=SimpleNamespace(window=pa.Table.from_pylist(rows)),
        findings=pa.table({"rule_id": pa.array([], pa.string())}),
        notes=[],
    )
    console = Console(record=True, width=160)
    before = get_lang()
    set_lang("en")
    try:
        print_summary(result, console, level="area", top=10)
    finally:
        set_lang(before)
    text = console.export_text()
    worst, negative = text.split("Worst areas (top 10)")[1].split("Negative-loss areas (top 10)")
    listed = [line.split("│")[1].strip() for line in worst.splitlines() if line.startswith("│")]
    assert listed == [f"A{i:02d}" for i in range(11, 1, -1)]  # ten rows, highest loss rate first
    assert [line.split("│")[1].strip() for line in negative.splitlines() if line.startswith("│")] == ["N2", "N1"]
    assert "X1" not in text
